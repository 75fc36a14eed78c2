"""Two app servers (gunicorn, two workers each, on two ports) against one database, as the
README's "Beyond one machine" runs them: contributions written through both at once, each
idempotency key sent to both, and every worker's log publisher running. Afterwards: one
gapless journal, one log that `verify` rebuilds from the rows, each key's effect once."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.journal.service import verify_journal
from ledger.transparency.audit import verify_ledger
from ledger.transparency.log import publish
from tests.helpers import build_world
from tests.servers import Server

THREADS, EACH = 6, 10


def _post(port: int, token: str, body: dict, key: str) -> tuple[int, dict, bool]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/contributions", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.load(resp), resp.headers.get("Idempotent-Replayed") == "true"
    except urllib.error.HTTPError as err:
        return err.code, json.load(err), False


def test_two_servers_write_one_consistent_log(ctx):
    world = build_world(ctx)
    db.session.commit()
    servers = [Server(ctx, log_interval=0.2), Server(ctx, log_interval=0.2)]
    ports = [server.port for server in servers]
    body = {"campaign_id": world.campaign_id, "fund_id": world.fund_id, "donor_id": world.donor_id,
            "kind": "cash", "method": "bank_transfer", "amount_vnd": 100_000, "received_on": "2025-03-01"}
    token = world.recorder.token

    def writer(thread: int) -> list[tuple]:
        answers = []
        for i in range(EACH):
            key = f"two-servers-{thread}-{i}"
            first, second = ports[(thread + i) % 2], ports[(thread + i + 1) % 2]
            answers.append((key, _post(first, token, body, key), _post(second, token, body, key)))
        return answers

    try:
        for server in servers:
            server.start()
        with ThreadPoolExecutor(THREADS) as pool:
            results = [a for answers in pool.map(writer, range(THREADS)) for a in answers]
        time.sleep(1)  # the servers' publishers append what was committed last
    finally:
        for server in servers:
            server.stop()

    assert all(first[0] == 201 and second[0] == 201 for _key, first, second in results), results[:3]
    # The key sent to the other server answered the first answer, and did nothing again.
    assert all(second[2] and second[1] == first[1] for _key, first, second in results)
    ids = {first[1]["contribution_id"] for _key, first, _second in results}
    assert len(ids) == THREADS * EACH
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == THREADS * EACH
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in db.session.scalars(select(Contribution.receipt_number)))
    assert numbers == list(range(1, THREADS * EACH + 1))  # one gapless receipt sequence
    assert verify_journal() == []
    publish()
    assert verify_ledger() == []
