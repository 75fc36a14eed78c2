from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import Id, UTCDateTime, utcnow


class Receipt(db.Model):
    """The signed public receipt of one contribution, as issued. Never edited: the payload
    and signature stay what the QR code and the PDF carry; a void is a separate statement."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_keys.key_id"))
    payload_json: Mapped[str] = mapped_column(Text)  # canonical: the exact bytes signed
    signature: Mapped[str] = mapped_column(String(100))  # Ed25519, base64url
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contribution = relationship("Contribution")
    void = relationship("ReceiptVoid", uselist=False, back_populates="receipt", lazy="joined")


class ReceiptVoid(db.Model):
    """A signed statement that a receipt no longer stands, with the reason and the date."""

    __tablename__ = "receipt_voids"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), unique=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_keys.key_id"))
    statement_json: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(100))
    voided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    receipt = relationship("Receipt", back_populates="void")
