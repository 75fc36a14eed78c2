"""The postings export end to end from the database, on SQLite and PostgreSQL (issue 7).

bench/exports.py times the writers on generated tuples; this one times what a user gets:
the real dataset query (ledger.exports DATASETS["postings"]: journal_transactions ⋈
postings ⋈ contributions ⋈ funds, NOT EXISTS reversal, read with yield_per), the row
function and the writers, on a ledger holding n postings. Each step runs in a fresh child
process (a new interpreter, app and connection), so its peak RSS (VmHWM: getrusage's
ru_maxrss would carry over the parent's peak) is that step's alone, interpreter and app
(~90 MB of it) included.

  bare SQL          the very SELECT the dataset runs (captured with its parameters from
                    Dataset.rows), replayed on the DB-API connection and fetched to the last
                    row in batches of the dataset's size (SQLite: fetchmany; PostgreSQL: a
                    named server-side cursor, as yield_per uses), nothing written: the
                    database floor, the "× bare" column's unit
  bare + csv.writer those raw rows through a plain csv.writer into a file (no type checks,
                    no BOM, no guard, no totals, no hash; SQLite hands the time stamp over
                    as text, unparsed): the limit of a CSV export from this query
  dataset rows      Dataset.rows({}) consumed, nothing written: SQLAlchemy's row
                    processing (UTC time stamps) and the row function (quantity strings)
  CSV               service.stream(DATASETS["postings"], "csv", {}) written to a file: the
                    streamed download's bytes (ExportStream: typed cells, BOM, formula guard,
                    totals per account, SHA-256)
  JSONL             the same, "jsonl"
  XLSX              receipts.exports.write_export(postings.xlsx, data.columns, data.rows({}),
                    totals=data.totals), what the background job (run_export) writes before
                    zipping it with the manifest
  CSV, filtered     the CSV stream with area_code (Hà Nội: 2 of the 3 funds) and a date range
                    (recorded 1 April - 30 September 2025): filters must keep the rate

Targets (issue 7): CSV ≥ 150,000 rows/s, peak RSS ≤ 150 MB (each real-path step), XLSX in
≤ 90 s. With --profile STEP, that step runs once more under cProfile and the functions
taking the most time are printed.

Set-up: the migrated schema; through the service layer an admin, areas (Hà Nội, Phường Ba
Đình, TP Hồ Chí Minh, Phường Sài Gòn, codes as tests/conftest.py), campaign CT2025, three
funds (Hà Nội, Ba Đình, Hồ Chí Minh), five donors and two real contributions per fund (cash
and material, two materials); then n/2 contribution transactions = n postings bulk-inserted
(SQLite: executemany, foreign keys on; PostgreSQL: COPY with session_replication_role =
replica, the rows consistent by construction) exactly as record_contribution writes them:
the contribution with its receipt number (receipt counters carried on), the journal
transaction with its canonical public JSON and SHA-256 (leaf_body, salted donor
commitment and leaf salt when there is a donor; the builder is checked against the real
rows first), the two postings (fund:CODE +units, donations:CT2025 -units) and the fund's
holding. One in twelve is material (MAT-1 cement, MAT-2 steel), the rest cash; dates over
2025. Not written for the bulk rows: signed receipts and statement entries (no export of
postings reads them). Then ANALYZE (PostgreSQL: VACUUM ANALYZE).

Timings are wall clock: on a shared machine, --repeat 3 runs every step three times (in
rounds) and keeps the best; the load average before and after is printed with the table.

Usage: python bench/export_ledger.py [--postings 1000000] [--db sqlite|postgresql|both] [--repeat 3]
                                     [--profile csv]
PostgreSQL: LEDGER_BENCH_POSTGRES_URL (default ledger_bench_exports; recreated, its schema emptied).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.child import peak_rss_mb, profiled  # noqa: E402
from bench.summary import emit, figure  # noqa: E402

PG_URL = os.environ.get("LEDGER_BENCH_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/ledger_bench_exports")
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PUBLIC_URL = "https://chungtay.example.vn"
TARGET_CSV_ROWS_S = 150_000
TARGET_RSS_MB = 150
TARGET_XLSX_S = 90
BATCH = 25_000  # transactions per insert batch

AREAS = [("01", "Thành phố Hà Nội", "thành phố trung ương", None),
         ("00004", "Phường Ba Đình", "phường", "01"),
         ("79", "Thành phố Hồ Chí Minh", "thành phố trung ương", None),
         ("26734", "Phường Sài Gòn", "phường", "79")]
FUNDS = [("HNVNN", "Quỹ Vì người nghèo thành phố Hà Nội", "01"),
         ("BADINH", "Quỹ Vì người nghèo phường Ba Đình", "00004"),
         ("HCMVNN", "Quỹ Vì người nghèo Thành phố Hồ Chí Minh", "79")]
FUND_WEIGHTS = [5, 2, 3]
DONORS = [{"kind": "business", "name": "Công ty Cổ phần Sữa Việt Nam", "tax_code": "0300588569"},
          {"kind": "business", "name": "Ngân hàng TMCP Ngoại thương Việt Nam", "tax_code": "0100112437"},
          {"kind": "individual", "name": "Nguyễn Thị Ánh", "phone": "0912345678", "id_number": "001190012345"},
          {"kind": "individual", "name": "Trần Văn Hùng", "public_display": "anonymous"},
          {"kind": "union", "name": "Công đoàn phường Sài Gòn"}]
MATERIALS = [("Xi măng PCB40", "bao", 90_000), ("Thép phi 6", "kg", 17_500)]
CAMPAIGN = "CT2025"
YEAR_START = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
FILTERS = {"area_code": "01", "date_from": "2025-04-01", "date_to": "2025-09-30"}
STEPS = ("bare", "bare_csv", "rows", "csv", "jsonl", "xlsx", "csv_filtered")
LABELS = {"bare": "bare SQL", "bare_csv": "bare + csv.writer", "rows": "dataset rows", "csv": "CSV",
          "jsonl": "JSONL", "xlsx": "XLSX", "csv_filtered": "CSV, filtered"}
REAL_PATH = ("csv", "jsonl", "xlsx", "csv_filtered")


# --- set-up --------------------------------------------------------------------------------

def set_up(app) -> dict:
    """Areas, admin, campaign, funds, donors and two real contributions per fund."""
    import logging

    from flask_migrate import upgrade

    from ledger.areas.service import add_area
    from ledger.auth.service import create_user
    from ledger.campaigns.service import create_campaign
    from ledger.contributions.service import record_contribution
    from ledger.donors.service import create_donor, donor_identity
    from ledger.funds.service import create_fund

    logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade()
    for code, name, division_type, parent in AREAS:
        add_area(code, name, division_type, parent, legacy=False)
    admin = create_user("admin", "correct horse battery", "admin")
    campaign = create_campaign(admin, code=CAMPAIGN, name="Chung tay xóa nhà tạm, nhà dột nát", area_code="01",
                               starts_on=date(2025, 1, 1))
    funds = [create_fund(admin, code=code, name=name, area_code=area) for code, name, area in FUNDS]
    donors = [create_donor(admin, dict(d)) for d in DONORS]
    for i, fund in enumerate(funds):
        base = {"campaign_id": campaign.id, "fund_id": fund.id, "received_on": date(2025, 1, 2)}
        record_contribution(admin, {**base, "donor_id": donors[i].id, "kind": "cash", "method": "bank_transfer",
                                    "amount_vnd": 5_000_000, "bank_reference": f"FT2500000000{i}"})
        item, unit, price = MATERIALS[i % len(MATERIALS)]
        record_contribution(admin, {**base, "donor_id": donors[-1 - i].id, "kind": "material",
                                    "method": "in_kind", "item": item, "unit": unit, "quantity": 120_000,
                                    "unit_value_vnd": price})
    return {"user_id": admin.id, "campaign_id": campaign.id,
            "funds": [(f.id, f.code) for f in funds],
            "donors": [(d.id, d.display_name, d.kind, donor_identity(d)) for d in donors]}


def public_json_of(*, seq: int, recorded_at: datetime, fund_code: str, receipt: str, received_on: date,
                   method: str, donor: tuple | None, kind: str, commodity: str, units: int,
                   price: int | None, value: int, material: tuple | None, salt: str | None) -> str:
    """The public form record_contribution gives the journal transaction (see the check)."""
    from ledger.journal.quantities import format_units
    from ledger.journal.service import canonical_json, commitment, leaf_body

    if kind == "cash":
        resource_ = {"kind": "cash", "amount_vnd": str(units)}
    else:
        resource_ = {"kind": kind, "item": material[0], "unit": material[1],
                     "quantity": format_units(units, kind), "unit_value_vnd": str(price), "value_vnd": str(value)}
    subject = {"contribution": {
        "receipt": receipt, "campaign": CAMPAIGN, "fund": fund_code, "received_on": received_on.isoformat(),
        "method": method, "donor": donor[1] if donor else None, "donor_kind": donor[2] if donor else None,
        "earmark_area": None, "earmark_household": None, **resource_}}
    body = leaf_body(seq=seq, kind="contribution", recorded_at=recorded_at,
                     postings=[(f"fund:{fund_code}", commodity, units, receipt),
                               (f"donations:{CAMPAIGN}", commodity, -units, receipt)],
                     subject=subject,
                     commitments={"donor": commitment(salt, donor[3])} if donor else None)
    return canonical_json(body)


def check_builder(world: dict) -> None:
    """The bulk rows' public JSON is byte for byte what the service wrote for the real ones."""
    from ledger.contributions.models import Contribution
    from ledger.extensions import db
    from ledger.journal.models import JournalTransaction, LeafSalt, Material

    donors = {d[0]: d for d in world["donors"]}
    materials = {f"MAT-{m.id}": (m.item, m.unit) for m in db.session.scalars(sa.select(Material))}
    for c in db.session.scalars(sa.select(Contribution).order_by(Contribution.id)):
        txn = db.session.get(JournalTransaction, c.txn_id)
        salt = db.session.get(LeafSalt, txn.id)
        built = public_json_of(seq=txn.seq, recorded_at=txn.recorded_at, fund_code=c.fund.code,
                               receipt=c.receipt_number, received_on=c.received_on, method=c.method,
                               donor=donors.get(c.donor_id), kind=c.kind, commodity=c.commodity, units=c.units,
                               price=c.unit_price_vnd, value=c.value_vnd, material=materials.get(c.commodity),
                               salt=salt.salt if salt else None)
        if built != txn.public_json:
            raise AssertionError(f"bulk public JSON differs from the service's:\n{built}\n{txn.public_json}")
    world["materials"] = sorted(materials.items())
    db.session.rollback()


def amount(rng) -> int:
    r = rng.random()
    if r < 0.70:
        return rng.choice((50_000, 100_000, 200_000, 300_000, 500_000, 1_000_000))
    if r < 0.92:
        return rng.randrange(1, 500) * 10_000
    if r < 0.99:
        return rng.randrange(5, 100) * 1_000_000
    return rng.randrange(1, 1000) * 10_000_000


def generate(world: dict, start: dict, transactions: int, seed: int = 7):
    """Per contribution: (journal transaction, leaf salt or None, contribution, postings, holding)
    as dicts of Python values, ids and seqs following what the service wrote."""
    rng = random.Random(seed)
    funds, donors, materials = world["funds"], world["donors"], world["materials"]
    prices = {item: price for item, _unit, price in MATERIALS}
    numbers = dict(start["receipts"])  # fund id -> last receipt number of 2025
    step = timedelta(days=365) / transactions
    cid, tid, pid, seq = start["contribution_id"], start["txn_id"], start["posting_id"], start["seq"]
    user = world["user_id"]
    for i in range(transactions):
        cid, tid, seq = cid + 1, tid + 1, seq + 1
        fund_id, fund_code = rng.choices(funds, FUND_WEIGHTS)[0]
        recorded_at = (YEAR_START + step * i).replace(microsecond=rng.randrange(1_000_000))
        received_on = (recorded_at + timedelta(hours=7)).date() - timedelta(days=rng.choice((0, 0, 0, 1, 2)))
        received_on = max(received_on, date(2025, 1, 1))
        donor = rng.choice(donors) if rng.random() < 0.6 else None
        if i % 12 == 11:
            commodity, material = materials[(i // 12) % len(materials)]
            kind, method, price = "material", "in_kind", prices[material[0]]
            units = rng.randrange(1, 500) * 1000
            value = units * price // 1000
        else:
            commodity, kind, price, material = "VND", "cash", None, None
            method = "bank_transfer" if rng.random() < 0.6 else "cash"
            units = value = amount(rng)
        numbers[fund_id] += 1
        receipt = f"{fund_code}-2025-{numbers[fund_id]:06d}"
        salt = f"{rng.getrandbits(128):032x}" if donor else None
        public = public_json_of(seq=seq, recorded_at=recorded_at, fund_code=fund_code, receipt=receipt,
                                received_on=received_on, method=method, donor=donor, kind=kind,
                                commodity=commodity, units=units, price=price, value=value, material=material,
                                salt=salt)
        txn = {"id": tid, "seq": seq, "kind": "contribution", "recorded_at": recorded_at, "recorded_by_id": user,
               "reverses_id": None, "reason": None, "public_json": public,
               "sha256": hashlib.sha256(public.encode()).hexdigest()}
        contribution = {
            "id": cid, "campaign_id": world["campaign_id"], "fund_id": fund_id,
            "donor_id": donor[0] if donor else None, "pledge_id": None, "kind": kind, "method": method,
            "commodity": commodity, "units": units, "unit_price_vnd": price, "value_vnd": value,
            "received_on": received_on,
            "bank_reference": f"FT25{rng.randrange(10**12):012d}" if method == "bank_transfer" else None,
            "memo": None, "earmark_area_code": None, "earmark_household_id": None, "receipt_number": receipt,
            "txn_id": tid, "created_by_id": user, "created_at": recorded_at}
        postings = [{"id": pid + 1, "txn_id": tid, "account": f"fund:{fund_code}", "commodity": commodity,
                     "units": units, "contribution_id": cid},
                    {"id": pid + 2, "txn_id": tid, "account": f"donations:{CAMPAIGN}", "commodity": commodity,
                     "units": -units, "contribution_id": cid}]
        pid += 2
        holding = {"fund_id": fund_id, "contribution_id": cid, "commodity": commodity, "units": units,
                   "received_on": received_on}
        yield txn, ({"txn_id": tid, "salt": salt} if salt else None), contribution, postings, holding
    start.update(contribution_id=cid, txn_id=tid, posting_id=pid, seq=seq, receipts=numbers)


def starting_point(conn) -> dict:
    """The last ids, seq and receipt numbers the service left (the bulk rows follow on)."""
    one = lambda sql: conn.execute(sa.text(sql)).scalar() or 0  # noqa: E731
    return {"contribution_id": one("SELECT max(id) FROM contributions"),
            "txn_id": one("SELECT max(id) FROM journal_transactions"),
            "posting_id": one("SELECT max(id) FROM postings"),
            "seq": one("SELECT last_seq FROM ledger_sequence WHERE id = 1"),
            "receipts": dict(conn.execute(sa.text("SELECT fund_id, last_number FROM receipt_counters "
                                                  "WHERE year = 2025")).all())}


TABLES = ("journal_transactions", "leaf_salts", "contributions", "postings", "holdings")


def columns_of(engine) -> dict[str, list[str]]:
    inspector = sa.inspect(engine)
    return {t: [c["name"] for c in inspector.get_columns(t)] for t in TABLES}


def batches(world: dict, start: dict, transactions: int):
    """Lists of row dicts per table, BATCH transactions at a time."""
    out = {t: [] for t in TABLES}
    for txn, salt, contribution, postings, holding in generate(world, start, transactions):
        out["journal_transactions"].append(txn)
        if salt:
            out["leaf_salts"].append(salt)
        out["contributions"].append(contribution)
        out["postings"].extend(postings)
        out["holdings"].append(holding)
        if len(out["contributions"]) == BATCH:
            yield out
            out = {t: [] for t in TABLES}
    if out["contributions"]:
        yield out


def sqlite_value(v):
    if isinstance(v, datetime):  # as SQLAlchemy stores UTCDateTime on SQLite: naive UTC text
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    return v


def finish_counters(conn, start: dict) -> None:
    conn.execute(sa.text("UPDATE ledger_sequence SET last_seq = :s WHERE id = 1"), {"s": start["seq"]})
    for fund_id, number in start["receipts"].items():
        conn.execute(sa.text("UPDATE receipt_counters SET last_number = :n WHERE fund_id = :f AND year = 2025"),
                     {"n": number, "f": fund_id})


def load_sqlite(engine, world: dict, transactions: int) -> None:
    columns = columns_of(engine)
    with engine.connect() as c:
        start = starting_point(c)
    raw = engine.raw_connection()
    conn = raw.driver_connection  # foreign keys stay ON (set on connect)
    conn.execute("BEGIN")
    for batch in batches(world, start, transactions):
        for table in TABLES:
            names = columns[table]
            sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            conn.executemany(sql, [tuple(sqlite_value(row[n]) for n in names) for row in batch[table]])
    conn.execute("COMMIT")
    raw.close()
    with engine.begin() as c:
        finish_counters(c, start)
    with engine.connect() as c:
        c.exec_driver_sql("ANALYZE")
        problems = c.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise AssertionError(f"foreign key problems after the load: {problems[:5]}")


def load_postgres(engine, world: dict, transactions: int) -> None:
    columns = columns_of(engine)
    with engine.connect() as c:
        start = starting_point(c)
    raw = engine.raw_connection()
    conn = raw.driver_connection
    with conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers: consistent by construction
        for batch in batches(world, start, transactions):
            for table in TABLES:
                names = columns[table]
                with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in batch[table]:
                        copy.write_row([row[n] for n in names])
        cur.execute("SET session_replication_role = origin")
    conn.commit()
    raw.close()
    with engine.begin() as c:
        finish_counters(c, start)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE")


def check_load(engine, postings: int) -> dict:
    with engine.connect() as c:
        counts = {t: c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
        unbalanced = c.execute(sa.text("SELECT count(*) FROM (SELECT txn_id, commodity FROM postings "
                                       "GROUP BY txn_id, commodity HAVING sum(units) <> 0) x")).scalar()
        material = c.execute(sa.text("SELECT count(*) FROM postings WHERE commodity <> 'VND'")).scalar()
    if unbalanced:
        raise AssertionError(f"{unbalanced} unbalanced transactions")
    counts["material postings"] = material
    return counts


# --- the steps (each in a child process) ---------------------------------------------------

def postings_dataset():
    try:
        from ledger.exports.service import DATASETS
    except ImportError:  # DATASETS lives in registers.py, which names every export
        from ledger.exports.registers import DATASETS
    return DATASETS["postings"]


def capture_select(data, filters: dict) -> tuple[str, object]:
    """The statement (and parameters) Dataset.rows sends, from its first batch."""
    from ledger.extensions import db

    captured = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    rows = data.rows(filters)
    next(rows, None)
    rows.close()
    sa.event.remove(db.engine, "before_cursor_execute", listen)
    db.session.rollback()
    selects = [c for c in captured if c[0].lstrip().upper().startswith("SELECT")]
    return selects[-1]


def raw_batches(statement: str, parameters, size: int):
    from ledger.extensions import db

    raw = db.engine.raw_connection()
    try:
        if db.engine.dialect.name == "postgresql":
            cur = raw.driver_connection.cursor(name="bench_bare")  # server side, as yield_per
            cur.itersize = size
        else:
            cur = raw.cursor()
        cur.execute(statement, parameters)
        while rows := cur.fetchmany(size):
            yield rows
        cur.close()
    finally:
        raw.rollback()
        raw.close()


def run_step(step: str, directory: Path) -> dict:
    from ledger.exports import service
    from ledger.exports.datasets import BATCH as FETCH
    from receipts.exports import write_export

    data = postings_dataset()
    filters = service.filters_from_json(FILTERS) if step == "csv_filtered" else {}
    if step in ("bare", "bare_csv"):
        statement, parameters = capture_select(data, filters)
    rows, size = 0, None
    start = time.perf_counter()
    if step == "bare":
        for batch in raw_batches(statement, parameters, FETCH):
            rows += len(batch)
    elif step == "bare_csv":
        import csv

        path = directory / "bare.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            for batch in raw_batches(statement, parameters, FETCH):
                writer.writerows(batch)
                rows += len(batch)
        size = path.stat().st_size
    elif step == "rows":
        for _ in data.rows(filters):
            rows += 1
    elif step in ("csv", "jsonl", "csv_filtered"):
        fmt = "jsonl" if step == "jsonl" else "csv"
        path = directory / f"{step}.{fmt}"
        exported = service.stream(data, fmt, filters)
        with open(path, "wb") as f:
            for chunk in exported:
                f.write(chunk)
        rows, size = exported.written.rows, exported.written.bytes
    elif step == "xlsx":
        written = write_export(directory / "postings.xlsx", data.columns, data.rows(filters), totals=data.totals)
        rows, size = written.rows, written.bytes
    seconds = time.perf_counter() - start
    for leftover in directory.glob(f"{step}.*"):
        leftover.unlink()
    (directory / "bare.csv").unlink(missing_ok=True)
    (directory / "postings.xlsx").unlink(missing_ok=True)
    return {"step": step, "rows": rows, "seconds": seconds, "bytes": size, "peak_rss_mb": peak_rss_mb()}


def child_app(url: str, instance: str):
    from ledger import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "LEDGER_PUBLIC_URL": PUBLIC_URL})


def child_main(args) -> int:
    app = child_app(args.url, args.instance)
    with app.app_context():
        step = lambda: run_step(args.child, Path(args.dir))  # noqa: E731
        result = profiled(step, top=22, cumulative=30) if args.profile else step()
    print(json.dumps(result))
    return 0


def in_child(step: str, url: str, instance: str, directory: Path, profile: bool = False) -> dict:
    command = [sys.executable, __file__, "--child", step, "--url", url, "--instance", instance,
               "--dir", str(directory)] + (["--profile", step] if profile else [])
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"step {step} failed:\n{out.stderr[-4000:]}")
    if profile:
        print(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- one backend ---------------------------------------------------------------------------

def run(backend: str, postings: int, profile: str | None, repeat: int = 1) -> dict:
    from ledger import create_app
    from ledger.database import recreate_postgres_database
    from ledger.extensions import db

    tmp = tempfile.mkdtemp(prefix=f"ledger-bench-exports-{backend}-")
    os.environ["LEDGER_INSTANCE_PATH"] = tmp  # the secret key stays out of the repository
    if backend == "postgresql":
        recreate_postgres_database(PG_URL, PG_ADMIN_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp}/ledger.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": tmp, "LEDGER_PUBLIC_URL": PUBLIC_URL})
    transactions = postings // 2
    print(f"\n== {backend}: {sa.engine.make_url(url).render_as_string(hide_password=True)}, "
          f"{transactions * 2:,} bulk postings ==", flush=True)
    with app.app_context():
        world = set_up(app)
        check_builder(world)
        started = time.perf_counter()
        (load_sqlite if backend == "sqlite" else load_postgres)(db.engine, world, transactions)
        seconds = time.perf_counter() - started
        counts = check_load(db.engine, postings)
        print(f"loaded {transactions:,} contributions, {transactions * 2:,} postings in {seconds:.1f} s "
              f"({transactions * 2 / seconds:,.0f} postings/s, ANALYZE included); rows: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
        db.session.remove()
        db.engine.dispose()

    results = {}
    directory = Path(tmp) / "out"
    directory.mkdir()
    load_before = os.getloadavg()
    for _round in range(repeat):  # rounds, not a step repeated back to back: noise spreads evenly
        for step in STEPS:
            r = in_child(step, url, tmp, directory)
            print(f"  {LABELS[step]:<18} {r['rows']:>10,} rows {r['seconds']:8.2f} s {r['rows'] / r['seconds']:>10,.0f}"
                  f" rows/s  peak RSS {r['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
            best = results.get(step)
            if best is None or r["seconds"] < best["seconds"]:
                results[step] = {**r, "peak_rss_mb": max(r["peak_rss_mb"], best["peak_rss_mb"] if best else 0)}
            else:
                best["peak_rss_mb"] = max(best["peak_rss_mb"], r["peak_rss_mb"])
    load_after = os.getloadavg()
    report(backend, results)
    print(f"best of {repeat} per step (peak RSS: the highest); load average before "
          f"{load_before[0]:.1f}, after {load_after[0]:.1f} on {os.cpu_count()} CPUs")
    if profile:
        print(f"\n-- cProfile of {LABELS[profile]} on {backend} --")
        in_child(profile, url, tmp, directory, profile=True)
    if backend == "sqlite":
        shutil.rmtree(tmp, ignore_errors=True)
    summarise(backend, results)
    return results


def summarise(backend: str, results: dict) -> None:
    """The headline figures for bench/run.py, once per backend (run() runs only in the parent)."""
    csv_, bare, xlsx = results["csv"], results["bare"], results["xlsx"]
    emit(f"postings export from the database ({backend})", [
        figure("CSV", csv_["rows"] / csv_["seconds"], "rows/s", limit=bare["rows"] / bare["seconds"],
               limit_name="bare SQL (the dataset's SELECT fetched on the DB-API connection)",
               target=TARGET_CSV_ROWS_S, n=csv_["rows"]),
        figure("XLSX", xlsx["rows"] / xlsx["seconds"], "rows/s", n=xlsx["rows"]),
        figure("CSV peak RSS", csv_["peak_rss_mb"], "MB", target=TARGET_RSS_MB, higher_is_better=False,
               n=csv_["rows"]),
    ])


def report(backend: str, results: dict) -> None:
    bare = results["bare"]["seconds"] / results["bare"]["rows"]
    print(f"\n{backend}: postings export, {results['bare']['rows']:,} rows\n")
    print("| step | rows | s | rows/s | peak RSS MB | × bare (s/row) |")
    print("|---|---:|---:|---:|---:|---:|")
    for step, r in results.items():
        print(f"| {LABELS[step]} | {r['rows']:,} | {r['seconds']:.2f} | {r['rows'] / r['seconds']:,.0f} | "
              f"{r['peak_rss_mb']:.0f} | {r['seconds'] / r['rows'] / bare:.2f} |")
    csv_, bare_csv = results["csv"], results["bare_csv"]
    print(f"\nCSV ÷ bare + csv.writer: {csv_['seconds'] / csv_['rows'] / (bare_csv['seconds'] / bare_csv['rows']):.2f}"
          f" × the time per row")
    rate = csv_["rows"] / csv_["seconds"]
    worst = max((results[s] for s in REAL_PATH), key=lambda r: r["peak_rss_mb"])
    xlsx = results["xlsx"]["seconds"]
    for what, ok, shown in (
            (f"CSV ≥ {TARGET_CSV_ROWS_S:,} rows/s", rate >= TARGET_CSV_ROWS_S, f"{rate:,.0f}"),
            (f"peak RSS ≤ {TARGET_RSS_MB} MB", worst["peak_rss_mb"] <= TARGET_RSS_MB,
             f"{worst['peak_rss_mb']:.0f} MB, {LABELS[worst['step']]}"),
            (f"XLSX ≤ {TARGET_XLSX_S} s", xlsx <= TARGET_XLSX_S, f"{xlsx:.1f} s")):
        print(f"target {what}: {'met' if ok else 'NOT MET'} ({shown})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of all steps; the best time of each is kept")
    parser.add_argument("--profile", choices=STEPS, help="run this step once more under cProfile")
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args)
    for backend in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        run(backend, args.postings, args.profile, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
