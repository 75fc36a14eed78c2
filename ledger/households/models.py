from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow

CATEGORIES = ("poor", "near_poor", "meritorious", "disaster", "other")
SUPPORT_TYPES = ("new_build", "repair")
# The status timeline, in the only order it may be walked.
STATUSES = ("surveyed", "approved", "building", "completed", "handed_over")
PRIVATE_FIELDS = ("id_number", "phone", "address")


class Household(db.Model):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    head_name: Mapped[str] = mapped_column(String(200))
    head_name_folded: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(20))
    support_type: Mapped[str] = mapped_column(String(20))
    approved_amount_vnd: Mapped[int] = mapped_column(Amount)
    # The household's own money and work, declared: part of its funding composition.
    own_contribution_vnd: Mapped[int] = mapped_column(Amount, default=0)
    status: Mapped[str] = mapped_column(String(20), default="surveyed")  # latest event's
    id_number: Mapped[str | None] = mapped_column(String(12))
    phone: Mapped[str | None] = mapped_column(String(15))
    address: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    commune = relationship("Area", lazy="joined")
    events: Mapped[list[HouseholdStatusEvent]] = relationship(order_by="HouseholdStatusEvent.id")

    @property
    def account(self) -> str:
        return f"household:{self.id}"


class HouseholdStatusEvent(db.Model):
    """One step of the timeline: surveyed → approved → building → completed → handed over."""

    __tablename__ = "household_status_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    on: Mapped[date]  # the local date it happened
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HouseholdChange(db.Model):
    """A household's edit history: what changed, from what, by whom."""

    __tablename__ = "household_changes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    changes: Mapped[dict] = mapped_column(JSON)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
