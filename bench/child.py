"""What the benchmarks that run each step in a child process share: the child's peak
memory, and a step run under cProfile."""
from __future__ import annotations

import resource
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not getrusage's ru_maxrss: Linux carries the parent's
    peak over fork and exec into ru_maxrss, and a parent that generated or loaded the data
    held a lot."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def profiled(step, *, top: int = 25, cumulative: int = 45, callees: str | None = None):
    """step()'s result, its profile printed to stderr: by own time, by cumulative time, and
    what the functions matching `callees` call."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    result = step()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(cumulative)
    if callees:
        stats.print_callees(callees)
    return result
