"""Pledges: commitments to give, fulfilled by contributions. Status is derived, never stored."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..auth.models import User
from ..auth.service import require, require_area
from ..campaigns.service import get_campaign
from ..database import transactional
from ..extensions import db
from ..fields import today_in_vietnam
from ..journal.resources import Resource, resource_from
from ..journal.service import hold_ledger, not_reversed
from ..problems import Conflict, InvalidInput, NotFound
from ..text import clean_text
from .models import Pledge, PledgeCancellation


def get_pledge(pledge_id: int, seen_by: User | None = None) -> Pledge:
    """The pledge; `seen_by`: a staff user, who sees only pledges to its area's funds."""
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None:
        raise NotFound(_l("Unknown pledge %(id)s.", id=pledge_id))
    if seen_by is not None:
        require_area(seen_by, pledge.fund.area_code)
    return pledge


@transactional
def create_pledge(user: User, data: dict) -> Pledge:
    from ..contributions.service import check_earmark_target
    from ..donors.service import get_donor
    from ..funds.service import get_fund

    require(user, "record")
    campaign = get_campaign(data["campaign_id"])
    fund = get_fund(data["fund_id"])
    require_area(user, fund.area_code)
    donor = get_donor(data["donor_id"])
    resource = resource_from(data, priced=True)
    check_earmark_target(data)
    pledge = Pledge(campaign_id=campaign.id, fund_id=fund.id, donor_id=donor.id, kind=resource.kind,
                    commodity=resource.commodity, units=resource.units,
                    unit_price_vnd=resource.unit_price_vnd, value_vnd=resource.value_vnd,
                    earmark_area_code=data.get("earmark_area_code"),
                    earmark_household_id=data.get("earmark_household_id"),
                    due_on=data.get("due_on"), note=data.get("note"), created_by_id=user.id)
    db.session.add(pledge)
    db.session.flush()
    return pledge


def fulfilled_units_subquery():
    """Units received against each pledge, voided contributions left out, as a correlated
    scalar subquery over Pledge (for lists, exports and reports)."""
    from ..contributions.models import Contribution

    return (select(func.coalesce(func.sum(Contribution.units), 0))
            .where(Contribution.pledge_id == Pledge.id, not_reversed(Contribution.txn_id))
            .correlate(Pledge).scalar_subquery())


def fulfilled_units(pledge: Pledge) -> int:
    """Units received against the pledge, voided contributions left out."""
    from ..contributions.models import Contribution

    return int(db.session.scalar(
        select(func.coalesce(func.sum(Contribution.units), 0))
        .where(Contribution.pledge_id == pledge.id, not_reversed(Contribution.txn_id))))


def derive_status(*, cancelled: bool, pledged_units: int, received_units: int, due_on: date | None,
                  today: date) -> str:
    """The one rule: open, partial, fulfilled, cancelled or overdue (due date passed, not
    fulfilled)."""
    if cancelled:
        return "cancelled"
    if received_units >= pledged_units:
        return "fulfilled"
    if due_on is not None and due_on < today:
        return "overdue"
    return "partial" if received_units > 0 else "open"


def pledge_status(pledge: Pledge, today: date | None = None) -> str:
    return derive_status(cancelled=pledge.cancellation is not None, pledged_units=pledge.units,
                         received_units=fulfilled_units(pledge), due_on=pledge.due_on,
                         today=today or today_in_vietnam())


def check_pledge_fulfilment(pledge_id: int, donor, campaign, resource: Resource) -> Pledge:
    """May a contribution of `resource` from `donor` fulfil this pledge?"""
    pledge = get_pledge(pledge_id)
    if pledge.cancellation is not None:
        raise Conflict(_l("Pledge %(code)s is cancelled.", code=pledge.code))
    if donor is None or donor.id != pledge.donor_id:
        raise InvalidInput(_l("The pledge was made by another donor."), errors={"pledge_id": [pledge.code]})
    if pledge.campaign_id != campaign.id:
        raise InvalidInput(_l("The pledge belongs to another campaign."), errors={"pledge_id": [pledge.code]})
    if pledge.commodity != resource.commodity:
        raise InvalidInput(_l("The pledge was for something else."), errors={"kind": [pledge.kind]})
    return pledge


@transactional
def cancel_pledge(user: User, pledge_id: int, reason: str) -> Pledge:
    require(user, "record")
    # Under the ledger lock, as a contribution reads its pledge: no gift can fulfil the
    # pledge between the check below and the cancellation.
    hold_ledger()
    pledge = get_pledge(pledge_id)
    require_area(user, pledge.fund.area_code)
    if pledge.cancellation is not None:
        raise Conflict(_l("Pledge %(code)s is already cancelled.", code=pledge.code))
    if pledge_status(pledge) == "fulfilled":
        raise Conflict(_l("Pledge %(code)s is fulfilled; there is nothing to cancel.", code=pledge.code))
    db.session.add(PledgeCancellation(pledge_id=pledge.id, reason=clean_text(reason), cancelled_by_id=user.id))
    db.session.flush()
    db.session.refresh(pledge)
    return pledge


def list_pledges(user: User, filters: dict):
    from ..areas.service import within_clause
    from ..funds.models import Fund

    query = select(Pledge).join(Fund, Fund.id == Pledge.fund_id).order_by(Pledge.id)
    if user.area_code:
        query = query.where(within_clause(Fund.area_code, user.area_code))
    for name in ("campaign_id", "fund_id", "donor_id", "kind"):
        if filters.get(name) is not None:
            query = query.where(getattr(Pledge, name) == filters[name])
    if filters.get("area_code"):
        query = query.where(within_clause(Fund.area_code, filters["area_code"]))
    if filters.get("q"):
        from ..donors.models import Donor
        from ..text import fold

        query = query.join(Donor, Donor.id == Pledge.donor_id).where(
            Donor.name_folded.contains(fold(filters["q"]), autoescape=True))
    if filters.get("due_before"):
        query = query.where(Pledge.due_on <= filters["due_before"])
    return query
