"""Users, passwords, bearer tokens and what each role may do."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..database import transactional
from ..extensions import db
from ..problems import Conflict, Forbidden, InvalidInput, Unauthorized
from ..text import clean_text
from ..types import utcnow
from .models import ROLES, ApiToken, User

_hasher = PasswordHasher()  # Argon2id: a slow hash, as passwords deserve
MIN_PASSWORD_LENGTH = 10

# What each role may do. Every permission check in the service reads this table.
PERMISSIONS = {
    "read": set(ROLES),
    "record": {"admin", "recorder", "approver"},  # donors, pledges, contributions, households, allocations
    "override": {"admin", "approver"},  # allocate past a household's approved amount
    "manage": {"admin"},  # campaigns, funds, areas, users
}


def can(user: User, action: str) -> bool:
    return user.role in PERMISSIONS[action]


def require(user: User, action: str) -> None:
    if not can(user, action):
        raise Forbidden(_l("Your role (%(role)s) may not do this.", role=user.role))


def require_area(user: User, area_code: str | None) -> None:
    """A user acts only in its own area and below."""
    from ..areas.service import is_within

    if user.area_code is None:
        return
    if area_code is None or not is_within(area_code, user.area_code):
        raise Forbidden(_l("This is outside your area (%(area)s).", area=user.area_code))


@transactional
def create_user(username: str, password: str, role: str, area_code: str | None = None,
                display_name: str | None = None) -> User:
    from ..areas.models import Area

    username = clean_text(username)
    if role not in ROLES:
        raise InvalidInput(_l("Unknown role."), errors={"role": [f"{', '.join(ROLES)}"]})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if area_code is not None and db.session.get(Area, area_code) is None:
        raise InvalidInput(_l("Unknown area code %(code)s.", code=area_code))
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(_l("The username %(name)s is taken.", name=username))
    user = User(username=username, display_name=clean_text(display_name or username),
                password_hash=_hasher.hash(password), role=role, area_code=area_code)
    db.session.add(user)
    db.session.flush()
    return user


def has_admin() -> bool:
    return db.session.scalar(select(User.id).where(User.role == "admin").limit(1)) is not None


def check_password(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == clean_text(username)))
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time: do not reveal which usernames exist
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def user_for_session(user_id: str) -> User | None:
    """The user a page session names, if it still may act."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transactional
def issue_token(username: str, password: str, ttl_seconds: int) -> tuple[str, datetime]:
    user = check_password(username, password)
    if user is None:
        raise Unauthorized(_l("Wrong username or password."))
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(seconds=ttl_seconds)
    db.session.add(ApiToken(user_id=user.id, token_sha256=_token_digest(token), expires_at=expires_at))
    return token, expires_at


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _token_digest(token)))
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row.user
