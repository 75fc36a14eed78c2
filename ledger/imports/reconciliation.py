"""A statement's reconciliation: the bank's closing balance against the fund's cash in the
ledger at the statement's last line, and the items that make up the difference."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..auth.models import User
from ..contributions.models import Contribution
from ..extensions import db
from ..fields import end_of_day
from ..funds.models import Fund
from ..journal.service import not_reversed
from ..problems import Conflict
from .models import BankLine
from .service import batch_lines, get_batch


@dataclass
class Reconciliation:
    """The bank's closing balance against the fund's cash in the ledger at the statement's
    last line, and the items that make up the difference."""

    on: date
    bank_closing_vnd: int
    ledger_balance_vnd: int
    items: list[dict]  # {"what", "amount_vnd", and what names it: row, reference, contribution_id ...}

    @property
    def difference_vnd(self) -> int:
        return self.bank_closing_vnd - self.ledger_balance_vnd

    @property
    def explained_vnd(self) -> int:
        return sum(item["amount_vnd"] for item in self.items)

    @property
    def unexplained_vnd(self) -> int:
        return self.difference_vnd - self.explained_vnd


def _live_imported_credits(fund_id: int, until: datetime):
    """(bank line, contribution) of the credits imported into the fund, not voided, that
    the bank booked by `until` (the bank's local time, as its lines are)."""
    return (select(BankLine.identity, BankLine.row, BankLine.reference, Contribution.units)
            .join(Contribution, Contribution.id == BankLine.contribution_id)
            .where(Contribution.fund_id == fund_id, BankLine.posted_at <= until, not_reversed(Contribution.txn_id)))


def _spent(fund: Fund, on: date) -> int:
    """Đồng that left the fund in the ledger by the end of `on`: allocated, and transferred
    to other funds less what came from them."""
    from ..allocations.models import Allocation
    from ..funds.models import Transfer
    from ..journal.models import JournalTransaction

    end = end_of_day(on)
    allocated = db.session.scalar(
        select(func.coalesce(func.sum(Allocation.value_vnd), 0))
        .join(JournalTransaction, JournalTransaction.id == Allocation.txn_id)
        .where(Allocation.fund_id == fund.id, Allocation.commodity == "VND", not_reversed(Allocation.txn_id),
               JournalTransaction.recorded_at < end))

    def moved(column) -> int:
        return int(db.session.scalar(
            select(func.coalesce(func.sum(Transfer.units), 0))
            .join(JournalTransaction, JournalTransaction.id == Transfer.txn_id)
            .where(column == fund.id, Transfer.commodity == "VND", not_reversed(Transfer.txn_id),
                   JournalTransaction.recorded_at < end)))

    return int(allocated) + moved(Transfer.from_fund_id) - moved(Transfer.to_fund_id)


def reconcile(user: User, batch_id: int) -> Reconciliation:
    """At the statement's last line: the ledger's cash in the fund is every imported
    credit the bank had booked by then, plus gifts received otherwise (cash in hand) by
    that day, less what was spent by that day. The items: the statement's opening balance,
    its debits, its credits the ledger does not hold, credits imported from other
    statements (in the opening balance, or another account), gifts that never passed
    through the bank, and what was spent."""
    batch = get_batch(user, batch_id)
    if batch.closing_balance_vnd is None:
        raise Conflict(_l("This statement gives no closing balance: there is nothing to reconcile."))
    lines = db.session.scalars(batch_lines(batch.id)).all()
    if not lines:
        raise Conflict(_l("This statement has no lines."))
    until = max(line.posted_at for line in lines)
    on = until.date()
    fund = batch.fund
    items: list[dict] = []
    if batch.opening_balance_vnd:
        items.append({"what": "opening_balance", "amount_vnd": batch.opening_balance_vnd})
    for line in lines:
        if line.amount_vnd < 0:
            items.append({"what": "bank_debit", "amount_vnd": line.amount_vnd, "row": line.row,
                          "reference": line.reference})
    imported = db.session.execute(_live_imported_credits(fund.id, until)).all()
    in_ledger = {r.identity for r in imported}
    statement = {line.identity for line in lines}
    for line in lines:
        if line.amount_vnd > 0 and line.identity not in in_ledger:
            items.append({"what": "credit_not_in_ledger", "amount_vnd": line.amount_vnd, "row": line.row,
                          "reference": line.reference})
    other = sum(int(r.units) for r in imported if r.identity not in statement)
    if other:
        items.append({"what": "imported_from_other_statements", "amount_vnd": -other})
    outside = db.session.execute(
        select(Contribution.id, Contribution.receipt_number, Contribution.method, Contribution.units)
        .outerjoin(BankLine, BankLine.contribution_id == Contribution.id)
        .where(Contribution.fund_id == fund.id, Contribution.commodity == "VND", Contribution.received_on <= on,
               not_reversed(Contribution.txn_id), BankLine.id.is_(None))
        .order_by(Contribution.id)).all()
    for c in outside:
        items.append({"what": "not_on_statement", "amount_vnd": -int(c.units), "contribution_id": c.id,
                      "receipt_number": c.receipt_number, "method": c.method})
    spent = _spent(fund, on)
    if spent:
        items.append({"what": "allocated_or_transferred", "amount_vnd": spent})
    balance = sum(int(r.units) for r in imported) + sum(int(c.units) for c in outside) - spent
    return Reconciliation(on, batch.closing_balance_vnd, balance, items)
