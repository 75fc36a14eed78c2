"""The job queue: asking for a job, claiming it, recording its progress and its end.

One table is the queue on both databases. `claim_next` takes the oldest queued job in one
write transaction: on PostgreSQL with SELECT ... FOR UPDATE SKIP LOCKED (workers on many
machines pass each other by), on SQLite under BEGIN IMMEDIATE (one writer at a time). A
run is named by (claimed_by, attempts): every later write of the runner is conditional on
both, so a run that was taken back as stale can neither report progress nor finish.

A running job whose heartbeat is older than LEDGER_JOB_STALE_SECONDS lost its worker (a
crash, a kill, a restart): the next claim takes it back to the queue, or fails it once it
was started LEDGER_JOB_MAX_ATTEMPTS times.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, true, update
from sqlalchemy.engine import Engine

from ..auth.models import User
from ..auth.service import can
from ..database import _WRITE, transactional, write_transaction
from ..extensions import db
from ..problems import Conflict, NotFound
from ..types import utcnow
from .models import FINISHED, Job

# Labels, capitalised: a lower-case msgid equal to a stored value would translate that
# value wherever it appears raw in an answer.
STATUS_LABELS = {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"), "failed": _l("Failed")}


@dataclass(frozen=True)
class Claim:
    """One run of a job, as its worker holds it (plain data: no session needed)."""

    id: int
    kind: str
    params: dict
    attempt: int
    worker_id: str


def stale_after() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("LEDGER_JOB_STALE_SECONDS", 300)))


def keep_files_for() -> timedelta:
    return timedelta(days=float(current_app.config.get("LEDGER_JOB_KEEP_DAYS", 7)))


def max_attempts() -> int:
    return int(current_app.config.get("LEDGER_JOB_MAX_ATTEMPTS", 3))


def job_directory(job_id: int) -> Path:
    """Where a job's files live: instance/jobs/{id}/."""
    return Path(current_app.config["INSTANCE_PATH"]) / "jobs" / str(job_id)


def _visible_jobs(user: User):
    """A WHERE clause: the jobs `user` may see. Everyone sees their own; admins and
    auditors also those asked by staff of their area and below (all jobs, with no area):
    an export job holds its area's data, so another area's auditor must not reach it."""
    from ..areas.service import within_clause

    own = Job.requested_by_id == user.id
    if not can(user, "audit"):
        return own
    if user.area_code is None:
        return true()
    return or_(own, Job.requested_by_id.in_(select(User.id).where(within_clause(User.area_code, user.area_code))))


# --- asking and looking --------------------------------------------------------------------

@transactional
def enqueue(kind: str, params: dict, requested_by: User | None = None) -> Job:
    """Queue a job of a registered kind (in the caller's transaction when there is one).
    `params` is JSON: ids, filters, integers (never floats for money)."""
    from .runner import HANDLERS

    if kind not in HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    job = Job(kind=kind, params=dict(params), status="queued", progress_done=0, attempts=0,
              requested_by_id=requested_by.id if requested_by is not None else None, created_at=utcnow())
    db.session.add(job)
    db.session.flush()
    return job


def get_job(user: User, job_id: int) -> Job:
    """A job the user may see; another's job answers as unknown (its id says nothing)."""
    job = db.session.scalar(select(Job).where(Job.id == job_id, _visible_jobs(user)))
    if job is None:
        raise NotFound(_l("Unknown job %(id)s.", id=job_id))
    return job


def list_jobs(user: User, status: str | None = None, kind: str | None = None):
    """The jobs the user may see (`_visible_jobs`), newest first, as a select()."""
    query = select(Job).where(_visible_jobs(user)).order_by(Job.id.desc())
    if status:
        query = query.where(Job.status == status)
    if kind:
        query = query.where(Job.kind == kind)
    return query


def result_file(user: User, job_id: int) -> tuple[Path, dict]:
    """The finished job's file and its result; 409 while the job is not done."""
    job = get_job(user, job_id)
    if job.status == "failed":
        raise Conflict(_l("The job failed, so there is nothing to download: %(error)s", error=job.error or ""),
                       job_status=job.status)
    if job.status != "done":
        raise Conflict(_l("The job is not done yet (%(status)s): its file is not ready.",
                          status=STATUS_LABELS[job.status]), job_status=job.status)
    if job.files_deleted_at is not None:
        raise NotFound(_l("The file of this job was deleted on %(date)s, %(days)s days after it was made. "
                          "Ask for it again.", date=job.files_deleted_at.strftime("%d/%m/%Y"),
                          days=keep_files_for().days))
    name = (job.result or {}).get("file")
    path = job_directory(job.id) / name if name else None
    if path is None or not path.is_file():
        raise NotFound(_l("This job has no file to download."))
    return path, job.result


def delete_old_files(now=None) -> int:
    """Delete the files of jobs finished more than LEDGER_JOB_KEEP_DAYS ago (exports hold
    the ledger's data: they should not pile up on the server); how many jobs' files went.
    The workers call it when idle, at most hourly; `flask ledger jobs prune` at will."""
    now = now or utcnow()
    with write_transaction():
        old = db.session.scalars(select(Job).where(Job.status.in_(FINISHED), Job.files_deleted_at.is_(None),
                                                   Job.finished_at < now - keep_files_for())
                                 .with_for_update(skip_locked=True)).all()
        for job in old:
            shutil.rmtree(job_directory(job.id), ignore_errors=True)
            job.files_deleted_at = now
        return len(old)


# --- the runner's side ---------------------------------------------------------------------

def claim_next(worker_id: str, kinds=None) -> Claim | None:
    """Take the oldest queued job (of `kinds`, the ones this worker can run) and mark it
    running for `worker_id`; stale runs are taken back first. None when there is none."""
    now = utcnow()
    with write_transaction():
        _take_back_stale(now)
        query = (select(Job).where(Job.status == "queued").order_by(Job.id).limit(1)
                 .with_for_update(skip_locked=True))
        if kinds is not None:
            query = query.where(Job.kind.in_(list(kinds)))
        job = db.session.scalar(query)
        if job is None:
            return None
        job.status, job.claimed_by, job.attempts = "running", worker_id, job.attempts + 1
        job.started_at = job.heartbeat_at = now
        job.progress_done, job.progress_total, job.result, job.error, job.finished_at = 0, None, None, None, None
        return Claim(job.id, job.kind, dict(job.params), job.attempts, worker_id)


def _take_back_stale(now) -> None:
    stale = db.session.scalars(select(Job).where(Job.status == "running", Job.heartbeat_at < now - stale_after())
                               .order_by(Job.id).with_for_update(skip_locked=True)).all()
    for job in stale:
        current_app.logger.warning("job %s (%s): worker %s stopped beating; run %s taken back",
                                   job.id, job.kind, job.claimed_by, job.attempts)
        job.claimed_by = job.heartbeat_at = None
        if job.attempts >= max_attempts():
            job.status, job.finished_at = "failed", now
            job.error = str(_l("The job was interrupted %(attempts)s times (its worker stopped) and was "
                               "given up. Ask for it again.", attempts=job.attempts))
            shutil.rmtree(job_directory(job.id), ignore_errors=True)  # whatever the dead runs left
        else:
            job.status = "queued"


def _update_run(engine: Engine, claim: Claim, **values) -> bool:
    """Write to the job only while this run still holds it; False when it was taken back.
    Inside the handler's own write transaction it goes with that transaction; otherwise
    it commits at once on a connection of its own (the handler's reads are untouched)."""
    stmt = (update(Job).where(Job.id == claim.id, Job.status == "running", Job.claimed_by == claim.worker_id,
                              Job.attempts == claim.attempt)
            .values(**values).execution_options(synchronize_session=False))
    if db.session.info.get(_WRITE):
        return db.session.execute(stmt).rowcount == 1
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})  # SQLite: BEGIN IMMEDIATE, as every writer
        with conn.begin():
            return conn.execute(stmt).rowcount == 1


def beat(engine: Engine, claim: Claim) -> bool:
    return _update_run(engine, claim, heartbeat_at=utcnow())


def record_progress(engine: Engine, claim: Claim, done: int, total: int | None) -> bool:
    return _update_run(engine, claim, progress_done=int(done), progress_total=None if total is None else int(total),
                       heartbeat_at=utcnow())


def finish(engine: Engine, claim: Claim, result: dict) -> bool:
    now = utcnow()
    return _update_run(engine, claim, status="done", result=result, finished_at=now, heartbeat_at=now)


def fail(engine: Engine, claim: Claim, error: str) -> bool:
    now = utcnow()
    return _update_run(engine, claim, status="failed", error=error[:2000], finished_at=now, heartbeat_at=now)


def release(engine: Engine, claim: Claim) -> bool:
    """Back to the queue, as if never started: the worker is stopping, the job is not at fault."""
    return _update_run(engine, claim, status="queued", claimed_by=None, heartbeat_at=None, started_at=None,
                       attempts=claim.attempt - 1)
