"""SIGKILL while the transparency log is appended to and its checkpoint signed (issue 10,
item 2), on both databases.

A child process runs `publish()` (what the background publisher and every request for a
checkpoint do) and stops itself at a chosen point: with the leaves appended but not
committed; in the middle of signing (the ledger's lock held); with the signed checkpoint
written but not committed; and just after the commit, before it could say so. The parent
kills it there with SIGKILL, then checks what a restart must find: `flask ledger verify`
passes in a new process, nothing uncommitted is there, and the next publish signs a
checkpoint that extends the earlier ones. A last test kills publishes at random moments.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.extensions import db
from ledger.journal.models import JournalTransaction
from ledger.transparency import log
from ledger.transparency.audit import verify_ledger
from ledger.transparency.models import Checkpoint, LogNode
from tests.helpers import build_world

ROOT = Path(__file__).resolve().parents[1]

# The child: publish(), halting at STAGE until killed. The hooks wrap the log module's own
# functions, so the code that runs is the service's, unchanged.
CHILD = r"""
import sys, time
from contextlib import contextmanager

from ledger import create_app
from ledger.transparency import log

stage = sys.argv[1]
app = create_app()
inside = {"fn": None}


def halt():
    print("HALTED", flush=True)
    time.sleep(600)


for name in ("integrate", "sign_checkpoint"):
    def wrapped(*args, _fn=getattr(log, name), _name=name, **kwargs):
        inside["fn"] = _name
        return _fn(*args, **kwargs)
    setattr(log, name, wrapped)

original_transaction = log.write_transaction


@contextmanager
def halting_transaction():
    with original_transaction():
        yield
        if stage == inside["fn"] + ":before-commit":
            halt()
    if stage == inside["fn"] + ":after-commit":
        halt()


log.write_transaction = halting_transaction

original_sign = log.sign_note


def halting_sign(*args, **kwargs):
    if stage == "signing":
        halt()
    return original_sign(*args, **kwargs)


log.sign_note = halting_sign

with app.app_context():
    print("PUBLISHING", flush=True)
    print("SIGNED", log.publish().size, flush=True)
"""


def _env(app) -> dict:
    return {**os.environ, "LEDGER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "LEDGER_INSTANCE_PATH": app.config["INSTANCE_PATH"], "FLASK_APP": "wsgi",
            "LEDGER_PUBLIC_URL": app.config["LEDGER_PUBLIC_URL"], "LEDGER_LOG_INTERVAL": "0"}


def _child(app, stage: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, stage], cwd=ROOT, env=_env(app),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _kill_when_halted(proc: subprocess.Popen) -> str:
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("HALTED"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "".join(seen)  # it halted where asked, and died there
    return "".join(seen)


def _state() -> tuple[int, int, int]:
    db.session.rollback()
    return (log.log_size(), db.session.scalar(select(func.count()).select_from(LogNode)),
            db.session.scalar(select(func.count()).select_from(Checkpoint)))


def _verify_in_a_new_process(app) -> None:
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "ledger", "verify"], cwd=ROOT,
                         env=_env(app), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ledger verified" in out.stdout


@pytest.fixture()
def written(ctx):
    """A ledger with a signed checkpoint, then more writes the log has not taken in yet."""
    w = build_world(ctx)
    for amount in (1_000_000, 2_000_000, 3_000_000):
        w.recorder.ok(w.contribute(amount_vnd=amount), 201)
    first = log.publish()
    db.session.commit()
    for amount in (4_000_000, 5_000_000, 6_000_000, 7_000_000):
        w.recorder.ok(w.contribute(amount_vnd=amount), 201)
    db.session.commit()
    journal = db.session.scalar(select(func.max(JournalTransaction.seq))) + 1
    assert first.size < journal
    return w, first.size, journal


# stage -> what survives the kill: (log size, checkpoints) as "before" or "after" the publish
STAGES = {
    "integrate:before-commit": ("before", "before"),
    "signing": ("after", "before"),
    "sign_checkpoint:before-commit": ("after", "before"),
    "sign_checkpoint:after-commit": ("after", "after"),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_kill_while_publishing_leaves_a_ledger_that_verifies(ctx, written, stage):
    w, signed, journal = written
    size_before, nodes_before, checkpoints_before = _state()
    assert size_before == signed

    _kill_when_halted(_child(ctx, stage))

    size, nodes, checkpoints = _state()
    log_survives, checkpoint_survives = STAGES[stage]
    assert size == (journal if log_survives == "after" else size_before)
    assert (nodes > nodes_before) == (log_survives == "after")  # leaves and their nodes together
    assert checkpoints == checkpoints_before + (checkpoint_survives == "after")
    latest = log.latest_checkpoint()
    assert latest.size == (journal if checkpoint_survives == "after" else signed)

    _verify_in_a_new_process(ctx)  # the restart: the books are whole

    # The lock died with the process: the next publish signs at once, extending the last.
    again = log.publish()
    db.session.commit()
    assert again.size == journal
    assert verify_ledger() == []  # every checkpoint, the killed one's too, is consistent
    # ... and the service goes on writing and publishing.
    w.recorder.ok(w.contribute(amount_vnd=8_000_000), 201)
    assert log.publish().size == journal + 1
    assert verify_ledger() == []


def test_publishes_killed_at_random_moments(ctx, written):
    """No hook: a publish started after each write is killed after a random delay,
    wherever it is (starting, appending, signing, committing). Each time the ledger
    verifies; the next publish signs a checkpoint consistent with all before."""
    w, _, _ = written
    rng = random.Random(10)
    # How long a publish takes here, from a child left to finish: the kills are drawn within
    # it. (A fixed 0-0.3 s once let 7 of 8 publishes finish first on a quick machine.)
    w.recorder.ok(w.contribute(amount_vnd=50_000), 201)
    db.session.commit()
    proc = _child(ctx, "none")
    assert proc.stdout.readline().startswith("PUBLISHING")
    started = time.perf_counter()
    assert proc.stdout.readline().startswith("SIGNED")
    publish_seconds = time.perf_counter() - started
    proc.wait(timeout=30)
    outcomes = {"killed": 0, "finished": 0}  # killed mid-publish, or after it
    round_ = 0
    while round_ < 8 or (outcomes["killed"] < 3 and round_ < 24):
        w.recorder.ok(w.contribute(amount_vnd=(round_ + 1) * 100_000), 201)
        db.session.commit()
        proc = _child(ctx, "none")
        assert proc.stdout.readline().startswith("PUBLISHING")
        time.sleep(rng.uniform(0, publish_seconds))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        outcomes["finished" if "SIGNED" in proc.stdout.read() else "killed"] += 1
        db.session.rollback()
        assert verify_ledger() == [], round_
        round_ += 1
    assert outcomes["killed"] >= 3, (outcomes, publish_seconds)  # kills landed mid-publish
    journal = db.session.scalar(select(func.max(JournalTransaction.seq))) + 1
    assert log.publish().size == journal
    _verify_in_a_new_process(ctx)
