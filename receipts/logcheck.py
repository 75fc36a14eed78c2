"""Offline check of an exported transparency log (`flask ledger log export`), no database:

every entry is hashed into an RFC 6962 tree in order, and every checkpoint in the export
must be signed by a key you trust, name the same log, and have the root of the first
`size` entries. Since all roots come from one append-only sequence, the checkpoints are
consistent with each other exactly when each one matches.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .merkle import MemoryTree
from .note import open_note, parse_checkpoint, verifier_key


class Progress:
    """A one-line progress bar on stderr, only when it is a terminal (or forced)."""

    def __init__(self, total: int | None, enabled: bool | None = None, label: str = "entries"):
        self.total, self.label = total, label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.shown = -1

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        if self.total:
            percent = done * 100 // self.total
            if percent != self.shown:
                self.shown = percent
                bar = "#" * (percent // 4)
                print(f"\r[{bar:<25}] {percent:3d}% {done:,}/{self.total:,} {self.label}", end="", file=sys.stderr)
        elif done % 100_000 == 0:
            print(f"\r{done:,} {self.label}", end="", file=sys.stderr)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def check_export(lines: Iterable[str], keys: dict[str, Ed25519PublicKey],
                 progress: Progress | None = None) -> tuple[list[str], dict]:
    """(problems, summary) for an export's lines; no problems means the log holds."""
    problems: list[str] = []
    tree = MemoryTree()
    checkpoints: list[str] = []
    origin = None
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            problems.append(f"line {number}: not JSON")
            continue
        if number == 1:
            origin = record.get("origin")
            if not isinstance(origin, str):
                problems.append("line 1: the export's header names no origin")
            continue
        if "checkpoint" in record:
            checkpoints.append(record["checkpoint"])
        elif record.get("index") != tree.size or not isinstance(record.get("data"), str):
            problems.append(f"line {number}: expected entry {tree.size}, found {record.get('index')!r}")
            break
        else:
            tree.append(record["data"].encode("utf-8"))
            if progress:
                progress(tree.size)
    if progress:
        progress.close()
    known = [verifier_key(origin, key) for key in keys.values()] if origin else []
    largest = 0
    for note in checkpoints:
        try:
            name, size, root = parse_checkpoint(open_note(note, known))
        except ValueError as exc:
            problems.append(f"checkpoint: {exc}")
            continue
        if name != origin:
            problems.append(f"checkpoint of size {size}: for log {name!r}, not {origin!r}")
        elif size > tree.size:
            problems.append(f"checkpoint of size {size}: the export holds only {tree.size} entries")
        elif tree.root(size) != root:
            problems.append(f"checkpoint of size {size}: entries 0..{size - 1} do not hash to its root")
        largest = max(largest, size)
    if not checkpoints:
        problems.append("the export holds no checkpoint: nothing signed to check the entries against")
    return problems, {"entries": tree.size, "checkpoints": len(checkpoints), "largest": largest, "origin": origin}


def check_export_file(path: Path, keys: dict[str, Ed25519PublicKey], show_progress: bool | None = None):
    with open(path, encoding="utf-8") as f:
        total = sum(1 for _ in f) - 1
    with open(path, encoding="utf-8") as f:
        return check_export(f, keys, Progress(total, show_progress))
