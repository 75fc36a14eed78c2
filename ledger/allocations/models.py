from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow


class Allocation(db.Model):
    """Resources moved from a fund to one household, drawn from specific contributions."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    commodity: Mapped[str] = mapped_column(String(40))
    units: Mapped[int] = mapped_column(Amount)
    value_vnd: Mapped[int] = mapped_column(Amount)
    source_contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contributions.id"))
    # Set when the allocation takes the household past its approved amount.
    override_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    txn_id: Mapped[int] = mapped_column(ForeignKey("journal_transactions.id"), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[AllocationLine]] = relationship(order_by="AllocationLine.id", lazy="selectin")
    fund = relationship("Fund", lazy="joined")
    household = relationship("Household")
    txn = relationship("JournalTransaction")


class AllocationLine(db.Model):
    """The part of an allocation drawn from one contribution."""

    __tablename__ = "allocation_lines"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id"), index=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), index=True)
    units: Mapped[int] = mapped_column(Amount)
    value_vnd: Mapped[int] = mapped_column(Amount)
