"""Running jobs: the handler registry, what a handler is given, and the worker loop.

A handler is `fn(ctx: JobContext, params: dict) -> dict`, registered with
`@job_handler("kind")` in a module the app imports (its domain's service.py), so that
every web process and every `flask ledger worker` knows it. It reports progress with
`ctx.progress(done, total)` and writes its files with `ctx.open_output(name)`: a
temporary file renamed into instance/jobs/{id}/ only when complete, so a crash or a
failure never leaves half a file. A handler may run again from the start (its worker
died): it must not record anything twice (exports only read; imports are idempotent).
"""
from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy.engine import make_url

from ..extensions import db
from ..problems import LedgerError
from . import service
from .service import Claim

HANDLERS: dict[str, Callable] = {}
PRUNE_EVERY_SECONDS = 3600  # an idle worker deletes expired jobs' files at most this often
INTERNAL_ERROR = _l("The job failed because of an internal error. The server's log has the details.")


def job_handler(kind: str):
    """Register `fn(ctx, params) -> result dict` as the handler of jobs of this kind."""

    def register(fn):
        if HANDLERS.get(kind, fn) is not fn:
            raise ValueError(f"two handlers for job kind {kind!r}")
        HANDLERS[kind] = fn
        return fn

    return register


class JobReleased(Exception):
    """The worker is stopping: the job goes back to the queue and runs again later."""


class JobLost(Exception):
    """This run was taken back as stale (another worker may run the job now): stop."""


def file_facts(path: Path) -> dict:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"file": path.name, "size": size, "sha256": digest.hexdigest()}


class JobContext:
    """What a handler gets besides its params: its job's id, directory and progress."""

    def __init__(self, claim: Claim, engine, directory: Path, stopping: threading.Event):
        self.job_id = claim.id
        self.attempt = claim.attempt
        self.directory = directory
        self.files: list[dict] = []  # file_facts of every output written
        self.lost = threading.Event()
        self._claim, self._engine, self._stopping = claim, engine, stopping

    def check(self) -> None:
        """Raise JobLost or JobReleased when the handler should stop now."""
        if self.lost.is_set():
            raise JobLost()
        if self._stopping.is_set():
            raise JobReleased()

    def progress(self, done: int, total: int | None = None) -> None:
        """Record how far the job got (and that it is alive), in a short transaction of
        its own; also where a stopping worker hands the job back."""
        self.check()
        if not service.record_progress(self._engine, self._claim, done, total):
            self.lost.set()
            raise JobLost()

    @contextmanager
    def open_output(self, name: str, mode: str = "wb", **open_kwargs) -> Iterator:
        """A file of the job, written to a temporary name and renamed into place only when
        the block ends without error."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"not a plain file name: {name!r}")
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / name
        temporary = self.directory / f".{name}.{self.attempt}.part"
        if "b" not in mode:
            open_kwargs.setdefault("encoding", "utf-8")
        f = open(temporary, mode, **open_kwargs)
        try:
            yield f
            f.flush()
            os.fsync(f.fileno())
            f.close()
            os.replace(temporary, final)
        except BaseException:
            f.close()
            temporary.unlink(missing_ok=True)
            raise
        self.files.append(file_facts(final))


def _beat(engine, claim: Claim, ctx: JobContext, finished: threading.Event, interval: float, logger) -> None:
    while not finished.wait(interval):
        try:
            if not service.beat(engine, claim):
                ctx.lost.set()
                return
        except Exception:  # noqa: BLE001 (a busy database: the next beat retries)
            logger.exception("job %s: heartbeat failed", claim.id)


def beat_interval(app: Flask) -> float:
    """A few beats within the stale limit, at most every 5 seconds."""
    return max(0.05, min(5.0, float(app.config.get("LEDGER_JOB_STALE_SECONDS", 300)) / 5))


def run_job(app: Flask, claim: Claim, stopping: threading.Event | None = None) -> str:
    """Run one claimed job to its end (in the caller's app context); return its status:
    done, failed, queued (handed back) or lost (taken back while it ran)."""
    stopping = stopping or threading.Event()
    engine = db.engine
    directory = service.job_directory(claim.id)
    shutil.rmtree(directory, ignore_errors=True)  # a re-run starts clean
    ctx = JobContext(claim, engine, directory, stopping)
    finished = threading.Event()
    threading.Thread(target=_beat, args=(engine, claim, ctx, finished, beat_interval(app), app.logger),
                     name=f"ledger-job-{claim.id}-heartbeat", daemon=True).start()
    status = "failed"
    try:
        handler = HANDLERS.get(claim.kind)
        if handler is None:
            raise LedgerError(_l("No worker here knows jobs of this kind."))
        result = dict(handler(ctx, dict(claim.params)) or {})
        if "file" not in result and len(ctx.files) == 1:
            result = {**ctx.files[0], **result}
        db.session.rollback()  # end whatever the handler left open
        status = "done" if service.finish(engine, claim, result) else "lost"
    except JobReleased:
        db.session.rollback()
        status = "queued" if service.release(engine, claim) else "lost"
    except JobLost:
        db.session.rollback()
        status = "lost"
    except LedgerError as err:  # a refusal meant for a person
        db.session.rollback()
        if not service.fail(engine, claim, str(err.detail)):
            status = "lost"
    except Exception:
        db.session.rollback()
        # The traceback (which may hold personal data) goes to the server log only.
        app.logger.exception("job %s (%s) failed", claim.id, claim.kind)
        if not service.fail(engine, claim, str(INTERNAL_ERROR)):
            status = "lost"
    except BaseException:  # interrupted (Ctrl-C twice): hand it back before going
        db.session.rollback()
        service.release(engine, claim)
        raise
    finally:
        finished.set()
    if status == "failed":
        shutil.rmtree(directory, ignore_errors=True)  # a failed job keeps no partial output
    if status == "lost":
        app.logger.warning("job %s: run %s was taken back while it ran; its result is dropped",
                           claim.id, claim.attempt)
    return status


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[-100:]


def work(app: Flask, *, once: bool = False, poll: float | None = None, stopping: threading.Event | None = None,
         name: str | None = None) -> int:
    """Claim and run jobs until `stopping` is set (once: until none is queued); return how
    many ran. Each job runs in an app context (and database session) of its own."""
    stopping = stopping or threading.Event()
    name = name or worker_id()
    poll = float(app.config.get("LEDGER_JOB_POLL_SECONDS", 2) if poll is None else poll)
    count = 0
    pruned_at = 0.0
    while not stopping.is_set():
        claim = None
        with app.app_context():
            try:
                claim = service.claim_next(name, kinds=list(HANDLERS))
                if claim is not None:
                    run_job(app, claim, stopping)
                    count += 1
                elif time.monotonic() - pruned_at > PRUNE_EVERY_SECONDS:
                    pruned_at = time.monotonic()
                    service.delete_old_files()
            except Exception:
                if once:
                    raise
                app.logger.exception("job worker %s: claiming or running a job failed; retrying", name)
            finally:
                db.session.remove()
        if claim is None:
            if once:
                break
            stopping.wait(poll)
    return count


@contextmanager
def stop_on_signals(stopping: threading.Event) -> Iterator[None]:
    """SIGTERM or Ctrl-C: finish the current job, or hand it back at its next progress
    report, then stop. A second signal stops at once (the job is then taken back as stale)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        stopping.set()
        signal.signal(signum, signal.SIG_DFL if signum == signal.SIGTERM else signal.default_int_handler)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --- a worker thread inside the web process (the embedded SQLite default) -------------------

_started: dict[int, threading.Event] = {}
_lock = threading.Lock()


def runs_in_process(app: Flask) -> bool:
    configured = app.config.get("LEDGER_JOBS_IN_PROCESS")
    if configured is not None:
        return bool(configured)
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite"


def start_in_process_worker(app: Flask) -> threading.Event | None:
    """One worker thread per web process (each gunicorn worker its own), when configured;
    returns the event that stops it."""
    if not runs_in_process(app):
        return None
    with _lock:
        if id(app) in _started:
            return _started[id(app)]
        stop = _started[id(app)] = threading.Event()
    threading.Thread(target=work, args=(app,), kwargs={"stopping": stop}, name="ledger-job-worker",
                     daemon=True).start()
    return stop


def stop_in_process_worker(app: Flask) -> None:
    with _lock:
        stop = _started.pop(id(app), None)
    if stop is not None:
        stop.set()
