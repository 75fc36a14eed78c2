from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import Id, UTCDateTime, utcnow

DONOR_KINDS = ("business", "union", "agency", "state", "individual")
PUBLIC_DISPLAYS = ("named", "anonymous")
# Fields that never leave the staff's side: not on a public page, receipt or log leaf.
PRIVATE_FIELDS = ("id_number", "phone", "address")


class Donor(db.Model):
    __tablename__ = "donors"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    name_folded: Mapped[str] = mapped_column(String(300), index=True)
    public_display: Mapped[str] = mapped_column(String(20), default="named")
    tax_code: Mapped[str | None] = mapped_column(String(14), index=True)
    state_level: Mapped[str | None] = mapped_column(String(20))  # central, province, commune
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    id_number: Mapped[str | None] = mapped_column(String(12))
    phone: Mapped[str | None] = mapped_column(String(15))
    address: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def display_name(self) -> str:
        return self.display_name_of(self.name, self.public_display)

    @staticmethod
    def display_name_of(name: str, public_display: str) -> str:
        """The name the public sees: the donor's, or "anonymous" by the donor's choice."""
        return name if public_display == "named" else ANONYMOUS_NAME


ANONYMOUS_NAME = "Nhà hảo tâm ẩn danh"


class DonorChange(db.Model):
    """A donor's edit history: what changed, from what, by whom. Nothing is lost."""

    __tablename__ = "donor_changes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    changes: Mapped[dict] = mapped_column(JSON)  # {field: [old, new]}
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
