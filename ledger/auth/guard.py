"""The API's door: a bearer token names the user; the role table says what it may do."""
from __future__ import annotations

import functools

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from ..database import reads_outside_a_transaction
from ..problems import Unauthorized
from .models import User
from .service import require, user_for_token


def current_user() -> User:
    return g.ledger_user


def token_required(action: str = "read"):
    """Decorate an API view: 401 without a valid token, 403 when the role may not `action`."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if request.method not in ("GET", "HEAD"):
                # A write (idempotent: every API write is) begins its own transaction after
                # this read. A GET keeps its one transaction: it may stream with yield_per,
                # which PostgreSQL allows only inside one.
                reads_outside_a_transaction()
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token else None
            if user is None:
                raise Unauthorized(_l("Send a valid token: Authorization: Bearer <token>."))
            require(user, action)
            g.ledger_user = user  # detached: a write transaction starting afresh does not reload it
            return view(*args, **kwargs)

        return Blueprint.doc(security=[{"bearer": []}])(wrapper)  # marked in the OpenAPI document

    return decorator
