"""Idempotent writes: Stripe's semantics for the Idempotency-Key header.

The same key with the same request answers the first answer again, without doing
anything twice; the same key with another request is refused (422). The key is stored in
the same transaction as the write, so a write and its key commit or fail together. Only
successful answers are kept: a refused request changed nothing and may be retried.
"""
from __future__ import annotations

import functools
import hashlib

from flask import Response, make_response, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from ..auth.guard import current_user
from ..database import execute_plainly, insert_rows, write_transaction
from ..extensions import db
from ..problems import InvalidInput
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
_HEADER_DOC = {"in": "header", "name": HEADER, "required": False, "schema": {"type": "string", "maxLength": 255},
               "description": "Retry safely: the same key with the same request returns the first answer."}


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), *_body_parts()):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _body_parts() -> list[bytes]:
    """What the request says. A multipart upload is sent with a random boundary each time,
    so its raw bytes differ between two sends of the same form: it is compared by its
    fields and its files' names and contents instead."""
    if request.mimetype != "multipart/form-data":
        return [request.get_data()]
    parts = [f"{k}={v}".encode() for k, v in sorted(request.form.items(multi=True))]
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
        content = upload.stream.read()
        upload.stream.seek(0)  # the view reads it again
        parts.append(f"{name}:{upload.filename}:".encode() + hashlib.sha256(content).digest())
    return parts


def _replay(record, fingerprint: str) -> Response:
    if record.request_sha256 != fingerprint:
        raise InvalidInput(_l("This Idempotency-Key was used with a different request."),
                           errors={HEADER: [_l("Use a new key for a new request.")]})
    resp = Response(record.response_body, status=record.status, mimetype="application/json")
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


_RECORDS = IdempotencyRecord.__table__


def _stored(user_id: int, key: str):
    """The first answer sent with this key (a row: request_sha256, status, response_body), or None.
    Read and written as plain SQL: no ORM object is needed, and every write pays for it."""
    return execute_plainly("SELECT request_sha256, status, response_body FROM idempotency_records "
                           "WHERE user_id = :user AND key = :key", {"user": user_id, "key": key}).first()


def idempotent(view):
    """Decorate a write view (inside token_required): one transaction, replayable by key."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            with write_transaction():
                return make_response(view(*args, **kwargs))
        key = key.strip()
        if not 1 <= len(key) <= 255:
            raise InvalidInput(_l("An Idempotency-Key has 1 to 255 characters."))
        user_id, fingerprint = current_user().id, _fingerprint()
        try:
            with write_transaction():
                record = _stored(user_id, key)
                if record is not None:
                    return _replay(record, fingerprint)
                resp = make_response(view(*args, **kwargs))
                if 200 <= resp.status_code < 300:
                    db.session.flush()  # whatever the view left pending goes first, as before
                    insert_rows(_RECORDS, [{"user_id": user_id, "key": key, "request_sha256": fingerprint,
                                            "status": resp.status_code, "response_body": resp.get_data(as_text=True)}])
                return resp
        except IntegrityError:
            # A concurrent request with this key committed first; its effect stands, ours
            # was rolled back. Answer as it did.
            db.session.rollback()
            record = _stored(user_id, key)
            if record is None:
                raise
            return _replay(record, fingerprint)

    return Blueprint.doc(parameters=[_HEADER_DOC])(wrapper)
