"""Funds, what they hold, and transfers between them (province to commune)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..approvals.models import Approval
from ..areas.service import get_area, within_clause
from ..auth.models import User
from ..auth.service import require, require_area
from ..database import transactional
from ..extensions import db
from ..journal.models import JournalTransaction
from ..journal.quantities import VND, kind_of
from ..journal.resources import resource_from
from ..journal.service import (
    Leg,
    draw_lots,
    fund_balances,
    hold_ledger,
    lock_ledger,
    record_reversal,
    record_transaction,
    reversal_of,
)
from ..problems import Conflict, InvalidInput, NotFound
from ..text import clean_text
from .models import Fund, Transfer, TransferLine

FUND_CODE = re.compile(r"^[A-Z0-9]{2,16}$")


def get_fund(fund_id: int) -> Fund:
    fund = db.session.get(Fund, fund_id)
    if fund is None:
        raise NotFound(_l("Unknown fund %(id)s.", id=fund_id))
    return fund


@transactional
def create_fund(user: User, *, code: str, name: str, area_code: str, parent_fund_id: int | None = None) -> Fund:
    require(user, "manage")
    get_area(area_code)
    require_area(user, area_code)
    code = clean_text(code).upper()
    if not FUND_CODE.match(code):
        raise InvalidInput(_l("A fund code has 2 to 16 letters A-Z or digits."),
                           errors={"code": [_l("2 to 16 letters A-Z or digits.")]})
    if db.session.scalar(select(Fund.id).where(Fund.code == code)) is not None:
        raise Conflict(_l("Fund code %(code)s is taken.", code=code))
    if parent_fund_id is not None:
        get_fund(parent_fund_id)
    fund = Fund(code=code, name=name, area_code=area_code, parent_fund_id=parent_fund_id, created_by_id=user.id)
    db.session.add(fund)
    db.session.flush()
    return fund


def list_funds(user: User, area_code: str | None = None):
    query = select(Fund).order_by(Fund.id)
    if user.area_code:
        query = query.where(within_clause(Fund.area_code, user.area_code))
    if area_code:
        query = query.where(within_clause(Fund.area_code, area_code))
    return query


def balances(fund: Fund) -> list[dict]:
    """What the fund holds, per commodity, in the API's words."""
    from ..journal.resources import describe

    return [describe(kind_of(c), c, units) for c, units in sorted(fund_balances(fund.id).items())]


def get_transfer(transfer_id: int) -> Transfer:
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None:
        raise NotFound(_l("Unknown transfer %(id)s.", id=transfer_id))
    return transfer


def transfer_subject(from_code: str, to_code: str) -> dict:
    """A transfer's (and its reversal's) public part of its log leaf."""
    return {"transfer": {"from": from_code, "to": to_code}}


@transactional
def transfer_between_funds(user: User, from_fund_id: int, data: dict) -> Transfer:
    """Move resources from one fund to another, lot by lot (FIFO unless a source is named)."""
    from ..contributions.service import earmark_allows

    require(user, "record")
    lock_ledger()
    source, target = get_fund(from_fund_id), get_fund(data["to_fund_id"])
    require_area(user, source.area_code)
    if source.id == target.id:
        raise InvalidInput(_l("A fund cannot transfer to itself."), errors={"to_fund_id": [_l("Another fund.")]})
    resource = resource_from(data, priced=False)
    lots = draw_lots(source.id, resource.commodity, resource.units,
                     source_contribution_id=data.get("source_contribution_id"),
                     eligible=lambda c: earmark_allows(c, fund=target))
    legs, refs = [], {}
    for contribution, units in lots:
        refs[contribution.id] = contribution.receipt_number
        legs += [Leg(source.account, resource.commodity, -units, contribution.id, source.id),
                 Leg(target.account, resource.commodity, units, contribution.id, target.id)]
    txn = record_transaction("transfer", user.id, legs, transfer_subject(source.code, target.code),
                             contribution_refs=refs)
    transfer = Transfer(from_fund_id=source.id, to_fund_id=target.id, commodity=resource.commodity,
                        units=resource.units, source_contribution_id=data.get("source_contribution_id"),
                        note=data.get("note"), txn=txn, created_by_id=user.id,
                        lines=[TransferLine(contribution_id=c.id, units=u) for c, u in lots])
    db.session.add(transfer)
    db.session.flush()
    return transfer


def _reversible(user: User, fund_id: int, transfer_id: int) -> Transfer:
    """The transfer, if it may be reversed now: not reversed yet, and the receiving fund
    still holds all it got."""
    from ..journal.models import Holding

    transfer = get_transfer(transfer_id)
    if transfer.from_fund_id != fund_id:
        raise NotFound(_l("Unknown transfer %(id)s.", id=transfer_id))
    require_area(user, transfer.from_fund.area_code)
    if reversal_of(transfer.txn_id) is not None:
        raise Conflict(_l("This transfer is already reversed."))
    for line in transfer.lines:
        held = db.session.get(Holding, (transfer.to_fund_id, line.contribution_id, transfer.commodity))
        if held is None or held.units < line.units:
            raise Conflict(_l("Fund %(fund)s has already passed on part of this transfer; reverse that first.",
                              fund=transfer.to_fund.code))
    return transfer


@transactional
def reverse_transfer(user: User, fund_id: int, transfer_id: int, reason: str) -> Transfer | Approval:
    """Undo a transfer; refused while the receiving fund no longer holds what it got.
    Needs a second person's approval: until then the pending Approval is returned."""
    from ..approvals.service import needs_approval, request_approval

    require(user, "record")
    hold_ledger()
    transfer = _reversible(user, fund_id, transfer_id)
    if needs_approval("reversal_transfer"):
        value = transfer.units if transfer.commodity == VND else None
        return request_approval(user, "reversal_transfer",
                                {"fund_id": fund_id, "transfer_id": transfer.id, "reason": reason},
                                area_code=transfer.from_fund.area_code, value_vnd=value, reason=reason,
                                record_id=transfer.id)
    return carry_out_transfer_reversal(user, fund_id, transfer.id, reason)[0]


def carry_out_transfer_reversal(user: User, fund_id: int, transfer_id: int,
                                reason: str) -> tuple[Transfer, JournalTransaction]:
    """Reverse now (the caller holds the ledger lock), every rule checked again."""
    transfer = _reversible(user, fund_id, transfer_id)
    accounts = {transfer.from_fund.account: transfer.from_fund_id, transfer.to_fund.account: transfer.to_fund_id}
    txn = record_reversal(user.id, transfer.txn, accounts,
                          transfer_subject(transfer.from_fund.code, transfer.to_fund.code), reason)
    return transfer, txn
