"""Donors: who gives. Private fields stay with the staff; edits keep their history."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..areas.service import get_area
from ..auth.models import User
from ..auth.service import require
from ..database import insert_rows, transactional
from ..extensions import db
from ..problems import InvalidInput, NotFound
from ..text import fold
from .models import PRIVATE_FIELDS, Donor, DonorChange

EDITABLE = ("name", "public_display", "tax_code", "state_level", "area_code", *PRIVATE_FIELDS)
IDENTITY = ("name", "tax_code", *PRIVATE_FIELDS)


def donor_identity(donor) -> dict:
    """Who the donor is, privately: a leaf commits to it (salted), never shows it."""
    return {field: getattr(donor, field) for field in IDENTITY}


def get_donor(donor_id: int) -> Donor:
    donor = db.session.get(Donor, donor_id)
    if donor is None:
        raise NotFound(_l("Unknown donor %(id)s.", id=donor_id))
    return donor


def _check(kind: str, values: dict) -> None:
    """Rules that depend on the donor's kind."""
    if kind == "business" and not values.get("tax_code"):
        raise InvalidInput(_l("A business is recorded with its tax code."),
                           errors={"tax_code": [_l("Required for a business.")]})
    if kind == "state" and not values.get("state_level"):
        raise InvalidInput(_l("Say which level of the state budget gives."),
                           errors={"state_level": [_l("Required for the state budget.")]})
    if values.get("area_code"):
        get_area(values["area_code"])


@transactional
def create_donor(user: User, data: dict) -> Donor:
    require(user, "record")
    _check(data["kind"], data)
    donor = Donor(**data, name_folded=fold(data["name"]), created_by_id=user.id)
    db.session.add(donor)
    db.session.flush()
    return donor


def create_donors(user: User, data: list[dict]) -> list[Donor]:
    """Create many donors at once (an import's new senders), in the caller's transaction,
    by the same rules; they are written as rows and returned as detached objects with
    their ids, so thousands of them weigh nothing on the session."""
    require(user, "record")
    rows = []
    for values in data:
        _check(values["kind"], values)
        rows.append({**values, "name_folded": fold(values["name"]), "created_by_id": user.id})
    if not rows:
        return []
    ids = insert_rows(Donor.__table__, rows, returning_ids=True)
    return [Donor(id=donor_id, **row) for donor_id, row in zip(ids, rows, strict=True)]


@transactional
def update_donor(user: User, donor_id: int, changes: dict) -> Donor:
    """Edit a donor; the old values are kept in its history."""
    require(user, "record")
    donor = get_donor(donor_id)
    merged = {f: getattr(donor, f) for f in EDITABLE} | changes
    _check(donor.kind, merged)
    diff = {}
    for field, new in changes.items():
        old = getattr(donor, field)
        if old != new:
            diff[field] = [old, new]  # staff-only history: nothing is lost
            setattr(donor, field, new)
    if diff:
        donor.name_folded = fold(donor.name)
        db.session.add(DonorChange(donor_id=donor.id, changes=diff, changed_by_id=user.id))
        db.session.flush()
        if "name" in diff or "public_display" in diff:
            from ..statement.service import restate_donor

            restate_donor(donor)
    return donor


def donor_history(donor_id: int) -> list[DonorChange]:
    return db.session.scalars(select(DonorChange).where(DonorChange.donor_id == donor_id)
                              .order_by(DonorChange.id)).all()


def search_donors(q: str | None = None, kind: str | None = None):
    """Donors by name without regard to diacritics ("nguyen van a"), or by tax code."""
    query = select(Donor).order_by(Donor.id)
    if kind:
        query = query.where(Donor.kind == kind)
    if q:
        key = fold(q)
        query = query.where(Donor.name_folded.contains(key, autoescape=True)
                            | Donor.tax_code.startswith(q.strip(), autoescape=True))
    return query
