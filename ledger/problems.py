"""RFC 9457 problem details: the one shape of every API error.

Services raise LedgerError subclasses with a message meant for a person; the API turns
them (and every HTTP or validation error) into application/problem+json, translated to
the caller's language (Vietnamese first).
"""
from __future__ import annotations

from typing import Any

from flask import Response, json, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_smorest import Api
from marshmallow import Schema, fields
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

PROBLEM_BASE = "https://chungtay.mattran.vn/problems/"


class LedgerError(Exception):
    """A refusal of the ledger, with a status and a message for a person."""

    status = 400
    slug = "bad-request"
    title = _l("Bad request")

    def __init__(self, detail, *, errors: dict[str, list] | None = None, **extra: Any):
        super().__init__(str(detail))
        self.detail = detail
        self.errors = errors
        self.extra = extra


class InvalidInput(LedgerError):
    status, slug, title = 422, "invalid-input", _l("The request has invalid fields")


class NotFound(LedgerError):
    status, slug, title = 404, "not-found", _l("Not found")


class Forbidden(LedgerError):
    status, slug, title = 403, "forbidden", _l("Forbidden")


class Unauthorized(LedgerError):
    status, slug, title = 401, "unauthorized", _l("Authentication required")


class Conflict(LedgerError):
    """The request is well formed but would break a rule of the ledger."""

    status, slug, title = 409, "ledger-rule", _l("Refused by a rule of the ledger")


def problem_response(status: int, slug: str, title, detail=None, errors=None, **extra) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": str(title),
        "status": status,
        "detail": str(detail if detail is not None else title),
    }
    if errors:
        body["errors"] = _translate_errors(errors)
    body.update(extra)
    resp = Response(json.dumps(body, ensure_ascii=False), status=status,
                    mimetype="application/problem+json")
    if status == 401:
        resp.headers["WWW-Authenticate"] = "Bearer"
    return resp


def _translate_errors(errors: dict) -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages to {field: [message, ...]}, translated."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, node):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, (list, tuple)):
            for item in node:
                if isinstance(item, (dict, list, tuple)):
                    walk(prefix, item)
                else:
                    flat.setdefault(prefix or "_", []).append(gettext(str(item)))
        else:
            flat.setdefault(prefix or "_", []).append(gettext(str(node)))

    walk("", errors)
    return flat


_HTTP_TITLES = {
    400: _l("Bad request"),
    401: _l("Authentication required"),
    403: _l("Forbidden"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Request too large"),
    415: _l("Unsupported media type"),
    422: _l("The request has invalid fields"),
    429: _l("Too many requests"),
    500: _l("Internal error"),
}


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error is answered."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ProblemApi(Api):
    """flask-smorest's Api, answering every error as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        errors = None
        if messages:
            # webargs nests by location ({"json": {...}}, {"query": {...}}): keep field names.
            errors = {}
            for _location, fields in messages.items():
                if isinstance(fields, dict):
                    errors.update(fields)
                else:
                    errors.setdefault("_", []).extend(fields if isinstance(fields, list) else [fields])
        title = _HTTP_TITLES.get(status, error.name)
        detail = title if status in (404, 405, 422, 500) or messages else (error.description or title)
        return problem_response(status, f"http-{status}", title, detail, errors)
TOO_MANY_REQUESTS = _HTTP_TITLES[429]


def _out_of_range_error(err) -> bool:
    return type(getattr(err, "orig", None)).__name__ == "NumericValueOutOfRange"


def register_problem_handlers(app) -> None:
    @app.errorhandler(LedgerError)
    def _ledger_error(err: LedgerError):
        return problem_response(err.status, err.slug, err.title, err.detail, err.errors, **err.extra)

    @app.errorhandler(IntegrityError)
    def _integrity_error(err: IntegrityError):
        # Two writers made the same unique thing at once (a code, a username): the
        # database kept the first; this one changed nothing and may be retried.
        app.logger.warning("integrity conflict on %s %s", request.method, request.path)
        return problem_response(409, "conflict", _HTTP_TITLES[409],
                                gettext("This conflicts with a record made at the same time. Nothing was changed."))

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _out_of_range(err: Exception):
        # A number past what the database stores (64-bit integers), in a query or a body:
        # SQLite's driver refuses it before the query, PostgreSQL while running it. The
        # request's transaction is rolled back; nothing was changed.
        if isinstance(err, DataError) and not _out_of_range_error(err):
            return _unexpected(err)
        from .extensions import db

        db.session.rollback()  # PostgreSQL aborted the transaction: end it before anything else runs
        app.logger.warning("number out of range on %s %s", request.method, request.path)
        return problem_response(422, "out-of-range", _HTTP_TITLES[422],
                                gettext("A number in the request is too large. Nothing was changed."))

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):  # flask-smorest answers these
            return err
        # The traceback goes to the server log only, never to the caller.
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return problem_response(500, "internal", _HTTP_TITLES[500], gettext("Internal error"))
