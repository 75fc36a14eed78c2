"""Tra cứu đóng góp: the public search page over every received contribution."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext
from marshmallow import EXCLUDE, ValidationError

from ..problems import InvalidInput
from . import service
from .api import csv_response, search_limit
from .schemas import StatementQuery

bp = Blueprint("statement_pages", __name__)


def _parse() -> tuple[service.StatementSearch | None, dict[str, list[str]]]:
    """The search of the query string, or the reasons it is not one (translated)."""
    try:
        # A GET form sends its empty fields too ("from=&to="): on the page, empty is not given.
        given = {k: v for k, v in request.args.items() if v.strip()}
        args = StatementQuery().load(given, unknown=EXCLUDE)
        return service.check_search(args), {}
    except ValidationError as err:
        return None, {name: [gettext(str(m)) for m in (msgs if isinstance(msgs, list) else [msgs])]
                      for name, msgs in err.normalized_messages().items()}
    except InvalidInput as err:
        return None, {name: [str(m) for m in msgs] for name, msgs in (err.errors or {"_": [err.detail]}).items()}


def _render(search, errors, page=None):
    return render_template("public/statement.html", search=search, errors=errors, page=page,
                           form=request.args, sorts=service.SORTS,
                           csv_query=_csv_query()), (422 if errors else 200)


def _csv_query() -> dict:
    return {k: v for k, v in request.args.items() if k not in ("page", "page_size", "lang")}


@bp.get("/tra-cuu")
@search_limit
def statement_page():
    """The statement: a GET form (no script needed), results as cards, pages, the CSV."""
    search, errors = _parse()
    if errors:
        return _render(None, errors)
    return _render(search, {}, service.statement_search(search))


@bp.get("/tra-cuu.csv")
@search_limit
def statement_csv_page():
    """The CSV of the page's current search: every matching row."""
    search, errors = _parse()
    if errors:
        return _render(None, errors)
    return csv_response(search)
