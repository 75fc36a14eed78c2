"""The reconciliation reports for staff (a token with the read permission): JSON, XLSX and
the committee's PDF. The public summary (/reports/summary, no token) is ledger.public's."""
from flask import Response
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from ..auth.guard import current_user, token_required
from ..problems import NotFound
from . import service
from .schemas import CommendationsOut, CoverageOut, OverduePledgesOut, ReconciliationOut, ReportQuery, UnallocatedOut

blp = Blueprint("staff_reports", __name__, url_prefix="/reports",
                description="Reconciliation reports for staff: a user bound to an area sees that area and below")

_XLSX = {200: {"description": "an XLSX workbook", "content": {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}}}}}
_PDF = {200: {"description": "a PDF for the committee to sign", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


def download(body: bytes, content_type: str, filename: str) -> Response:
    """A file to save: reports hold names and amounts, so no shared cache keeps them."""
    resp = Response(body, content_type=content_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@blp.get("/reconciliation")
@token_required("read")
@blp.arguments(ReportQuery(), location="query")
@blp.response(200, ReconciliationOut)
def get_reconciliation(args):
    """Pledged, received, transferred in and out, allocated and remaining, per kind and per
    item: per campaign, per fund and per area one level down. Remaining is what the funds
    hold; every line says whether it reconciles."""
    return service.reconciliation(service.report_scope(current_user(), args))


@blp.get("/households")
@token_required("read")
@blp.arguments(ReportQuery(), location="query")
@blp.response(200, CoverageOut)
def get_households(args):
    """Households by status, approved amounts against what was allocated, the fully funded
    and under-funded, and allocations past the approved amount with their reasons."""
    return service.coverage(service.report_scope(current_user(), args))


@blp.get("/overdue-pledges")
@token_required("read")
@blp.arguments(ReportQuery(), location="query")
@blp.response(200, OverduePledgesOut)
def get_overdue_pledges(args):
    """Pledges past their due date and not fulfilled nor cancelled, oldest due first."""
    return service.overdue_pledges(service.report_scope(current_user(), args))


@blp.get("/unallocated")
@token_required("read")
@blp.arguments(ReportQuery(), location="query")
@blp.response(200, UnallocatedOut)
def get_unallocated(args):
    """Contributions received more than `older_than_days` days ago of which something has not
    reached a household yet, with what remains."""
    return service.unallocated(service.report_scope(current_user(), args))


@blp.get("/commendations")
@token_required("read")
@blp.arguments(ReportQuery(), location="query")
@blp.response(200, CommendationsOut)
def get_commendations(args):
    """The donors who gave most (in đồng value) per kind of donor and per area, in the
    period; anonymous donors are counted apart, never ranked by name."""
    return service.commendations(service.report_scope(current_user(), args))


@blp.get("/committee.pdf")
@token_required("read")
@blp.arguments(ReportQuery(), location="query")
@blp.doc(responses=_PDF)
def get_committee_pdf(args):
    """The committee's summary of one campaign (the latest when none is given), in
    Vietnamese, with signature blocks."""
    from .pdf import committee_pdf

    summary = service.committee_summary(service.report_scope(current_user(), args, latest_only=True))
    return download(committee_pdf(summary), "application/pdf", "bao-cao-ban-van-dong.pdf")


@blp.get("/<string:name>.xlsx")
@token_required("read")
@blp.arguments(ReportQuery(), location="query")
@blp.doc(responses=_XLSX)
def get_xlsx(args, name):
    """One report as a workbook: `name` is reconciliation, households, overdue-pledges,
    unallocated or commendations."""
    from .xlsx import CONTENT_TYPE, workbook

    if name not in service.REPORTS:
        raise NotFound(_l("There is no report called %(name)s.", name=name))
    report = service.build_report(name, service.report_scope(current_user(), args))
    return download(workbook(name, report), CONTENT_TYPE, f"{name}.xlsx")
