"""The running service under load, with its processes killed (issue 10, items 1 and 2), on
PostgreSQL: gunicorn (two workers) serving 32 clients at once, each doing mixed operations
(contributions, allocations from one shared pool, transfers to a commune fund, voids and
allocation reversals with a second person's approval, and retries with the same
Idempotency-Key), while a worker is killed with SIGKILL every half second and, once, the whole
server (master and workers) is killed and started again.

A request cut off by a kill has no answer; its client sends it again with the same key
until it gets one. Afterwards: no answer was a 5xx; every acknowledged contribution is
there and no key had two effects (contributions counted = keys answered 201); the journal
balances, holdings equal it, and `verify` rebuilds the log from the rows.

Clients also ask for the log's checkpoint now and then, which publishes and signs one in the
request, so kills fall during signing too (tests/test_crash_checkpoint.py kills at each
step of it on purpose). Afterwards every checkpoint signed is consistent with the log.

LEDGER_LOAD_OPS sets the operations per client (default 12: about 400 in all, CI-sized; the
issue's full size is 10000); LEDGER_LOAD_KILL_EVERY the seconds between kills (0.5; 0: no
kills, the concurrency of item 1 alone, where a request cut off would be a fault)."""
from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from ledger.auth.service import issue_token
from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.journal.service import verify_journal
from ledger.transparency.audit import verify_ledger
from ledger.transparency.log import publish
from tests.helpers import PASSWORD, build_world
from tests.servers import Server

CLIENTS = 32
OPS = int(os.environ.get("LEDGER_LOAD_OPS", 12))
KILL_EVERY = float(os.environ.get("LEDGER_LOAD_KILL_EVERY", 0.5))
RUN_TOKEN_SECONDS = 7 * 24 * 3600


class Client:
    """One key per operation; a request cut off is sent again with its key until answered."""

    def __init__(self, server: Server, token: str):
        self.server, self.token = server, token
        self.server_errors: list[tuple] = []
        self.cut_off = 0
        self.answers = 0  # the killer waits for one after each kill: progress on a slow machine

    def post(self, path: str, body: dict, key: str) -> tuple[int, dict, bool]:
        data = json.dumps(body).encode()
        for _attempt in range(200):
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.server.port}/api/v1{path}", data=data, method="POST",
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                         "Idempotency-Key": key})
            try:
                try:
                    with urllib.request.urlopen(request, timeout=60) as resp:
                        self.answers += 1
                        return resp.status, json.load(resp), resp.headers.get("Idempotent-Replayed") == "true"
                except urllib.error.HTTPError as err:
                    body = json.load(err)
                    self.answers += 1
                    if err.code >= 500:
                        self.server_errors.append((path, key, err.code, body))
                    return err.code, body, False
            except (OSError, ValueError, http.client.HTTPException):
                # Cut off by a kill, before or after the commit (the server restarting, or
                # the answer half sent): the same key again gets the effect once.
                self.cut_off += 1
                time.sleep(0.1)
        raise AssertionError(f"no answer to {path} {key}")

    def get(self, path: str) -> int:
        for _attempt in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.server.port}/api/v1{path}", timeout=60) as resp:
                    resp.read()
                    self.answers += 1
                    return resp.status
            except urllib.error.HTTPError as err:
                self.answers += 1
                if err.code >= 500:
                    self.server_errors.append((path, None, err.code, err.read()))
                return err.code
            except (OSError, ValueError, http.client.HTTPException):
                self.cut_off += 1
                time.sleep(0.1)
        raise AssertionError(f"no answer to {path}")


@pytest.fixture()
def loaded(ctx, backend):
    if backend != "postgresql":
        pytest.skip("the load runs on PostgreSQL, the production database")
    world = build_world(ctx)
    households = [world.household() for _ in range(8)]
    for _ in range(10):
        world.recorder.ok(world.contribute(amount_vnd=20_000_000))
    db.session.commit()
    server = Server(ctx)
    server.start()
    yield world, households, server
    server.stop()


def test_mixed_load_with_kills_keeps_every_invariant(ctx, loaded):
    world, households, server = loaded
    # Tokens that outlive the run: the tests' own expire in an hour, and the issue's full
    # size runs longer (its first run was cut off there, every request then answered 401).
    recorder = Client(server, issue_token("recorder", PASSWORD, RUN_TOKEN_SECONDS)[0])
    approver = Client(server, issue_token("approver", PASSWORD, RUN_TOKEN_SECONDS)[0])
    answered: dict[str, tuple[int, dict]] = {}  # contribution key -> its first answer
    lock = threading.Lock()
    stop = threading.Event()

    kills = {"workers": 0, "server": 0}

    def killer():
        rng = random.Random(7)
        answered_before = -1
        while not stop.wait(KILL_EVERY):
            # Kill only once the service answered since the last kill: a worker that takes
            # longer than KILL_EVERY to start (a busy machine) must get to serve.
            progress = recorder.answers + approver.answers
            if progress == answered_before:
                continue
            answered_before = progress
            if not kills["server"] and kills["workers"] == 2:
                server.kill_all()  # the whole service, mid-write
                kills["server"] += 1
                server.start()
            elif server.kill_a_worker(rng):
                kills["workers"] += 1

    def client(number: int) -> None:
        rng = random.Random(number)
        mine: list[int] = []
        for op in range(OPS):
            key = f"load-{number}-{op}"
            roll = rng.random()
            if roll < 0.45:
                body = {"campaign_id": world.campaign_id, "fund_id": world.fund_id, "donor_id": world.donor_id,
                        "kind": "cash", "method": "bank_transfer", "amount_vnd": rng.randrange(1, 6) * 1_000_000,
                        "received_on": "2025-03-01"}
                status, answer, _ = recorder.post("/contributions", body, key)
                with lock:
                    answered[key] = (status, answer)
                if status == 201:
                    mine.append(answer["contribution_id"])
                    if rng.random() < 0.3:  # the client retries: answered, not repeated
                        again = recorder.post("/contributions", body, key)
                        assert again[0] == 201 and again[2] and again[1] == answer, again
            elif roll < 0.75:
                status, answer, _ = recorder.post("/allocations", {
                    "fund_id": world.fund_id, "household_id": rng.choice(households), "kind": "cash",
                    "amount_vnd": 500_000}, key)
                assert status in (201, 409), (status, answer)
                if status == 201 and rng.random() < 0.2:
                    pending = recorder.post(f"/allocations/{answer['allocation_id']}/reverse",
                                            {"reason": "Nhập trùng"}, key + "-r")
                    _approve(pending, key)
            elif roll < 0.8:
                assert recorder.get("/transparency/checkpoint") == 200  # publishes and signs
            elif roll < 0.9:
                status, answer, _ = recorder.post(f"/funds/{world.fund_id}/transfers", {
                    "to_fund_id": world.commune_fund_id, "kind": "cash", "amount_vnd": 300_000}, key)
                assert status in (201, 409), (status, answer)
            elif mine:
                pending = recorder.post(f"/contributions/{mine.pop()}/void", {"reason": "Sai số tiền"}, key)
                _approve(pending, key)

    def _approve(pending, key):
        status, answer, _ = pending
        assert status in (202, 409), pending
        if status == 202:
            done = approver.post(f"/approvals/{answer['approval_id']}/approve", {}, key + "-a")
            assert done[0] in (200, 409), done

    def progress():  # a long run (the full size takes hours) says how far it got
        while not stop.wait(60):
            answers = recorder.answers + approver.answers
            print(f"  {time.perf_counter() - started:6.0f} s: {answers} answers, {len(answered)} contributions, "
                  f"kills {kills}", flush=True)

    killing = threading.Thread(target=killer if KILL_EVERY > 0 else stop.wait)
    reporting = threading.Thread(target=progress, daemon=True)
    started = time.perf_counter()
    killing.start()
    reporting.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(client, range(CLIENTS)))
    finally:
        stop.set()
        killing.join()
    seconds = time.perf_counter() - started
    time.sleep(1)

    cut_off = recorder.cut_off + approver.cut_off
    if KILL_EVERY > 0:
        assert kills["server"] == 1 and kills["workers"] >= 3, kills  # the load outlasted the kills
        assert cut_off > 0  # some requests were cut off and sent again
    else:
        assert cut_off == 0  # nothing was killed: no request may go unanswered
    assert recorder.server_errors == [] and approver.server_errors == []
    created = {answer["contribution_id"] for status, answer in answered.values() if status == 201}
    assert all(status == 201 for status, _ in answered.values()), answered
    db.session.rollback()
    stored = set(db.session.scalars(select(Contribution.id)))
    assert created <= stored  # every acknowledged gift is there
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 10 + len(answered)  # once each
    assert verify_journal() == []
    publish()
    assert verify_ledger() == []
    answers = recorder.answers + approver.answers
    print(f"\n{CLIENTS} x {OPS} operations in {seconds:.0f} s: {answers} answers, {answers / seconds:.1f}/s; "
          f"kills: {kills}; requests cut off and sent again: {cut_off}; contributions: {len(answered)}")
