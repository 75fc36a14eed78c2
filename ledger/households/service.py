"""Beneficiary households: approval, status timeline, edits with history, funding."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..areas.service import get_area, is_within, within_clause
from ..auth.models import User
from ..auth.service import require, require_area
from ..campaigns.service import get_campaign
from ..database import in_parts, insert_rows, transactional
from ..extensions import db
from ..fields import today_in_vietnam
from ..journal.service import not_reversed
from ..problems import Conflict, InvalidInput, NotFound
from ..text import fold
from .models import PRIVATE_FIELDS, STATUSES, Household, HouseholdChange, HouseholdStatusEvent

EDITABLE = ("head_name", "category", "support_type", "approved_amount_vnd", "own_contribution_vnd",
            "id_number", "phone", "address")


IDENTITY = ("head_name", *PRIVATE_FIELDS)


def household_identity(household) -> dict:
    """Who the household is, privately: an allocation's leaf commits to it (salted)."""
    return {field: getattr(household, field) for field in IDENTITY}


def get_household(household_id: int, seen_by: User | None = None) -> Household:
    """The household; `seen_by`: a staff user, who sees only households of its area."""
    household = db.session.get(Household, household_id)
    if household is None:
        raise NotFound(_l("Unknown household %(id)s.", id=household_id))
    if seen_by is not None:
        require_area(seen_by, household.commune_code)
    return household


@transactional
def create_household(user: User, data: dict) -> Household:
    require(user, "record")
    campaign = get_campaign(data["campaign_id"])
    commune = get_area(data["commune_code"])
    require_area(user, commune.code)
    if not is_within(commune.code, campaign.area_code):
        raise InvalidInput(_l("The commune lies outside the campaign's area."),
                           errors={"commune_code": [campaign.area_code]})
    data = dict(data)
    surveyed_on = data.pop("surveyed_on", None) or today_in_vietnam()
    data["approved_amount_vnd"] = data.get("approved_amount_vnd") or campaign.norm_for(data["support_type"])
    household = Household(**data, head_name_folded=fold(data["head_name"]),
                          status="surveyed", created_by_id=user.id)
    db.session.add(household)
    db.session.flush()
    db.session.add(HouseholdStatusEvent(household_id=household.id, status="surveyed",
                                        on=surveyed_on,
                                        note=None, recorded_by_id=user.id))
    db.session.flush()
    return household


def create_households(user: User, campaign, households: list[dict], timelines: list[list[tuple]]) -> list[int]:
    """Create many households of one campaign at once (in the caller's transaction), each
    with its timeline [(status, on), ...] from "surveyed", one step at a time and never
    going back in time: create_household's and change_status's rules, written as rows
    (a generated national campaign has 300,000 of them). Their ids, in order."""
    require(user, "record")
    household_rows, checked_communes = [], set()
    for data, timeline in zip(households, timelines, strict=True):
        if data["commune_code"] not in checked_communes:
            get_area(data["commune_code"])
            require_area(user, data["commune_code"])
            if not is_within(data["commune_code"], campaign.area_code):
                raise InvalidInput(_l("The commune lies outside the campaign's area."),
                                   errors={"commune_code": [campaign.area_code]})
            checked_communes.add(data["commune_code"])
        statuses = [status for status, _on in timeline]
        if statuses != list(STATUSES[:len(statuses)]) or not statuses:
            raise InvalidInput(_l("From %(current)s the next status is %(next)s.", current="-", next=STATUSES[0]),
                               errors={"status": statuses})
        days = [on for _status, on in timeline]
        if days != sorted(days):
            raise InvalidInput(_l("The date is before the previous step (%(date)s).", date=days[0].isoformat()),
                               errors={"on": [d.isoformat() for d in days]})
        household_rows.append({
            **data, "campaign_id": campaign.id, "head_name_folded": fold(data["head_name"]),
            "approved_amount_vnd": data.get("approved_amount_vnd") or campaign.norm_for(data["support_type"]),
            "status": statuses[-1], "created_by_id": user.id})
    ids = insert_rows(Household.__table__, household_rows, returning_ids=True)
    insert_rows(HouseholdStatusEvent.__table__, [
        {"household_id": household_id, "status": status, "on": on, "note": None, "recorded_by_id": user.id}
        for household_id, timeline in zip(ids, timelines, strict=True) for status, on in timeline])
    return ids


@transactional
def update_household(user: User, household_id: int, changes: dict) -> Household:
    """Edit a household; old values go to its history. The approved amount may not drop
    below what it has already been allocated."""
    require(user, "record")
    household = get_household(household_id)
    require_area(user, household.commune_code)
    if "approved_amount_vnd" in changes:
        allocated = allocated_value(household.id)
        if changes["approved_amount_vnd"] < allocated:
            raise Conflict(_l("%(amount)s đồng is already allocated to this household.", amount=allocated),
                           errors={"approved_amount_vnd": [str(allocated)]})
    diff = {}
    for field, new in changes.items():
        old = getattr(household, field)
        if old != new:
            diff[field] = [old, new]
            setattr(household, field, new)
    if diff:
        household.head_name_folded = fold(household.head_name)
        db.session.add(HouseholdChange(household_id=household.id, changes=diff, changed_by_id=user.id))
        db.session.flush()
    return household


@transactional
def change_status(user: User, household_id: int, status: str, on, note: str | None = None) -> Household:
    """Move one step along surveyed → approved → building → completed → handed over."""
    require(user, "record")
    household = get_household(household_id)
    require_area(user, household.commune_code)
    current = STATUSES.index(household.status)
    wanted = STATUSES.index(status)
    if wanted != current + 1:
        expected = STATUSES[current + 1] if current + 1 < len(STATUSES) else None
        raise Conflict(_l("From %(current)s the next status is %(next)s.", current=household.status,
                          next=expected or "-"), errors={"status": [expected or "-"]})
    last = household.events[-1].on if household.events else None
    if last is not None and on < last:
        raise InvalidInput(_l("The date is before the previous step (%(date)s).", date=last.isoformat()),
                           errors={"on": [last.isoformat()]})
    household.status = status
    db.session.add(HouseholdStatusEvent(household_id=household.id, status=status, on=on, note=note,
                                        recorded_by_id=user.id))
    db.session.flush()
    db.session.refresh(household)
    return household


def household_history(household_id: int) -> list[HouseholdChange]:
    return db.session.scalars(select(HouseholdChange).where(HouseholdChange.household_id == household_id)
                              .order_by(HouseholdChange.id)).all()


def allocated_value(household_id: int) -> int:
    """Đồng value of everything allocated to the household and not reversed."""
    return allocated_values([household_id]).get(household_id, 0)


def allocated_values(household_ids: list[int]) -> dict[int, int]:
    """allocated_value of many households, a few hundred a query (those with none left out)."""
    from ..allocations.models import Allocation

    found: dict[int, int] = {}
    for part in in_parts(household_ids):
        found.update((household_id, int(value)) for household_id, value in db.session.execute(
            select(Allocation.household_id, func.sum(Allocation.value_vnd))
            .where(Allocation.household_id.in_(part), not_reversed(Allocation.txn_id))
            .group_by(Allocation.household_id)))
    return found


def from_state_budget(donor_kind):
    """The one rule of a household's funding source: what a "state" donor gave is the state
    budget, anything else (another kind, or no donor: anonymous) social contributions.
    Takes a donor kind or a column of them: a bool, or the SQL clause (NULL is social)."""
    return donor_kind == "state"


def funding_composition(household: Household) -> dict:
    """Where the household's support came from: state budget, social contributions, its
    own; and by kind: cash, materials and labour (valued, and in person-days)."""
    from ..allocations.models import Allocation, AllocationLine
    from ..contributions.models import Contribution
    from ..donors.models import Donor
    from ..journal.quantities import format_units

    rows = db.session.execute(
        select(Donor.kind, Allocation.kind, func.sum(AllocationLine.value_vnd), func.sum(AllocationLine.units))
        .select_from(AllocationLine)
        .join(Allocation, Allocation.id == AllocationLine.allocation_id)
        .join(Contribution, Contribution.id == AllocationLine.contribution_id)
        .outerjoin(Donor, Donor.id == Contribution.donor_id)
        .where(Allocation.household_id == household.id, not_reversed(Allocation.txn_id))
        .group_by(Donor.kind, Allocation.kind))
    by_source = {"state_budget_vnd": 0, "social_vnd": 0, "own_vnd": household.own_contribution_vnd}
    by_kind = {"cash_vnd": 0, "materials_vnd": 0, "labour_vnd": 0}
    labour_units = 0
    for donor_kind, kind, value, units in rows:
        value = int(value or 0)
        by_source["state_budget_vnd" if from_state_budget(donor_kind) else "social_vnd"] += value
        by_kind[{"cash": "cash_vnd", "material": "materials_vnd", "labour": "labour_vnd"}[kind]] += value
        if kind == "labour":
            labour_units += int(units or 0)
    allocated = by_source["state_budget_vnd"] + by_source["social_vnd"]
    return {**by_source, **by_kind, "labour_person_days": format_units(labour_units, "labour"),
            "allocated_vnd": allocated, "total_vnd": allocated + household.own_contribution_vnd,
            "approved_amount_vnd": household.approved_amount_vnd,
            "remaining_need_vnd": max(household.approved_amount_vnd - allocated, 0)}


def list_households(user: User, filters: dict):
    query = select(Household).order_by(Household.id)
    if user.area_code:
        query = query.where(within_clause(Household.commune_code, user.area_code))
    if filters.get("area_code"):
        query = query.where(within_clause(Household.commune_code, filters["area_code"]))
    for name in ("campaign_id", "status", "category", "support_type"):
        if filters.get(name):
            query = query.where(getattr(Household, name) == filters[name])
    if filters.get("q"):
        query = query.where(Household.head_name_folded.contains(fold(filters["q"]), autoescape=True))
    return query
