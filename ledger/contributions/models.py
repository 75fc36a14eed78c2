from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow

METHODS = ("bank_transfer", "cash", "in_kind", "labour")
# Which methods fit which kind of contribution.
METHODS_BY_KIND = {"cash": ("bank_transfer", "cash"), "material": ("in_kind",), "labour": ("labour",)}


class Contribution(db.Model):
    """What was actually received into a fund. Never edited: voided by a reversal."""

    __tablename__ = "contributions"
    __table_args__ = (Index("ix_contributions_fund_received", "fund_id", "received_on", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"))
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), index=True)
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(20))
    commodity: Mapped[str] = mapped_column(String(40))
    units: Mapped[int] = mapped_column(Amount)
    unit_price_vnd: Mapped[int | None] = mapped_column(Amount)
    value_vnd: Mapped[int] = mapped_column(Amount)  # rounded once, here
    received_on: Mapped[date]
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    memo: Mapped[str | None] = mapped_column(Text)
    earmark_area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    earmark_household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    receipt_number: Mapped[str] = mapped_column(String(40), unique=True)
    # Set in the same transaction, right after the journal transaction that records it.
    txn_id: Mapped[int | None] = mapped_column(ForeignKey("journal_transactions.id"), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    donor = relationship("Donor", lazy="joined")
    fund = relationship("Fund", lazy="joined")
    campaign = relationship("Campaign")
    txn = relationship("JournalTransaction", foreign_keys=[txn_id])
    receipt = relationship("Receipt", uselist=False, viewonly=True, lazy="joined")


class ReceiptCounter(db.Model):
    """The last receipt number issued per fund and year: numbers have no gaps."""

    __tablename__ = "receipt_counters"

    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)
