from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow


class Pledge(db.Model):
    """A commitment to give: cash, a material or labour. Its status is derived."""

    __tablename__ = "pledges"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    commodity: Mapped[str] = mapped_column(String(40))
    units: Mapped[int] = mapped_column(Amount)  # in the commodity's smallest unit
    unit_price_vnd: Mapped[int | None] = mapped_column(Amount)  # unit value or day rate
    value_vnd: Mapped[int] = mapped_column(Amount)
    earmark_area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    earmark_household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    due_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    donor = relationship("Donor", lazy="joined")
    fund = relationship("Fund")
    cancellation: Mapped[PledgeCancellation | None] = relationship(lazy="joined")

    @property
    def code(self) -> str:
        """Printed on the pledge and carried in bank memos: "P000123"."""
        return f"P{self.id:06d}"


class PledgeCancellation(db.Model):
    __tablename__ = "pledge_cancellations"

    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    cancelled_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
