from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import UTCDateTime, utcnow


class SigningKeyRecord(db.Model):
    """A public key that has signed receipts. Kept after rotation: old receipts stay verifiable."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16), default="Ed25519")
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64url
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when another key took over signing.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
