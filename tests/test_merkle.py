"""receipts.merkle (RFC 6962 / RFC 9162 tree, proofs, verifiers) and receipts.note (C2SP notes).

No database, no Flask. Known answers come from transparency-dev/merkle (vectors under
tests/vectors/merkle/, tables transcribed below with their source) and from Go's
golang.org/x/mod/sumdb/note; the rest checks the stored-subtree code against the
recursive definitions of RFC 9162 §2.1 written out naively here.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from receipts import merkle as M
from receipts.note import (
    checkpoint_body,
    note_key_id,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
    verifier_key,
)
from receipts.signing import SigningKey, raw_public_bytes

VECTORS = Path(__file__).parent / "vectors" / "merkle"


def h(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text)


# --- naive RFC 9162 §2.1 definitions, straight from the text ---------------------------

def mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return naive_path(m, leaves[:k]) + [mth(leaves[k:])]
    return naive_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return naive_subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return naive_subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def naive_consistency(m: int, leaves: list[bytes]) -> list[bytes]:
    return naive_subproof(m, leaves, True) if 0 < m < len(leaves) else []


def data_of(i: int) -> bytes:
    return f"leaf {i}".encode()


@pytest.fixture(scope="module")
def small():
    """Leaves and a tree of 70 leaves: every smaller tree is a prefix of it."""
    leaves = [data_of(i) for i in range(70)]
    return leaves, M.MemoryTree(leaves)


# --- transparency-dev/merkle known answers ------------------------------------------------

# rfc6962/rfc6962_test.go (TestRFC6962Hasher)
def test_hasher_vectors():
    assert M.EMPTY_ROOT == h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert M.leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert M.leaf_hash(b"L123456") == h("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    assert M.node_hash(b"N123", b"N456") == h("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")
    assert M.root_from({}, 0) == M.EMPTY_ROOT
    assert M.MemoryTree().root() == M.EMPTY_ROOT


# testonly/constants.go: LeafInputs, NodeHashes, RootHashes
REF_LEAVES = [h(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                            "606162636465666768696a6b6c6d6e6f"]]
REF_NODES = [
    ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"],
    ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"],
    ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
REF_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# proof/verify_test.go: inclusionProofs (leaf is 1-based there) and consistencyProofs
REF_INCLUSION = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
REF_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


@pytest.fixture(scope="module")
def ref_tree():
    return M.MemoryTree(REF_LEAVES)


def test_reference_roots_and_nodes(ref_tree):
    for size, root in enumerate(REF_ROOTS):
        assert ref_tree.root(size) == h(root), size
        assert M.MemoryTree(REF_LEAVES[:size]).root() == h(root), size
        assert mth(REF_LEAVES[:size]) == h(root), size
    for level, row in enumerate(REF_NODES):
        for index, node in enumerate(row):
            assert ref_tree.get(level, index) == h(node), (level, index)


@pytest.mark.parametrize(("leaf", "size", "proof"), REF_INCLUSION)
def test_reference_inclusion_proofs(ref_tree, leaf, size, proof):
    proof = [h(p) for p in proof]
    assert ref_tree.inclusion_proof(leaf - 1, size) == proof
    lh = M.leaf_hash(REF_LEAVES[leaf - 1])
    assert M.verify_inclusion(lh, leaf - 1, size, proof, h(REF_ROOTS[size]))
    assert M.root_from_inclusion(lh, leaf - 1, size, proof) == h(REF_ROOTS[size])


@pytest.mark.parametrize(("m", "n", "proof"), REF_CONSISTENCY)
def test_reference_consistency_proofs(ref_tree, m, n, proof):
    proof = [h(p) for p in proof]
    assert ref_tree.consistency_proof(m, n) == proof
    assert M.verify_consistency(m, n, h(REF_ROOTS[m]), h(REF_ROOTS[n]), proof)


def _vector_files(kind: str) -> list[Path]:
    files = sorted((VECTORS / kind).glob("*/*.json"))
    assert files, f"no {kind} vectors under {VECTORS}"
    return files


def _b64_list(items) -> list[bytes]:
    return [base64.b64decode(p) for p in items or []]


@pytest.mark.parametrize("path", _vector_files("inclusion"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_upstream_inclusion_vector(path, ref_tree):
    v = json.loads(path.read_text())
    leaf, root, proof = base64.b64decode(v["leafHash"]), base64.b64decode(v["root"]), _b64_list(v["proof"])
    assert M.verify_inclusion(leaf, v["leafIdx"], v["treeSize"], proof, root) is not v["wantErr"], v["desc"]
    if not v["wantErr"]:  # the happy paths are over the reference leaves: we build the same proof
        assert ref_tree.inclusion_proof(v["leafIdx"], v["treeSize"]) == proof
        assert M.leaf_hash(REF_LEAVES[v["leafIdx"]]) == leaf


@pytest.mark.parametrize("path", _vector_files("consistency"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_upstream_consistency_vector(path, ref_tree):
    v = json.loads(path.read_text())
    root1, root2, proof = base64.b64decode(v["root1"]), base64.b64decode(v["root2"]), _b64_list(v["proof"])
    assert M.verify_consistency(v["size1"], v["size2"], root1, root2, proof) is not v["wantErr"], v["desc"]
    if not v["wantErr"]:
        assert ref_tree.consistency_proof(v["size1"], v["size2"]) == proof


# proof/verify_test.go: TestVerifyConsistency's edge cases and TestVerifyInclusion's probes
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")
R1, R2 = hashlib.sha256(b"don't care 1").digest(), hashlib.sha256(b"don't care 2").digest()


@pytest.mark.parametrize(("m", "n", "root1", "root2", "proof", "ok"), [
    (0, 0, R1, R2, [], False),
    (1, 1, R1, R2, [], False),
    (0, 0, R1, R1, [], True),
    (0, 1, R1, R2, [], True),
    (1, 1, R2, R2, [], True),
    (1, 0, R1, R2, [], False),
    (2, 1, R1, R2, [], False),
    (1, 2, R1, R2, [], False),
    (0, 0, M.EMPTY_ROOT, R2, [], False),
    (1, 1, M.EMPTY_ROOT, R2, [], False),
    (0, 0, M.EMPTY_ROOT, M.EMPTY_ROOT, [M.EMPTY_ROOT], False),
    (0, 1, M.EMPTY_ROOT, M.EMPTY_ROOT, [M.EMPTY_ROOT], False),
    (1, 1, M.EMPTY_ROOT, M.EMPTY_ROOT, [M.EMPTY_ROOT], False),
])
def test_consistency_edge_cases(m, n, root1, root2, proof, ok):
    assert M.verify_consistency(m, n, root1, root2, proof) is ok


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_probes_without_valid_root(index, size):
    assert not M.verify_inclusion(SOME_HASH, index, size, [], b"")
    assert not M.verify_inclusion(b"", index, size, [], M.EMPTY_ROOT)
    assert not M.verify_inclusion(SOME_HASH, index, size, [], M.EMPTY_ROOT)


def test_single_entry_inclusion():
    lh = M.leaf_hash(b"data")
    assert M.verify_inclusion(lh, 0, 1, [], lh)
    assert not M.verify_inclusion(b"", 0, 1, [], lh)
    assert not M.verify_inclusion(lh, 0, 1, [], b"")
    assert not M.verify_inclusion(b"", 0, 1, [], b"")


# --- every small tree ------------------------------------------------------------------------

def test_roots_equal_naive_mth(small):
    leaves, tree = small
    for n in range(71):
        assert tree.root(n) == mth(leaves[:n]) == M.MemoryTree(leaves[:n]).root(), n


def test_every_inclusion_proof_up_to_70(small):
    leaves, tree = small
    for n in range(1, 71):
        root = tree.root(n)
        for i in range(n):
            proof = tree.inclusion_proof(i, n)
            assert proof == naive_path(i, leaves[:n]), (i, n)
            assert M.verify_inclusion(M.leaf_hash(leaves[i]), i, n, proof, root), (i, n)
            assert M.root_from_inclusion(M.leaf_hash(leaves[i]), i, n, proof) == root
            # The proof of one leaf proves no other leaf, position or size.
            if n > 1:
                assert not M.verify_inclusion(M.leaf_hash(leaves[(i + 1) % n]), i, n, proof, root)
            if n < 70:  # (against the old root a larger size can pass: the signed checkpoint binds the two)
                assert not M.verify_inclusion(M.leaf_hash(leaves[i]), i, n + 1, proof, tree.root(n + 1))


def test_every_consistency_proof_up_to_70(small):
    leaves, tree = small
    roots = [tree.root(n) for n in range(71)]
    for n in range(1, 71):
        for m in range(0, n + 1):
            proof = tree.consistency_proof(m, n)
            assert proof == naive_consistency(m, leaves[:n]), (m, n)
            assert M.verify_consistency(m, n, roots[m], roots[n], proof), (m, n)
            if 0 < m < n:
                assert not M.verify_consistency(m, n, roots[n], roots[m], proof), (m, n)
                if m > 1:
                    assert not M.verify_consistency(m - 1, n, roots[m], roots[n], proof), (m, n)
                if m + 1 < n:
                    assert not M.verify_consistency(m + 1, n, roots[m], roots[n], proof), (m, n)


def _mutations(proof: list[bytes], all_bits: bool, rng: random.Random):
    """Every truncation, extension and bit flip (all 256 bits, or a few) of a proof."""
    for cut in range(len(proof)):
        yield f"truncated to {cut}", proof[:cut]
    if proof:
        yield "dropped first", proof[1:]
    yield "extra zero hash", [*proof, bytes(32)]
    yield "extra leading hash", [bytes(32), *proof]
    yield "short hash", [p[:31] for p in proof] if proof else [b""]
    for j, p in enumerate(proof):
        bits = range(256) if all_bits else rng.sample(range(256), 8)
        for bit in bits:
            flipped = bytearray(p)
            flipped[bit // 8] ^= 1 << (bit % 8)
            yield f"proof[{j}] bit {bit}", [*proof[:j], bytes(flipped), *proof[j + 1:]]
    if len(proof) > 1:
        yield "swapped", [proof[1], proof[0], *proof[2:]]


def test_every_mutated_inclusion_proof_fails(small):
    leaves, tree = small
    rng = random.Random(6962)
    checked = 0
    for n in range(1, 71):
        root = tree.root(n)
        for i in range(n):
            lh = M.leaf_hash(leaves[i])
            proof = tree.inclusion_proof(i, n)
            all_bits = n <= 17 or n == 70
            for what, bad in _mutations(proof, all_bits=all_bits, rng=rng):
                assert not M.verify_inclusion(lh, i, n, bad, root), (i, n, what)
                checked += 1
            for bit in range(256) if n <= 17 else rng.sample(range(256), 8):  # nor a flipped leaf hash or root
                flipped = bytearray(lh)
                flipped[bit // 8] ^= 1 << (bit % 8)
                assert not M.verify_inclusion(bytes(flipped), i, n, proof, root)
                flipped = bytearray(root)
                flipped[bit // 8] ^= 1 << (bit % 8)
                assert not M.verify_inclusion(lh, i, n, proof, bytes(flipped))
    assert checked > 150_000


def test_every_mutated_consistency_proof_fails(small):
    leaves, tree = small
    rng = random.Random(9162)
    roots = [tree.root(n) for n in range(71)]
    for n in range(2, 71):
        for m in range(1, n):
            proof = tree.consistency_proof(m, n)
            for what, bad in _mutations(proof, all_bits=n <= 12 or n == 70, rng=rng):
                assert not M.verify_consistency(m, n, roots[m], roots[n], bad), (m, n, what)
            for root_bit in rng.sample(range(256), 4):
                for which in (0, 1):
                    r = [bytearray(roots[m]), bytearray(roots[n])]
                    r[which][root_bit // 8] ^= 1 << (root_bit % 8)
                    assert not M.verify_consistency(m, n, bytes(r[0]), bytes(r[1]), proof), (m, n, which)


# --- malformed input -----------------------------------------------------------------------

def test_verifiers_reject_malformed_input(small):
    leaves, tree = small
    lh, root, proof = M.leaf_hash(leaves[5]), tree.root(9), tree.inclusion_proof(5, 9)
    assert M.verify_inclusion(lh, 5, 9, proof, root)
    for index, size in [(9, 9), (10, 9), (-1, 9), (5, -9), (5, 0), (True, 9), (5.0, 9), ("5", 9), (None, 9)]:
        assert not M.verify_inclusion(lh, index, size, proof, root), (index, size)
    assert not M.verify_inclusion(lh, 5, 9, None, root)
    assert not M.verify_inclusion(lh, 5, 9, [*proof[:-1], "x" * 32], root)
    assert not M.verify_inclusion(lh, 5, 9, proof, root[:31])
    assert not M.verify_inclusion(lh + b"\x00", 5, 9, proof, root)
    assert not M.verify_inclusion(lh.hex(), 5, 9, proof, root)
    with pytest.raises(ValueError, match="not in a tree"):
        M.root_from_inclusion(lh, 9, 9, proof)
    with pytest.raises(ValueError, match="more hashes"):
        M.root_from_inclusion(lh, 5, 9, [*proof, root])
    with pytest.raises(ValueError, match="fewer hashes"):
        M.root_from_inclusion(lh, 5, 9, proof[:-1])

    r5, r9, cproof = tree.root(5), tree.root(9), tree.consistency_proof(5, 9)
    assert M.verify_consistency(5, 9, r5, r9, cproof)
    for m, n in [(9, 5), (-1, 9), (5, -9), (True, 9), (5, 9.0), (None, 9), (5, 5), (0, 9), (9, 9)]:
        assert not M.verify_consistency(m, n, r5, r9, cproof), (m, n)
    assert not M.verify_consistency(5, 9, r5, r9, None)
    assert not M.verify_consistency(5, 9, r5, r9, [*cproof[:-1], b"\x00" * 33])
    assert not M.verify_consistency(5, 9, r5[:16], r9, cproof)
    assert M.verify_consistency(0, 9, r5, r9, [])  # the empty tree is a prefix of any tree
    assert not M.verify_consistency(0, 9, M.EMPTY_ROOT, r9, cproof)  # ... but only with an empty proof
    assert M.verify_consistency(9, 9, r9, r9, [])
    assert not M.verify_consistency(9, 9, r9, r9, [r9])


def test_builders_reject_bad_arguments(small):
    _, tree = small
    for call in (lambda: M.inclusion_keys(3, 3), lambda: M.inclusion_keys(-1, 3), lambda: M.consistency_keys(4, 3),
                 lambda: M.root_keys(-1), lambda: M.inclusion_keys(True, 3), lambda: tree.root(71),
                 lambda: tree.inclusion_proof(0, 71), lambda: tree.consistency_proof(3, 71),
                 lambda: M.append_nodes(0, b"short", lambda *_: b""), lambda: M.root_from({}, 5)):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(KeyError):
        tree.get(0, 70)
    with pytest.raises(KeyError):
        tree.get(7, 0)  # 70 leaves: no complete subtree of 128


# --- the store API, as a database would use it -------------------------------------------

def test_dict_store_append_and_one_query_per_proof():
    """append_nodes into a plain dict; each proof from exactly the keys its *_keys named."""
    rng = random.Random(1)
    store: dict[tuple[int, int], bytes] = {}
    reads = []

    def get(level, index):
        reads.append((level, index))
        return store[(level, index)]

    leaves = [rng.randbytes(rng.randrange(0, 40)) for _ in range(300)]
    for i, data in enumerate(leaves):
        reads.clear()
        new = M.append_nodes(i, M.leaf_hash(data), get)
        # Leaf i completes one parent per trailing one bit of i.
        trailing = (~i & (i + 1)).bit_length() - 1
        assert [(lv, ix) for lv, ix, _ in new] == [(lv, i >> lv) for lv in range(trailing + 1)]
        assert len(reads) == trailing
        for level, index, node in new:
            assert (level, index) not in store  # nothing stored is ever rewritten
            store[(level, index)] = node
    assert len(store) == 2 * 300 - bin(300).count("1")

    for n in (1, 2, 3, 100, 255, 256, 257, 300):
        keys = M.root_keys(n)
        assert len(keys) == bin(n).count("1")
        assert M.root_from({k: store[k] for k in keys}, n) == mth(leaves[:n])
        for i in rng.sample(range(n), min(n, 20)):
            keys = M.inclusion_keys(i, n)
            proof = M.inclusion_proof_from({k: store[k] for k in keys}, i, n)
            assert proof == naive_path(i, leaves[:n])
        for m in rng.sample(range(n + 1), min(n + 1, 20)):
            keys = M.consistency_keys(m, n)
            proof = M.consistency_proof_from({k: store[k] for k in keys}, m, n)
            assert proof == naive_consistency(m, leaves[:n])
    with pytest.raises(ValueError, match="missing"):
        M.inclusion_proof_from({}, 3, 300)


def test_key_counts_are_logarithmic():
    worst_incl = worst_cons = 0
    for n in list(range(1, 600)) + [2**20 - 1, 2**20, 2**20 + 1, 10**6, 10**7 + 12345, 2**40 - 3]:
        bound = 2 * math.ceil(math.log2(n)) if n > 1 else 0
        for i in {0, n // 3, n // 2, n - 2, n - 1} - {-1}:
            keys = M.inclusion_keys(i, n)
            assert len(keys) <= max(bound, 0), (i, n, len(keys))
            assert all(lv >= 0 and (ix + 1) << lv <= n for lv, ix in keys)  # complete subtrees only
            worst_incl = max(worst_incl, len(keys))
        for m in {1, n // 3, n // 2, n - 1, n}:
            keys = M.consistency_keys(m, n)
            assert len(keys) <= bound + 1, (m, n, len(keys))
            assert all((ix + 1) << lv <= n for lv, ix in keys)
            worst_cons = max(worst_cons, len(keys))
    assert worst_incl <= 80 and worst_cons <= 81


# --- a larger random tree -------------------------------------------------------------------

def test_random_larger_trees():
    rng = random.Random(20250701)
    n_total = 3000 + rng.randrange(1000)
    leaves = [rng.randbytes(rng.randrange(0, 64)) for _ in range(n_total)]
    tree = M.MemoryTree(leaves)
    assert tree.size == n_total
    sizes = sorted({n_total, 2048, 2049, 4095 if n_total >= 4095 else n_total - 1, *rng.sample(range(1, n_total), 25)})
    roots = {n: tree.root(n) for n in sizes}
    for n in rng.sample(sizes, 5):
        assert roots[n] == mth(leaves[:n]), n
    for _ in range(1500):
        n = rng.choice(sizes)
        i = rng.randrange(n)
        proof = tree.inclusion_proof(i, n)
        assert M.verify_inclusion(M.leaf_hash(leaves[i]), i, n, proof, roots[n])
        assert not M.verify_inclusion(M.leaf_hash(leaves[i] + b"!"), i, n, proof, roots[n])
        if proof:
            j = rng.randrange(len(proof))
            bad = list(proof)
            bad[j] = bytes([bad[j][0] ^ 1]) + bad[j][1:]
            assert not M.verify_inclusion(M.leaf_hash(leaves[i]), i, n, bad, roots[n])
            assert not M.verify_inclusion(M.leaf_hash(leaves[i]), i, n, proof[:-1], roots[n])
    for _ in range(1500):
        m, n = sorted(rng.sample(sizes, 2))
        proof = tree.consistency_proof(m, n)
        assert M.verify_consistency(m, n, roots[m], roots[n], proof), (m, n)
        bad = list(proof)
        j = rng.randrange(len(bad))
        bad[j] = bad[j][:-1] + bytes([bad[j][-1] ^ 0x80])
        assert not M.verify_consistency(m, n, roots[m], roots[n], bad), (m, n)
        assert not M.verify_consistency(m, n, roots[m], roots[n], proof[:-1]), (m, n)
    for n in rng.sample(sizes, 3):
        for i in rng.sample(range(n), 3):
            assert tree.inclusion_proof(i, n) == naive_path(i, leaves[:n])
        for m in rng.sample(range(n + 1), 3):
            assert tree.consistency_proof(m, n) == naive_consistency(m, leaves[:n])


# --- signed notes and checkpoints -------------------------------------------------------------

# RFC 8032 §7.1 TEST 1: a fixed Ed25519 key, so the answers below can be checked by hand.
RFC8032_SECRET = h("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = h("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
LOG_NAME = "example.com/ledger"


@pytest.fixture(scope="module")
def log_key():
    return SigningKey(Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET))


def test_key_id_known_answer(log_key):
    assert raw_public_bytes(log_key.public_key) == RFC8032_PUBLIC
    # Worked out separately with hashlib:
    #   hashlib.sha256(b"example.com/ledger" + b"\n" + b"\x01" + RFC8032_PUBLIC).hexdigest()[:8]
    assert note_key_id(LOG_NAME, log_key.public_key) == h("60db519f")
    assert note_key_id(LOG_NAME, RFC8032_PUBLIC) == h("60db519f")
    vkey = verifier_key(LOG_NAME, log_key.public_key)
    assert vkey == "example.com/ledger+60db519f+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea"
    name, key_id, key = parse_verifier_key(vkey)
    assert (name, key_id, raw_public_bytes(key)) == (LOG_NAME, h("60db519f"), RFC8032_PUBLIC)


# The example of golang.org/x/mod/sumdb/note's package documentation (Go authors, BSD licence).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + ("\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6"
                     "RyyBwJnAM=\n")


def test_go_documentation_example_opens():
    assert open_note(GO_NOTE, [GO_VKEY]) == GO_TEXT
    assert open_note(GO_NOTE, GO_VKEY) == GO_TEXT
    assert open_note(GO_NOTE.encode(), [GO_VKEY]) == GO_TEXT
    name, key_id, key = parse_verifier_key(GO_VKEY)
    assert name == "PeterNeumann" and key_id == h("c74f20a3")
    assert note_key_id(name, key) == key_id
    assert open_note(GO_NOTE, {"PeterNeumann": key}) == GO_TEXT
    with pytest.raises(ValueError, match="does not verify"):
        open_note(GO_NOTE.replace("problem is", "problem was"), [GO_VKEY])


def test_sign_and_open_round_trip(log_key):
    body = checkpoint_body(LOG_NAME, 12345, hashlib.sha256(b"root").digest())
    assert body == f"{LOG_NAME}\n12345\n{base64.b64encode(hashlib.sha256(b'root').digest()).decode()}\n"
    note = sign_note(body, LOG_NAME, log_key)
    text, _, sig_line = note.partition("\n\n")
    assert text + "\n" == body
    assert sig_line.startswith("\u2014 example.com/ledger ") and sig_line.endswith("\n")
    raw = base64.b64decode(sig_line.split(" ")[2])
    assert raw[:4] == h("60db519f") and len(raw) == 68
    vkey = verifier_key(LOG_NAME, log_key.public_key)
    assert open_note(note, [vkey]) == body
    assert open_note(note, {LOG_NAME: log_key.public_key}) == body
    assert open_note(note, {LOG_NAME: RFC8032_PUBLIC}) == body
    assert parse_checkpoint(open_note(note, [vkey])) == (LOG_NAME, 12345, hashlib.sha256(b"root").digest())
    # Ed25519 is deterministic: the same body signs to the same note.
    assert sign_note(body, LOG_NAME, log_key) == note


def test_tampered_notes_fail(log_key):
    body = checkpoint_body(LOG_NAME, 7, bytes(range(32)))
    note = sign_note(body, LOG_NAME, log_key)
    vkey = verifier_key(LOG_NAME, log_key.public_key)
    other = SigningKey.generate()

    with pytest.raises(ValueError, match="does not verify"):
        open_note(note.replace("\n7\n", "\n8\n"), [vkey])  # changed body
    sig64 = note.rsplit(" ", 1)[1].strip()
    sig = bytearray(base64.b64decode(sig64))
    for at in (4, 40, 67):  # changed signature bytes (not the key ID)
        bad = bytearray(sig)
        bad[at] ^= 0x01
        with pytest.raises(ValueError, match="does not verify"):
            open_note(note.replace(sig64, base64.b64encode(bytes(bad)).decode()), [vkey])
    with pytest.raises(ValueError, match="no signature by a known key"):
        open_note(note, [verifier_key(LOG_NAME, other.public_key)])  # wrong key
    with pytest.raises(ValueError, match="no signature by a known key"):
        open_note(note, [verifier_key("example.com/other", log_key.public_key)])  # wrong name
    renamed = note.replace("\u2014 example.com/ledger ", "\u2014 example.com/other ")
    with pytest.raises(ValueError, match="no signature by a known key"):
        open_note(renamed, [vkey])
    # Another key's signature under our name and key ID.
    other_sig = base64.b64decode(sign_note(body, LOG_NAME, other).rsplit(" ", 1)[1])[4:]
    forged = body + "\n\u2014 " + LOG_NAME + " " + base64.b64encode(h("60db519f") + other_sig).decode() + "\n"
    with pytest.raises(ValueError, match="does not verify"):
        open_note(forged, [vkey])
    with pytest.raises(ValueError, match="no signature by a known key"):
        open_note(note, [])


def test_unknown_signatures_are_ignored(log_key):
    body = checkpoint_body(LOG_NAME, 1, bytes(32))
    witness = SigningKey.generate()
    note = sign_note(body, LOG_NAME, log_key)
    cosigned = note + sign_note(body, "witness.example/w1", witness).rsplit("\n\n", 1)[1]
    vkey = verifier_key(LOG_NAME, log_key.public_key)
    wkey = verifier_key("witness.example/w1", witness.public_key)
    assert open_note(cosigned, [vkey]) == body
    assert open_note(cosigned, [wkey]) == body
    assert open_note(cosigned, [vkey, wkey]) == body
    # An unknown signer's garbage signature is ignored, a known signer's is not.
    junk = cosigned + "\u2014 someone.else AAAAAAAAAAAAAAAAAAAAAAAA\n"
    assert open_note(junk, [vkey]) == body
    bad_known = cosigned + "\u2014 witness.example/w1 " + base64.b64encode(
        note_key_id("witness.example/w1", witness.public_key) + bytes(64)).decode() + "\n"
    assert open_note(bad_known, [vkey]) == body
    # Go skips a known key's second signature line; the first one decides.
    assert open_note(bad_known, [wkey]) == body


@pytest.mark.parametrize("note", [
    "",
    "no blank line\n\u2014 a AAAAAAA=\n",
    "text\n\n",
    "text\n\n\u2014 example.com/ledger AAAAAAA=",  # no final newline
    "text\n\n- example.com/ledger AAAAAAA=\n",  # hyphen, not em dash
    "text\n\n\u2014example.com/ledger AAAAAAA=\n",  # no space after the dash
    "text\n\n\u2014 example.com/ledger not*base64\n",
    "text\n\n\u2014 example.com/ledger AAAA\n",  # under 5 bytes
    "text\n\n\u2014 example.com/ledger\n",
    "text\n\n\u2014  AAAAAAA=\n",  # empty name
    "text\r\n\n\u2014 example.com/ledger AAAAAAA=\n",  # control character
    "text\x00\n\n\u2014 example.com/ledger AAAAAAA=\n",
    "text\n\n" + "\u2014 x AAAAAAA=\n" * 101,
])
def test_malformed_notes_are_rejected(note, log_key):
    with pytest.raises(ValueError):
        open_note(note, [verifier_key(LOG_NAME, log_key.public_key)])


def test_bad_verifier_keys_and_signing_input(log_key):
    vkey = verifier_key(LOG_NAME, log_key.public_key)
    name, hex_id, key64 = vkey.split("+", 2)  # the base64 key may itself hold a "+"
    raw = base64.b64decode(key64)
    other_alg = base64.b64encode(b"\x02" + raw[1:]).decode()
    for bad in [
        f"{name}+{hex_id}",
        f"{name}+{hex_id[:7]}+{key64}",
        f"{name}+00000000+{key64}",  # ID that is not this key's
        f"{name}+{hex_id}+{other_alg}",  # another algorithm
        f"{name}+{hex_id}+{base64.b64encode(raw[:-1]).decode()}",
        f"{name}+{hex_id}+{key64}=",
        f"{name}+{hex_id}+{key64.replace('+', '-')}",
        f"exa mple+{hex_id}+{key64}",
        f"+{hex_id}+{key64}",
        f"other.name+{hex_id}+{key64}",
        "",
    ]:
        with pytest.raises(ValueError):
            parse_verifier_key(bad)
    with pytest.raises(ValueError):
        open_note(sign_note("x\n", LOG_NAME, log_key), [f"{name}+00000000+{key64}"])
    for body in ["no newline", "", "tab\there\n"]:
        with pytest.raises(ValueError):
            sign_note(body, LOG_NAME, log_key)
    for bad_name in ["", "with space", "a+b", "nbsp\u00a0x", "tab\tx"]:
        with pytest.raises(ValueError):
            sign_note("x\n", bad_name, log_key)
        with pytest.raises(ValueError):
            note_key_id(bad_name, log_key.public_key)


def test_checkpoint_parsing():
    root = bytes(range(32))
    r64 = base64.b64encode(root).decode()
    assert parse_checkpoint(checkpoint_body("example.com/log", 0, root)) == ("example.com/log", 0, root)
    assert parse_checkpoint(f"o\n5\n{r64}\next one\next two\n") == ("o", 5, root)  # extension lines
    assert parse_checkpoint(f"o\n{2**63 - 1}\n{r64}\n")[1] == 2**63 - 1
    for bad in [
        f"o\n5\n{r64}",  # no final newline
        "o\n5\n",
        f"\n5\n{r64}\n",  # empty origin
        f"o\n05\n{r64}\n",  # leading zero
        f"o\n-5\n{r64}\n",
        f"o\n+5\n{r64}\n",
        f"o\n 5\n{r64}\n",
        f"o\n5 \n{r64}\n",
        f"o\n\u0665\n{r64}\n",  # an Arabic-Indic five is not ASCII decimal
        f"o\n{2**63}\n{r64}\n",
        f"o\n5\n{r64.rstrip('=')}\n",
        f"o\n5\n{base64.b64encode(root[:31]).decode()}\n",
        f"o\n5\n{base64.urlsafe_b64encode(bytes([0xfb] * 32)).decode()}\n",
        f"o\n5\n{r64}\n\nafter a blank\n",
        f"o\n5\n{r64}\n\n",
        f"o\r\n5\n{r64}\n",
    ]:
        with pytest.raises(ValueError):
            parse_checkpoint(bad)
    for args in [("", 1, root), ("a\nb", 1, root), ("o", -1, root), ("o", True, root), ("o", 1, root[:31])]:
        with pytest.raises(ValueError):
            checkpoint_body(*args)


# --- interoperability with Go's golang.org/x/mod/sumdb/note and tlog ---------------------------

def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _run_go(binary, vkey: str, payload: dict):
    return subprocess.run([str(binary), vkey], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=60)


def test_go_opens_our_checkpoints_and_checks_our_proofs(go_verifier, log_key):
    leaves = [data_of(i) for i in range(1000)]
    tree = M.MemoryTree(leaves)
    vkey = verifier_key(LOG_NAME, log_key.public_key)
    for n, i, m in [(1, 0, 1), (2, 1, 1), (7, 3, 4), (8, 7, 3), (1000, 0, 1), (1000, 999, 512), (1000, 617, 999),
                    (777, 500, 333)]:
        note = sign_note(checkpoint_body(LOG_NAME, n, tree.root(n)), LOG_NAME, log_key)
        payload = {
            "note": note,
            "inclusion": {"index": i, "leaf_hash": b64(tree.leaf_hash(i)),
                          "proof": [b64(p) for p in tree.inclusion_proof(i, n)]},
            "consistency": {"size": m, "root": b64(tree.root(m)),
                            "proof": [b64(p) for p in tree.consistency_proof(m, n)]},
        }
        done = _run_go(go_verifier, vkey, payload)
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out == {"origin": LOG_NAME, "size": n, "root": b64(tree.root(n)),
                       "signers": [f"{LOG_NAME}+60db519f"], "inclusion": True, "consistency": True}

        # Go refuses what Python refuses: a wrong proof, a changed note, a wrong key.
        bad = json.loads(json.dumps(payload))
        bad["inclusion"]["index"] = (i + 1) % n if n > 1 else 1
        assert _run_go(go_verifier, vkey, bad).returncode == 1
        if payload["consistency"]["proof"]:
            bad = json.loads(json.dumps(payload))
            bad["consistency"]["proof"] = bad["consistency"]["proof"][:-1]
            assert _run_go(go_verifier, vkey, bad).returncode == 1
    tampered = dict(payload, note=note.replace(f"\n{n}\n", f"\n{n + 1}\n"))
    assert "note.Open" in _run_go(go_verifier, vkey, tampered).stderr
    stranger = verifier_key(LOG_NAME, SigningKey.generate().public_key)
    assert _run_go(go_verifier, stranger, payload).returncode == 1


def test_go_example_note_is_also_ours(go_verifier):
    """Go's own documented note opens in Go through the same program (sanity of the harness)."""
    done = _run_go(go_verifier, GO_VKEY, {"note": GO_NOTE})
    # Its text is a quotation, not a checkpoint, so only the checkpoint parse may fail.
    assert "note.Open" not in done.stderr
