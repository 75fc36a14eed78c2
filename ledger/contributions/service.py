"""Contributions received into a fund, their receipts' numbers, voids, and earmarks."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..approvals.models import Approval
from ..areas.service import get_area, is_within, within_clause
from ..auth.models import User
from ..auth.service import require, require_area
from ..campaigns.service import get_campaign
from ..database import transactional
from ..extensions import db
from ..fields import today_in_vietnam
from ..journal.models import JournalTransaction
from ..journal.resources import resource_from
from ..journal.service import (
    Leg,
    hold_ledger,
    lock_ledger,
    not_reversed,
    record_reversal,
    record_transaction,
    reversal_of,
)
from ..problems import Conflict, InvalidInput, NotFound
from ..receipts.service import issue_receipt, void_receipt
from ..statement.service import add_to_statement, mark_voided_in_statement
from ..text import clean_text
from .models import METHODS_BY_KIND, Contribution, ReceiptCounter


def get_contribution(contribution_id: int) -> Contribution:
    contribution = db.session.get(Contribution, contribution_id)
    if contribution is None:
        raise NotFound(_l("Unknown contribution %(id)s.", id=contribution_id))
    return contribution


def earmark_allows(contribution: Contribution, *, household=None, fund=None) -> bool:
    """May this contribution go to `household`, or be held by `fund`? The earmark rule.

    An area earmark allows households in that area and funds that are in it or above it
    (a province fund may pass a commune's gift down); a household earmark allows that
    household and funds whose area contains its commune.
    """
    if contribution.earmark_household_id is not None:
        if household is not None:
            return household.id == contribution.earmark_household_id
        from ..households.models import Household

        target = db.session.get(Household, contribution.earmark_household_id)
        return is_within(target.commune_code, fund.area_code)
    if contribution.earmark_area_code is not None:
        if household is not None:
            return is_within(household.commune_code, contribution.earmark_area_code)
        return (is_within(fund.area_code, contribution.earmark_area_code)
                or is_within(contribution.earmark_area_code, fund.area_code))
    return True


def may_fund(contribution: Contribution, household) -> bool:
    """May this contribution go to this household? Only within its campaign and earmark."""
    return contribution.campaign_id == household.campaign_id and earmark_allows(contribution, household=household)


def next_receipt_number(fund, year: int) -> str:
    """{FUND}-{YYYY}-{NNNNNN}: sequential per fund and year, no gaps (under the ledger lock)."""
    number = db.session.scalar(
        update(ReceiptCounter).where(ReceiptCounter.fund_id == fund.id, ReceiptCounter.year == year)
        .values(last_number=ReceiptCounter.last_number + 1).returning(ReceiptCounter.last_number)
        .execution_options(synchronize_session=False))  # see journal.service._advance_sequence
    if number is None:  # the fund's first receipt of the year
        number = 1
        db.session.add(ReceiptCounter(fund_id=fund.id, year=year, last_number=number))
        db.session.flush()
    return f"{fund.code}-{year:04d}-{number:06d}"


def check_earmark_target(data: dict) -> None:
    """An earmark names an existing area or household, not both."""
    from ..households.service import get_household

    area_code, household_id = data.get("earmark_area_code"), data.get("earmark_household_id")
    if area_code and household_id:
        raise InvalidInput(_l("Earmark an area or a household, not both."),
                           errors={"earmark_household_id": [_l("Give one earmark only.")]})
    if area_code:
        get_area(area_code)
    if household_id:
        get_household(household_id)


@transactional
def record_contribution(user: User, data: dict) -> Contribution:
    """Record what was received, post it to the journal and number its receipt."""
    from ..donors.service import donor_identity, get_donor
    from ..funds.service import get_fund
    from ..pledges.service import check_pledge_fulfilment

    require(user, "record")
    lock_ledger()
    data = dict(data)  # the pledge's earmark may be filled in below
    campaign = get_campaign(data["campaign_id"])
    fund = get_fund(data["fund_id"])
    require_area(user, fund.area_code)
    donor = get_donor(data["donor_id"]) if data.get("donor_id") else None
    kind, method = data["kind"], data["method"]
    if method not in METHODS_BY_KIND[kind]:
        raise InvalidInput(_l("This method does not fit the kind of contribution."),
                           errors={"method": [", ".join(METHODS_BY_KIND[kind])]})
    received_on: date = data["received_on"]
    if received_on < campaign.starts_on:
        raise InvalidInput(_l("Received before the campaign started."),
                           errors={"received_on": [_l("Before the campaign's start.")]})
    resource = resource_from(data, priced=True)
    pledge = None
    if data.get("pledge_id"):
        pledge = check_pledge_fulfilment(data["pledge_id"], donor, campaign, resource)
        # A contribution fulfilling an earmarked pledge carries its earmark.
        for field in ("earmark_area_code", "earmark_household_id"):
            pledged = getattr(pledge, field)
            if pledged is not None and data.get(field) not in (None, pledged):
                raise InvalidInput(_l("The earmark differs from the pledge's."), errors={field: [str(pledged)]})
            if data.get(field) is None:
                data[field] = pledged
    check_earmark_target(data)

    contribution = Contribution(
        campaign_id=campaign.id, fund_id=fund.id, donor_id=donor.id if donor else None,
        pledge_id=pledge.id if pledge else None, kind=kind, method=method,
        commodity=resource.commodity, units=resource.units, unit_price_vnd=resource.unit_price_vnd,
        value_vnd=resource.value_vnd, received_on=received_on,
        bank_reference=data.get("bank_reference"), memo=data.get("memo"),
        earmark_area_code=data.get("earmark_area_code"),
        earmark_household_id=data.get("earmark_household_id"),
        receipt_number=next_receipt_number(fund, received_on.year), txn_id=None, created_by_id=user.id)
    db.session.add(contribution)
    db.session.flush()
    if not earmark_allows(contribution, fund=fund):
        raise InvalidInput(_l("The earmark lies outside this fund's area."),
                           errors={"fund_id": [_l("Choose a fund of the earmarked area.")]})
    txn = record_transaction(
        "contribution", user.id,
        [Leg(fund.account, resource.commodity, resource.units, contribution.id, fund.id),
         Leg(f"donations:{campaign.code}", resource.commodity, -resource.units, contribution.id)],
        public_contribution(contribution, donor.display_name if donor else None, donor.kind if donor else None),
        contribution_refs={contribution.id: contribution.receipt_number},
        private={"donor": donor_identity(donor)} if donor else None)
    contribution.txn = txn
    db.session.flush()
    issue_receipt(contribution, user)
    add_to_statement(contribution)
    return contribution


def public_contribution(c: Contribution, donor_name: str | None, donor_kind: str | None) -> dict:
    """The contribution as the public may see it: no ID number, phone, address or memo.
    The donor's display name and kind are passed as they were when it was recorded."""
    from ..journal.resources import describe

    return {"contribution": {
        "receipt": c.receipt_number,
        "campaign": c.campaign.code,
        "fund": c.fund.code,
        "received_on": c.received_on.isoformat(),
        "method": c.method,
        "donor": donor_name,
        "donor_kind": donor_kind,
        "earmark_area": c.earmark_area_code,
        "earmark_household": c.earmark_household_id,
        **{k: (str(v) if isinstance(v, int) else v) for k, v in
           describe(c.kind, c.commodity, c.units, c.value_vnd, c.unit_price_vnd).items()},
    }}


def void_subject(c: Contribution) -> dict:
    return {"contribution": {"receipt": c.receipt_number}}


def live_dependents(contribution: Contribution) -> dict[str, list[int]]:
    """Allocations and transfers that still draw on this contribution."""
    from ..allocations.models import Allocation, AllocationLine
    from ..funds.models import Transfer, TransferLine

    allocations = db.session.scalars(
        select(Allocation.id).join(AllocationLine, AllocationLine.allocation_id == Allocation.id)
        .where(AllocationLine.contribution_id == contribution.id, not_reversed(Allocation.txn_id))
        .distinct().order_by(Allocation.id)).all()
    transfers = db.session.scalars(
        select(Transfer.id).join(TransferLine, TransferLine.transfer_id == Transfer.id)
        .where(TransferLine.contribution_id == contribution.id, not_reversed(Transfer.txn_id))
        .distinct().order_by(Transfer.id)).all()
    return {"allocations": list(allocations), "transfers": list(transfers)}


def _voidable(user: User, contribution_id: int) -> Contribution:
    """The contribution, if it may be voided now: not voided yet, and no live allocation or
    transfer draws on it (refused naming them)."""
    contribution = get_contribution(contribution_id)
    require_area(user, contribution.fund.area_code)
    if reversal_of(contribution.txn_id) is not None:
        raise Conflict(_l("This contribution is already voided."))
    dependents = live_dependents(contribution)
    if dependents["allocations"] or dependents["transfers"]:
        raise Conflict(
            _l("Reverse what draws on this contribution first: allocations %(a)s, transfers %(t)s.",
               a=", ".join(map(str, dependents["allocations"])) or "-",
               t=", ".join(map(str, dependents["transfers"])) or "-"),
            **dependents)
    return contribution


@transactional
def void_contribution(user: User, contribution_id: int, reason: str) -> Contribution | Approval:
    """Void a contribution: a reversal of its journal transaction. Refused while any live
    allocation or transfer draws on it; its receipt keeps its number and says VOIDED.
    Needs a second person's approval: until then the pending Approval is returned."""
    from ..approvals.service import needs_approval, request_approval

    require(user, "record")
    hold_ledger()
    contribution = _voidable(user, contribution_id)
    if needs_approval("void"):
        return request_approval(user, "void", {"contribution_id": contribution.id, "reason": reason},
                                area_code=contribution.fund.area_code, value_vnd=contribution.value_vnd,
                                reason=reason, record_id=contribution.id)
    return carry_out_void(user, contribution.id, reason)[0]


def carry_out_void(user: User, contribution_id: int, reason: str) -> tuple[Contribution, JournalTransaction]:
    """Void now (the caller holds the ledger lock), every rule checked again."""
    contribution = _voidable(user, contribution_id)
    txn = record_reversal(user.id, contribution.txn, {contribution.fund.account: contribution.fund_id},
                          void_subject(contribution), reason)
    void_receipt(contribution, clean_text(reason), today_in_vietnam())
    mark_voided_in_statement(contribution)
    return contribution, txn


def list_contributions(user: User, filters: dict):
    from ..funds.models import Fund

    query = select(Contribution).join(Fund, Fund.id == Contribution.fund_id).order_by(Contribution.id)
    if user.area_code:
        query = query.where(within_clause(Fund.area_code, user.area_code))
    for name in ("campaign_id", "fund_id", "donor_id", "pledge_id", "kind"):
        if filters.get(name) is not None:
            query = query.where(getattr(Contribution, name) == filters[name])
    if filters.get("area_code"):
        query = query.where(within_clause(Fund.area_code, filters["area_code"]))
    if filters.get("received_from"):
        query = query.where(Contribution.received_on >= filters["received_from"])
    if filters.get("received_to"):
        query = query.where(Contribution.received_on <= filters["received_to"])
    if filters.get("q"):
        from ..donors.models import Donor
        from ..text import fold

        query = query.outerjoin(Donor, Donor.id == Contribution.donor_id).where(
            Donor.name_folded.contains(fold(filters["q"]), autoescape=True)
            | Contribution.receipt_number.contains(filters["q"].upper(), autoescape=True))
    return query


def receipt_numbers(contribution_ids) -> dict[int, str]:
    """{contribution id: receipt number}: how the public names a lot."""
    ids = list(set(contribution_ids))
    return dict(db.session.execute(
        select(Contribution.id, Contribution.receipt_number).where(Contribution.id.in_(ids))).all())


def get_by_receipt_number(number: str) -> Contribution:
    contribution = db.session.scalar(select(Contribution).where(Contribution.receipt_number == number.upper()))
    if contribution is None:
        raise NotFound(_l("No receipt %(number)s.", number=number))
    return contribution
