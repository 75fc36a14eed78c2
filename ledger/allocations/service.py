"""Allocation: resources moved from a fund to one household, lot by lot.

Pooled resources are drawn first-in-first-out unless a source contribution is named, and
each allocation line names the contribution it came from, so every đồng, bag and workday
traces to a donor. The household's approved amount caps what it receives (invariant 4)
unless an override with a reason is allowed by a user who may (an approver or admin).

Maker–checker (ledger.approvals): an allocation above the approval threshold or past the
approved amount, and every reversal, is checked here at once and then left waiting for a
second person; on approval it is carried out by the same code, every rule checked again.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..approvals.models import Approval
from ..approvals.service import needs_approval, request_approval
from ..areas.service import within_clause
from ..auth.models import User
from ..auth.service import can, require, require_area
from ..contributions.models import Contribution
from ..contributions.service import may_fund
from ..database import in_parts, insert_rows, transactional
from ..extensions import db
from ..funds.models import Fund
from ..funds.service import get_fund
from ..households.models import STATUSES, Household
from ..households.service import allocated_value, allocated_values, get_household, household_identity
from ..journal.models import JournalTransaction
from ..journal.quantities import value_vnd
from ..journal.resources import Resource, resource_from
from ..journal.service import (
    FundLots,
    Leg,
    PlannedTransaction,
    draw_lots,
    hold_ledger,
    lock_ledger,
    record_reversal,
    record_transaction,
    record_transactions,
    reversal_of,
)
from ..problems import Conflict, Forbidden, InvalidInput, NotFound
from ..text import clean_text
from ..types import utcnow
from .models import Allocation, AllocationLine


def get_allocation(allocation_id: int) -> Allocation:
    allocation = db.session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotFound(_l("Unknown allocation %(id)s.", id=allocation_id))
    return allocation


def public_allocation(fund_code: str, household_id: int, commune_code: str, value_vnd: int, override: bool) -> dict:
    """An allocation's public part of its log leaf (the household by id and commune only)."""
    return {"allocation": {"fund": fund_code, "household": household_id, "commune": commune_code,
                           "value_vnd": str(value_vnd), "override": override}}


def reversal_subject(allocation: Allocation) -> dict:
    return {"allocation": {"fund": allocation.fund.code, "household": allocation.household_id}}


@dataclass(frozen=True)
class _Draw:
    """An allocation checked against the ledger as it stands: what it would record."""

    fund: Fund
    household: Household
    resource: Resource
    lines: list[tuple[Contribution, int, int]]  # (contribution, units, value in đồng)
    value_vnd: int
    override_reason: str | None  # kept only when the allocation goes past the approved amount
    approved_vnd: int


class _Bulk:
    """What _draw reads of the ledger, for many allocations from one fund in one
    transaction: the fund's lots per commodity read once (journal.service.FundLots) and the
    households' allocated values, both kept up to date as each allocation is drawn."""

    def __init__(self, household_ids: list[int]):
        self.pools: dict[str, FundLots] = {}
        self.allocated = allocated_values(household_ids)

    def draw_lots(self, fund_id: int, commodity: str, units: int, **how):
        if commodity not in self.pools:
            self.pools[commodity] = FundLots(fund_id, commodity)
        return self.pools[commodity].draw(fund_id, commodity, units, **how)

    def allocated_value(self, household_id: int) -> int:
        return self.allocated.get(household_id, 0)

    def drawn(self, draw: _Draw) -> None:
        self.allocated[draw.household.id] = self.allocated_value(draw.household.id) + draw.value_vnd


def _draw(user: User, data: dict, bulk: _Bulk | None = None) -> _Draw:
    """Every rule of an allocation, checked now (the caller holds the ledger lock): the
    user's area, the household's status, earmarks, what the fund holds, the household's
    approved amount (past it only with an override reason). `bulk`: one of many drawn in
    one transaction (allocate_in_bulk), read from what the earlier ones left."""
    fund = get_fund(data["fund_id"])
    household = get_household(data["household_id"])
    require_area(user, fund.area_code)
    require_area(user, household.commune_code)
    if STATUSES.index(household.status) < STATUSES.index("approved"):
        raise Conflict(_l("The household is not approved yet."), errors={"household_id": [household.status]})
    resource = resource_from(data, priced=False)
    source_id = data.get("source_contribution_id")
    if source_id is not None:
        from ..contributions.service import get_contribution

        named = get_contribution(source_id)
        if not may_fund(named, household):
            raise Conflict(_l("Contribution %(receipt)s is earmarked for another use.",
                              receipt=named.receipt_number))
    lots = (bulk.draw_lots if bulk else draw_lots)(
        fund.id, resource.commodity, resource.units, source_contribution_id=source_id,
        eligible=lambda c: may_fund(c, household))
    # Each line is valued at its contribution's own unit value, rounded once, here.
    lines = [(c, units, value_vnd(units, resource.kind, c.unit_price_vnd or 0)) for c, units in lots]
    total_value = sum(v for _, _, v in lines)

    override_reason = clean_text(data["override_reason"]) if data.get("override_reason") else None
    after = (bulk.allocated_value if bulk else allocated_value)(household.id) + total_value
    if after > household.approved_amount_vnd:
        if override_reason is None:
            raise Conflict(
                _l("This would take the household to %(after)s đồng, over its approved %(approved)s đồng. "
                   "An override needs a reason.", after=after, approved=household.approved_amount_vnd),
                approved_amount_vnd=household.approved_amount_vnd, would_be_vnd=after)
    else:
        override_reason = None  # nothing to override: keep the record honest
    return _Draw(fund, household, resource, lines, total_value, override_reason, household.approved_amount_vnd)


def _transaction(draw: _Draw) -> PlannedTransaction:
    """An allocation's journal transaction: each lot from the fund to the household."""
    fund, household, resource = draw.fund, draw.household, draw.resource
    legs, refs = [], {}
    for contribution, units, _value in draw.lines:
        refs[contribution.id] = contribution.receipt_number
        legs += [Leg(fund.account, resource.commodity, -units, contribution.id, fund.id),
                 Leg(household.account, resource.commodity, units, contribution.id)]
    public = public_allocation(fund.code, household.id, household.commune_code, draw.value_vnd,
                               draw.override_reason is not None)
    return PlannedTransaction(legs, public, refs, private={"household": household_identity(household)})


def _record_allocation(user: User, data: dict, draw: _Draw) -> Allocation:
    fund, household, resource = draw.fund, draw.household, draw.resource
    planned = _transaction(draw)
    txn = record_transaction("allocation", user.id, planned.legs, planned.public,
                             contribution_refs=planned.contribution_refs, private=planned.private)
    allocation = Allocation(fund_id=fund.id, household_id=household.id, kind=resource.kind,
                            commodity=resource.commodity, units=resource.units, value_vnd=draw.value_vnd,
                            source_contribution_id=data.get("source_contribution_id"),
                            override_reason=draw.override_reason, note=data.get("note"), txn=txn,
                            created_by_id=user.id,
                            lines=[AllocationLine(contribution_id=c.id, units=u, value_vnd=v)
                                   for c, u, v in draw.lines])
    db.session.add(allocation)
    db.session.flush()
    return allocation


@transactional
def allocate_to_household(user: User, data: dict) -> Allocation | Approval:
    """Allocate to a household, or, when it needs a second person's approval (its value is
    above the threshold, or it overrides the approved amount), return the pending Approval
    instead: checked now all the same, so a request that could not be carried out is
    refused at once with the same error."""
    require(user, "record")
    hold_ledger()
    draw = _draw(user, data)
    if needs_approval("allocation", value_vnd=draw.value_vnd, override=draw.override_reason is not None):
        request = {**data, "override_reason": draw.override_reason}
        return request_approval(user, "allocation", request, area_code=draw.fund.area_code,
                                value_vnd=draw.value_vnd, reason=draw.override_reason)
    return _record_allocation(user, data, draw)


@transactional
def allocate_in_bulk(user: User, fund_id: int, requests: list[dict]) -> list[int]:
    """Many allocations from one fund's pool at once, first-in-first-out (say, every
    approved household of a commune; bench/generate.py funds 334,234 this way): each
    request checked by every rule of allocate_to_household (_draw), in order, as if the
    earlier ones were recorded; then all written in a few statements. One that is refused,
    or that would wait for a second person's approval, refuses the lot: nothing is
    recorded. Each request as the API takes one, less fund_id. The new allocations' ids,
    in order."""
    require(user, "record")
    lock_ledger()
    if any(data.get("source_contribution_id") is not None for data in requests):
        raise InvalidInput(_l("Allocations in bulk draw from the fund's pool: allocate from a named contribution "
                              "one at a time."), errors={"source_contribution_id": [_l("Not allowed here.")]})
    requests = [_request(number, data, fund_id) for number, data in enumerate(requests, 1)]
    household_ids = sorted({data["household_id"] for data in requests})
    for part in in_parts(household_ids):  # into the session at once, a few hundred a query
        db.session.scalars(select(Household).where(Household.id.in_(part))).all()
    bulk = _Bulk(household_ids)
    draws = []
    for number, data in enumerate(requests, 1):
        try:
            draw = _draw(user, data, bulk)
            if needs_approval("allocation", value_vnd=draw.value_vnd, override=draw.override_reason is not None):
                raise Conflict(_l("This allocation needs a second person's approval: request it on its own."))
        except (Conflict, InvalidInput, NotFound) as err:
            raise type(err)(_l("Allocation %(number)s of %(count)s (household %(household)s) cannot be made: "
                               "%(why)s Nothing was recorded.", number=number, count=len(requests),
                               household=data["household_id"], why=err.detail),
                            errors={f"requests.{number - 1}": [str(err.detail)]}) from err
        bulk.drawn(draw)
        draws.append((data, draw))
    txn_ids = record_transactions("allocation", user.id, [_transaction(draw) for _data, draw in draws])
    now = utcnow()
    ids = insert_rows(Allocation.__table__, [
        {"fund_id": fund_id, "household_id": draw.household.id, "kind": draw.resource.kind,
         "commodity": draw.resource.commodity, "units": draw.resource.units, "value_vnd": draw.value_vnd,
         "source_contribution_id": None, "override_reason": None, "note": data.get("note"), "txn_id": txn_id,
         "created_by_id": user.id, "created_at": now}
        for (data, draw), txn_id in zip(draws, txn_ids, strict=True)], returning_ids=True)
    insert_rows(AllocationLine.__table__, [
        {"allocation_id": allocation_id, "contribution_id": c.id, "units": units, "value_vnd": value}
        for (_data, draw), allocation_id in zip(draws, ids, strict=True) for c, units, value in draw.lines])
    return ids


def _request(number: int, data: dict, fund_id: int) -> dict:
    """One request of a bulk allocation, read as the API reads one (amounts above zero,
    quantities as decimal strings, no unknown field)."""
    from marshmallow import ValidationError

    from .schemas import AllocationIn

    try:
        return AllocationIn().load({**data, "fund_id": fund_id})
    except ValidationError as err:
        raise InvalidInput(_l("Allocation %(number)s has invalid fields. Nothing was recorded.", number=number),
                           errors={f"requests.{number - 1}.{name}": messages
                                   for name, messages in err.messages.items()}) from err


def carry_out_allocation(user: User, data: dict, approver: User) -> tuple[Allocation, JournalTransaction]:
    """An approved allocation request of `user`, made now: every rule checked again (in the
    approver's transaction, under the ledger lock). Past the approved amount only when the
    approver may allow an override."""
    draw = _draw(user, data)
    if draw.override_reason is not None and not can(approver, "override"):
        raise Forbidden(_l("Your role (%(role)s) may not allocate past the approved amount.", role=approver.role))
    allocation = _record_allocation(user, data, draw)
    return allocation, allocation.txn


def _reversible(user: User, allocation_id: int) -> Allocation:
    allocation = get_allocation(allocation_id)
    require_area(user, allocation.fund.area_code)
    if reversal_of(allocation.txn_id) is not None:
        raise Conflict(_l("This allocation is already reversed."))
    return allocation


@transactional
def reverse_allocation(user: User, allocation_id: int, reason: str) -> Allocation | Approval:
    """Undo an allocation with a reason: its lots return to the fund they came from. Needs a
    second person's approval: until then the pending Approval is returned."""
    require(user, "record")
    hold_ledger()
    allocation = _reversible(user, allocation_id)
    if needs_approval("reversal_allocation"):
        return request_approval(user, "reversal_allocation", {"allocation_id": allocation.id, "reason": reason},
                                area_code=allocation.fund.area_code, value_vnd=allocation.value_vnd,
                                reason=reason, record_id=allocation.id)
    return carry_out_allocation_reversal(user, allocation.id, reason)[0]


def carry_out_allocation_reversal(user: User, allocation_id: int, reason: str) -> tuple[Allocation, JournalTransaction]:
    allocation = _reversible(user, allocation_id)
    txn = record_reversal(user.id, allocation.txn, {allocation.fund.account: allocation.fund_id},
                          reversal_subject(allocation), reason)
    return allocation, txn


def list_allocations(user: User, filters: dict):
    from ..funds.models import Fund

    query = select(Allocation).join(Fund, Fund.id == Allocation.fund_id).order_by(Allocation.id)
    if user.area_code:
        query = query.where(within_clause(Fund.area_code, user.area_code))
    for name in ("fund_id", "household_id", "kind"):
        if filters.get(name) is not None:
            query = query.where(getattr(Allocation, name) == filters[name])
    if filters.get("area_code") or filters.get("campaign_id"):
        from ..households.models import Household

        query = query.join(Household, Household.id == Allocation.household_id)
        if filters.get("area_code"):
            query = query.where(within_clause(Household.commune_code, filters["area_code"]))
        if filters.get("campaign_id"):
            query = query.where(Household.campaign_id == filters["campaign_id"])
    if filters.get("contribution_id"):
        query = query.where(Allocation.id.in_(select(AllocationLine.allocation_id).where(
            AllocationLine.contribution_id == filters["contribution_id"])))
    return query
