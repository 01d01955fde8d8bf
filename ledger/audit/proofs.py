"""Proofs from the store: inclusion of records, consistency between checkpoints, and a
subject's head in a checkpoint's heads tree (AUDIT-FORMAT.md; RFC 9162 §2.1.3, §2.1.4).

Each function fetches the tree nodes its proofs need with one statement (per few hundred
nodes; ``merkle.inclusion_nodes`` / ``consistency_nodes`` name them) and checks every proof
it returns against the signed roots before handing it out: a store that no longer matches
its checkpoints raises :class:`ProofError` instead of producing a proof that would fail at
the auditor's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger import merkle
from ledger.audit.checkpoints import Checkpoint, head_leaf_hash, node_getter
from ledger.store.audit_reads import HEAD_NODES_MIN_LEVEL
from ledger.store.recorder import LedgerSQL

__all__ = [
    "ConsistencyProof",
    "HeadLeafProof",
    "HeadProof",
    "ProofError",
    "consistency_proof",
    "head_proof",
    "inclusion_paths",
    "verify_head_proof",
]


class ProofError(RuntimeError):
    """The store cannot produce a proof that verifies against its own signed checkpoint
    (records, nodes or stored heads were altered). The message says what failed."""


# -- the ledger tree ---------------------------------------------------------------------


def inclusion_paths(
    recorder: LedgerSQL,
    cursor: Any,
    leaves: Sequence[tuple[int, bytes]],
    checkpoint: Checkpoint,
) -> list[list[bytes]]:
    """The RFC 9162 inclusion proofs of records ``(position, hash)`` in the tree of
    ``checkpoint.size`` leaves, in the order given, each checked against its root.

    Raises:
        ValueError: a position is not below the checkpoint's size.
        ProofError: a proof does not lead to the checkpoint's root.
    """
    size = checkpoint.size
    wanted: set[tuple[int, int]] = set()
    for position, _ in leaves:
        wanted |= merkle.inclusion_nodes(position, size)
    node = node_getter(recorder.tree_nodes(cursor, wanted))
    root = bytes.fromhex(checkpoint.root)
    out = []
    for position, digest in leaves:
        path = merkle.inclusion_proof(position, size, node)
        if not merkle.verify_inclusion(position, size, merkle.leaf_hash(digest), path, root):
            raise ProofError(
                f"the record at position {position} (hash {digest.hex()}) is not proven "
                f"included in checkpoint {size}: the store no longer matches it; run "
                "`ledger verify`"
            )
        out.append(path)
    return out


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """PROOF(old, D[0:new]) between two tree sizes (checked against both checkpoints when
    they are stored)."""

    old: int
    new: int
    path: list[bytes]

    def to_json(self) -> dict[str, Any]:
        """The shape ``tools/verify_bundle.py --consistency`` reads."""
        return {"from": self.old, "to": self.new, "proof": [p.hex() for p in self.path]}


def consistency_proof(
    recorder: LedgerSQL,
    cursor: Any,
    old: Checkpoint,
    new: Checkpoint,
) -> ConsistencyProof:
    """The consistency proof from checkpoint ``old`` to checkpoint ``new``.

    Raises:
        ValueError: ``old.size > new.size``.
        ProofError: the proof does not show ``new`` extends ``old`` from the stored nodes.
    """
    if old.size > new.size:
        raise ValueError(f"checkpoint {old.size} is not before checkpoint {new.size}")
    node = node_getter(recorder.tree_nodes(cursor, merkle.consistency_nodes(old.size, new.size)))
    path = merkle.consistency_proof(old.size, new.size, node)
    if not merkle.verify_consistency(
        old.size, new.size, bytes.fromhex(old.root), bytes.fromhex(new.root), path
    ):
        raise ProofError(
            f"the stored tree does not prove checkpoint {new.size} extends checkpoint "
            f"{old.size}: run `ledger verify`"
        )
    return ConsistencyProof(old.size, new.size, path)


# -- the heads tree -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeadLeafProof:
    """One leaf of a heads tree with its inclusion proof."""

    subject: str
    seq: int
    hash: bytes
    index: int
    path: list[bytes]

    def leaf_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "seq": self.seq, "hash": self.hash.hex()}

    def to_json(self) -> dict[str, Any]:
        return {
            "leaf": self.leaf_json(),
            "index": self.index,
            "inclusion": [p.hex() for p in self.path],
        }


@dataclass(frozen=True, slots=True)
class HeadProof:
    """A subject's head in a checkpoint's heads tree, with its sorted neighbours.

    ``leaf`` is the subject's head (None if the subject had no record at that size; then
    ``index`` is where it would sort: the number of subjects before it). ``previous`` is
    the leaf at ``index − 1`` and ``next`` the one after the subject's place (``index + 1``
    if present, else ``index``), each None at the ends of the tree. ``count`` is the
    number of leaves."""

    subject: str
    size: int
    count: int
    index: int
    leaf: HeadLeafProof | None
    previous: HeadLeafProof | None
    next: HeadLeafProof | None

    def to_json(self) -> dict[str, Any]:
        """The bundle's ``head`` object (docs/audit-format-v1-additions.md)."""

        def neighbour(p: HeadLeafProof | None) -> dict[str, Any] | None:
            return None if p is None else p.to_json()

        return {
            "leaf": None if self.leaf is None else self.leaf.leaf_json(),
            "index": self.index,
            "count": self.count,
            "inclusion": [] if self.leaf is None else [p.hex() for p in self.leaf.path],
            "previous": neighbour(self.previous),
            "next": neighbour(self.next),
        }


def head_proof(recorder: LedgerSQL, cursor: Any, subject: str, checkpoint: Checkpoint) -> HeadProof:
    """Prove ``subject``'s head (or its absence) in ``checkpoint.heads_root``.

    Reads the checkpoint's stored head leaves around the subject and its stored heads-tree
    nodes (a few dozen rows); if the checkpoint's heads were not stored (or were pruned),
    recomputes every subject's head at that size from the records (seconds per million
    subjects) and checks it against the signed ``heads_root`` first.

    Raises:
        ProofError: the stored or recomputed heads do not lead to the signed heads_root.
    """
    size = checkpoint.size
    count = recorder.checkpoint_head_count(cursor, size)
    if count == 0 and checkpoint.heads_root != merkle.EMPTY_ROOT.hex():
        return _recomputed_head_proof(recorder, cursor, subject, checkpoint)
    index, present = recorder.checkpoint_head_rank(cursor, size, subject)
    want = [index - 1, index, index + 1] if present else [index - 1, index]
    want = [i for i in want if 0 <= i < count]
    nodes: set[tuple[int, int]] = set()
    for i in want:
        nodes |= merkle.inclusion_nodes(i, count)
    low = [(lvl, idx) for lvl, idx in nodes if lvl < HEAD_NODES_MIN_LEVEL]
    spans = [(idx << lvl, (idx + 1) << lvl) for lvl, idx in low] + [(i, i + 1) for i in want]
    rows = recorder.checkpoint_head_rows(cursor, size, spans)
    leaves = {ordinal: (s, k, h) for ordinal, s, k, h in rows}
    stored = recorder.checkpoint_head_nodes(cursor, size, nodes)

    def node(level: int, idx: int) -> bytes:
        if level >= HEAD_NODES_MIN_LEVEL:
            return stored[(level, idx)]
        start = idx << level
        return merkle.root([head_leaf_hash(*leaves[i]) for i in range(start, start + (1 << level))])

    try:
        return _assemble(subject, checkpoint, count, index, present, leaves, node)
    except KeyError:
        return _recomputed_head_proof(recorder, cursor, subject, checkpoint)


def _recomputed_head_proof(
    recorder: LedgerSQL, cursor: Any, subject: str, checkpoint: Checkpoint
) -> HeadProof:
    from bisect import bisect_left

    heads = recorder.select_heads(cursor, checkpoint.size)
    subjects = [s for s, _, _ in heads]
    index = bisect_left(subjects, subject)
    present = index < len(heads) and subjects[index] == subject
    levels: list[list[bytes]] = [[head_leaf_hash(s, k, h) for s, k, h in heads]]
    while len(levels[-1]) >= 2:
        below = levels[-1]
        levels.append(
            [merkle.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        )
    if merkle.root_from_frontier(len(heads), lambda lvl, i: levels[lvl][i]).hex() != (
        checkpoint.heads_root
    ):
        raise ProofError(
            f"the subjects' heads recomputed from the records do not match the heads_root "
            f"signed in checkpoint {checkpoint.size}: run `ledger verify`"
        )
    leaves = dict(enumerate(heads))
    return _assemble(
        subject, checkpoint, len(heads), index, present, leaves, lambda lvl, i: levels[lvl][i]
    )


def _assemble(
    subject: str,
    checkpoint: Checkpoint,
    count: int,
    index: int,
    present: bool,
    leaves: dict[int, tuple[str, int, bytes]],
    node: merkle.NodeGetter,
) -> HeadProof:
    root = bytes.fromhex(checkpoint.heads_root)

    def prove(i: int) -> HeadLeafProof | None:
        if not 0 <= i < count:
            return None
        s, k, h = leaves[i]
        path = merkle.inclusion_proof(i, count, node)
        if not merkle.verify_inclusion(i, count, head_leaf_hash(s, k, h), path, root):
            raise ProofError(
                f"head leaf {i} ({s} seq {k}) is not proven in the heads_root of checkpoint "
                f"{checkpoint.size}: the stored heads no longer match it; run `ledger verify`"
            )
        return HeadLeafProof(s, k, h, i, path)

    leaf = prove(index) if present else None
    previous = prove(index - 1)
    following = prove(index + 1 if present else index)
    if leaf is not None and leaf.subject != subject:
        raise ProofError(f"stored head leaf {index} is {leaf.subject}, not {subject}")
    if previous is not None and not previous.subject < subject:
        raise ProofError(f"stored head leaves are out of order at {index - 1}")
    if following is not None and not subject < following.subject:
        raise ProofError(f"stored head leaves are out of order after {index}")
    return HeadProof(subject, checkpoint.size, count, index, leaf, previous, following)


def verify_head_proof(proof: dict[str, Any], subject: str, heads_root: bytes) -> list[str]:
    """Check a bundle's ``head`` object with ``ledger.merkle`` (the project's own reading of
    the rules in docs/audit-format-v1-additions.md); the failures, empty if it holds."""
    fails: list[str] = []

    def check(part: Any, index: Any, count: Any, name: str) -> str | None:
        try:
            leaf = part["leaf"]
            path = [bytes.fromhex(p) for p in part["inclusion"]]
            h = head_leaf_hash(leaf["subject"], leaf["seq"], bytes.fromhex(leaf["hash"]))
        except (KeyError, TypeError, ValueError) as e:
            fails.append(f"{name}: malformed: {e}")
            return None
        if part.get("index", index) != index or not merkle.verify_inclusion(
            index, count, h, path, heads_root
        ):
            fails.append(f"{name}: inclusion proof does not lead to heads_root")
        return str(leaf["subject"])

    count, index = proof.get("count"), proof.get("index")
    if not isinstance(count, int) or not isinstance(index, int):
        return ["head: count/index missing"]
    present = proof.get("leaf") is not None
    if present:
        s = check(proof, index, count, "head")
        if s != subject:
            fails.append(f"head: leaf is {s}, not {subject}")
    prev, nxt = proof.get("previous"), proof.get("next")
    if (prev is None) != (index == 0):
        fails.append("head: previous must be given exactly when index > 0")
    elif prev is not None:
        s = check(prev, index - 1, count, "head previous")
        if s is not None and not s < subject:
            fails.append("head previous: does not sort before the subject")
    after = index + 1 if present else index
    if (nxt is None) != (after >= count):
        fails.append("head: next must be given exactly when a leaf follows")
    elif nxt is not None:
        s = check(nxt, after, count, "head next")
        if s is not None and not subject < s:
            fails.append("head next: does not sort after the subject")
    return fails
