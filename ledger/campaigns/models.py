from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow


class Campaign(db.Model):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    # Support norms: what one household is approved by default, per support type.
    norm_new_build_vnd: Mapped[int] = mapped_column(Amount)
    norm_repair_vnd: Mapped[int] = mapped_column(Amount)
    target_houses: Mapped[int | None]
    # Household heads appear masked ("Nguyễn V. A.") on public pages unless the campaign's
    # committee decided to publish the list of beneficiaries by name.
    publish_household_names: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def norm_for(self, support_type: str) -> int:
        return self.norm_new_build_vnd if support_type == "new_build" else self.norm_repair_vnd
