"""The signed manifest of a streamed export, kept once its last byte has gone out."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import UTCDateTime, utcnow


class StreamedExportManifest(db.Model):
    """A CSV or JSONL export streams straight into the answer, so its manifest (rows,
    SHA-256, totals of exactly the bytes sent) exists only after the last byte. Its id is
    random and goes out in the answer's headers before the body; the row is written when
    the stream ends, so an interrupted download has no manifest, never a wrong one."""

    __tablename__ = "export_manifests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    export: Mapped[str] = mapped_column(String(40))
    format: Mapped[str] = mapped_column(String(10))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    manifest: Mapped[bytes] = mapped_column(LargeBinary)  # canonical bytes: exactly manifest.json
    signature: Mapped[str] = mapped_column(String(100))  # manifest.json.sig, base64url
