from marshmallow import Schema, fields

from ..fields import Choice
from .models import STATUSES


class JobQuery(Schema):
    status = Choice(STATUSES, metadata={"description": "queued, running, done or failed; none: all"})
    kind = fields.String(metadata={"description": "e.g. an export's kind"})


class ProgressOut(Schema):
    done = fields.Integer()
    total = fields.Integer(allow_none=True, metadata={"description": "None until the job knows it"})


def _download_url(job) -> str | None:
    if job.has_file:
        return f"/api/v1/jobs/{job.id}/download"
    return None


class JobOut(Schema):
    """A background job: its state, how far it got and, once done, what it made."""

    job_id = fields.Integer(attribute="id")
    kind = fields.String()
    params = fields.Dict()
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    progress = fields.Function(lambda job: ProgressOut().dump({"done": job.progress_done,
                                                                "total": job.progress_total}))
    result = fields.Dict(allow_none=True, metadata={"description": "when done: e.g. file, size, sha256"})
    error = fields.String(allow_none=True, metadata={"description": "when failed: why, for a person"})
    attempts = fields.Integer(metadata={"description": "how many times a worker started it"})
    requested_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    files_deleted_at = fields.DateTime(allow_none=True, metadata={
        "description": "when its files were deleted (LEDGER_JOB_KEEP_DAYS after it finished)"})
    url = fields.Function(lambda job: f"/api/v1/jobs/{job.id}")
    download_url = fields.Function(_download_url, allow_none=True)
