"""The benchmark suite (issue 9): every hot path beside the bare operation it cannot beat, in one run.

`make bench` (SCALE=small: a few minutes), `SCALE=medium make bench`, `SCALE=full make bench`
(the sizes of the issues' targets: hours). Each scenario is one of the scripts beside this
one, run --repeat times as a separate process; each run prints its headline figures on a
"SUMMARY" line (bench/summary.py), every figure beside its limit measured in the same run
(so a shared, noisy machine moves both). This collects them, takes the median and the
spread (half the range) over the runs, and writes bench/results-<scale>.json and
bench/RESULTS.md: the machine, then one row per figure with its limit, how many times the
limit it costs, the issue's target and whether it is met.

With --growth, the scenarios whose cost depends on a size (statement lines, postings,
log leaves, statement rows, receipts) run again at a tenth of it, and each figure's growth
is stated: the cost per item (or the latency) at the larger size over the smaller, as a
power of the size ratio (k ≈ 0: constant per item, so linear in total; small k:
logarithmic; k ≈ 1: per-item cost grows with the size, quadratic in total).

With --update (and --only), the scenarios named run again and replace their own figures,
growth and failures in the results already in --out, which keep the rest; the header says
which scenarios were run again, and when. --from DIR takes those runs from DIR's
results-<scale>.json (a run made with --out DIR) instead of running them here.

Usage: python bench/run.py [--scale small|medium|full] [--repeat N] [--only NAME,...] [--growth]
                           [--update [--from DIR]]
PostgreSQL: LEDGER_BENCH_POSTGRES_URL (each script empties its own database first).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import PG_URL as GENERATED_PG_URL  # noqa: E402
from bench.summary import target_met, times_the_limit  # noqa: E402

# Per scale: (name, script, its arguments, the argument giving its size or None).
SIZES = {
    "small": {"core": 300, "http": ("small", 3), "import": 10_000, "receipts": 200, "exports": 100_000,
              "export_ledger": 50_000, "log": 100_000, "log_db": 100_000, "search": (100_000, 3), "generate": "small"},
    "medium": {"core": 2_000, "http": ("small", 10), "import": 50_000, "receipts": 500, "exports": 1_000_000,
               "export_ledger": 300_000, "log": 1_000_000, "log_db": 300_000, "search": (500_000, 10),
               "generate": "medium"},
    "full": {"core": 10_000, "http": ("medium", 20), "import": 200_364, "receipts": 1_000, "exports": 1_000_000,
             "export_ledger": 1_000_000, "log": 1_000_000, "log_db": 1_000_000, "search": (2_000_000, 30),
             "generate": "full"},
}


def scenarios(scale: str, fraction: float = 1.0) -> dict[str, tuple[list[str], int | None]]:
    """{name: (command, size)}; a fraction < 1 shrinks every size that has one."""
    z = SIZES[scale]

    def n(value: int) -> int:
        return max(1, int(value * fraction))

    http_scale, seconds = z["http"]
    rows, repeat = z["search"]
    return {
        "core": (["bench/core.py", "--db", "both", "-n", str(n(z["core"]))], None),
        "http": (["bench/http_load.py", "--db", "postgresql", "--scale", http_scale, "--seconds", str(seconds),
                  "--repeat", "1"], None),
        "http-sqlite": (["bench/http_load.py", "--db", "sqlite", "--scale", http_scale, "--seconds", str(seconds),
                         "--repeat", "1"], None),
        "import": (["bench/import.py", "--db", "both", "--lines", str(n(z["import"]))], n(z["import"])),
        "receipts": (["bench/receipts.py", "-n", str(n(z["receipts"]))], n(z["receipts"])),
        "exports": (["bench/exports.py", "-n", str(n(z["exports"]))], n(z["exports"])),
        "export_ledger": (["bench/export_ledger.py", "--db", "both", "--postings", str(n(z["export_ledger"]))],
                          n(z["export_ledger"])),
        "log": (["bench/log.py", "-n", str(n(z["log"])), "--proofs", "2000"], n(z["log"])),
        "log_db": (["bench/log_db.py", "--db", "postgresql", "-n", str(n(z["log_db"])), "--proofs", "500"],
                   n(z["log_db"])),
        "search": (["bench/search.py", "--db", "both", "--rows", str(n(rows)), "--repeat", str(repeat)], n(rows)),
        "generate": (["bench/generate.py", "--scale", z["generate"], "--db", "postgresql"], None),
        # At full size, the campaign the generate scenario left (run it first, or before).
        "overview": ((["bench/overview.py", "--url", GENERATED_PG_URL] if z["generate"] == "full" else
                      ["bench/overview.py", "--scale", z["generate"], "--db", "postgresql"]), None),
    }


def run_once(command: list[str], log) -> tuple[list[dict], float, int]:
    """(the SUMMARY lines' scenarios, seconds, exit code); the output goes to the log file."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    found = []
    for line in process.stdout:
        log.write(line)
        if line.startswith("SUMMARY "):
            found.append(json.loads(line[len("SUMMARY "):]))
    process.wait()
    log.flush()
    return found, time.perf_counter() - started, process.returncode


def combine(runs: list[list[dict]]) -> list[dict]:
    """Each figure's median and spread over the runs (matched by scenario and name)."""
    values: dict[tuple[str, str], list[dict]] = {}
    order: list[tuple[str, str]] = []
    for found in runs:
        for scenario in found:
            for f in scenario["figures"]:
                key = (scenario["scenario"], f["name"])
                if key not in values:
                    order.append(key)
                values.setdefault(key, []).append(f)
    rows = []
    for key in order:
        seen = values[key]
        numbers = [f["value"] for f in seen]
        limits = [f["limit"] for f in seen if f.get("limit")]
        row = {**seen[-1], "scenario": key[0], "value": statistics.median(numbers),
               "spread": (max(numbers) - min(numbers)) / 2, "runs": len(numbers),
               "limit": statistics.median(limits) if limits else None}
        row["times_limit"] = times_the_limit(row)
        row["met"] = target_met(row)
        rows.append(row)
    return rows


def growth(big: list[dict], small: list[dict]) -> list[dict]:
    """Each figure's growth between the two sizes: the cost per item (rates) or the value
    (latencies, seconds), as a power of the size ratio."""
    smaller = {(r["scenario"], r["name"]): r for r in small}
    out = []
    for r in big:
        s = smaller.get((r["scenario"], r["name"]))
        if not s or not r.get("n") or not s.get("n") or r["n"] == s["n"] or not r["value"] or not s["value"]:
            continue
        if r["unit"].endswith("/s"):  # a rate: the cost per item is its inverse
            ratio = s["value"] / r["value"]
        elif r["unit"] == "s":  # a total time: per item
            ratio = (r["value"] / r["n"]) / (s["value"] / s["n"])
        else:  # a latency or memory: as it is
            ratio = r["value"] / s["value"]
        k = math.log(ratio) / math.log(r["n"] / s["n"])
        out.append({"scenario": r["scenario"], "name": r["name"], "n_small": s["n"], "n_big": r["n"], "k": k,
                    "growth": describe_growth(k, r["unit"])})
    return out


def describe_growth(k: float, unit: str) -> str:
    per = "per item" if unit.endswith("/s") or unit == "s" else "as measured"
    if k < 0.1:
        return f"constant {per}" + (" (linear in total)" if per == "per item" else "")
    if k < 0.35:
        return f"slowly growing {per} (logarithmic-like, n^{k:.2f})"
    return f"growing {per} as n^{k:.2f}" + (" (worse than linear in total)" if per == "per item" else "")


def machine() -> dict:
    info = {"date": datetime.now().strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(),
            "platform": platform.platform(), "cores": os.cpu_count(), "sqlite": sqlite3.sqlite_version}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                           if line.startswith("model name"))
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gb"] = round(int(mem) / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    try:
        import sqlalchemy as sa

        from bench.generate import PG_ADMIN_URL

        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            info["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 (the description says why it is missing)
        info["postgresql"] = f"unreachable ({exc.__class__.__name__})"
    info["load_before"] = os.getloadavg()[0]
    return info


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def markdown(scale: str, info: dict, rows: list[dict], grown: list[dict], failures: list[str]) -> str:
    lines = [f"# Benchmark results: scale {scale}", "",
             f"Measured {info['date']} by `python bench/run.py --scale {scale}` on {info.get('cpu', '?')}, "
             f"{info['cores']} cores, {info.get('memory_gb', '?')} GB; Python {info['python']}, SQLite "
             f"{info['sqlite']}, PostgreSQL {info['postgresql']}; {info['platform']}. Load average "
             f"{info['load_before']:.1f} before, {info['load_after']:.1f} after (a shared machine: the limit beside "
             "each figure was measured in the same run, so compare the ratios).", "",
             "Each value is the median of the runs, ± half their range. \"× limit\" is how many times the bare "
             "operation's cost the figure is (1.0 would be as fast as the limit).", "",
             "| scenario | figure | value | runs | limit (bare) | × limit | target | met |",
             "|---|---|---:|---:|---:|---:|---:|:---:|"]
    for r in rows:
        value = fmt(r["value"], r["unit"]) + (f" ± {fmt(r['spread'])}" if r["runs"] > 1 else "")
        limit = f"{fmt(r['limit'], r['unit'])} ({r['limit_name']})" if r.get("limit") else ""
        target = ("≥ " if r["higher_is_better"] else "≤ ") + fmt(r["target"], r["unit"]) if r.get("target") else ""
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        name = r["name"] + (f" ({r['note']})" if r.get("note") else "")
        lines.append(f"| {r['scenario']} | {name} | {value} | {r['runs']} | {limit} | "
                     f"{fmt(r['times_limit'])} | {target} | {met} |")
    if grown:
        lines += ["", "## How cost grows", "", "| scenario | figure | sizes | k | growth |", "|---|---|---|---:|---|"]
        for g in grown:
            lines.append(f"| {g['scenario']} | {g['name']} | {g['n_small']:,} → {g['n_big']:,} | {g['k']:.2f} | "
                         f"{g['growth']} |")
    for rerun in info.get("reruns", []):
        lines[2:2] = [f"Run again {rerun['date']} after the run above: {', '.join(rerun['scenarios'])} "
                      f"(`--only {','.join(rerun['scenarios'])} --update`; load average {rerun['load_before']:.1f} "
                      f"before, {rerun['load_after']:.1f} after). Their rows below are from that run.", ""]
    if failures:
        lines += ["", "## Runs that failed", ""] + [f"- {f}" for f in failures]
    return "\n".join(lines) + "\n"


def update(earlier: dict, later: dict, names: list[str]) -> dict:
    """The earlier results with the later run's scenarios in place of their own: rows and
    growth matched by the scenario's title (in the earlier order; new ones at the end),
    failures by the run.py name they start with."""
    titles = {r["scenario"] for r in later["figures"]}

    def merged(old: list[dict], new: list[dict]) -> list[dict]:
        out, placed = [], False
        for row in old:
            if row["scenario"] in titles:
                if not placed:
                    out += new
                    placed = True
                continue
            out.append(row)
        return out if placed else out + new

    machine_info = dict(earlier["machine"])
    machine_info["reruns"] = [*machine_info.get("reruns", []),
                              {"scenarios": names, "date": later["machine"]["date"],
                               "load_before": later["machine"]["load_before"],
                               "load_after": later["machine"]["load_after"], "seconds": later["machine"]["seconds"]}]
    kept = [f for f in earlier["failures"] if not any(f.startswith(f"{name} ") for name in names)]
    return {**earlier, "machine": machine_info, "figures": merged(earlier["figures"], later["figures"]),
            "growth": merged(earlier["growth"], later["growth"]), "failures": kept + later["failures"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SIZES, default=os.environ.get("SCALE", "small"))
    parser.add_argument("--repeat", type=int, default=None, help="runs of each scenario (default 3; full: 1)")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--growth", action="store_true", help="also at a tenth of each size, to state the growth")
    parser.add_argument("--out", default=str(ROOT / "bench"), help="where RESULTS.md and results-<scale>.json go")
    parser.add_argument("--update", action="store_true",
                        help="replace only the --only scenarios' figures in the results already in --out")
    parser.add_argument("--from", dest="source", metavar="DIR",
                        help="with --update: take those runs from DIR/results-<scale>.json instead of running them")
    args = parser.parse_args()
    if (args.update or args.source) and not args.only:
        parser.error("--update replaces the scenarios named by --only")
    if args.source and not args.update:
        parser.error("--from goes with --update")
    if args.update:
        return run_update(args)
    repeat = args.repeat or (1 if args.scale == "full" else 3)
    chosen = scenarios(args.scale)
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    info = machine()
    out = Path(args.out)
    log_path = out / f"run-{args.scale}.log"
    failures: list[str] = []
    started = time.perf_counter()
    with log_path.open("w") as log:
        runs: list[list[dict]] = []
        for name, (command, _size) in chosen.items():
            for i in range(repeat):
                print(f"{name} ({i + 1}/{repeat}): {' '.join(command)}", flush=True)
                found, seconds, code = run_once(command, log)
                print(f"  {seconds:.0f} s, {sum(len(s['figures']) for s in found)} figures"
                      + (f", EXIT {code}" if code else ""), flush=True)
                if code:
                    failures.append(f"{name} run {i + 1}: exit {code} (see {log_path.name})")
                runs.append(found)
        rows = combine(runs)
        grown = []
        if args.growth:
            smaller_runs = []
            for name, (command, size) in scenarios(args.scale, 0.1).items():
                if size is None or name not in chosen:
                    continue
                print(f"{name} at a tenth: {' '.join(command)}", flush=True)
                found, _seconds, code = run_once(command, log)
                if code:
                    failures.append(f"{name} at a tenth: exit {code}")
                smaller_runs.append(found)
            grown = growth(rows, combine(smaller_runs))
    info["load_after"] = os.getloadavg()[0]
    info["seconds"] = time.perf_counter() - started
    results = {"scale": args.scale, "machine": info, "ran": list(chosen), "figures": rows, "growth": grown,
               "failures": failures}
    write(out, results)
    print(f"suite: {info['seconds'] / 60:.1f} min; the scripts' own output is in {log_path}")
    return 1 if failures else 0


def write(out: Path, results: dict) -> None:
    (out / f"results-{results['scale']}.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    report = markdown(results["scale"], results["machine"], results["figures"], results["growth"],
                      results["failures"])
    (out / "RESULTS.md").write_text(report)
    print("\n" + report)


def run_update(args) -> int:
    out = Path(args.out)
    names = args.only.split(",")
    unknown = [n for n in names if n not in scenarios(args.scale)]
    if unknown:
        raise SystemExit(f"no such scenario: {', '.join(unknown)}")
    earlier_path = out / f"results-{args.scale}.json"
    if not earlier_path.exists():
        raise SystemExit(f"--update: {earlier_path} holds no earlier run to update")
    earlier = json.loads(earlier_path.read_text())
    if args.source:
        later = json.loads((Path(args.source) / f"results-{args.scale}.json").read_text())
        missing = [n for n in names if n not in later.get("ran", names)]
        if missing:
            raise SystemExit(f"{args.source} holds no run of {', '.join(missing)}")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            command = [sys.executable, str(Path(__file__).resolve()), "--scale", args.scale, "--only", args.only,
                       "--out", tmp] + (["--repeat", str(args.repeat)] if args.repeat else []) \
                + (["--growth"] if args.growth else [])
            subprocess.run(command, check=False)
            later = json.loads((Path(tmp) / f"results-{args.scale}.json").read_text())
            (out / f"run-{args.scale}-update.log").write_text((Path(tmp) / f"run-{args.scale}.log").read_text())
    write(out, update(earlier, later, names))
    return 1 if later["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
