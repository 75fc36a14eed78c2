from flask import Response, stream_with_context
from flask_smorest import Blueprint

from receipts.export_manifest import MANIFEST, SIGNATURE

from ..auth.guard import current_user, token_required
from ..jobs.api import job_accepted
from ..jobs.schemas import JobOut
from . import service
from .schemas import ExportQuery

blp = Blueprint("exports", __name__, url_prefix="/exports",
                description="Exports of the ledger (admins and auditors): postings, contributions, allocations, "
                            "pledges, households, fund balances, receipts, transparency log entries and checkpoints")

_STREAM = {200: {"description": "CSV or JSONL, streamed", "content": {
    "text/csv": {"schema": {"type": "string", "format": "binary"}},
    "application/jsonl": {"schema": {"type": "string", "format": "binary"}}}}}


@blp.get("/<what>.<fmt>")
@token_required("audit")
@blp.arguments(ExportQuery(), location="query")
@blp.doc(responses=_STREAM)
@blp.alt_response(202, schema=JobOut, description="XLSX, or ?background=true: a job whose download is a zip "
                                                  "of the file, manifest.json and manifest.json.sig")
def export(args, what, fmt):
    """An export: `what` is postings, contributions, allocations, pledges, households,
    fund_balances, receipts, log_entries or checkpoints; `fmt` csv, jsonl or xlsx. The
    `status` filter takes each dataset's own values (see ExportQuery)."""
    user = current_user()
    data = service.dataset(what, fmt)
    filters = service.checked_filters(user, args, data)
    if fmt not in service.STREAMED or args.get("background"):
        return job_accepted(service.queue_export(user, what, fmt, filters))
    signed = service.SignedStream(user, data, fmt, filters)
    resp = Response(stream_with_context(iter(signed)), mimetype=None, content_type=service.CONTENT_TYPES[fmt])
    resp.headers["Content-Disposition"] = f'attachment; filename="{service.file_name(what, fmt)}"'
    resp.headers["Cache-Control"] = "private, no-cache"
    # Where the signed manifest will be once the last byte is out (RFC 8288 link).
    base = f"/api/v1/exports/manifests/{signed.manifest_id}"
    resp.headers["Link"] = f'<{base}/{MANIFEST}>; rel="describedby", <{base}/{SIGNATURE}>; rel="describedby"'
    resp.headers["X-Export-Manifest-Id"] = signed.manifest_id
    return resp


@blp.get("/manifests/<manifest_id>/manifest.json")
@token_required("audit")
@blp.doc(responses={200: {"description": "manifest.json: its exact canonical bytes", "content": {
    "application/json": {"schema": {"type": "object"}}}}})
def manifest(manifest_id):
    """The signed manifest of a streamed export (its id is in the export's Link header);
    404 until the export was downloaded to its last byte."""
    record = service.streamed_manifest(current_user(), manifest_id)
    return _file(record.manifest, "application/json", MANIFEST)


@blp.get("/manifests/<manifest_id>/manifest.json.sig")
@token_required("audit")
@blp.doc(responses={200: {"description": "manifest.json.sig: the Ed25519 signature, base64url", "content": {
    "text/plain": {"schema": {"type": "string"}}}}})
def manifest_signature(manifest_id):
    """The detached signature of that manifest, by the ledger's key."""
    record = service.streamed_manifest(current_user(), manifest_id)
    return _file((record.signature + "\n").encode("ascii"), "text/plain; charset=us-ascii", SIGNATURE)


def _file(body: bytes, content_type: str, name: str) -> Response:
    resp = Response(body, content_type=content_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp
