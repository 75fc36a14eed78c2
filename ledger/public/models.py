from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import Id, UTCDateTime


class RateLimitCounter(db.Model):
    """A fixed-window counter of ledger.public.ratelimit (not ledger data: may be emptied)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[int] = mapped_column(BigInteger)  # seconds since the epoch


class PublicSummary(db.Model):
    """A campaign's overview of one area (or the country), as ledger.public.summaries kept
    it: figures computed from the ledger, not ledger data (may be emptied at any time)."""

    __tablename__ = "public_summaries"
    __table_args__ = (UniqueConstraint("campaign_id", "scope"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Id, ForeignKey("campaigns.id"))
    scope: Mapped[str] = mapped_column(String(20))  # the area's code; "" for the whole country
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    journal_size: Mapped[int] = mapped_column(BigInteger)  # journal entries when computed
    payload: Mapped[str] = mapped_column(Text)  # JSON: summaries.to_payload
    # Set while one process recomputes it, so that the others do not start the same work.
    refreshing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True))
