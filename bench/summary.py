"""The headline figures a benchmark prints for bench/run.py, each beside the limit it is
measured against: one line "SUMMARY {json}" at the end of the run, which run.py collects
over the repetitions (median and spread) into bench/RESULTS.md and bench/results.json."""
from __future__ import annotations

import json


def figure(name: str, value: float, unit: str, *, limit: float | None = None, limit_name: str | None = None,
           target: float | None = None, higher_is_better: bool = True, n: int | None = None,
           note: str | None = None) -> dict:
    """One figure. `limit`: the bare operation's figure in the same unit, measured in the
    same run; `target`: the issue's, met when the value is at or past it. `n`: the size the
    figure was measured at (rows, leaves, lines), for how cost grows with it."""
    return {"name": name, "value": value, "unit": unit, "limit": limit, "limit_name": limit_name,
            "target": target, "higher_is_better": higher_is_better, "n": n, "note": note}


def emit(scenario: str, figures: list[dict]) -> None:
    print("SUMMARY " + json.dumps({"scenario": scenario, "figures": figures}, ensure_ascii=False), flush=True)


def times_the_limit(f: dict) -> float | None:
    """How many times the bare operation's cost the figure is (1.0: as fast as the limit)."""
    if not f.get("limit") or not f.get("value"):
        return None
    return f["limit"] / f["value"] if f["higher_is_better"] else f["value"] / f["limit"]


def target_met(f: dict) -> bool | None:
    if f.get("target") is None:
        return None
    return f["value"] >= f["target"] if f["higher_is_better"] else f["value"] <= f["target"]
