from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow


class LedgerSequence(db.Model):
    """One row. Locked by every write that moves resources; holds the last journal seq."""

    __tablename__ = "ledger_sequence"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Amount, default=0)


class Material(db.Model):
    """A kind of material goods (item + unit): one commodity of the journal, MAT-{id}."""

    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40))
    # casefolded "item|unit": "Xi măng" and "xi măng" are one commodity.
    key: Mapped[str] = mapped_column(String(250), unique=True)


class JournalTransaction(db.Model):
    """One balanced, append-only transaction. Its public form is a future log leaf."""

    __tablename__ = "journal_transactions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # Gapless recording order (0, 1, 2, ...): the leaf index in the transparency log.
    seq: Mapped[int] = mapped_column(Amount, unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # contribution, allocation, transfer, reversal
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # A reversal names the transaction it undoes; each can be undone once.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_transactions.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    # Canonical public JSON (UTF-8, NFC, sorted keys, no white space) and its SHA-256.
    public_json: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))

    postings: Mapped[list[Posting]] = relationship(back_populates="txn", order_by="Posting.id")
    recorded_by = relationship("User")
    reverses: Mapped[JournalTransaction | None] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversal")
    # The transaction that undid this one, if any (set in memory when either is recorded).
    reversal: Mapped[JournalTransaction | None] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False)
    salt: Mapped[LeafSalt | None] = relationship(uselist=False)  # set when recorded; read by the audit


class Posting(db.Model):
    __tablename__ = "postings"
    __table_args__ = (Index("ix_postings_account_commodity", "account", "commodity"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    txn_id: Mapped[int] = mapped_column(ForeignKey("journal_transactions.id"), index=True)
    # fund:{code} | household:{id} | donations:{campaign code}
    account: Mapped[str] = mapped_column(String(80))
    commodity: Mapped[str] = mapped_column(String(40))  # VND | LABOUR | MAT-{id}
    units: Mapped[int] = mapped_column(Amount)  # đồng, thousandths, hundredths of a day
    # The contribution these units came from: every unit traces to a donor.
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), index=True)

    txn: Mapped[JournalTransaction] = relationship(back_populates="postings")


class Holding(db.Model):
    """What a fund holds of one contribution (a lot), per commodity.

    Derived from the postings and kept in the same transaction so allocation can draw
    first-in-first-out without summing the journal; `flask ledger verify` recomputes it.
    """

    __tablename__ = "holdings"
    __table_args__ = (
        CheckConstraint("units >= 0", name="not_negative"),
        # First-in-first-out: the lots a fund still holds, oldest first, read by an index scan.
        Index("ix_holdings_fifo", "fund_id", "commodity", "received_on", "contribution_id",
              sqlite_where=text("units > 0"), postgresql_where=text("units > 0")),
    )

    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), primary_key=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), primary_key=True)
    commodity: Mapped[str] = mapped_column(String(40), primary_key=True)
    units: Mapped[int] = mapped_column(Amount)
    received_on: Mapped[date]  # the contribution's: the FIFO order


class LeafSalt(db.Model):
    """The private salt of a leaf's commitments to personal data: a leaf carries only
    SHA-256(salt ‖ data), so the public cannot guess a name, and an auditor with this
    table can check it. Never published."""

    __tablename__ = "leaf_salts"

    txn_id: Mapped[int] = mapped_column(ForeignKey("journal_transactions.id"), primary_key=True,
                                        autoincrement=False)
    salt: Mapped[str] = mapped_column(String(32))  # 16 random bytes, hex
