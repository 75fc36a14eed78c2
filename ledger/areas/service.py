"""Administrative areas: the official tree, legacy units, search without diacritics."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..database import transactional
from ..extensions import db
from ..problems import Conflict, InvalidInput, NotFound
from ..text import clean_text, fold
from .models import Area


def get_area(code: str) -> Area:
    area = db.session.get(Area, code)
    if area is None:
        raise NotFound(_l("Unknown area code %(code)s.", code=code))
    return area


def is_within(code: str, ancestor_code: str) -> bool:
    """Is area `code` the area `ancestor_code` or below it?"""
    area = db.session.get(Area, code)
    return area is not None and f"/{ancestor_code}/" in area.path


def within_clause(column, ancestor_code: str):
    """A WHERE clause: `column` (an area code) is `ancestor_code` or below it."""
    ancestor = get_area(ancestor_code)
    return column.in_(select(Area.code).where(Area.path.startswith(ancestor.path, autoescape=True)))


@transactional
def import_official_areas() -> tuple[int, int]:
    """Load the 34 provinces and 3,321 communes of the two-level system (from 1 July 2025)
    from the vietnam-provinces package. Running it again adds nothing twice."""
    from vietnam_provinces import Province, Ward

    known = set(db.session.scalars(select(Area.code)))
    added_p = added_w = 0
    for p in Province.iter_all():
        code = f"{int(p.code):02d}"
        if code not in known:
            db.session.add(Area(code=code, name=p.name, name_folded=fold(p.name),
                                division_type=p.division_type.value, parent_code=None,
                                path=f"/{code}/", legacy=False))
            added_p += 1
    db.session.flush()
    for w in Ward.iter_all():
        code, parent = f"{int(w.code):05d}", f"{int(w.province_code):02d}"
        if code not in known:
            db.session.add(Area(code=code, name=w.name, name_folded=fold(w.name),
                                division_type=w.division_type.value, parent_code=parent,
                                path=f"/{parent}/{code}/", legacy=False))
            added_w += 1
    return added_p, added_w


@transactional
def add_area(code: str, name: str, division_type: str, parent_code: str | None,
             legacy: bool = True) -> Area:
    """Add a unit the package does not list: a legacy district or a 2024 commune."""
    code = clean_text(code)
    if not code.isdigit() or len(code) > 16:
        raise InvalidInput(_l("An area code is digits only."), errors={"code": [_l("Digits only.")]})
    if db.session.get(Area, code) is not None:
        raise Conflict(_l("Area %(code)s already exists.", code=code))
    parent = get_area(parent_code) if parent_code else None
    area = Area(code=code, name=clean_text(name), name_folded=fold(name),
                division_type=clean_text(division_type), parent_code=parent_code,
                path=(parent.path if parent else "/") + f"{code}/", legacy=legacy)
    db.session.add(area)
    db.session.flush()
    return area


def add_legacy_area(user, code: str, name: str, division_type: str, parent_code: str | None) -> Area:
    """An admin adds a legacy unit (from the staff pages; the CLI calls add_area itself)."""
    from ..auth.service import require

    require(user, "manage")
    return add_area(code, name, division_type, parent_code, legacy=True)


def search_areas(parent: str | None = None, q: str | None = None):
    """A query of areas: children of `parent` (top level when none and no q), by name."""
    query = select(Area).order_by(Area.code)
    if parent:
        get_area(parent)
        query = query.where(Area.parent_code == parent)
    elif not q:
        query = query.where(Area.parent_code.is_(None))
    if q:
        query = query.where(Area.name_folded.contains(fold(q), autoescape=True))
    return query
