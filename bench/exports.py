"""Benchmark of the export writers (receipts.exports) on n posting-like rows.

The rows are generated lazily, never held in a list: (txn seq, date, account with
Vietnamese text, commodity, units as an integer, contribution number or None), about one
in twelve in a material commodity. Each writer runs in its own child process (a fresh
interpreter), so the peak RSS reported (getrusage ru_maxrss) is that writer's, interpreter
included; "generate only" is the child that makes the rows and writes nothing, the floor
under every other figure.

  bare csv.writer   the limit for CSV: the same tuples straight into csv.writer (UTF-8),
                    no BOM, no type checks, no formula guard, no totals
  CSV               receipts.exports.write_csv: typed columns, BOM, guard, totals per
                    commodity, SHA-256 of the file
  JSONL             receipts.exports.write_jsonl, the same
  XLSX              receipts.exports.write_xlsx (XlsxWriter, constant_memory), the same

Rates are wall-clock rows per second (the file is written to a temporary directory and
hashed). With --verify, the three files are signed with a fresh key and
`verify-export` (re-hash, re-count, re-sum every file; XLSX through openpyxl) is timed.

Targets (issue 7): CSV >= 150,000 rows/s, peak RSS <= 150 MB, XLSX in <= 90 s.

Usage: python bench/exports.py [-n 1000000] [--only csv,jsonl,...] [--verify]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.summary import emit, figure  # noqa: E402
from receipts.exports import DATE, INTEGER, VND, Column, TotalsBy, write_export  # noqa: E402

COLUMNS = [
    Column("seq", "Số giao dịch", INTEGER),
    Column("date", "Ngày", DATE),
    Column("account", "Tài khoản"),
    Column("commodity", "Loại"),
    Column("units", "Số lượng", VND),
    Column("contribution", "Biên nhận"),
]
TOTALS = TotalsBy("commodity", "units")
ACCOUNTS = ["quỹ:HNVNN Quỹ Vì người nghèo thành phố Hà Nội", "quyên góp:CT2025 Chung tay xóa nhà tạm",
            "hộ:Hộ ông Lò Văn Ửng, xã Mường Lát", "quỹ:TQ-HG Quỹ Vì người nghèo tỉnh Hà Giang",
            "hộ:Hộ bà Nguyễn Thị Ánh, phường Hoàn Kiếm", "chuyển:Mặt trận Tổ quốc Việt Nam huyện Đồng Văn"]
COMMODITIES = ["VND"] * 11 + ["XM-PCB40"]
DATES = [date(2025, 1, 1) + timedelta(days=d) for d in range(365)]
STEPS = ("generate", "bare", "csv", "jsonl", "xlsx")
LABELS = {"generate": "generate only", "bare": "bare csv.writer", "csv": "CSV", "jsonl": "JSONL", "xlsx": "XLSX"}


def postings(n: int):
    """n posting-like tuples, lazily: two postings per transaction, balancing."""
    accounts, commodities = len(ACCOUNTS), len(COMMODITIES)
    for i in range(n):
        seq = i >> 1
        units = 50_000 * (1 + (seq * 7919) % 2000)
        yield (seq, DATES[seq % 365], ACCOUNTS[i % accounts], COMMODITIES[seq % commodities],
               -units if i & 1 else units, f"HNVNN-2025-{seq:06d}" if seq % 3 else None)


def run_child(step: str, n: int, directory: Path) -> dict:
    start = time.perf_counter()
    written = None
    if step == "generate":
        for _ in postings(n):
            pass
    elif step == "bare":
        import csv

        with open(directory / "bare.csv", "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(postings(n))
    else:
        written = write_export(directory / f"postings.{step}", COLUMNS, postings(n), totals=TOTALS)
    seconds = time.perf_counter() - start
    return {"step": step, "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "written": None if written is None else {
                "name": written.name, "rows": written.rows, "bytes": written.bytes, "sha256": written.sha256,
                "totals": written.totals, "sheets": written.sheets, "format": written.format}}


def in_child(step: str, n: int, directory: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", step, "-n", str(n), "--dir", str(directory)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def verify(directory: Path, results: dict, n: int) -> tuple[float, int]:
    from receipts.export_manifest import build_manifest, verify_export, write_manifest
    from receipts.exports import WrittenFile
    from receipts.signing import SigningKey

    (directory / "bare.csv").unlink(missing_ok=True)
    key = SigningKey.generate()
    files = [WrittenFile(**results[s]["written"]) for s in ("csv", "jsonl", "xlsx") if s in results]
    manifest = build_manifest(export="postings", filters={"bench": str(n)}, created_at="2026-11-22T00:00:00Z",
                              columns=COLUMNS, files=files, checkpoint=None, key_id=key.key_id, totals_by=TOTALS)
    write_manifest(directory, manifest, key)
    start = time.perf_counter()
    check = verify_export(directory, {key.key_id: key.public_key})
    return time.perf_counter() - start, check.exit_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--only", default=",".join(STEPS))
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.n, args.dir)))
        return 0

    steps = [s for s in STEPS if s in args.only.split(",")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        directory = Path(tmp)
        for step in steps:
            results[step] = in_child(step, args.n, directory)
            r = results[step]
            print(f"  {LABELS[step]:<16} {r['seconds']:7.2f} s  {args.n / r['seconds']:>10,.0f} rows/s  "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB", file=sys.stderr)
        verified = verify(directory, results, args.n) if args.verify else None

    print(f"\n{args.n:,} postings, {len(COLUMNS)} columns\n")
    print("| writer | time | rows/s | × bare csv.writer | file | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|")
    bare = results.get("bare")
    for step in steps:
        r = results[step]
        rate = args.n / r["seconds"]
        ratio = f"{r['seconds'] / bare['seconds']:.2f}" if bare and step not in ("generate",) else ""
        size = f"{r['written']['bytes'] / 1e6:.0f} MB" if r["written"] else ""
        print(f"| {LABELS[step]} | {r['seconds']:.1f} s | {rate:,.0f} | {ratio} | {size} | {r['peak_rss_mb']:.0f} MB |")
    if verified:
        print(f"\nverify-export of the signed directory (CSV + JSONL + XLSX): {verified[0]:.1f} s, exit {verified[1]}")

    checks = []
    if "csv" in results:
        rate = args.n / results["csv"]["seconds"]
        checks.append(("CSV >= 150,000 rows/s", rate >= 150_000, f"{rate:,.0f}"))
    if "xlsx" in results:
        checks.append(("XLSX <= 90 s", results["xlsx"]["seconds"] <= 90, f"{results['xlsx']['seconds']:.1f} s"))
    worst = max(results.values(), key=lambda r: r["peak_rss_mb"])
    checks.append(("peak RSS <= 150 MB", worst["peak_rss_mb"] <= 150,
                   f"{worst['peak_rss_mb']:.0f} MB ({LABELS[worst['step']]})"))
    print()
    for what, ok, shown in checks:
        print(f"target {what}: {'met' if ok else 'NOT MET'} ({shown})")

    # For bench/run.py: only the steps that ran (--only may skip any); no bare XlsxWriter step
    # is measured, so XLSX has no limit.
    figures = []
    if "csv" in results:
        figures.append(figure("CSV writer", args.n / results["csv"]["seconds"], "rows/s",
                              limit=args.n / bare["seconds"] if bare else None,
                              limit_name="bare csv.writer" if bare else None, target=150_000, n=args.n))
        figures.append(figure("CSV writer peak RSS", results["csv"]["peak_rss_mb"], "MB", target=150,
                              higher_is_better=False, n=args.n))
    if "xlsx" in results:
        figures.append(figure("XLSX writer", args.n / results["xlsx"]["seconds"], "rows/s", n=args.n))
    if figures:
        emit("export writers", figures)
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
