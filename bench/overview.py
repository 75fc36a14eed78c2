"""The public overview pages at a campaign's size: computed on every visit beside kept
(ledger.public.summaries), beside the bare endpoint (GET /api/v1/ping), all through the
same Flask test client in one run.

Pages: the whole country (`/`), the province and the commune whose funds received most
(`/?area=...`). "computed" sets LEDGER_PUBLIC_SUMMARY_SECONDS=0 (the sums on every visit,
as before the summaries were kept); "kept" is a visit once the summary is kept (one row
read; the refresh runs in the background and is not timed); "refresh" is what computing
one summary again costs, the work a background refresh does once a minute at most.

Usage: python bench/overview.py [--url SQLALCHEMY_URL | --scale tiny|small|medium [--db sqlite|postgresql]]
                                [--runs N] [--computed-runs N]
--url: a campaign generated before (bench/generate.py; `bench/run.py --scale full` takes
the full one its generate scenario leaves on PostgreSQL); it is migrated to the current
schema first and gains kept summaries, nothing else. Without --url a campaign is
generated at --scale into a temporary SQLite file, or PostgreSQL's ledger_bench_overview.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent


def timed(client, url: str, runs: int) -> list[float]:
    """Milliseconds per GET of `url`, each answer checked."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        resp = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    return times


def busiest_areas(app) -> tuple[str, str]:
    """The province and the commune whose funds received most (the heaviest pages)."""
    from sqlalchemy import func, select

    from ledger.areas.models import Area
    from ledger.contributions.models import Contribution
    from ledger.extensions import db
    from ledger.funds.models import Fund

    with app.app_context():
        rows = db.session.execute(
            select(Fund.area_code, func.count()).join(Contribution, Contribution.fund_id == Fund.id)
            .group_by(Fund.area_code)).all()
        parents = dict(db.session.execute(select(Area.code, Area.parent_code)).all())
    per_province: dict[str, int] = {}
    per_commune: dict[str, int] = {}
    for code, count in rows:
        if parents.get(code) is None:
            per_province[code] = per_province.get(code, 0) + count
        else:
            per_commune[code] = count
            per_province[parents[code]] = per_province.get(parents[code], 0) + count
    return max(per_province, key=per_province.get), max(per_commune, key=per_commune.get)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--scale", choices=("tiny", "small", "medium"), default="small")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=50, help="visits of each kept page")
    parser.add_argument("--computed-runs", type=int, default=3, help="visits of each page computed per visit")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="ledger-overview-")
    url = args.url
    if url is None:
        url = (f"sqlite:///{Path(instance) / 'ledger.sqlite3'}" if args.db == "sqlite"
               else "postgresql+psycopg://postgres@127.0.0.1:5432/ledger_bench_overview")
        subprocess.run([sys.executable, "bench/generate.py", "--scale", args.scale, "--url", url, "--no-verify"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    from flask_migrate import upgrade
    from sqlalchemy import delete

    from bench.summary import emit, figure
    from ledger import create_app
    from ledger.extensions import db
    from ledger.public.models import PublicSummary

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
                      "LEDGER_PUBLIC_SUMMARY_SECONDS": 0})
    with app.app_context():
        upgrade()
        db.session.execute(delete(PublicSummary))  # the first kept visit below computes them
        db.session.commit()
    province, commune = busiest_areas(app)
    pages = [("country", "/"), ("province", f"/?area={province}"), ("commune", f"/?area={commune}")]
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"{backend}: {url}; province {province}, commune {commune}", flush=True)

    client = app.test_client()
    timed(client, "/api/v1/ping", 20)  # warm
    ping = statistics.median(timed(client, "/api/v1/ping", 200))
    figures = []
    for name, page in pages:
        app.config["LEDGER_PUBLIC_SUMMARY_SECONDS"] = 0
        computed = statistics.median(timed(client, page, args.computed_runs))
        app.config["LEDGER_PUBLIC_SUMMARY_SECONDS"] = 3600  # no background refresh while timed
        first = timed(client, page, 1)[0]  # nothing kept yet: computed, then kept
        kept = statistics.median(timed(client, page, args.runs))
        print(f"{name:9} computed per visit {computed:9.1f} ms · first visit (computes, keeps) {first:9.1f} ms "
              f"· kept {kept:7.2f} ms · ping {ping:.2f} ms", flush=True)
        figures += [figure(f"{name} page, computed per visit", computed, "ms", limit=ping,
                           limit_name="GET /api/v1/ping through the same client", higher_is_better=False),
                    figure(f"{name} page, kept", kept, "ms", limit=ping,
                           limit_name="GET /api/v1/ping through the same client", higher_is_better=False)]
    emit(f"public overview ({backend})", figures)


if __name__ == "__main__":
    main()
