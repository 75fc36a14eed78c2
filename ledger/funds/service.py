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
BANK_BIN = re.compile(r"^[0-9]{6}$")
BANK_ACCOUNT = re.compile(r"^[A-Z0-9]{1,19}$")
# The memo of a transfer for a pledge or to a fund: the bank-statement import finds the
# pledge code in it ("UH P000123": ủng hộ, then the code).
PAYMENT_MEMO = "UH {code}"


def get_fund(fund_id: int, seen_by: User | None = None) -> Fund:
    """The fund; `seen_by`: a staff user, who sees only its area's funds and those below."""
    fund = db.session.get(Fund, fund_id)
    if fund is None:
        raise NotFound(_l("Unknown fund %(id)s.", id=fund_id))
    if seen_by is not None:
        require_area(seen_by, fund.area_code)
    return fund


@transactional
def create_fund(user: User, *, code: str, name: str, area_code: str, parent_fund_id: int | None = None,
                bank_bin: str | None = None, bank_account: str | None = None,
                bank_account_name: str | None = None) -> Fund:
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
    bank = _bank_account(bank_bin, bank_account, bank_account_name, required=False)
    fund = Fund(code=code, name=name, area_code=area_code, parent_fund_id=parent_fund_id, created_by_id=user.id,
                **bank)
    db.session.add(fund)
    db.session.flush()
    return fund


def _bank_account(bank_bin: str | None, account: str | None, account_name: str | None, *,
                  required: bool) -> dict:
    """The bank account's three fields, checked: BIN and number together (or neither, when
    not required), the number as the bank writes it (upper case, no spaces or dots)."""
    bank_bin = clean_text(bank_bin or "") or None
    account = re.sub(r"[\s.\-]", "", account or "").upper() or None
    account_name = clean_text(account_name or "") or None
    errors: dict[str, list] = {}
    if bank_bin is None and account is None and not required:
        if account_name is not None:
            errors["bank_account"] = [_l("Give the account number with its name.")]
    else:
        if bank_bin is None or not BANK_BIN.match(bank_bin):
            errors["bank_bin"] = [_l("The bank's BIN: 6 digits, such as 970436.")]
        if account is None or not BANK_ACCOUNT.match(account):
            errors["bank_account"] = [_l("1 to 19 letters or digits.")]
    if errors:
        raise InvalidInput(_l("The bank account is not complete or not valid."), errors=errors)
    return {"bank_bin": bank_bin, "bank_account": account, "bank_account_name": account_name}


@transactional
def set_bank_account(user: User, fund_id: int, *, bank_bin: str | None = None, bank_account: str | None = None,
                     bank_account_name: str | None = None) -> Fund:
    """Give a fund that has none the bank account donors transfer to. An account once set is
    never changed here: codes already printed name it."""
    require(user, "manage")
    # Locked, so two administrators at once set one account (FOR UPDATE OF funds: PostgreSQL
    # does not lock the outer-joined area). SQLite serialises writers anyway.
    fund = db.session.scalar(select(Fund).where(Fund.id == fund_id).with_for_update(of=Fund)
                             .execution_options(populate_existing=True))
    if fund is None:
        raise NotFound(_l("Unknown fund %(id)s.", id=fund_id))
    require_area(user, fund.area_code)
    if fund.has_bank_account:
        raise Conflict(_l("Fund %(code)s already has a bank account; it is not changed.", code=fund.code))
    for field, value in _bank_account(bank_bin, bank_account, bank_account_name, required=True).items():
        setattr(fund, field, value)
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


# --- VietQR payment codes -------------------------------------------------------------------

def payment_code(fund: Fund, memo_code: str, amount_vnd: int | None = None) -> dict:
    """A VietQR code for a transfer to the fund's bank account, memo "UH {code}"; Conflict
    when the fund has no bank account."""
    from receipts.vietqr import bank_name, build_vietqr

    if not fund.has_bank_account:
        raise Conflict(_l("Fund %(code)s has no bank account yet.", code=fund.code))
    memo = PAYMENT_MEMO.format(code=memo_code)
    return {"payload": build_vietqr(fund.bank_bin, fund.bank_account, amount_vnd, memo),
            "bank_bin": fund.bank_bin, "bank_name": bank_name(fund.bank_bin), "account": fund.bank_account,
            "account_name": fund.bank_account_name, "amount_vnd": amount_vnd, "memo": memo}


def fund_payment_code(fund: Fund) -> dict:
    """The fund's general code: no amount, memo "UH {fund code}"."""
    return payment_code(fund, fund.code)


def pledge_payment_code(pledge) -> dict:
    """A pledge's code: the fund's account, memo "UH {pledge code}", and for a cash pledge the
    amount still to receive (none once it is all received). Conflict for a cancelled pledge."""
    from ..pledges.service import fulfilled_units

    if pledge.cancellation is not None:
        raise Conflict(_l("Pledge %(code)s is cancelled.", code=pledge.code))
    amount = None
    if pledge.commodity == VND:
        remaining = pledge.units - fulfilled_units(pledge)
        amount = remaining if remaining > 0 else None
    return payment_code(pledge.fund, pledge.code, amount)
