from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow


class SigningKeyRecord(db.Model):
    """A public key that has signed receipts. Kept after rotation: old receipts stay verifiable."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16), default="Ed25519")
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64url
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when another key took over signing.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LogNode(db.Model):
    """The hash of a complete subtree of the Merkle log: level L, index i covers leaves
    [i·2^L, (i+1)·2^L). Written once when the subtree completes; proofs read O(log n) of
    them. One integer key, node = i·64 + L, so a proof's nodes are one `= ANY(array)`."""

    __tablename__ = "log_nodes"

    node: Mapped[int] = mapped_column(Amount, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


def node_id(level: int, idx: int) -> int:
    return (idx << 6) | level


def node_key(node: int) -> tuple[int, int]:
    return node & 63, node >> 6


class LogState(db.Model):
    """One row: how many journal transactions the Merkle log holds (leaves 0 .. size-1).
    Locked while leaves are appended and checkpoints signed."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(Amount, default=0)


class Checkpoint(db.Model):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note). All are kept."""

    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    size: Mapped[int] = mapped_column(Amount, unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_keys.key_id"))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

