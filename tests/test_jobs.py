"""The background job runner: claiming, running, progress, failure, restart recovery, the API."""
from __future__ import annotations

import collections
import hashlib
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ledger.extensions import db
from ledger.jobs import service
from ledger.jobs.models import Job
from ledger.jobs.runner import (
    HANDLERS,
    INTERNAL_ERROR,
    run_job,
    runs_in_process,
    start_in_process_worker,
    stop_in_process_worker,
    work,
)
from ledger.problems import LedgerError
from ledger.types import utcnow

from .helpers import api_for, make_user

RUNS: collections.Counter = collections.Counter()
RUNS_LOCK = threading.Lock()
GATE = {"started": threading.Event(), "go": threading.Event()}


def write_rows(ctx, params):
    rows = params["rows"]
    with ctx.open_output("rows.csv", "w", newline="") as f:
        for i in range(rows):
            f.write(f"{i},Nguyễn Văn {i}\n")
            if i % 10 == 0:
                ctx.progress(i, rows)
    ctx.progress(rows, rows)
    return {"rows": rows}


def fail_half_way(ctx, params):
    with ctx.open_output("half.csv", "w") as f:
        f.write("a,b\n")
        if params.get("refusal"):
            raise LedgerError("Không có dòng nào để xuất.")
        raise RuntimeError("the phone 0912345678 broke it")


def wait_at_three(ctx, params):
    ctx.progress(3, 10)
    GATE["started"].set()
    assert GATE["go"].wait(20)
    ctx.progress(10, 10)
    return {"ok": True}


def count_runs(ctx, params):
    with RUNS_LOCK:
        RUNS[ctx.job_id] += 1
    time.sleep(0.005)
    return {}


TEST_HANDLERS = {"test-rows": write_rows, "test-fail": fail_half_way, "test-wait": wait_at_three,
                 "test-count": count_runs}


@pytest.fixture()
def handlers():
    HANDLERS.update(TEST_HANDLERS)
    RUNS.clear()
    GATE["started"].clear()
    GATE["go"].clear()
    yield
    for kind in TEST_HANDLERS:
        HANDLERS.pop(kind, None)


@pytest.fixture()
def people(ctx):
    for name, role in (("rec1", "recorder"), ("rec2", "recorder"), ("boss", "admin"), ("eye", "auditor")):
        make_user(name, role)
    return {name: api_for(ctx, name) for name in ("rec1", "rec2", "boss", "eye")}


def _user(username):
    from ledger.auth.models import User

    return db.session.scalar(select(User).where(User.username == username))


def _job(job_id) -> Job:
    fresh()
    return db.session.get(Job, job_id)


def fresh():
    """End the test's read transaction: API calls in a test share its session, and an
    SQLite snapshot taken before a worker's commit would not see it."""
    db.session.rollback()


def run_queued(**kwargs) -> int:
    from flask import current_app

    count = work(current_app._get_current_object(), once=True, **kwargs)
    fresh()
    return count


def test_a_job_runs_once_and_its_file_downloads(ctx, handlers, people):
    job_id = service.enqueue("test-rows", {"rows": 25}, _user("rec1")).id
    api = people["rec1"]
    assert api.ok(api.get(f"/jobs/{job_id}"))["status"] == "queued"
    resp = api.get(f"/jobs/{job_id}/download")
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"

    assert run_queued() == 1
    body = api.ok(api.get(f"/jobs/{job_id}"))
    assert body["status"] == "done" and body["progress"] == {"done": 25, "total": 25}
    assert body["attempts"] == 1 and body["error"] is None
    assert body["download_url"] == f"/api/v1/jobs/{job_id}/download"
    expected = "".join(f"{i},Nguyễn Văn {i}\n" for i in range(25)).encode()
    assert body["result"] == {"file": "rows.csv", "size": len(expected),
                              "sha256": hashlib.sha256(expected).hexdigest(), "rows": 25}

    resp = api.get(f"/jobs/{job_id}/download")
    assert resp.status_code == 200 and resp.data == expected
    assert "attachment" in resp.headers["Content-Disposition"] and "rows.csv" in resp.headers["Content-Disposition"]
    assert resp.headers["Repr-Digest"].startswith("sha-256=:")
    files = sorted(p.name for p in service.job_directory(job_id).iterdir())
    assert files == ["rows.csv"]  # no temporary file left
    assert work(ctx, once=True) == 0  # never run twice


def test_progress_is_visible_while_the_job_runs(ctx, handlers, people):
    job_id = service.enqueue("test-wait", {}, _user("rec1")).id
    runner = threading.Thread(target=work, args=(ctx,), kwargs={"once": True})
    runner.start()
    try:
        assert GATE["started"].wait(20)
        fresh()
        body = people["rec1"].ok(people["rec1"].get(f"/jobs/{job_id}"))
        assert body["status"] == "running" and body["progress"] == {"done": 3, "total": 10}
        assert body["started_at"] is not None and body["finished_at"] is None
    finally:
        GATE["go"].set()
        runner.join(30)
    job = _job(job_id)
    assert job.status == "done" and job.progress_done == 10 and job.result == {"ok": True}
    assert job.heartbeat_at is not None and job.finished_at >= job.started_at


@pytest.mark.parametrize("refusal", [True, False])
def test_a_failing_handler_fails_the_job_with_a_readable_message_and_no_file(ctx, handlers, people, refusal):
    job_id = service.enqueue("test-fail", {"refusal": refusal}, _user("rec1")).id
    assert run_queued() == 1
    job = _job(job_id)
    assert job.status == "failed" and job.result is None and job.finished_at is not None
    if refusal:
        assert job.error == "Không có dòng nào để xuất."
    else:  # an unexpected error: no stack trace, no personal data, only a pointer to the log
        assert job.error == str(INTERNAL_ERROR)
        assert "0912345678" not in job.error and "Traceback" not in job.error
    directory = service.job_directory(job_id)
    assert not directory.exists() or list(directory.iterdir()) == []
    resp = people["rec1"].get(f"/jobs/{job_id}/download", lang="en")
    assert resp.status_code == 409 and resp.get_json()["job_status"] == "failed"
    assert people["rec1"].ok(people["rec1"].get(f"/jobs/{job_id}"))["error"] == job.error


def test_concurrent_claims_never_take_one_job_twice(ctx, handlers):
    ids = {service.enqueue("test-count", {"n": n}).id for n in range(6)}
    claims, barrier = [], threading.Barrier(8)

    def claim(i):
        with ctx.app_context():
            barrier.wait(10)
            claims.append(service.claim_next(f"claimer-{i}"))
            db.session.remove()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    taken = [c.id for c in claims if c is not None]
    assert sorted(taken) == sorted(ids) and claims.count(None) == 2


def test_eight_workers_run_every_job_exactly_once(ctx, handlers):
    ids = [service.enqueue("test-count", {"n": n}).id for n in range(40)]
    counts, barrier = [], threading.Barrier(8)

    def worker(i):
        barrier.wait(10)
        counts.append(work(ctx, once=True, name=f"worker-{i}"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(counts) == 40
    assert {job_id: RUNS[job_id] for job_id in ids} == {job_id: 1 for job_id in ids}
    fresh()
    statuses = db.session.scalars(select(Job.status)).all()
    assert statuses == ["done"] * 40


def _die(job_id, seconds_ago=3600):
    """What a worker killed mid-job leaves: a running job whose heartbeat stopped."""
    db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - timedelta(seconds=seconds_ago)))
    db.session.commit()


def test_a_stale_job_is_taken_back_and_run_again_without_half_files(ctx, handlers):
    job_id = service.enqueue("test-rows", {"rows": 12}).id
    dead = service.claim_next("dead-worker")
    assert dead.id == job_id and dead.attempt == 1
    directory = service.job_directory(job_id)
    directory.mkdir(parents=True)
    (directory / ".rows.csv.1.part").write_text("0,Nguy")  # the dead run's half file
    _die(job_id, seconds_ago=10)
    assert service.claim_next("too-early") is None  # still within LEDGER_JOB_STALE_SECONDS
    _die(job_id)

    assert work(ctx, once=True) == 1
    job = _job(job_id)
    assert job.status == "done" and job.attempts == 2 and job.result["rows"] == 12
    assert sorted(p.name for p in directory.iterdir()) == ["rows.csv"]
    # The dead run cannot report progress or finish any more: its claim was taken back.
    assert not service.record_progress(db.engine, dead, 1, 12)
    assert not service.finish(db.engine, dead, {"file": "other.csv"})
    assert _job(job_id).result["rows"] == 12


def test_a_job_interrupted_too_often_fails_with_a_clear_message(ctx, handlers, monkeypatch):
    monkeypatch.setitem(ctx.config, "LEDGER_JOB_MAX_ATTEMPTS", 2)
    job_id = service.enqueue("test-rows", {"rows": 3}).id
    for attempt in (1, 2):
        claim = service.claim_next(f"doomed-{attempt}")
        assert claim.id == job_id and claim.attempt == attempt
        _die(job_id)
    assert service.claim_next("survivor") is None
    job = _job(job_id)
    assert job.status == "failed" and job.attempts == 2 and job.claimed_by is None
    assert "2" in job.error and "Traceback" not in job.error
    assert work(ctx, once=True) == 0


def test_a_stopping_worker_hands_its_job_back(ctx, handlers):
    job_id = service.enqueue("test-rows", {"rows": 30}).id
    claim = service.claim_next("stopping-worker")
    stopping = threading.Event()
    stopping.set()
    assert run_job(ctx, claim, stopping) == "queued"
    job = _job(job_id)
    assert job.status == "queued" and job.attempts == 0 and job.claimed_by is None
    assert not service.job_directory(job_id).exists() or list(service.job_directory(job_id).iterdir()) == []
    assert work(ctx, once=True) == 1 and _job(job_id).attempts == 1


def test_who_sees_which_job(ctx, handlers, people):
    job_id = service.enqueue("test-rows", {"rows": 2}, _user("rec1")).id
    rec1, rec2, boss, eye = people["rec1"], people["rec2"], people["boss"], people["eye"]
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/download"):
        resp = rec2.get(path)
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert rec2.ok(rec2.get("/jobs")) == []
    assert [j["job_id"] for j in rec1.ok(rec1.get("/jobs"))] == [job_id]
    assert rec1.ok(rec1.get("/jobs", status="done")) == []
    assert boss.ok(boss.get(f"/jobs/{job_id}"))["requested_by_id"] == _user("rec1").id
    assert eye.ok(eye.get(f"/jobs/{job_id}"))["status"] == "queued"
    assert [j["job_id"] for j in boss.ok(boss.get("/jobs", status="queued"))] == [job_id]
    resp = rec1.get("/jobs", status="sleeping")
    assert resp.status_code == 422 and "status" in resp.get_json()["errors"]
    assert ctx.test_client().get(f"/api/v1/jobs/{job_id}").status_code == 401
    run_queued()
    assert rec2.get(f"/jobs/{job_id}/download").status_code == 404
    assert boss.get(f"/jobs/{job_id}/download").status_code == 200


def test_the_worker_command_runs_the_queued_jobs(ctx, handlers):
    ids = [service.enqueue("test-rows", {"rows": 5}).id for _ in range(2)]
    result = ctx.test_cli_runner().invoke(args=["ledger", "worker", "--once", "--poll", "0.1"])
    assert result.exit_code == 0, result.output
    assert "ran 2 job(s)" in result.output
    assert [_job(job_id).status for job_id in ids] == ["done", "done"]


def test_an_unknown_kind_is_refused_when_asked_for(ctx):
    with pytest.raises(ValueError):
        service.enqueue("no-such-kind", {})


def test_the_web_process_runs_jobs_itself_on_sqlite(ctx, handlers, backend, monkeypatch):
    assert runs_in_process(ctx) is (backend == "sqlite")
    monkeypatch.setitem(ctx.config, "LEDGER_JOBS_IN_PROCESS", True)
    monkeypatch.setitem(ctx.config, "LEDGER_JOB_POLL_SECONDS", 0.05)
    job_id = service.enqueue("test-rows", {"rows": 4}).id
    start_in_process_worker(ctx)
    try:
        deadline = time.monotonic() + 20
        while _job(job_id).status != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
        db.session.rollback()
        assert _job(job_id).status == "done"
    finally:
        stop_in_process_worker(ctx)
        for thread in threading.enumerate():
            if thread.name == "ledger-job-worker":
                thread.join(10)


def test_old_files_are_deleted_after_the_keep_days_and_the_download_says_so(ctx, handlers, people):
    from ledger.types import utcnow

    api = people["rec1"]
    old, recent = (service.enqueue("test-rows", {"rows": 3}, _user("rec1")).id for _ in range(2))
    assert run_queued() == 2
    eight_days_ago = utcnow() - timedelta(days=8)
    db.session.execute(update(Job).where(Job.id == old).values(finished_at=eight_days_ago))
    db.session.commit()
    assert service.delete_old_files() == 1
    fresh()
    assert not service.job_directory(old).exists() and service.job_directory(recent).is_dir()
    gone = api.get(f"/jobs/{old}/download")
    assert gone.status_code == 404 and "Ask for it again" in api.get(f"/jobs/{old}/download", lang="en").get_json()[
        "detail"]
    assert api.get(f"/jobs/{recent}/download").status_code == 200
    assert _job(old).result["sha256"]  # the row keeps what the file was
    assert service.delete_old_files() == 0  # once only
    from ledger.cli import prune_jobs

    out = ctx.test_cli_runner().invoke(prune_jobs)
    assert out.exit_code == 0 and "0 job(s)" in out.output
