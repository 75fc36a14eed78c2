from flask import Response, stream_with_context
from flask_smorest import Blueprint

from ..auth.guard import current_user, token_required
from ..jobs.api import job_accepted
from ..jobs.schemas import JobOut
from . import service
from .schemas import ExportQuery

blp = Blueprint("exports", __name__, url_prefix="/exports",
                description="Exports of the ledger (admins and auditors): postings, contributions, allocations")

_STREAM = {200: {"description": "CSV or JSONL, streamed", "content": {
    "text/csv": {"schema": {"type": "string", "format": "binary"}},
    "application/jsonl": {"schema": {"type": "string", "format": "binary"}}}}}


@blp.get("/<what>.<fmt>")
@token_required("audit")
@blp.arguments(ExportQuery, location="query")
@blp.doc(responses=_STREAM)
@blp.alt_response(202, schema=JobOut, description="XLSX, or ?background=true: a job whose download is a zip "
                                                  "of the file, manifest.json and manifest.json.sig")
def export(args, what, fmt):
    """An export: `what` is postings, contributions or allocations, `fmt` csv, jsonl or xlsx."""
    user = current_user()
    data = service.dataset(what, fmt)
    filters = service.checked_filters(user, args)
    if fmt not in service.STREAMED or args.get("background"):
        return job_accepted(service.queue_export(user, what, fmt, filters))
    resp = Response(stream_with_context(service.stream(data, fmt, filters)), mimetype=None,
                    content_type=service.CONTENT_TYPES[fmt])
    resp.headers["Content-Disposition"] = f'attachment; filename="{service.file_name(what, fmt)}"'
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp
