"""Maker–checker: a request that waits for a second user's approval before it moves anything."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow

# What may wait for approval, and what it acts on once approved.
KINDS = ("allocation", "void", "reversal_allocation", "reversal_transfer")
STATUSES = ("pending", "approved", "rejected")
RECORD_TYPE = {"allocation": "allocation", "void": "contribution",
               "reversal_allocation": "allocation", "reversal_transfer": "transfer"}


class Approval(db.Model):
    """One request of the maker, and the checker's decision on it.

    Until approved it moves nothing: no journal transaction, no holding, no receipt void.
    `request` is the validated input of the operation (ids, amounts, reasons; no personal
    data), carried out as it stands when approved, with every rule checked again then.
    """

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    request: Mapped[dict] = mapped_column(JSON)
    # The đồng value concerned, as it was when asked (an allocation's drawn value, a void's
    # contribution value, ...); None when it has no single value (a transfer's reversal).
    value_vnd: Mapped[int | None] = mapped_column(Amount)
    # The requester's reason: a void's or reversal's reason, an allocation's override reason.
    reason: Mapped[str | None] = mapped_column(Text)
    # Where it acts (the fund's area): who may see and decide it.
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    # The contribution, allocation or transfer it voids or reverses; for an allocation, the
    # allocation made on approval.
    record_id: Mapped[int | None] = mapped_column(Id)
    # The journal transaction made on approval: its seq is the log's leaf index.
    txn_id: Mapped[int | None] = mapped_column(ForeignKey("journal_transactions.id"), unique=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="joined")
    txn = relationship("JournalTransaction")

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"

    @property
    def record_type(self) -> str:
        return RECORD_TYPE[self.kind]

    @property
    def leaf_index(self) -> int | None:
        return self.txn.seq if self.txn is not None else None
