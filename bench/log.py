"""Benchmark of the transparency log's Merkle tree (receipts.merkle), in memory.

What it measures, for a tree of n leaves (default 1,000,000; -n to change):

  append              MemoryTree.append of n leaf data (leaf hash + the parents each leaf
                      completes, stored per level): leaves/s
  inclusion proof     MemoryTree.inclusion_proof(i, n) for random i: inclusion_keys, fetch
                      of those nodes, inclusion_proof_from; averaged over --proofs proofs
  consistency proof   MemoryTree.consistency_proof(m, n) for random m, the same way
  verify inclusion    verify_inclusion of those proofs: what a donor's browser or the
                      offline verifier runs
  verify consistency  verify_consistency of those proofs
  rebuild (verify)    the offline verifier's full check: from the n leaf data, rebuild the
                      tree and compute its root (MemoryTree(leaves).root())

Each row is set beside "the limit": the time hashlib alone needs for the same number of
SHA-256 operations, calibrated once on 65-byte inputs (an interior node's size) in the
same Python loop shape, so "ratio" says how much the tree's bookkeeping costs on top of
the hashing it cannot avoid. SHA-256 counts are exact (n leaf hashes + n - popcount(n)
parents for a build; counted calls for proofs).

Proof and verify times grow with log2(n) (one fetched node and at most one hash per level,
plus at most log2(n) more for the right edge), so the 10 M column is the 1 M time scaled by
log2(10^7)/log2(10^6) ≈ 1.17: an extrapolation, not a measurement. Append cost per leaf
is amortised O(1) and the rebuild is linear, so those scale by 10 for 10 M leaves.

Targets: a proof in <= 2 ms; the rebuild (verify) of 1 M leaves in <= 20 s.

Usage: python bench/log.py [-n 1000000] [--proofs 20000] [--seed 1]
"""
from __future__ import annotations

import argparse
import hashlib
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.summary import emit, figure  # noqa: E402
from receipts import merkle as M  # noqa: E402

TARGET_PROOF_S = 0.002
TARGET_REBUILD_1M_S = 20.0


def sha256_seconds_per_op(ops: int = 1_000_000) -> float:
    """Seconds per hashlib SHA-256 of a 65-byte input, called from a Python loop."""
    sha256, data = hashlib.sha256, b"\x01" + bytes(64)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(ops):
            sha256(data).digest()
        best = min(best, time.perf_counter() - start)
    return best / ops


class HashCounter:
    """Counts leaf_hash/node_hash calls made through receipts.merkle while active."""

    def __enter__(self):
        self.count = 0
        self._leaf, self._node = M.leaf_hash, M.node_hash

        def leaf(data):
            self.count += 1
            return self._leaf(data)

        def node(left, right):
            self.count += 1
            return self._node(left, right)

        M.leaf_hash, M.node_hash = leaf, node
        return self

    def __exit__(self, *exc):
        M.leaf_hash, M.node_hash = self._leaf, self._node


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="leaves (default 1,000,000)")
    parser.add_argument("--proofs", type=int, default=20_000, help="random proofs of each kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n, k = args.n, args.proofs
    if n < 2:
        parser.error("-n must be at least 2")
    rng = random.Random(args.seed)
    per_sha = sha256_seconds_per_op()
    scale_10m = math.log2(10_000_000) / math.log2(n)
    print(f"receipts.merkle, {n:,} leaves; hashlib SHA-256 (65 B) = {per_sha * 1e9:.0f} ns/op "
          f"from a Python loop; Python {sys.version.split()[0]}")

    leaves = [b"journal transaction %d, public form" % i for i in range(n)]
    build_ops = n + (n - bin(n).count("1"))

    start = time.perf_counter()
    tree = M.MemoryTree()
    for data in leaves:
        tree.append(data)
    append_s = time.perf_counter() - start
    root = tree.root()

    # Random proofs; the same (i, n) and (m, n) pairs are then verified.
    incl_at = [rng.randrange(n) for _ in range(k)]
    cons_at = [rng.randrange(1, n) for _ in range(k)]
    start = time.perf_counter()
    incl = [tree.inclusion_proof(i, n) for i in incl_at]
    incl_s = (time.perf_counter() - start) / k
    start = time.perf_counter()
    cons = [tree.consistency_proof(m, n) for m in cons_at]
    cons_s = (time.perf_counter() - start) / k

    leaf_hashes = [tree.leaf_hash(i) for i in incl_at]
    old_roots = {m: tree.root(m) for m in cons_at}
    start = time.perf_counter()
    ok = all(M.verify_inclusion(lh, i, n, p, root) for lh, i, p in zip(leaf_hashes, incl_at, incl, strict=True))
    vincl_s = (time.perf_counter() - start) / k
    start = time.perf_counter()
    ok &= all(M.verify_consistency(m, n, old_roots[m], root, p) for m, p in zip(cons_at, cons, strict=True))
    vcons_s = (time.perf_counter() - start) / k
    if not ok:
        raise SystemExit("a proof failed to verify: the benchmark is measuring broken code")

    # Exact SHA-256 counts of the same work (a separate, untimed pass).
    sample = range(min(k, 2000))
    with HashCounter() as c:
        for j in sample:
            tree.inclusion_proof(incl_at[j], n)
    incl_ops = c.count / len(sample)
    with HashCounter() as c:
        for j in sample:
            tree.consistency_proof(cons_at[j], n)
    cons_ops = c.count / len(sample)
    with HashCounter() as c:
        for j in sample:
            M.verify_inclusion(leaf_hashes[j], incl_at[j], n, incl[j], root)
    vincl_ops = c.count / len(sample)
    with HashCounter() as c:
        for j in sample:
            M.verify_consistency(cons_at[j], n, old_roots[cons_at[j]], root, cons[j])
    vcons_ops = c.count / len(sample)
    incl_keys = max(len(M.inclusion_keys(i, n)) for i in incl_at[:2000])
    cons_keys = max(len(M.consistency_keys(m, n)) for m in cons_at[:2000])

    start = time.perf_counter()
    rebuilt = M.MemoryTree(leaves).root()
    rebuild_s = time.perf_counter() - start
    if rebuilt != root:
        raise SystemExit("the rebuilt root differs")

    rows = [
        # name, count, seconds (total for the count), SHA-256 ops (total), 10 M estimate, target
        ("append", f"{n:,} leaves", append_s, build_ops, append_s * 10_000_000 / n, None),
        ("inclusion proof", f"avg of {k:,}", incl_s, incl_ops, incl_s * scale_10m, TARGET_PROOF_S),
        ("consistency proof", f"avg of {k:,}", cons_s, cons_ops, cons_s * scale_10m, TARGET_PROOF_S),
        ("verify inclusion", f"avg of {k:,}", vincl_s, vincl_ops, vincl_s * scale_10m, None),
        ("verify consistency", f"avg of {k:,}", vcons_s, vcons_ops, vcons_s * scale_10m, None),
        ("rebuild (verify)", f"{n:,} leaves", rebuild_s, build_ops, rebuild_s * 10_000_000 / n,
         TARGET_REBUILD_1M_S * n / 1_000_000),
    ]
    head = (f"{'operation':<19} {'count':>15} {'time':>10} {'SHA-256 ops':>12} {'hashlib':>10} "
            f"{'ratio':>6} {'at 10 M':>10} {'target':>14}")
    print()
    print(head)
    print("-" * len(head))
    for name, count, secs, ops, at_10m, target in rows:
        limit = ops * per_sha
        verdict = "" if target is None else (f"<= {fmt_time(target)}" + (" ok" if secs <= target else " MISSED"))
        print(f"{name:<19} {count:>15} {fmt_time(secs):>10} {ops:>12,.1f} {fmt_time(limit):>10} "
              f"{secs / limit:>5.1f}x {fmt_time(at_10m):>10} {verdict:>14}")
    print()
    print(f"append: {n / append_s:,.0f} leaves/s (hashlib alone: {n / (build_ops * per_sha):,.0f}/s)")
    print(f"nodes fetched per proof, worst seen: inclusion {incl_keys}, consistency {cons_keys} "
          f"(2·log2 n = {2 * math.log2(n):.1f})")
    print(f"'at 10 M': proofs and verifies scaled by log2(10^7)/log2(n) = {scale_10m:.3f} (extrapolated, "
          "not measured); append and rebuild scaled linearly")
    # For bench/run.py: the measured figures at n, not the 10 M extrapolations.
    emit("Merkle log in memory", [
        figure("append", n / append_s, "leaves/s", limit=n / (build_ops * per_sha),
               limit_name="hashlib alone, the same number of SHA-256", n=n),
        figure("inclusion proof", incl_s * 1000, "ms", target=TARGET_PROOF_S * 1000, higher_is_better=False, n=n),
        figure("verify inclusion", vincl_s * 1000, "ms", higher_is_better=False, n=n),
    ])


if __name__ == "__main__":
    main()
