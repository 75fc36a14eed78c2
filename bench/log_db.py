"""The transparency log as served: proofs read from the database, and offline verification
of a 1 M entry export, each beside the bare operation it cannot beat.

  proof (service)   ledger.transparency.log.inclusion_proof: the O(log n) stored subtrees
                    fetched in one query, then the path computed; beside it a bare
                    "SELECT hash FROM log_nodes WHERE node = <leaf i>" (one round trip)
  proof (API)       GET /api/v1/transparency/proof?leaf=&size= through Flask's test client
  verify-log        python -m receipts verify-log's check over an export of n entries
                    (JSON parse, leaf hash, tree, checkpoint), beside hashlib doing the
                    same number of SHA-256 operations (2 per leaf)

Set-up: n synthetic entries' subtree hashes are written straight into log_nodes (the
service's append path is what bench/core.py and the tests exercise); the export holds n
entries of ~400 bytes and one checkpoint signed by a fresh key.

Usage: python bench/log_db.py [--db sqlite|postgresql] [-n 1000000]
PostgreSQL: LEDGER_BENCH_POSTGRES_URL (default ledger_bench_log; its schema is dropped).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench.summary import emit, figure  # noqa: E402

PG_URL = os.environ.get("LEDGER_BENCH_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/ledger_bench_log")
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def entry(i: int) -> str:
    return json.dumps({"v": 2, "seq": i, "kind": "contribution", "recorded_at": "2025-03-01T08:00:00Z",
                       "postings": [{"account": "fund:HNVNN", "amount": "5000000", "commodity": "VND",
                                     "contribution": f"HNVNN-2025-{i:06d}"}],
                       "contribution": {"receipt": f"HNVNN-2025-{i:06d}", "donor": "Nhà hảo tâm ẩn danh"}},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2000)
    args = parser.parse_args()
    n = args.n

    from flask_migrate import upgrade

    from ledger import create_app
    from ledger.database import recreate_postgres_database
    from ledger.extensions import db
    from ledger.transparency import log
    from ledger.transparency.models import LogNode, LogState, node_id
    from receipts import merkle
    from receipts.logcheck import check_export
    from receipts.note import checkpoint_body, sign_note
    from receipts.signing import SigningKey

    tmp = tempfile.mkdtemp(prefix="ledger-bench-log-")
    os.environ.setdefault("LEDGER_INSTANCE_PATH", tmp)
    if args.db == "postgresql":
        recreate_postgres_database(PG_URL, PG_ADMIN_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp}/log.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": tmp, "TESTING": True,
                      "LEDGER_PUBLIC_URL": "https://chungtay.example.vn"})
    print(f"== {args.db}, n = {n:,}")
    start = time.perf_counter()
    data = [entry(i).encode() for i in range(n)]
    tree = merkle.MemoryTree(data)
    print(f"built {n:,} leaves in memory: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    with app.app_context():
        upgrade()
        start = time.perf_counter()
        rows, levels = [], max(n.bit_length(), 1)
        for level in range(levels):
            for idx in range(n >> level):
                rows.append({"node": node_id(level, idx), "hash": tree.get(level, idx)})
                if len(rows) == 50_000:
                    db.session.execute(sa.insert(LogNode), rows)
                    rows = []
        if rows:
            db.session.execute(sa.insert(LogNode), rows)
        db.session.execute(sa.update(LogState).where(LogState.id == 1).values(size=n))
        db.session.commit()
        print(f"stored {db.session.scalar(sa.select(sa.func.count()).select_from(LogNode)):,} nodes: "
              f"{time.perf_counter() - start:.1f} s", file=sys.stderr)

        rng = random.Random(1)
        leaves = [rng.randrange(n) for _ in range(args.proofs)]
        root = tree.root(n)
        start = time.perf_counter()
        for leaf in leaves:
            proof = log.inclusion_proof(leaf, n)
        service = (time.perf_counter() - start) / len(leaves)
        assert merkle.verify_inclusion(tree.leaf_hash(leaves[-1]), leaves[-1], n, proof, root)
        bare_stmt = sa.select(LogNode.hash).where(LogNode.node == sa.bindparam("i"))
        start = time.perf_counter()
        for leaf in leaves:
            db.session.execute(bare_stmt, {"i": node_id(0, leaf)}).scalar_one()
        bare = (time.perf_counter() - start) / len(leaves)
        db.session.commit()
    client = app.test_client()
    start = time.perf_counter()
    for leaf in leaves:
        resp = client.get(f"/api/v1/transparency/proof?leaf={leaf}&size={n}")
        assert resp.status_code == 200, resp.get_data(as_text=True)
    api = (time.perf_counter() - start) / len(leaves)

    key = SigningKey.generate()
    origin = "chungtay.example.vn/log"
    lines = [json.dumps({"origin": origin})] + [json.dumps({"index": i, "data": d.decode()}, ensure_ascii=False)
                                                for i, d in enumerate(data)]
    lines.append(json.dumps({"checkpoint": sign_note(checkpoint_body(origin, n, root), origin, key)}))
    start = time.perf_counter()
    problems, summary = check_export(lines, {key.key_id: key.public_key})
    verify = time.perf_counter() - start
    assert problems == [] and summary["entries"] == n, problems
    start = time.perf_counter()
    for d in data:
        hashlib.sha256(b"\x00" + d).digest()
        hashlib.sha256(b"\x01" + d[:64]).digest()
    hash_only = time.perf_counter() - start

    print(f"{'operation':<22}{'time':>12}{'bare':>12}{'x bare':>8}  target")
    print(f"{'proof (service)':<22}{service * 1000:>10.3f}ms{bare * 1000:>10.3f}ms{service / bare:>8.1f}  <= 2 ms")
    print(f"{'proof (API)':<22}{api * 1000:>10.3f}ms{bare * 1000:>10.3f}ms{api / bare:>8.1f}  <= 2 ms")
    print(f"{'verify-log, n entries':<22}{verify:>11.2f}s{hash_only:>11.2f}s{verify / hash_only:>8.1f}  <= 20 s")
    with app.app_context():
        db.engine.dispose()
    emit(f"Merkle log from the database ({args.db})", [
        figure("proof (service)", service * 1000, "ms", limit=bare * 1000, limit_name="bare SELECT of the leaf's node",
               target=2, higher_is_better=False, n=n),
        figure("proof (API)", api * 1000, "ms", target=2, higher_is_better=False, n=n),
        figure("verify-log", verify, "s", limit=hash_only, limit_name="hashlib, the same SHA-256 (2 per leaf)",
               target=20 * n / 1_000_000, higher_is_better=False, n=n,
               note="target scaled from 20 s per 1 M leaves"),
    ])


if __name__ == "__main__":
    main()
