from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import Id, UTCDateTime, utcnow

ROLES = ("admin", "recorder", "approver", "auditor")


class User(UserMixin, db.Model):
    """A staff user. Flask-Login's UserMixin lets pages keep them in a session; the API
    only ever takes bearer tokens."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    # None: the whole country. Otherwise the user acts in this area and below.
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    active: Mapped[bool] = mapped_column(default=True)
    # Auditors read without private fields (ID numbers, phones, exact addresses) unless an
    # admin granted them; every grant and withdrawal is in the user's history.
    sees_private_data: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who created the account (None: the command line).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Log-in hardening: failed attempts in a row, and the lock they set (reset on success).
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    area = relationship("Area", lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated user's session stops working
        return self.active


class ApiToken(db.Model):
    """A bearer token. Only its SHA-256 is stored: a leaked table opens nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user = relationship(User, lazy="joined")


class UserChange(db.Model):
    """A user's history: role, area, name and active changes, who made them and when.
    Never a password or its hash."""

    __tablename__ = "user_changes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    changes: Mapped[dict] = mapped_column(JSON)  # {field: [old, new]}
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
