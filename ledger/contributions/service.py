"""Contributions received into a fund, their receipts' numbers, voids, and earmarks."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..approvals.models import Approval
from ..areas.service import get_area, is_within, within_clause
from ..auth.models import User
from ..auth.service import require, require_area
from ..campaigns.service import get_campaign
from ..database import load_together, transactional
from ..extensions import db
from ..fields import today_in_vietnam
from ..journal.models import JournalTransaction
from ..journal.resources import resource_from
from ..journal.service import hold_ledger, not_reversed, record_reversal, reversal_of
from ..problems import Conflict, InvalidInput, NotFound
from ..receipts.service import void_receipt
from ..statement.service import mark_voided_in_statement
from ..text import clean_text
from .models import METHODS_BY_KIND, Contribution
from .recording import NewContribution, record_checked


def get_contribution(contribution_id: int, seen_by: User | None = None) -> Contribution:
    """The contribution; `seen_by`: a staff user, who sees only its area's funds' gifts."""
    # Its journal transaction and any reversal in the same query: every answer shows them.
    contribution = db.session.get(Contribution, contribution_id, options=[
        joinedload(Contribution.txn).joinedload(JournalTransaction.reversal)])
    if contribution is None:
        raise NotFound(_l("Unknown contribution %(id)s.", id=contribution_id))
    if seen_by is not None:
        require_area(seen_by, contribution.fund.area_code)
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
def record_contribution(user: User, data: dict) -> NewContribution:
    """Record what was received, post it to the journal, number and sign its receipt; the
    contribution as written (its id, receipt and log entry), not read back: reading it
    back through the ORM cost an eighth of an API contribution's CPU."""
    # No ledger lock yet: the checks read what no ledger write changes (the campaign, the
    # fund, the donor, an earmark's target), and check_contribution takes the lock before
    # it reads a pledge. Concurrent gifts then wait for each other only while writing.
    from ..campaigns.models import Campaign
    from ..donors.models import Donor
    from ..funds.models import Fund

    loaded = load_together((Campaign, data["campaign_id"]), (Fund, data["fund_id"]), (Donor, data.get("donor_id")))
    campaign, fund = check_scope(user, data["campaign_id"], data["fund_id"])
    contribution = check_contribution(campaign, fund, data)
    del loaded  # held until the checks found them in the session
    record_checked(user, [contribution])
    return contribution


def check_scope(user: User, campaign_id: int, fund_id: int):
    """(campaign, fund): both exist, and the user records in the fund's area."""
    from ..funds.service import get_fund

    require(user, "record")
    campaign = get_campaign(campaign_id)
    fund = get_fund(fund_id)
    require_area(user, fund.area_code)
    return campaign, fund


def check_contribution(campaign, fund, data: dict, *, donor=None) -> NewContribution:
    """Every rule a contribution to this campaign and fund (check_scope) must meet before
    it is recorded; the checked contribution. `donor`: the donor object when the caller
    has it already (an import's new donors)."""
    from ..donors.service import get_donor
    from ..pledges.service import check_pledge_fulfilment

    data = dict(data)  # the pledge's earmark may be filled in below
    if donor is None and data.get("donor_id"):
        donor = get_donor(data["donor_id"])
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
        hold_ledger()  # a pledge is cancelled under the lock (cancel_pledge): read it under it
        pledge = check_pledge_fulfilment(data["pledge_id"], donor, campaign, resource)
        # A contribution fulfilling an earmarked pledge carries its earmark.
        for field in ("earmark_area_code", "earmark_household_id"):
            pledged = getattr(pledge, field)
            if pledged is not None and data.get(field) not in (None, pledged):
                raise InvalidInput(_l("The earmark differs from the pledge's."), errors={field: [str(pledged)]})
            if data.get(field) is None:
                data[field] = pledged
    check_earmark_target(data)
    contribution = NewContribution(
        campaign=campaign, fund=fund, donor=donor, pledge=pledge, kind=kind, method=method,
        commodity=resource.commodity, units=resource.units, unit_price_vnd=resource.unit_price_vnd,
        value_vnd=resource.value_vnd, received_on=received_on, bank_reference=data.get("bank_reference"),
        memo=data.get("memo"), earmark_area_code=data.get("earmark_area_code"),
        earmark_household_id=data.get("earmark_household_id"))
    if not earmark_allows(contribution, fund=fund):
        raise InvalidInput(_l("The earmark lies outside this fund's area."),
                           errors={"fund_id": [_l("Choose a fund of the earmarked area.")]})
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
