"""A staff form sent twice (a double click, a reload after a slow answer) records once.

Each form carries a one-time token in a hidden field. The first successful submission keeps
where it led under (user, "form:" + token) in the same table and the same transaction as
the API's Idempotency-Key records, so the write and its token commit or fail together.
The same token again with the same fields answers the first result; with other fields
(the form was reused after the browser's Back button) nothing is recorded and the person is
told. A refused submission keeps nothing: the corrected form may be sent with its token.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from flask import request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import write_transaction
from ..extensions import db
from .models import IdempotencyRecord

PREFIX = "form:"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,100}")
_NOT_FINGERPRINTED = frozenset({"csrf_token", "form_token"})


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class Outcome:
    location: str  # where the page goes next (the record, or where a pending request shows)
    note: str  # what happened, for the message: "recorded", "pending", ...
    replayed: bool = False  # True: a second submission; nothing was done this time


class FormAlreadyUsed(Exception):
    """The token was used by a submission with other fields."""

    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


def _fingerprint() -> str:
    """The request: its path and fields (not the CSRF and form tokens)."""
    digest = hashlib.sha256()
    fields = sorted((k, v) for k in request.form for v in request.form.getlist(k) if k not in _NOT_FINGERPRINTED)
    for part in (request.path, json.dumps(fields, ensure_ascii=False)):
        data = part.encode()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _stored(user_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))


def _replay(record: IdempotencyRecord, fingerprint: str) -> Outcome:
    body = json.loads(record.response_body)
    if record.request_sha256 != fingerprint:
        raise FormAlreadyUsed(body["location"])
    return Outcome(body["location"], body["note"], replayed=True)


def submit_once(user_id: int, token: str | None, action: Callable[[], tuple[str, str]]) -> Outcome:
    """Run `action` (one service call; it returns (location, note)) in one write
    transaction, once per form token. Refusals (LedgerError) pass through unrecorded."""
    token = (token or "").strip()
    if not _TOKEN.fullmatch(token):  # a form from elsewhere: no protection to give
        with write_transaction():
            return Outcome(*action())
    key, fingerprint = PREFIX + token, _fingerprint()
    try:
        with write_transaction():
            record = _stored(user_id, key)
            if record is not None:
                return _replay(record, fingerprint)
            location, note = action()
            db.session.add(IdempotencyRecord(
                user_id=user_id, key=key, request_sha256=fingerprint, status=303,
                response_body=json.dumps({"location": location, "note": note})))
            db.session.flush()
            return Outcome(location, note)
    except IntegrityError:
        # The other click committed first: its write stands, ours was rolled back.
        db.session.rollback()
        record = _stored(user_id, key)
        if record is None:
            raise
        return _replay(record, fingerprint)
