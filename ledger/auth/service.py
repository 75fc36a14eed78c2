"""Users, passwords, bearer tokens and what each role may do."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import make_transient_to_detached

from ..database import read_plainly, transactional
from ..extensions import db
from ..problems import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from ..text import clean_text
from ..types import utcnow
from .models import ROLES, ApiToken, User, UserChange

_hasher = PasswordHasher()  # Argon2id: a slow hash, as passwords deserve
MIN_PASSWORD_LENGTH = 10
# Log-in hardening: this many failures in a row lock the username for LOCK_DURATION.
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)

# What each role may do. Every permission check in the service reads this table.
PERMISSIONS = {
    "read": set(ROLES),
    "record": {"admin", "recorder", "approver"},  # donors, pledges, contributions, households, allocations
    "override": {"admin", "approver"},  # allocate past a household's approved amount
    "manage": {"admin"},  # campaigns, funds, areas, users
    "audit": {"admin", "auditor"},  # the audit trail
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
                display_name: str | None = None, created_by: User | None = None,
                sees_private_data: bool = False) -> User:
    """Create a staff user. `created_by`: the admin doing it (None: the command line); an
    admin with an area creates users only in that area and below. `sees_private_data`:
    the grant an auditor needs to read private fields (ledger.auth.privacy)."""
    username = clean_text(username)
    if created_by is not None:
        require(created_by, "manage")
    if not username:
        raise InvalidInput(_l("A username is needed."), errors={"username": [_l("Required.")]})
    _check_role(role)
    _check_password(password)
    area_code = _check_area(area_code, created_by)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        message = _l("The username %(name)s is taken.", name=username)
        raise Conflict(message, errors={"username": [message]})
    user = User(username=username, display_name=clean_text(display_name or username),
                password_hash=_hasher.hash(password), role=role, area_code=area_code,
                created_by_id=created_by.id if created_by is not None else None,
                sees_private_data=sees_private_data)
    db.session.add(user)
    db.session.flush()
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(_l("Unknown role."), errors={"role": [f"{', '.join(ROLES)}"]})


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        message = _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        raise InvalidInput(message, errors={"password": [message]})


def _check_area(area_code: str | None, admin: User | None) -> str | None:
    """A known area code (None: the whole country), within the acting admin's own area."""
    from ..areas.models import Area
    from ..areas.service import is_within

    area_code = clean_text(area_code) if area_code else None
    if area_code is not None and db.session.get(Area, area_code) is None:
        message = _l("Unknown area code %(code)s.", code=area_code)
        raise InvalidInput(message, errors={"area_code": [message]})
    if admin is not None and admin.area_code is not None:
        if area_code is None or not is_within(area_code, admin.area_code):
            message = _l("This is outside your area (%(area)s).", area=admin.area_code)
            raise Forbidden(message, errors={"area_code": [message]})
    return area_code


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("Unknown user %(id)s.", id=user_id))
    return user


def list_users(admin: User):
    """The users an admin may manage: all, or those in its area and below."""
    from ..areas.service import within_clause

    require(admin, "manage")
    query = select(User).order_by(User.username)
    if admin.area_code is not None:
        query = query.where(User.area_code.is_not(None), within_clause(User.area_code, admin.area_code))
    return query


def _managed_user(admin: User, user_id: int) -> User:
    require(admin, "manage")
    user = get_user(user_id)
    if admin.area_code is not None:
        require_area(admin, user.area_code)
    return user


def _record_change(user: User, admin: User, changes: dict) -> None:
    if changes:
        db.session.add(UserChange(user_id=user.id, changes=changes, changed_by_id=admin.id))
        db.session.flush()


@transactional
def update_user(admin: User, user_id: int, *, display_name: str | None = None, role: str | None = None,
                area_code: str | None = None, national: bool = False,
                sees_private_data: bool | None = None) -> User:
    """Change a user's display name, role, area (`national=True` with no area: the whole
    country) or grant to read private fields (ledger.auth.privacy). The change is kept in
    the user's history. An admin does not change its own role, area or grant: another
    admin does."""
    user = _managed_user(admin, user_id)
    changes: dict[str, list] = {}
    if display_name is not None and clean_text(display_name) and clean_text(display_name) != user.display_name:
        changes["display_name"] = [user.display_name, clean_text(display_name)]
        user.display_name = clean_text(display_name)
    if role is not None and role != user.role:
        _check_role(role)
        if user.id == admin.id:
            message = _l("You cannot change your own role; ask another administrator.")
            raise Conflict(message, errors={"role": [message]})
        changes["role"] = [user.role, role]
        user.role = role
    if area_code is not None or national:
        new_area = _check_area(area_code if not national else None, admin)
        if new_area != user.area_code:
            if user.id == admin.id:
                message = _l("You cannot change your own area; ask another administrator.")
                raise Conflict(message, errors={"area_code": [message]})
            changes["area_code"] = [user.area_code, new_area]
            user.area_code = new_area
    if sees_private_data is not None and sees_private_data != user.sees_private_data:
        if user.id == admin.id:
            message = _l("You cannot change your own access to private data; ask another administrator.")
            raise Conflict(message, errors={"sees_private_data": [message]})
        changes["sees_private_data"] = [user.sees_private_data, sees_private_data]
        user.sees_private_data = sees_private_data
    _record_change(user, admin, changes)
    return user


@transactional
def set_active(admin: User, user_id: int, active: bool) -> User:
    """Deactivate (its sessions and tokens stop working at once) or reactivate a user.
    Nobody deactivates itself."""
    user = _managed_user(admin, user_id)
    if user.id == admin.id and not active:
        raise Conflict(_l("You cannot deactivate yourself."))
    if user.active != active:
        _record_change(user, admin, {"active": [user.active, active]})
        user.active = active
        if active:
            user.failed_logins, user.locked_until = 0, None
    return user


@transactional
def set_password(admin: User, user_id: int, password: str) -> User:
    """An admin sets a new password (the user forgot it, or was locked out): it also lifts
    a log-in lock. The history says that it changed, never what to."""
    user = _managed_user(admin, user_id)
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None
    _record_change(user, admin, {"password": ["", "changed"]})
    return user


_CHANGE_LABELS = {
    "display_name": _l("name"),
    "role": _l("role"),
    "area_code": _l("area"),
    "active": _l("access"),
    "password": _l("password"),
    "sees_private_data": _l("private data"),
}


def describe_user_change(changes: dict) -> str:
    """A user's change for people: "role: recorder → approver; password changed". Never a
    password: the history only says that it changed."""
    parts = []
    for name, (old, new) in changes.items():
        label = str(_CHANGE_LABELS.get(name, name))
        if name == "password":
            parts.append(str(_l("password changed")))
        elif name == "active":
            parts.append(str(_l("reactivated")) if new else str(_l("deactivated")))
        elif name == "sees_private_data":
            parts.append(str(_l("may read private data")) if new else str(_l("may no longer read private data")))
        elif name == "area_code":
            whole = str(_l("whole country"))
            parts.append(f"{label}: {old or whole} → {new or whole}")
        else:
            parts.append(f"{label}: {old} → {new}")
    return "; ".join(parts)


def usernames(user_ids) -> dict[int, str]:
    """{id: username} for the users named in a page's rows."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def has_admin() -> bool:
    return db.session.scalar(select(User.id).where(User.role == "admin").limit(1)) is not None


@dataclass(frozen=True)
class LoginAttempt:
    """The outcome of a log-in: the user, or None and, if the username is locked, until when."""

    user: User | None
    locked_until: datetime | None = None


@transactional
def attempt_login(username: str, password: str) -> LoginAttempt:
    """Check a username and password, counting failures: after MAX_FAILED_LOGINS in a row
    the username is locked for LOCK_DURATION (even the right password is refused then); a
    success resets the count. Unknown usernames cost the same Argon2 time and are never
    said to be locked. Commits the count, so the caller refuses after it."""
    user = db.session.scalar(select(User).where(User.username == clean_text(username)))
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time: do not reveal which usernames exist
        return LoginAttempt(None)
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        _hasher.hash(password)  # the same time, and no oracle for the password while locked
        return LoginAttempt(None, user.locked_until)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        expired_lock = user.locked_until is not None  # a lock that ran out starts a new count
        failed = db.session.scalar(
            update(User).where(User.id == user.id)
            .values(failed_logins=(1 if expired_lock else User.failed_logins + 1), locked_until=None)
            .returning(User.failed_logins))
        if failed >= MAX_FAILED_LOGINS:
            locked_until = now + LOCK_DURATION
            db.session.execute(update(User).where(User.id == user.id).values(locked_until=locked_until))
            return LoginAttempt(None, locked_until)
        return LoginAttempt(None)
    if user.failed_logins or user.locked_until is not None:
        user.failed_logins, user.locked_until = 0, None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return LoginAttempt(user)


def user_for_session(user_id: str) -> User | None:
    """The user a page session names, if it still may act."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def locked_message(locked_until: datetime):
    from ..fields import VN_TZ

    return _l("Too many failed log-ins: this account is locked until %(time)s. Try again later "
              "or ask an administrator.", time=locked_until.astimezone(VN_TZ).strftime("%H:%M"))


def issue_token(username: str, password: str, ttl_seconds: int) -> tuple[str, datetime]:
    """A bearer token for a username and password. Failures count towards the same lock
    as the pages' log-in (the count is committed before the refusal)."""
    attempt = attempt_login(username, password)
    if attempt.user is None:
        if attempt.locked_until is not None:
            raise Unauthorized(locked_message(attempt.locked_until))
        raise Unauthorized(_l("Wrong username or password."))
    return _store_token(attempt.user.id, ttl_seconds)


@transactional
def _store_token(user_id: int, ttl_seconds: int) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(seconds=ttl_seconds)
    db.session.add(ApiToken(user_id=user_id, token_sha256=_token_digest(token), expires_at=expires_at))
    return token, expires_at


_USER_COLUMNS = list(User.__table__.c)
_TOKEN_USER_SQL = (f"SELECT {', '.join(f'u.{c.name}' for c in _USER_COLUMNS)}, t.expires_at "
                   "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = :digest")


def user_for_token(token: str) -> User | None:
    """The active user this unexpired token names, else None: detached from the session,
    as a user read and expunged would be. Read as one plain row, not through the ORM,
    which cost a tenth of every API write's CPU."""
    rows = read_plainly(_TOKEN_USER_SQL, {"digest": _token_digest(token)},
                        [*_USER_COLUMNS, ApiToken.__table__.c.expires_at])
    if not rows:
        return None
    values = rows[0]
    if values.pop("expires_at") <= utcnow() or not values["active"]:
        return None
    user = User(**values)
    make_transient_to_detached(user)  # as if loaded: never inserted, if a relationship is given it
    return user
