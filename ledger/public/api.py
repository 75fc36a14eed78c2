"""Public summaries: the overview's figures as JSON, no token needed."""
from flask_smorest import Blueprint

from ..problems import NotFound
from . import service, summaries
from .schemas import PingOut, SummaryOut, SummaryQuery

blp = Blueprint("reports", __name__, url_prefix="/reports", description="Public summaries: no token needed")
ping_blp = Blueprint("ping", __name__, url_prefix="/ping", description="Liveness: no token, no database")


@ping_blp.get("")
@ping_blp.response(200, PingOut)
def ping():
    """Answers at once without touching the database: a load balancer's liveness check, and
    the bare endpoint the benchmarks (bench/http_load.py) compare the API with."""
    return {"status": "ok"}


@blp.get("/summary")
@blp.arguments(SummaryQuery(), location="query")
@blp.response(200, SummaryOut)
def get_summary(args):
    """Pledged, received, allocated and remaining per kind, houses by status against the
    target, the areas one level down, sources and months, and the latest checkpoint. The
    figures are kept: `as_of` says when they were computed (up to about a minute ago) and
    `journal_entries` how many journal entries they cover."""
    campaign = service.choose_campaign(args.get("campaign"))
    if campaign is None:
        raise NotFound(service.NO_CAMPAIGN)
    return summaries.kept_overview(campaign, args.get("area"))
