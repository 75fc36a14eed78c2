from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class RateLimitCounter(db.Model):
    """A fixed-window counter of ledger.public.ratelimit (not ledger data: may be emptied)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[int] = mapped_column(BigInteger)  # seconds since the epoch
