"""bench/run.py --update: a scenario run again replaces its own figures, growth and failures
in the results, and nothing else (the full suite takes hours; one scenario can be rerun)."""
from bench.run import markdown, update


def _row(scenario, name, value):
    return {"scenario": scenario, "name": name, "value": value, "unit": "rows/s", "runs": 1, "spread": 0,
            "higher_is_better": True, "met": None, "times_limit": None}


def _results(date, figures, growth=(), failures=()):
    return {"scale": "full", "ran": ["core", "generate"],
            "machine": {"date": date, "cpu": "x", "cores": 2, "memory_gb": 1, "python": "3.11", "sqlite": "3",
                        "postgresql": "15", "platform": "linux", "load_before": 1.0, "load_after": 2.0,
                        "seconds": 60},
            "figures": list(figures), "growth": list(growth), "failures": list(failures)}


def test_a_rerun_replaces_its_scenario_and_keeps_the_rest():
    earlier = _results("2026-11-22 18:54", [
        _row("core writes (sqlite)", "contribution", 234),
        _row("generator (full, postgresql)", "contributions", 1308),
        _row("generator (full, postgresql)", "transfers", 10.4),
        _row("public search (sqlite)", "overall p95", 47)],
        growth=[{"scenario": "public search (sqlite)", "name": "overall p95", "n_small": 200_000, "n_big": 2_000_000,
                 "k": 0.38, "growth": "growing"}],
        failures=["generate run 1: exit 1 (see run-full.log)", "core run 1: exit 2 (see run-full.log)"])
    later = _results("2026-11-22 23:10", [_row("generator (full, postgresql)", "contributions", 1400),
                                          _row("generator (full, postgresql)", "verify", 700)])
    later["machine"]["load_before"] = 3.5

    merged = update(earlier, later, ["generate"])

    assert [(r["scenario"], r["name"], r["value"]) for r in merged["figures"]] == [
        ("core writes (sqlite)", "contribution", 234),
        ("generator (full, postgresql)", "contributions", 1400),
        ("generator (full, postgresql)", "verify", 700),
        ("public search (sqlite)", "overall p95", 47)]
    assert merged["growth"] == earlier["growth"]
    assert merged["failures"] == ["core run 1: exit 2 (see run-full.log)"]
    assert merged["machine"]["date"] == "2026-11-22 18:54"
    assert merged["machine"]["reruns"][0]["scenarios"] == ["generate"]
    report = markdown("full", merged["machine"], merged["figures"], merged["growth"], merged["failures"])
    assert "Run again 2026-11-22 23:10 after the run above: generate" in report
    assert "load average 3.5 before" in report
    assert "exit 1" not in report and "core run 1: exit 2" in report


def test_a_failed_rerun_keeps_its_failure_and_a_new_scenario_goes_at_the_end():
    earlier = _results("2026-11-22 18:54", [_row("core writes (sqlite)", "contribution", 234)])
    later = _results("2026-11-22 23:10", [_row("receipt PDFs", "per second", 186)],
                     failures=["receipts run 1: exit 1 (see run-full.log)"])
    merged = update(earlier, later, ["receipts"])
    assert [r["scenario"] for r in merged["figures"]] == ["core writes (sqlite)", "receipt PDFs"]
    assert merged["failures"] == ["receipts run 1: exit 1 (see run-full.log)"]
