"""Imported bank statements: each commit is a batch; each line of the statement is kept
with its identity, so no transfer is ever recorded twice."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow

# What became of a line: a credit recorded as a contribution (matched to a pledge, to a
# known donor, to a donor created from the memo, or from nobody named), a debit kept for
# the reconciliation only (money out is not a gift), or a duplicate: a line an earlier
# batch holds, kept here too so that every batch holds its whole statement.
OUTCOMES = ("pledge", "donor", "new_donor", "anonymous", "debit", "duplicate")


class ImportBatch(db.Model):
    """One committed statement import: all its contributions were recorded together."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    bank: Mapped[str] = mapped_column(String(20))
    account_number: Mapped[str | None] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    period_from: Mapped[date | None]
    period_to: Mapped[date | None]
    opening_balance_vnd: Mapped[int | None] = mapped_column(Amount)
    closing_balance_vnd: Mapped[int | None] = mapped_column(Amount)
    lines_in_file: Mapped[int] = mapped_column(Integer)
    credits_recorded: Mapped[int] = mapped_column(Integer)
    credits_recorded_vnd: Mapped[int] = mapped_column(Amount)
    debits: Mapped[int] = mapped_column(Integer)
    debits_vnd: Mapped[int] = mapped_column(Amount)
    duplicates: Mapped[int] = mapped_column(Integer)  # lines already imported by an earlier batch
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fund = relationship("Fund", lazy="joined")
    void: Mapped[ImportBatchVoid | None] = relationship(lazy="joined")

    @property
    def is_voided(self) -> bool:
        return self.void is not None


class ImportBatchVoid(db.Model):
    """A batch voided as a whole (every contribution in it voided, with this reason). Its
    lines may then be imported again (into the right fund, say)."""

    __tablename__ = "import_batch_voids"

    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    voided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BankLine(db.Model):
    """A line of an imported statement as the bank wrote it. `identity` (SHA-256 of bank,
    account, reference, time, amount and memo) is what "already imported" compares; it is
    looked up among the lines of batches not voided, under the ledger's write lock."""

    __tablename__ = "bank_lines"
    # identity: "already imported?"; payer_account: "which donor sent from this account?"
    __table_args__ = (Index("ix_bank_lines_identity", "identity"),
                      Index("ix_bank_lines_payer_account", "payer_account"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    identity: Mapped[str] = mapped_column(String(64))
    row: Mapped[int] = mapped_column(Integer)
    posted_at: Mapped[datetime]  # the bank's local time, as printed
    reference: Mapped[str | None] = mapped_column(String(100))
    amount_vnd: Mapped[int] = mapped_column(Amount)  # credit > 0, debit < 0
    memo: Mapped[str] = mapped_column(Text)  # private: may hold names, phones, accounts
    payer_name: Mapped[str | None] = mapped_column(String(300))
    payer_account: Mapped[str | None] = mapped_column(String(40))
    balance_vnd: Mapped[int | None] = mapped_column(Amount)
    outcome: Mapped[str] = mapped_column(String(10))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"))
    contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contributions.id"), unique=True)
