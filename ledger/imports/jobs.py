"""Large statements are committed by a background job (no request outlives a worker's
timeout): the upload is kept in the job's folder, the job commits it with progress. Run
again after a crash it records nothing twice: the lines of a committed run are then
already imported."""
from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from ..jobs.runner import job_handler
from ..jobs.service import enqueue, job_directory
from ..problems import LedgerError
from . import service
from .models import ImportBatch

JOB_KIND = "statement_import"


def upload_path(job_id: int):
    """Where a queued import's file waits: beside the jobs' folders (a job's own folder is
    emptied whenever a run starts)."""
    return job_directory(job_id).parent / "uploads" / f"{job_id}.statement"


def is_large(data: bytes, file_name: str) -> bool:
    """Too long to commit inside a request: by lines for text, by size for XLSX (zipped)."""
    config = current_app.config
    if file_name.lower().endswith(".xlsx"):
        return len(data) > config["LEDGER_IMPORT_SYNC_BYTES"]
    return data.count(b"\n") > config["LEDGER_IMPORT_SYNC_LINES"]


def queue_import(user: User, fund_id: int, data: bytes, file_name: str, form: dict):
    service.import_scope(user, fund_id, form.get("campaign_id"))  # refuse now what the job would refuse
    params = {"fund_id": fund_id, "campaign_id": form.get("campaign_id"), "bank": form.get("bank"),
              "mapping": form.get("mapping"), "file_name": file_name, "sha256": service.file_sha256(data)}
    from ..database import write_transaction

    with write_transaction():
        job = enqueue(JOB_KIND, params, user)
        path = upload_path(job.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)  # before the commit: a queued job always finds its file
    return job


@job_handler(JOB_KIND)
def run_import(ctx, params: dict) -> dict:
    from ..jobs.models import Job

    path = upload_path(ctx.job_id)
    if not path.exists():
        # A run that committed, then died before the job was marked done: its batch is there.
        batch = db.session.scalar(select(ImportBatch).where(ImportBatch.file_sha256 == params["sha256"],
                                                            ImportBatch.fund_id == params["fund_id"])
                                  .order_by(ImportBatch.id.desc()))
        if batch is None:
            raise RuntimeError(f"the uploaded statement of job {ctx.job_id} is missing")
        return {"batch_id": batch.id, "counts": None, "totals": None}
    data = path.read_bytes()
    if service.file_sha256(data) != params["sha256"]:
        raise RuntimeError("the uploaded statement changed on disk")
    user = db.session.get(User, db.session.get(Job, ctx.job_id).requested_by_id)
    mapping = service.column_mapping(json.loads(params["mapping"])) if params.get("mapping") else None
    try:
        plan, batch = service.commit_import(user, params["fund_id"], data, params["file_name"],
                                           bank=params.get("bank"), mapping=mapping,
                                           campaign_id=params.get("campaign_id"), progress=ctx.progress)
    except LedgerError:
        path.unlink()  # refused for good (a line the ledger will not take): the job fails with why
        raise
    path.unlink()  # recorded (or all there before): the upload is no longer needed
    return {"batch_id": batch.id if batch else None, "counts": plan.counts, "totals": plan.totals}
