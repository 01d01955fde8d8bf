"""Tests of ledger.merkle: published RFC 6962 / Certificate Transparency vectors, then
exhaustive round trips over every tree size 1..64."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

import pytest

from ledger import merkle
from ledger.merkle import (
    EMPTY_ROOT,
    append,
    consistency_nodes,
    consistency_proof,
    frontier,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    node_hash,
    perfect_ranges,
    root,
    root_from_frontier,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

# --------------------------------------------------------------------------------------------
# Test vectors (data only).
#
# The 8-leaf sample tree of the Certificate Transparency reference implementation,
# google/certificate-transparency cpp/merkletree/merkle_tree_test.cc (commit c41b090e…), as
# replicated in Chromium's net/cert/ct_log_verifier_unittest.cc and in
# transparency-dev/merkle proof/verify_test.go (leaves, roots, inclusion and consistency
# proofs; the 6→7 consistency proof is only in the latter). The hasher vectors are from
# transparency-dev/merkle rfc6962/rfc6962_test.go; the node sets for inclusion/consistency
# proofs are from transparency-dev/merkle proof/proof_test.go, whose NodeID(level, index)
# is the same (level, index) as ours.
# --------------------------------------------------------------------------------------------

H = bytes.fromhex

CT_LEAVES = [
    H(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]

CT_LEAF_HASHES = [
    H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
    H("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
    H("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
    H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    H("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
    H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
    H("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
]

# CT_ROOTS[n - 1] is the root of the first n leaves.
CT_ROOTS = [
    H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    H("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    H("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    H("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    H("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    H("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# (0-based leaf index, tree size, proof)
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

# (old size, new size, proof)
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# transparency-dev/merkle proof/proof_test.go: perfect nodes (level, index) fetched for
# inclusion proofs (index, size) and consistency proofs (old, new).
TD_INCLUSION_NODES = [
    (0, 1, set()),
    (0, 2, {(0, 1)}),
    (1, 3, {(0, 0), (0, 2)}),
    (0, 7, {(0, 1), (1, 1), (0, 6), (1, 2)}),
    (3, 7, {(0, 2), (1, 0), (0, 6), (1, 2)}),
    (4, 7, {(0, 5), (0, 6), (2, 0)}),
    (6, 7, {(1, 2), (2, 0)}),
    (3, 5, {(0, 2), (1, 0), (0, 4)}),
    (4, 6, {(0, 5), (2, 0)}),
    (10, 15, {(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)}),
    (24, 31, {(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)}),
    (81, 95, {(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)}),
]
TD_CONSISTENCY_NODES = [
    (1, 2, {(0, 1)}),
    (1, 4, {(0, 1), (1, 1)}),
    (1, 6, {(0, 1), (1, 1), (1, 2)}),
    (2, 3, {(0, 2)}),
    (2, 8, {(1, 1), (2, 1)}),
    (3, 7, {(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)}),
    (4, 7, {(0, 6), (1, 2)}),
    (5, 7, {(0, 4), (0, 5), (0, 6), (2, 0)}),
    (6, 7, {(1, 2), (0, 6), (2, 0)}),
    (7, 8, {(0, 6), (0, 7), (1, 2), (2, 0)}),
    (3, 3, set()),
    (8, 8, set()),
    (3, 6, {(0, 2), (0, 3), (1, 0), (1, 2)}),
    (10, 15, {(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)}),
    (24, 31, {(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)}),
    (81, 95, {(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)}),
]


# --------------------------------------------------------------------------------------------
# Helpers: an in-memory perfect-node store, and a naive recursive RFC reference.
# --------------------------------------------------------------------------------------------


def build_nodes(leaf_hashes: list[bytes]) -> dict[tuple[int, int], bytes]:
    """All perfect nodes of the tree, built level by level without ledger.merkle.append."""
    nodes: dict[tuple[int, int], bytes] = {}
    level = list(leaf_hashes)
    lvl = 0
    while level:
        for i, h in enumerate(level):
            nodes[(lvl, i)] = h
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        lvl += 1
    return nodes


def getter(nodes: dict[tuple[int, int], bytes]) -> Callable[[int, int], bytes]:
    return lambda level, index: nodes[(level, index)]


def front_getter(front: dict[int, bytes]) -> Callable[[int, int], bytes]:
    """A node getter that serves the frontier nodes of the current size only."""
    return lambda level, index: front[level]


def mth(d: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, literally (recursive, over leaf hashes)."""
    n = len(d)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return d[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(d[:k]), mth(d[k:]))


def path_ref(m: int, d: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH, literally."""
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path_ref(m, d[:k]), mth(d[k:])]
    return [*path_ref(m - k, d[k:]), mth(d[:k])]


def subproof_ref(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF, literally."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof_ref(m, d[:k], b), mth(d[k:])]
    return [*subproof_ref(m - k, d[k:], False), mth(d[:k])]


def flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


LEAVES64 = [leaf_hash(b"leaf-%d" % i) for i in range(64)]
NODES64 = build_nodes(LEAVES64)
NODE64 = getter(NODES64)
ROOTS64 = [mth(LEAVES64[:n]) for n in range(65)]


# --------------------------------------------------------------------------------------------
# Hashers and published vectors.
# --------------------------------------------------------------------------------------------


def test_hasher_vectors() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )
    assert root([]) == EMPTY_ROOT
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT


def test_ct_leaf_hashes_and_roots() -> None:
    hashes = [leaf_hash(x) for x in CT_LEAVES]
    assert hashes == CT_LEAF_HASHES
    for n in range(1, 9):
        assert root(hashes[:n]) == CT_ROOTS[n - 1], n
        assert mth(hashes[:n]) == CT_ROOTS[n - 1], n


def test_ct_roots_from_stored_nodes_and_append() -> None:
    nodes = build_nodes(CT_LEAF_HASHES)
    for n in range(1, 9):
        assert root_from_frontier(n, getter(nodes)) == CT_ROOTS[n - 1]
    front: dict[int, bytes] = {}
    for size, h in enumerate(CT_LEAF_HASHES, start=1):
        _, front = append(size - 1, front, [h])
        assert root_from_frontier(size, front_getter(front)) == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_ct_inclusion_vectors(index: int, size: int, proof: list[bytes]) -> None:
    node = getter(build_nodes(CT_LEAF_HASHES[:size]))
    assert inclusion_proof(index, size, node) == proof
    assert verify_inclusion(index, size, CT_LEAF_HASHES[index], proof, CT_ROOTS[size - 1])
    # corruptions (after transparency-dev/merkle's corruptInclusionProof)
    leaf, rt = CT_LEAF_HASHES[index], CT_ROOTS[size - 1]
    bad: list[tuple[int, int, bytes, list[bytes], bytes]] = [
        (index - 1, size, leaf, proof, rt),
        (index + 1, size, leaf, proof, rt),
        (index ^ 2, size, leaf, proof, rt),
        (index, size * 2, leaf, proof, rt),
        (index, size // 2, leaf, proof, rt),
        (index, size, b"WrongLeaf", proof, rt),
        (index, size, leaf, proof, EMPTY_ROOT),
        (index, size, leaf, [*proof, b""], rt),
        (index, size, leaf, [*proof, rt], rt),
        (index, size, leaf, [b"", *proof], rt),
        (index, size, leaf, [rt, *proof], rt),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 3)
        bad.append((index, size, leaf, wrong, rt))
    if proof:
        bad.append((index, size, leaf, proof[:-1], rt))
    for args in bad:
        assert not verify_inclusion(*args), args[:2]


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_ct_consistency_vectors(old: int, new: int, proof: list[bytes]) -> None:
    node = getter(build_nodes(CT_LEAF_HASHES[:new]))
    assert consistency_proof(old, new, node) == proof
    r1, r2 = CT_ROOTS[old - 1], CT_ROOTS[new - 1]
    assert verify_consistency(old, new, r1, r2, proof)
    if not proof:
        return
    bad: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (old - 1, new, r1, r2, proof),
        (old + 1, new, r1, r2, proof),
        (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof),
        (old, new // 2, r1, r2, proof),
        (old, new, b"WrongRoot", r2, proof),
        (old, new, r1, b"WrongRoot", proof),
        (old, new, r2, r1, proof),
        (old, new, r1, r2, []),
        (old, new, r1, r2, [*proof, b""]),
        (old, new, r1, r2, [*proof, r1]),
        (old, new, r1, r2, [*proof, r2]),
        (old, new, r1, r2, [b"", *proof]),
        (old, new, r1, r2, [r1, *proof]),
        (old, new, r1, r2, [r2, *proof]),
        (old, new, r1, r2, [proof[0], *proof]),
        (old, new, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 4)
        bad.append((old, new, r1, r2, wrong))
    for args in bad:
        assert not verify_consistency(*args), args[:2]


@pytest.mark.parametrize(("index", "size", "want"), TD_INCLUSION_NODES)
def test_inclusion_nodes_vectors(index: int, size: int, want: set[tuple[int, int]]) -> None:
    assert inclusion_nodes(index, size) == want


@pytest.mark.parametrize(("old", "new", "want"), TD_CONSISTENCY_NODES)
def test_consistency_nodes_vectors(old: int, new: int, want: set[tuple[int, int]]) -> None:
    assert consistency_nodes(old, new) == want


# --------------------------------------------------------------------------------------------
# Node decomposition.
# --------------------------------------------------------------------------------------------


def rfc_subtrees(limit: int) -> list[tuple[int, int]]:
    """Every RFC subtree [start, end) with end <= limit."""
    out = []
    for start in range(limit):
        for end in range(start + 1, limit + 1):
            size = end - start
            if start % (1 << (size - 1).bit_length()) == 0:
                out.append((start, end))
    return out


def test_perfect_ranges_tile_the_range() -> None:
    for start, end in rfc_subtrees(64):
        pos = start
        levels = []
        for level, index in perfect_ranges(start, end):
            assert index << level == pos
            pos += 1 << level
            levels.append(level)
        assert pos == end
        assert levels == sorted(levels, reverse=True)
        assert len(set(levels)) == len(levels)


def test_perfect_ranges_rejects_non_subtrees() -> None:
    for start, end in [(1, 3), (2, 5), (4, 9), (3, 3), (5, 4), (-1, 1), (6, 10)]:
        with pytest.raises(ValueError):
            perfect_ranges(start, end)
        with pytest.raises(ValueError):
            subtree_hash(start, end, NODE64)


def test_subtree_hash_equals_root_of_slice() -> None:
    for start, end in rfc_subtrees(64):
        assert subtree_hash(start, end, NODE64) == root(LEAVES64[start:end]), (start, end)


def test_frontier() -> None:
    assert frontier(0) == []
    assert frontier(1) == [(0, 0)]
    assert frontier(6) == [(2, 0), (1, 2)]
    assert frontier(7) == [(2, 0), (1, 2), (0, 6)]
    assert frontier(8) == [(3, 0)]
    with pytest.raises(ValueError):
        frontier(-1)
    assert root_from_frontier(0, NODE64) == EMPTY_ROOT
    for n in range(1, 65):
        assert len(frontier(n)) == n.bit_count()
        assert root_from_frontier(n, NODE64) == ROOTS64[n] == root(LEAVES64[:n])


# --------------------------------------------------------------------------------------------
# append().
# --------------------------------------------------------------------------------------------


def test_append_matches_build_from_scratch_in_random_chunkings() -> None:
    rng = random.Random(6962)
    for trial in range(60):
        total = rng.randint(0, 64) if trial else 64
        size, front = 0, {}
        seen: dict[tuple[int, int], bytes] = {}
        while size < total:
            k = rng.randint(0, min(9, total - size))
            created, new_front = append(size, front, LEAVES64[size : size + k])
            for lvl, idx, h in created:
                assert (lvl, idx) not in seen, "a node was created twice"
                seen[(lvl, idx)] = h
            # exactly the perfect nodes completed by the new leaves
            expected = {
                (lvl, idx)
                for lvl in range(7)
                for idx in range(64 >> lvl)
                if size < (idx + 1) << lvl <= size + k
            }
            assert {(lvl, idx) for lvl, idx, _ in created} == expected
            size += k
            assert new_front == {lvl: NODES64[(lvl, i)] for lvl, i in frontier(size)}
            front = new_front
        full = {key: h for key, h in build_nodes(LEAVES64[:total]).items()}
        assert seen == full
        assert root_from_frontier(total, front_getter(front)) == ROOTS64[total]


def test_append_does_not_modify_input_and_validates() -> None:
    front = {lvl: NODES64[(lvl, i)] for lvl, i in frontier(5)}
    copy = dict(front)
    append(5, front, LEAVES64[5:9])
    assert front == copy
    with pytest.raises(ValueError):
        append(5, {0: LEAVES64[4]}, [])  # level 2 missing
    with pytest.raises(ValueError):
        append(4, {0: LEAVES64[0], 2: NODES64[(2, 0)]}, [])  # level 0 extra
    with pytest.raises(ValueError):
        append(0, {}, [b"short"])
    with pytest.raises(ValueError):
        append(-1, {}, [])
    assert append(5, front, []) == ([], front)


# --------------------------------------------------------------------------------------------
# Exhaustive proofs 1..64.
# --------------------------------------------------------------------------------------------


def test_every_inclusion_proof_1_to_64() -> None:
    for n in range(1, 65):
        rt = ROOTS64[n]
        for m in range(n):
            proof = inclusion_proof(m, n, NODE64)
            assert proof == path_ref(m, LEAVES64[:n]), (m, n)
            assert verify_inclusion(m, n, LEAVES64[m], proof, rt), (m, n)
            # the nodes listed are exactly the ones used
            used: set[tuple[int, int]] = set()

            def spy(level: int, index: int, used: set[tuple[int, int]] = used) -> bytes:
                used.add((level, index))
                return NODES64[(level, index)]

            inclusion_proof(m, n, spy)
            assert used == inclusion_nodes(m, n)
            assert all((idx + 1) << lvl <= n for lvl, idx in used)
            # tampering
            assert not verify_inclusion(m, n, flip(LEAVES64[m]), proof, rt)
            assert not verify_inclusion(m, n, LEAVES64[m], proof, flip(rt, 7))
            for i in range(len(proof)):
                wrong = list(proof)
                wrong[i] = flip(wrong[i], i % 8)
                assert not verify_inclusion(m, n, LEAVES64[m], wrong, rt)
            for other in range(n):
                if other != m and LEAVES64[other] != LEAVES64[m]:
                    assert not verify_inclusion(other, n, LEAVES64[m], proof, rt)
            assert not verify_inclusion(m, n, LEAVES64[m], [*proof, rt], rt)
            if proof:
                assert not verify_inclusion(m, n, LEAVES64[m], proof[:-1], rt)


def test_every_consistency_proof_1_to_64() -> None:
    for n in range(1, 65):
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, NODE64)
            assert proof == subproof_ref(m, LEAVES64[:n], True), (m, n)
            r1, r2 = ROOTS64[m], ROOTS64[n]
            assert verify_consistency(m, n, r1, r2, proof), (m, n)
            used: set[tuple[int, int]] = set()

            def spy(level: int, index: int, used: set[tuple[int, int]] = used) -> bytes:
                used.add((level, index))
                return NODES64[(level, index)]

            consistency_proof(m, n, spy)
            assert used == consistency_nodes(m, n)
            assert all((idx + 1) << lvl <= n for lvl, idx in used)
            # tampering
            assert not verify_consistency(m, n, flip(r1), r2, proof)
            assert not verify_consistency(m, n, r1, flip(r2), proof)
            for i in range(len(proof)):
                wrong = list(proof)
                wrong[i] = flip(wrong[i], i % 8)
                assert not verify_consistency(m, n, r1, r2, wrong), (m, n, i)
            assert not verify_consistency(m, n, r1, r2, [*proof, r2])
            if proof:
                assert not verify_consistency(m, n, r1, r2, proof[:-1])
                assert not verify_consistency(m, n, r1, r2, [proof[0], *proof])
            for m2 in range(1, n + 1):
                if m2 != m and ROOTS64[m2] != r1:
                    assert not verify_consistency(m2, n, r1, r2, proof), (m, m2, n)


def test_consistency_from_empty_tree() -> None:
    assert consistency_proof(0, 5, NODE64) == []
    assert consistency_nodes(0, 5) == set()
    assert verify_consistency(0, 5, EMPTY_ROOT, ROOTS64[5], [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 5, ROOTS64[1], ROOTS64[5], [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, ROOTS64[5], [ROOTS64[5]])


def test_proof_generation_rejects_bad_arguments() -> None:
    for index, size in [(0, 0), (5, 5), (6, 5), (-1, 5)]:
        with pytest.raises(ValueError):
            inclusion_proof(index, size, NODE64)
        with pytest.raises(ValueError):
            inclusion_nodes(index, size)
    for old, new in [(6, 5), (-1, 5), (1, 0)]:
        with pytest.raises(ValueError):
            consistency_proof(old, new, NODE64)
        with pytest.raises(ValueError):
            consistency_nodes(old, new)


def test_verifiers_never_raise_on_malformed_input() -> None:
    leaf, rt, proof = LEAVES64[3], ROOTS64[8], inclusion_proof(3, 8, NODE64)
    junk: list[object] = [None, -1, 1.5, "3", True, b"x" * 32, [b"x" * 31], ["ab" * 32], object()]
    for j in junk:
        for args in [
            (j, 8, leaf, proof, rt),
            (3, j, leaf, proof, rt),
            (3, 8, j, proof, rt),
            (3, 8, leaf, j, rt),
            (3, 8, leaf, [*proof[:-1], j], rt),
            (3, 8, leaf, proof, j),
        ]:
            assert verify_inclusion(*args) is False  # type: ignore[arg-type]
    assert verify_inclusion(3, 8, leaf, tuple(proof), rt) is True
    assert verify_inclusion(8, 8, leaf, proof, rt) is False
    assert verify_inclusion(0, 0, EMPTY_ROOT, [], EMPTY_ROOT) is False
    assert verify_inclusion(3, 8, leaf, proof, bytearray(rt)) is False  # type: ignore[arg-type]
    cproof = consistency_proof(3, 8, NODE64)
    r1 = ROOTS64[3]
    for j in junk:
        for cargs in [
            (j, 8, r1, rt, cproof),
            (3, j, r1, rt, cproof),
            (3, 8, j, rt, cproof),
            (3, 8, r1, j, cproof),
            (3, 8, r1, rt, j),
            (3, 8, r1, rt, [*cproof[:-1], j]),
        ]:
            assert verify_consistency(*cargs) is False  # type: ignore[arg-type]
    assert verify_consistency(3, 8, r1, rt, cproof) is True
    assert verify_consistency(8, 3, rt, r1, cproof) is False
    assert verify_consistency(8, 8, rt, r1, []) is False
    assert verify_consistency(3, 2**70, r1, rt, cproof) is False
    assert verify_inclusion(3, 2**70, leaf, proof, rt) is False


def test_large_tree_roots_agree() -> None:
    """append/frontier/subtree arithmetic at sizes with many set bits, beyond 64."""
    rng = random.Random(9162)
    leaves = [leaf_hash(rng.randbytes(8)) for _ in range(1000)]
    nodes = build_nodes(leaves)
    created, front = append(0, {}, leaves[:777])
    created2, front2 = append(777, front, leaves[777:])
    assert {(lvl, i): h for lvl, i, h in created + created2} == nodes
    for n in (1, 2, 3, 255, 256, 257, 511, 777, 999, 1000):
        assert root_from_frontier(n, getter(nodes)) == root(leaves[:n]) == mth(leaves[:n])
    assert root_from_frontier(1000, front_getter(front2)) == root(leaves)
    for m, n in [(1, 1000), (511, 512), (512, 1000), (777, 999), (999, 1000)]:
        p = consistency_proof(m, n, getter(nodes))
        assert verify_consistency(m, n, root(leaves[:m]), root(leaves[:n]), p)
    for i in (0, 511, 512, 776, 999):
        p = inclusion_proof(i, 1000, getter(nodes))
        assert verify_inclusion(i, 1000, leaves[i], p, root(leaves))


def test_module_exports() -> None:
    for name in merkle.__all__:
        assert hasattr(merkle, name)
