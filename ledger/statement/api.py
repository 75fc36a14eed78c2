from flask import Response, current_app, stream_with_context
from flask_smorest import Blueprint

from ..extensions import limiter
from . import service
from .schemas import StatementPageOut, StatementQuery

blp = Blueprint("statement", __name__, url_prefix="",  # two paths: /statement and /statement.csv
                description="The public statement of received contributions: no token needed")

_CSV = {200: {"description": "UTF-8 CSV with a BOM, every matching row",
              "content": {"text/csv": {"schema": {"type": "string"}}}}}


def search_rate_limit() -> str:
    return current_app.config["LEDGER_SEARCH_RATE_LIMIT"]


# One budget per address for the page, the API and the CSV together: switching between
# them does not search more.
search_limit = limiter.shared_limit(search_rate_limit, scope="public-search")


def csv_response(search: service.StatementSearch) -> Response:
    """Streamed: every matching row, however many, without holding them in memory."""
    resp = Response(stream_with_context(service.statement_csv(search)), mimetype="text/csv")
    resp.headers["Content-Disposition"] = 'attachment; filename="sao-ke-dong-gop.csv"'
    return resp


@blp.get("/statement")
@search_limit
@blp.arguments(StatementQuery(), location="query")
@blp.response(200, StatementPageOut)
def search_statement(args):
    """Search every received contribution: by donor name or memo (in part, diacritics
    optional), amount, date, receipt number or the bank reference's last digits."""
    return service.statement_search(service.check_search(args))


@blp.get("/statement.csv")
@search_limit
@blp.arguments(StatementQuery(), location="query")
@blp.doc(responses=_CSV)
def statement_csv(args):
    """The same search as CSV: every matching row (no page, no cap), header in Vietnamese."""
    return csv_response(service.check_search(args))
