"""RFC 6962 / RFC 9162 §2.1 Merkle tree math over SHA-256, pure (no I/O, no state).

Hashes are raw 32-byte ``bytes``. Leaves enter as *leaf hashes* ``H(0x00 ‖ d)``; interior
nodes are ``H(0x01 ‖ left ‖ right)``; a tree of ``n > 1`` leaves splits at the largest power of
two smaller than ``n`` (RFC 9162 §2.1.1).

Stored-node model
-----------------
A *perfect node* ``(level, index)`` is the root of the ``2**level`` leaves
``[index * 2**level, (index + 1) * 2**level)``; level-0 nodes are the leaf hashes. Perfect
nodes never change once all their leaves exist, so a store can keep them (appended by
:func:`append`) and serve them through a callback ``node(level, index) -> bytes``. Every other
hash the RFC needs — roots of any past size, inclusion and consistency proofs — is a right fold
of a few perfect nodes (:func:`perfect_ranges`, :func:`subtree_hash`). The ``*_nodes``
functions list the perfect nodes an operation will ask for, so a store can fetch them in one
query and answer ``node`` from a dict.

An *RFC subtree* ``[start, end)`` is a node of the RFC 6962 tree of some size: with
``L = ceil(log2(end - start))``, ``start`` is a multiple of ``2**L``. These are the only ranges
whose hashes appear in RFC proofs; the functions here raise ``ValueError`` for other ranges.

Verification functions (:func:`verify_inclusion`, :func:`verify_consistency`) never raise:
any malformed input yields ``False``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "NodeGetter",
    "append",
    "consistency_nodes",
    "consistency_proof",
    "fold_right",
    "frontier",
    "inclusion_nodes",
    "inclusion_proof",
    "leaf_hash",
    "leaf_hashes",
    "node_hash",
    "parent_level",
    "perfect_ranges",
    "root",
    "root_from_frontier",
    "subtree_hash",
    "verify_consistency",
    "verify_inclusion",
]

#: ``node(level, index)`` → the 32-byte hash of that perfect node.
NodeGetter = Callable[[int, int], bytes]

HASH_SIZE: Final[int] = 32
_sha256 = hashlib.sha256
#: MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1).
EMPTY_ROOT: Final[bytes] = _sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return ``H(0x00 ‖ data)``, the RFC 6962 leaf hash of ``data``."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return ``H(0x01 ‖ left ‖ right)``, the RFC 6962 interior node hash."""
    return _sha256(b"\x01" + left + right).digest()


def leaf_hashes(data: Iterable[bytes]) -> list[bytes]:
    """Return ``[leaf_hash(d) for d in data]`` in one pass (the batch form for hot loops)."""
    sha = _sha256
    return [sha(b"\x00" + d).digest() for d in data]


def parent_level(hashes: Sequence[bytes]) -> list[bytes]:
    """Return the node hashes of the pairs ``(hashes[0], hashes[1]), (hashes[2], hashes[3])…``.

    The batch form of :func:`node_hash`: one level up of a row of sibling nodes. An unpaired
    last hash is left out (the caller carries it up or keeps it for later).
    """
    sha = _sha256
    return [sha(b"\x01" + hashes[i] + hashes[i + 1]).digest() for i in range(0, len(hashes) - 1, 2)]


def fold_right(pieces: Sequence[bytes]) -> bytes:
    """Return the root of perfect pieces given left to right, highest level leftmost.

    ``node_hash(p0, node_hash(p1, … node_hash(p[n-2], p[n-1])))``: how RFC 6962 joins the
    perfect nodes that tile a range. ``EMPTY_ROOT`` for no pieces.
    """
    if not pieces:
        return EMPTY_ROOT
    sha = _sha256
    acc = pieces[-1]
    for i in range(len(pieces) - 2, -1, -1):
        acc = sha(b"\x01" + pieces[i] + acc).digest()
    return acc


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH over already leaf-hashed entries (``EMPTY_ROOT`` for none).

    Computed level by level, carrying an unpaired last node up unchanged, which yields the
    same tree as RFC 6962's split at the largest power of two below ``n``. O(n).
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        nxt = parent_level(level)
        if len(level) & 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def _check_subtree(start: int, end: int) -> None:
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    if start & ((1 << (end - start - 1).bit_length()) - 1):
        raise ValueError(f"[{start}, {end}) is not an RFC 6962 subtree (start not aligned)")


def perfect_ranges(start: int, end: int) -> list[tuple[int, int]]:
    """Decompose the RFC subtree ``[start, end)`` into perfect nodes, left to right.

    Returns ``(level, index)`` pairs, one per set bit of ``end - start`` from the highest
    down; their leaf ranges tile ``[start, end)``.

    Raises:
        ValueError: if ``[start, end)`` is empty or not an RFC subtree (module docstring).
    """
    _check_subtree(start, end)
    out: list[tuple[int, int]] = []
    pos = start
    size = end - start
    while size:
        level = size.bit_length() - 1
        out.append((level, pos >> level))
        pos += 1 << level
        size -= 1 << level
    return out


def subtree_hash(start: int, end: int, node: NodeGetter) -> bytes:
    """Return MTH(D[start:end]) of the RFC subtree ``[start, end)`` from perfect nodes.

    Right fold of :func:`perfect_ranges`: ``H(p0, H(p1, … H(p_{k-2}, p_{k-1})))``, which is
    RFC 6962's split for sizes that are not powers of two.

    Raises:
        ValueError: if ``[start, end)`` is empty or not an RFC subtree.
    """
    size = end - start
    if size > 0 and not size & (size - 1) and start >= 0 and not start & (size - 1):
        level = size.bit_length() - 1  # fast path: one perfect node
        return node(level, start >> level)
    return fold_right([node(lvl, idx) for lvl, idx in perfect_ranges(start, end)])


def frontier(size: int) -> list[tuple[int, int]]:
    """Return the perfect nodes of ``[0, size)`` (one per set bit of ``size``), left to right.

    Empty for ``size == 0``. Raises ``ValueError`` for a negative size.
    """
    if size < 0:
        raise ValueError(f"negative size {size}")
    return perfect_ranges(0, size) if size else []


def root_from_frontier(size: int, node: NodeGetter) -> bytes:
    """Return the root of the first ``size`` leaves from the frontier nodes of ``size``.

    ``EMPTY_ROOT`` for ``size == 0``. Raises ``ValueError`` for a negative size.
    """
    if size < 0:
        raise ValueError(f"negative size {size}")
    return subtree_hash(0, size, node) if size else EMPTY_ROOT


def append(
    size: int,
    frontier_hashes: Mapping[int, bytes],
    new_leaf_hashes: Sequence[bytes],
) -> tuple[list[tuple[int, int, bytes]], dict[int, bytes]]:
    """Append leaves to a tree of ``size`` leaves given only its frontier.

    Args:
        size: current number of leaves.
        frontier_hashes: level → hash of the frontier nodes of ``size`` (exactly one per set
            bit of ``size``; see :func:`frontier`).
        new_leaf_hashes: the new leaves' leaf hashes (32 bytes each), in order.

    Returns:
        ``(nodes, new_frontier)``: every perfect node that did not exist before, as
        ``(level, index, hash)`` in creation order (each leaf ``(0, size + i, h)`` followed by
        the nodes it completes), and the frontier of ``size + len(new_leaf_hashes)`` as
        level → hash. The input mapping is not modified. O(k + log n) for k new leaves.

    Raises:
        ValueError: negative size, frontier levels not matching the set bits of ``size``,
            or a leaf hash that is not 32 bytes.
    """
    if size < 0:
        raise ValueError(f"negative size {size}")
    front = dict(frontier_hashes)
    want = {lvl for lvl in range(size.bit_length()) if size >> lvl & 1}
    if front.keys() != want:
        raise ValueError(f"frontier levels {sorted(front)} do not match size {size}")
    nodes: list[tuple[int, int, bytes]] = []
    add = nodes.append
    pop = front.pop
    n = size
    for h in new_leaf_hashes:
        if len(h) != HASH_SIZE:
            raise ValueError(f"leaf hash {n} is {len(h)} bytes, not 32")
        add((0, n, h))
        lvl = 0
        idx = n
        while idx & 1:
            h = _sha256(b"\x01" + pop(lvl) + h).digest()
            lvl += 1
            idx >>= 1
            add((lvl, idx, h))
        front[lvl] = h
        n += 1
    return nodes, front


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC subtrees whose hashes form PATH(index, D[0:size]), leaf level first."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} not in tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)  # largest power of two < hi - lo
        mid = lo + k
        if index < mid:
            out.append((mid, hi))
            hi = mid
        else:
            out.append((lo, mid))
            lo = mid
    out.reverse()
    return out


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """RFC subtrees whose hashes form PROOF(old, D[0:new]), in proof order."""
    if not 0 <= old <= new:
        raise ValueError(f"need 0 <= old <= new, got old={old} new={new}")
    out: list[tuple[int, int]] = []
    if old == 0 or old == new:
        return out
    # SUBPROOF(m, D[lo:hi], b), iteratively; the proof is built leaf-side last, so collect the
    # right-hand siblings top-down and reverse at the end.
    m, lo, hi, complete = old, 0, new, True
    while m != hi - lo:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            m -= k
            lo += k
            complete = False
    if not complete:
        out.append((lo, hi))
    out.reverse()
    return out


def _nodes_of(ranges: list[tuple[int, int]]) -> set[tuple[int, int]]:
    need: set[tuple[int, int]] = set()
    for s, e in ranges:
        need.update(perfect_ranges(s, e))
    return need


def inclusion_proof(index: int, size: int, node: NodeGetter) -> list[bytes]:
    """Return the RFC 9162 §2.1.3.1 inclusion proof PATH(index, D[0:size]).

    Uses only ``node(level, idx)`` lookups of perfect nodes within ``[0, size)``
    (exactly those of :func:`inclusion_nodes`). Empty for ``size == 1``.

    Raises:
        ValueError: unless ``0 <= index < size``.
    """
    return [subtree_hash(s, e, node) for s, e in _inclusion_ranges(index, size)]


def inclusion_nodes(index: int, size: int) -> set[tuple[int, int]]:
    """Return the perfect nodes ``(level, index)`` :func:`inclusion_proof` will look up.

    Raises:
        ValueError: unless ``0 <= index < size``.
    """
    return _nodes_of(_inclusion_ranges(index, size))


def consistency_proof(old: int, new: int, node: NodeGetter) -> list[bytes]:
    """Return the RFC 9162 §2.1.4.1 consistency proof PROOF(old, D[0:new]).

    Empty when ``old == 0`` or ``old == new``. Uses only ``node(level, idx)`` lookups of
    perfect nodes within ``[0, new)`` (exactly those of :func:`consistency_nodes`).

    Raises:
        ValueError: unless ``0 <= old <= new``.
    """
    return [subtree_hash(s, e, node) for s, e in _consistency_ranges(old, new)]


def consistency_nodes(old: int, new: int) -> set[tuple[int, int]]:
    """Return the perfect nodes ``(level, index)`` :func:`consistency_proof` will look up.

    Raises:
        ValueError: unless ``0 <= old <= new``.
    """
    return _nodes_of(_consistency_ranges(old, new))


def _is_count(x: object) -> bool:
    return type(x) is int and x >= 0


def _is_hash(x: object) -> bool:
    return type(x) is bytes and len(x) == HASH_SIZE


def _is_proof(proof: object) -> bool:
    return isinstance(proof, (list, tuple)) and all(_is_hash(p) for p in proof)


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an inclusion proof (RFC 9162 §2.1.3.2).

    ``leaf_hash`` is the leaf's ``H(0x00 ‖ d)``; ``proof`` the PATH from the leaf up. True iff
    the proof shows that leaf at ``index`` in the tree of ``size`` leaves whose root is
    ``root``. Never raises: malformed input (``index >= size``, negative numbers, hashes
    that are not 32 ``bytes``, a proof of the wrong length) gives False.
    """
    if not (_is_count(index) and _is_count(size) and index < size):
        return False
    if not (_is_hash(leaf_hash) and _is_hash(root) and isinstance(proof, (list, tuple))):
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0 or type(p) is not bytes or len(p) != HASH_SIZE:
            return False
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof between tree sizes ``old <= new`` (RFC 9162 §2.1.4.2).

    Conventions for the trivial cases: ``old == new`` needs an empty proof and equal roots;
    ``old == 0`` needs an empty proof and ``old_root == EMPTY_ROOT`` (every tree extends the
    empty one). Never raises: malformed input (``old > new``, negative sizes, hashes that are
    not 32 ``bytes``, a proof of the wrong length) gives False.
    """
    if not (_is_count(old) and _is_count(new) and old <= new):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root) and _is_proof(proof)):
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if (old & (old - 1)) == 0:  # old is a power of two: its root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
