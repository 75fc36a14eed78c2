"""RFC 6962 / RFC 9162 Merkle tree over stored hashes of complete subtrees.

Hashing (RFC 9162 §2.1.1): a leaf is SHA-256(0x00 ‖ data), an interior node is
SHA-256(0x01 ‖ left ‖ right) and the empty tree's root is SHA-256("").

Storage model: node (level L, index i) is the hash of the complete subtree over the
leaves [i·2^L, (i+1)·2^L). A store maps (level, index) to that 32-byte hash and only
ever holds complete subtrees, so nothing stored ever changes once written: appending
leaf n writes (0, n) and every parent that leaf completes (`append_nodes`).

The hash of a range that is not a complete subtree (the right edge of a tree whose size
is not a power of two) is the fold, right to left, of the complete subtrees that tile it,
which is exactly RFC 6962's MTH with its largest-power-of-two split. Proofs are built in
two steps so a database can fetch everything in one query: `*_keys` name the complete
subtrees needed (at most about 2·log2 n), `*_from` compute the proof from a dict of them.

The verifiers (`verify_inclusion`, `root_from_inclusion`, `verify_consistency`) are the
RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms and use no store: they are what an offline
verifier runs. They reject malformed input (bad sizes, wrong hash lengths, proofs with
missing or extra hashes) by returning False (or raising ValueError for
`root_from_inclusion`), never by an exception from deep inside.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Key = tuple[int, int]
Getter = Callable[[int, int], bytes]

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of a leaf, SHA-256(0x00 ‖ data)."""
    return _sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of an interior node, SHA-256(0x01 ‖ left ‖ right)."""
    return _sha256(b"\x01" + left + right).digest()


def _check_size(*sizes: int) -> None:
    for n in sizes:
        # bool is an int; a True "size" is always a caller's bug.
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"tree sizes and indexes are integers >= 0, not {n!r}")


def _is_hash(h: object) -> bool:
    return isinstance(h, bytes | bytearray | memoryview) and len(h) == HASH_SIZE


def _largest_pow2_below(n: int) -> int:
    """The k of RFC 9162 §2.1.1: the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- appending -------------------------------------------------------------------------

def append_nodes(size: int, leaf: bytes, get: Getter) -> list[tuple[int, int, bytes]]:
    """The nodes to store when the leaf hash `leaf` becomes leaf number `size`.

    Returns (level, index, hash) for the leaf itself and every parent it completes, in
    order of level. `get(level, index)` reads the left siblings, which the store already
    holds because they are complete. One new node on average, log2(size) at worst.
    """
    _check_size(size)
    if not _is_hash(leaf):
        raise ValueError("a leaf hash has 32 bytes")
    h = bytes(leaf)
    out = [(0, size, h)]
    level, index = 0, size
    while index & 1:  # a right child completes its parent
        h = node_hash(get(level, index - 1), h)
        level, index = level + 1, index >> 1
        out.append((level, index, h))
    return out


# --- which complete subtrees a computation needs ------------------------------------------

def _tile(start: int, end: int) -> list[Key]:
    """Keys of the complete subtrees tiling [start, end), left to right.

    For the ranges that occur in RFC 6962 (start aligned to the power of two that bounds
    the range) this is the greedy largest-first split, i.e. MTH's own decomposition.
    """
    keys = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:  # never cross an alignment boundary of start
            level = min(level, (start & -start).bit_length() - 1)
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def _range_hash(nodes: Mapping[Key, bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) from stored complete subtrees, folded right to left."""
    keys = _tile(start, end)
    try:
        h = nodes[keys[-1]]
        for key in reversed(keys[:-1]):
            h = node_hash(nodes[key], h)
    except KeyError as exc:
        raise ValueError(f"node {exc.args[0]} is missing from the nodes given") from None
    return bytes(h)


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]) as leaf ranges, leaf side first."""
    ranges = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_pow2_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def _consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) as leaf ranges."""
    if not 0 < m < n:
        return []  # m == n or m == 0: the proof is empty
    ranges = []
    start, end, whole = 0, n, True  # `whole`: the b flag, m is still the whole old tree
    while True:
        width, old = end - start, m - start
        if old == width:
            if not whole:
                ranges.append((start, end))
            break
        k = _largest_pow2_below(width)
        if old <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            whole = False
    ranges.reverse()
    return ranges


def _keys_of(ranges: Iterable[tuple[int, int]]) -> list[Key]:
    seen: dict[Key, None] = {}
    for start, end in ranges:
        for key in _tile(start, end):
            seen[key] = None
    return list(seen)


def root_keys(size: int) -> list[Key]:
    """Keys of the complete subtrees whose fold is the root of the tree of `size` leaves."""
    _check_size(size)
    return _tile(0, size)


def inclusion_keys(index: int, size: int) -> list[Key]:
    """Keys needed for the inclusion proof of leaf `index` in the tree of `size` leaves."""
    _check_size(index, size)
    if index >= size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    return _keys_of(_inclusion_ranges(index, size))


def consistency_keys(m: int, n: int) -> list[Key]:
    """Keys needed for the consistency proof from the tree of m leaves to that of n."""
    _check_size(m, n)
    if m > n:
        raise ValueError(f"no consistency proof from {m} leaves back to {n}")
    return _keys_of(_consistency_ranges(m, n))


# --- computing from fetched nodes --------------------------------------------------------

def root_from(nodes: Mapping[Key, bytes], size: int) -> bytes:
    """RFC 9162 §2.1.1 MTH(D[0:size]) from the nodes named by `root_keys(size)`."""
    _check_size(size)
    return _range_hash(nodes, 0, size) if size else EMPTY_ROOT


def inclusion_proof_from(nodes: Mapping[Key, bytes], index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 inclusion path for leaf `index` in the tree of `size` leaves."""
    _check_size(index, size)
    if index >= size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    return [_range_hash(nodes, s, e) for s, e in _inclusion_ranges(index, size)]


def consistency_proof_from(nodes: Mapping[Key, bytes], m: int, n: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 consistency proof from the tree of m leaves to that of n."""
    _check_size(m, n)
    if m > n:
        raise ValueError(f"no consistency proof from {m} leaves back to {n}")
    return [_range_hash(nodes, s, e) for s, e in _consistency_ranges(m, n)]


# --- verifying (no store) ----------------------------------------------------------------

def root_from_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that `proof` leads to from leaf `index`'s hash.

    ValueError when the input cannot be a proof at all (index >= size, a hash that is
    not 32 bytes, too many or too few hashes for the tree's shape).
    """
    _check_size(index, size)
    if index >= size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    if not _is_hash(leaf_hash):
        raise ValueError("a leaf hash has 32 bytes")
    fn, sn, r = index, size - 1, bytes(leaf_hash)
    for p in proof:
        if not _is_hash(p):
            raise ValueError("every hash in a proof has 32 bytes")
        if sn == 0:
            raise ValueError("the proof has more hashes than the tree has levels")
        p = bytes(p)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:  # skip the levels where this node has no right sibling
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the proof has fewer hashes than the tree needs")
    return r


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: True when `proof` shows leaf `index` is in the tree with `root`."""
    if not _is_hash(root):
        return False
    try:
        return root_from_inclusion(leaf_hash, index, size, proof) == bytes(root)
    except (ValueError, TypeError):
        return False


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: True when the tree of n leaves with `root_n` extends that of m.

    As in RFC 9162 (and transparency-dev/merkle), m == n needs an empty proof and equal
    roots, and m == 0 needs an empty proof: the empty tree is a prefix of every tree, so
    its root takes no part.
    """
    try:
        _check_size(m, n)
        proof = list(proof)
    except (ValueError, TypeError):
        return False
    if m > n or not _is_hash(root_m) or not _is_hash(root_n) or not all(_is_hash(p) for p in proof):
        return False
    root_m, root_n, proof = bytes(root_m), bytes(root_n), [bytes(p) for p in proof]
    if m == n:
        return not proof and root_m == root_n
    if m == 0:
        return not proof
    if not proof:
        return False
    if m & (m - 1) == 0:  # m is a power of two: the old root is a node of the new tree
        proof = [root_m, *proof]
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root_m and sr == root_n


# --- an in-memory store ------------------------------------------------------------------

class MemoryTree:
    """A Merkle tree held in memory, built with the functions above.

    Each level is one bytearray of 32-byte hashes (nodes of a level are completed in index
    order), which keeps a million leaves in about 64 MB instead of a dict of tuples.
    """

    def __init__(self, leaves: Iterable[bytes] = ()):
        self._levels: list[bytearray] = []
        self.size = 0
        for data in leaves:
            self.append(data)

    def get(self, level: int, index: int) -> bytes:
        """The stored hash of node (level, index); KeyError when it is not complete yet."""
        if level < 0 or index < 0 or level >= len(self._levels):
            raise KeyError((level, index))
        buf = self._levels[level]
        at = index * HASH_SIZE
        if at + HASH_SIZE > len(buf):
            raise KeyError((level, index))
        return bytes(buf[at:at + HASH_SIZE])

    def nodes(self, keys: Iterable[Key]) -> dict[Key, bytes]:
        """The stored nodes for `keys`, as a database query would return them."""
        return {key: self.get(*key) for key in keys}

    def append(self, data: bytes) -> int:
        """Append a leaf's data; returns its index."""
        return self.append_hash(leaf_hash(data))

    def append_hash(self, leaf: bytes) -> int:
        """Append a leaf by its hash; returns its index."""
        index = self.size
        for level, _, h in append_nodes(index, leaf, self.get):
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += h
        self.size = index + 1
        return index

    def leaf_hash(self, index: int) -> bytes:
        return self.get(0, index)

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree at `size` leaves (default: now)."""
        size = self.size if size is None else size
        self._check(size)
        return root_from(self.nodes(root_keys(size)), size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        self._check(size)
        return inclusion_proof_from(self.nodes(inclusion_keys(index, size)), index, size)

    def consistency_proof(self, m: int, n: int | None = None) -> list[bytes]:
        n = self.size if n is None else n
        self._check(n)
        return consistency_proof_from(self.nodes(consistency_keys(m, n)), m, n)

    def _check(self, size: int) -> None:
        _check_size(size)
        if size > self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
