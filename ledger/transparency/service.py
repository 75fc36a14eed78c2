"""Published keys: every public key that has signed, the current one first."""
from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import event, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from receipts.signing import SigningKey, b64url, load_public_key, raw_public_bytes

from ..database import transactional
from ..extensions import db
from ..types import utcnow
from .keys import forget_signing_key, key_file, signing_key
from .models import SigningKeyRecord

_REGISTERED = "ledger_signing_key_registered"
_SEEN = "ledger_signing_key_seen"  # session.info: found on record in this transaction


def register_key(key: SigningKey) -> None:
    """Make sure the key's public half is on record before it signs (in the caller's
    transaction); a new key retires the others."""
    from flask import current_app

    if current_app.extensions.get(_REGISTERED) == key.key_id:
        return
    if db.session.get(SigningKeyRecord, key.key_id) is None:
        db.session.execute(update(SigningKeyRecord).where(SigningKeyRecord.retired_at.is_(None))
                           .values(retired_at=utcnow()))
        # DO NOTHING: a reader publishing the keys may register the same key at the same moment.
        insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        db.session.execute(insert(SigningKeyRecord).values(
            key_id=key.key_id, algorithm="Ed25519", public_key=b64url(raw_public_bytes(key.public_key)),
            created_at=utcnow()).on_conflict_do_nothing(index_elements=["key_id"]))
    else:
        # On record, but perhaps only in this transaction: remembered once it commits.
        db.session.info[_SEEN] = key.key_id


@event.listens_for(Session, "after_commit")
def _key_committed(session) -> None:
    """The key's record is committed: stop asking. (Set at a rollback instead, the flag
    would outlive a record the rollback removed, and every later receipt would refer to
    a key not on record.)"""
    from flask import current_app, has_app_context

    key_id = session.info.pop(_SEEN, None)
    if key_id is not None and has_app_context():
        current_app.extensions[_REGISTERED] = key_id


@event.listens_for(Session, "after_rollback")
def _key_rolled_back(session) -> None:
    session.info.pop(_SEEN, None)


def forget_registration(app) -> None:
    """For a database emptied under a running process (tests): ask again whether the key is on record."""
    app.extensions.pop(_REGISTERED, None)


def current_key() -> SigningKey:
    key = signing_key()
    register_key(key)
    return key


def published_keys() -> list[SigningKeyRecord]:
    return list(db.session.scalars(select(SigningKeyRecord).order_by(
        SigningKeyRecord.retired_at.is_not(None), SigningKeyRecord.created_at.desc())))


def public_keys() -> dict[str, Ed25519PublicKey]:
    """Every key that has signed, by key id: what verification checks against."""
    return {record.key_id: load_public_key(record.public_key) for record in published_keys()}


@transactional
def ensure_key_on_record() -> SigningKeyRecord:
    key = current_key()
    return db.session.get(SigningKeyRecord, key.key_id)


def rotate_signing_key(app) -> tuple[str, str, Path]:
    """Generate a new key in the instance folder; the old file is kept beside it, renamed,
    for the operator to archive offline. Returns (old key id, new key id, archived path)."""
    if app.config.get("LEDGER_SIGNING_KEY_FILE"):
        raise RuntimeError("LEDGER_SIGNING_KEY_FILE is set: put the new key in that file and restart instead")
    path = key_file(app)
    old = signing_key()
    ensure_key_on_record()
    archived = path.with_name(f"signing_key.{old.key_id}.retired.pem")
    path.rename(archived)
    forget_signing_key(app)
    forget_registration(app)
    new = ensure_key_on_record().key_id
    return old.key_id, new, archived
