"""Benchmark of the ledger's core writes, on SQLite and PostgreSQL.

What it measures, per backend, n operations each (one committed transaction per operation):

  contribution (service)   ledger.contributions.service.record_contribution
  allocation (service)     ledger.allocations.service.allocate_to_household: cash, FIFO from
                           the fund's pool, spread over n/10 approved households (the pool
                           holds ~n open lots here and ~2n in the API run, so per-allocation
                           time depends on n: compare figures only at the same n)
  contribution (API)       POST /api/v1/contributions via Flask's test client, bearer token,
                           a distinct Idempotency-Key each
  allocation (API)         POST /api/v1/allocations, the same way
  bare insert              one INSERT of a contribution-like row into a table with no
                           constraints, indexes or logic, in its own committed transaction
  round trips (k)          k - 1 round trips of SELECT 1 and a COMMIT on the DB-API connection,
                           k being the statements one API contribution was counted to send:
                           the floor under any write path that sends as many statements

Why the bare insert is the baseline: every recorded contribution is at least one committed
transaction writing one row. On the same engine the bare insert costs exactly that and
nothing more (no ledger lock, journal, holdings, receipt counter, validation or HTTP), so
"ratio" says how many bare commits' worth of time one ledger operation takes, a figure that
stays comparable across machines and backends (SQLite's commit is an fsync-free WAL
append, PostgreSQL's a round trip and a WAL flush).

Usage: python bench/core.py [--db sqlite|postgresql|both] [-n 10000]
PostgreSQL: LEDGER_BENCH_POSTGRES_URL (its public schema is dropped and recreated).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench.summary import emit, figure  # noqa: E402

PG_URL = os.environ.get("LEDGER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ledger_bench")
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "correct horse battery"
TARGET_API_CONTRIBUTIONS_PER_S = 300
CONTRIBUTION_VND = 10_000_000  # each contribution is a lot of 10M đồng ...
ALLOCATION_VND = 1_000_000  # ... drawn by allocations of 1M: ten allocations per lot
APPROVED_VND = 60_000_000  # each household gets 20 allocations (2n over n/10): 20M, under the cap


def prepare_postgres(url: str) -> None:
    """Create the bench database if missing; start from an empty public schema."""
    from ledger.database import recreate_postgres_database

    recreate_postgres_database(url, PG_ADMIN_URL)


def set_up(app, n: int) -> dict:
    """Migrate; add areas, an admin, a campaign, a fund, a donor, n/10 approved households."""
    from flask_migrate import upgrade

    from ledger.areas.service import add_area
    from ledger.auth.service import create_user, issue_token
    from ledger.campaigns.service import create_campaign
    from ledger.donors.service import create_donor
    from ledger.funds.service import create_fund
    from ledger.households.service import change_status, create_household

    with app.app_context():
        upgrade()
        add_area("01", "Thành phố Hà Nội", "thành phố trung ương", None, legacy=False)
        add_area("00004", "Phường Ba Đình", "phường", "01", legacy=False)
        admin = create_user("admin", PASSWORD, "admin")
        token, _ = issue_token("admin", PASSWORD, 24 * 3600)
        campaign = create_campaign(admin, code="CT2025", name="Chung tay xóa nhà tạm, nhà dột nát",
                                   area_code="01", starts_on=date(2025, 1, 1))
        fund = create_fund(admin, code="HNVNN", name="Quỹ Vì người nghèo TP Hà Nội", area_code="01")
        donor = create_donor(admin, {"kind": "business", "name": "Công ty Cổ phần Sữa Việt Nam",
                                     "tax_code": "0300588569"})
        households = []
        for i in range(max(n // 10, 1)):
            h = create_household(admin, {
                "campaign_id": campaign.id, "commune_code": "00004", "head_name": f"Nguyễn Văn An {i}",
                "category": "poor", "support_type": "new_build", "approved_amount_vnd": APPROVED_VND,
                "surveyed_on": date(2025, 2, 1)})
            change_status(admin, h.id, "approved", date(2025, 2, 10))
            households.append(h.id)
        return {"user_id": admin.id, "token": token, "campaign_id": campaign.id, "fund_id": fund.id,
                "donor_id": donor.id, "households": households}


def contribution(w: dict, api: bool = False) -> dict:
    received = "2025-03-01" if api else date(2025, 3, 1)
    return {"campaign_id": w["campaign_id"], "fund_id": w["fund_id"], "donor_id": w["donor_id"],
            "kind": "cash", "method": "bank_transfer", "amount_vnd": CONTRIBUTION_VND, "received_on": received}


def allocation(w: dict, i: int) -> dict:
    households = w["households"]
    return {"fund_id": w["fund_id"], "household_id": households[i % len(households)], "kind": "cash",
            "amount_vnd": ALLOCATION_VND}


def timed(label: str, fn, n: int) -> float:
    """Seconds for fn(0) ... fn(n-1); progress to stderr every tenth, so stdout stays a table."""
    start = time.perf_counter()
    for i in range(n):
        fn(i)
        if (i + 1) % max(n // 10, 1) == 0:
            print(f"  {label}: {i + 1}/{n} in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return time.perf_counter() - start


def bench_service(app, w: dict, n: int) -> dict[str, float]:
    from ledger.allocations.service import allocate_to_household
    from ledger.auth.models import User
    from ledger.contributions.service import record_contribution
    from ledger.extensions import db

    with app.app_context():
        user = db.session.get(User, w["user_id"])
        return {"contribution (service)": timed("contribution (service)",
                                                lambda i: record_contribution(user, contribution(w)), n),
                "allocation (service)": timed("allocation (service)",
                                              lambda i: allocate_to_household(user, allocation(w, i)), n)}


def bench_api(app, w: dict, n: int) -> dict[str, float]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {w['token']}"}

    def post(path: str, body: dict, key: str) -> None:
        resp = client.post(path, json=body, headers={**headers, "Idempotency-Key": key})
        if resp.status_code != 201:
            raise RuntimeError(f"POST {path}: {resp.status_code} {resp.get_data(as_text=True)}")

    # No outer app context: each request pushes and pops its own, as in production.
    return {"contribution (API)": timed("contribution (API)", lambda i: post(
                "/api/v1/contributions", contribution(w, True), f"bench-c-{i}"), n),
            "allocation (API)": timed("allocation (API)", lambda i: post(
                "/api/v1/allocations", allocation(w, i), f"bench-a-{i}"), n)}


def bench_bare(app, n: int) -> float:
    from ledger.extensions import db

    meta = sa.MetaData()
    bare = sa.Table("bench_bare", meta, sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("fund_id", sa.Integer), sa.Column("donor_id", sa.Integer),
                    sa.Column("amount", sa.BigInteger), sa.Column("received_on", sa.Date),
                    sa.Column("memo", sa.Text))
    with app.app_context():
        engine = db.engine
        meta.create_all(engine)
        stmt = bare.insert()
        row = {"fund_id": 1, "donor_id": 1, "amount": CONTRIBUTION_VND, "received_on": date(2025, 3, 1),
               "memo": None}

        def insert(_i: int) -> None:
            with engine.begin() as conn:
                conn.execute(stmt, row)

        return timed("bare insert", insert, n)


def statements_per_contribution(app, w: dict) -> int:
    """How many SQL statements one API contribution sends (counted on the engine, not
    assumed), its transactions' COMMITs and ROLLBACKs included. The request counted is the
    second: the first also reads what a process looks up once (a sequence's name, say),
    which the benchmark's n requests do not pay again."""
    from ledger.extensions import db

    with app.app_context():
        engine = db.engine
    client = app.test_client()

    def post(key: str) -> None:
        resp = client.post("/api/v1/contributions", json=contribution(w, True),
                           headers={"Authorization": f"Bearer {w['token']}", "Idempotency-Key": key})
        assert resp.status_code == 201, resp.get_data(as_text=True)

    post("bench-warm-up")
    sent = 0

    def count(*_args) -> None:
        nonlocal sent
        sent += 1

    events = ("before_cursor_execute", "commit", "rollback")
    for name in events:
        sa.event.listen(engine, name, count)
    try:
        post("bench-counted")
    finally:
        for name in events:
            sa.event.remove(engine, name, count)
    return sent


def bench_round_trips(app, statements: int, n: int) -> float:
    """The floor under any write path that sends this many statements one after another:
    `statements` - 1 round trips of SELECT 1 and a COMMIT, on the DB-API connection
    (no SQLAlchemy, no Python work between them)."""
    from ledger.extensions import db

    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()

            def request(_i: int) -> None:
                for _ in range(statements - 1):
                    cursor.execute("SELECT 1")
                    cursor.fetchall()
                raw.commit()

            return timed(f"round trips ({statements})", request, n)
        finally:
            raw.close()


def run(backend: str, n: int) -> dict[str, float]:
    from ledger import create_app
    from ledger.extensions import db
    from ledger.journal.service import verify_journal

    tmp = tempfile.mkdtemp(prefix=f"ledger-bench-{backend}-")
    os.environ.setdefault("LEDGER_INSTANCE_PATH", tmp)  # keep the secret key out of the repo
    if backend == "postgresql":
        prepare_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{Path(tmp) / 'ledger.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": tmp,
                      "LEDGER_PUBLIC_URL": "https://chungtay.example.vn"})
    print(f"\n== {backend}: {sa.engine.make_url(url).render_as_string(hide_password=True)}, n = {n}")
    start = time.perf_counter()
    w = set_up(app, n)
    print(f"set-up ({len(w['households'])} approved households): {time.perf_counter() - start:.1f} s")

    statements = statements_per_contribution(app, w)
    totals = {**bench_service(app, w, n), **bench_api(app, w, n), "bare insert": bench_bare(app, n),
              f"round trips ({statements})": bench_round_trips(app, statements, n)}
    bare_ms = totals["bare insert"] / n * 1000
    print(f"{'operation':<24}{'count':>8}{'total s':>10}{'ops/s':>10}{'ms/op':>9}{'x bare':>9}")
    for name, seconds in totals.items():
        ms = seconds / n * 1000
        print(f"{name:<24}{n:>8}{seconds:>10.2f}{n / seconds:>10.0f}{ms:>9.3f}{ms / bare_ms:>9.1f}")

    emit(f"core writes ({backend})", [
        figure(name, n / seconds, "ops/s", limit=n / totals["bare insert"], limit_name="bare INSERT + commit", n=n,
               target=TARGET_API_CONTRIBUTIONS_PER_S if (name, backend) == ("contribution (API)", "postgresql")
               else None)
        for name, seconds in totals.items() if name != "bare insert" and not name.startswith("round trips")])
    print(f"one API contribution sends {statements} statements (COMMIT and ROLLBACK included); "
          f"\"round trips ({statements})\" is that many round trips alone, the floor under it on this connection")

    with app.app_context():
        problems = verify_journal()
        print(f"verify_journal: {len(problems)} problems")
        for p in problems[:10]:
            print("  " + p)
        db.engine.dispose()
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("-n", type=int, default=10_000, help="operations of each kind (default 10000)")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    results = {backend: run(backend, args.n) for backend in backends}
    if "postgresql" in results:
        rate = args.n / results["postgresql"]["contribution (API)"]
        verdict = "meets" if rate >= TARGET_API_CONTRIBUTIONS_PER_S else "MISSES"
        print(f"\nPostgreSQL API contributions: {rate:.0f}/s, {verdict} the target of "
              f"≥ {TARGET_API_CONTRIBUTIONS_PER_S}/s")


if __name__ == "__main__":
    main()
