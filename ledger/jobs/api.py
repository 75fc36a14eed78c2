import base64
import json

from flask import Response, send_file
from flask_smorest import Blueprint

from ..auth.guard import current_user, token_required
from ..pagination import paginate
from . import service
from .schemas import JobOut, JobQuery

blp = Blueprint("jobs", __name__, url_prefix="/jobs",
                description="Background jobs: large exports and imports, with progress and a download when done")

_FILE = {200: {"description": "The job's file", "content": {"application/octet-stream": {
    "schema": {"type": "string", "format": "binary"}}}},
    409: {"description": "The job is not done (yet), or failed"}}


def job_accepted(job) -> Response:
    """What an endpoint that queued a job answers: 202 Accepted, the job, and where to poll."""
    resp = Response(json.dumps(JobOut().dump(job), ensure_ascii=False), status=202, mimetype="application/json")
    resp.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return resp


@blp.get("")
@token_required()
@blp.arguments(JobQuery(), location="query")
@blp.response(200, JobOut(many=True))
@blp.paginate()
def list_jobs(args, pagination_parameters):
    """The caller's jobs, newest first (admins and auditors: also those of staff in their area)."""
    return paginate(service.list_jobs(current_user(), args.get("status"), args.get("kind")), pagination_parameters)


@blp.get("/<int:job_id>")
@token_required()
@blp.response(200, JobOut)
def get_job(job_id):
    """A job's status and progress; once done its result, once failed why."""
    return service.get_job(current_user(), job_id)


@blp.get("/<int:job_id>/download")
@token_required()
@blp.doc(responses=_FILE)
def download(job_id):
    """The file a finished job made (409 while it is not done)."""
    path, result = service.result_file(current_user(), job_id)
    resp = send_file(path, mimetype=result.get("content_type"), as_attachment=True, download_name=path.name,
                     conditional=True, max_age=0)
    resp.headers["Cache-Control"] = "private, no-cache"
    if result.get("sha256"):  # RFC 9530: the client can check what it received
        resp.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(result['sha256'])).decode()}:"
    return resp
