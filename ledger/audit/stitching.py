"""The parent's side of ``ledger verify``: segments linked in order, then the checkpoints.

:class:`Stitcher` takes each :class:`~ledger.audit.segments.Segment` in position order,
checks that every subject's first record in it continues the chain before it, combines the
segment's tree pieces into the whole tree (checking the stored nodes above the segment's
alignment), and at every checkpoint size checks the signature, the root, the heads leaves
and the heads tree (``checkpoint`` failures).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger import merkle
from ledger.audit.checkpoints import Checkpoint, heads_tree
from ledger.audit.record_checks import ZERO32
from ledger.audit.segments import BLOCK, Segment, top_level, tree_failure
from ledger.audit.verify_outcome import Failure, VerifyReport, earlier
from ledger.store.audit_reads import STORED_MIN_LEVEL
from ledger.store.recorder import LedgerSQL

__all__ = ["Stitcher"]


class _Heads:
    """Every subject's head at a checkpoint without copying: the heads before the segment
    (subject → (seq, hash, position)) overlaid with the segment's (subject → (seq, hash))."""

    def __init__(
        self,
        before: dict[str, tuple[int, bytes, int]],
        partial: Mapping[str, tuple[int, bytes] | tuple[int, bytes, int]],
    ) -> None:
        self.before = before
        self.partial = partial
        self.count = len(before) + sum(1 for s in partial if s not in before)

    def __len__(self) -> int:
        return self.count

    def get(self, subject: str) -> tuple[int, bytes] | None:
        head = self.partial.get(subject)
        if head is not None:
            return (head[0], head[1])
        old = self.before.get(subject)
        return None if old is None else (old[0], old[1])


class Stitcher:
    """The parent's side: links segments in order and checks the checkpoints."""

    def __init__(
        self,
        recorder: LedgerSQL,
        cursor: Any,
        checkpoints: list[Checkpoint],
        public_key: bytes | None,
        report: VerifyReport,
    ) -> None:
        self.recorder = recorder
        self.cursor = cursor
        self.by_size = {cp.size: cp for cp in checkpoints}
        self.public_key = public_key
        self.report = report
        self.heads: dict[str, tuple[int, bytes, int]] = {}
        self.frontier: dict[int, bytes] = {}
        self.size = 0
        self.stored_heads_trees: dict[int, tuple[bytes, bool]] = {}
        """Checkpoint size → (root, stored nodes match) of the heads tree over its stored
        head leaves, computed ahead by :meth:`prepare`."""

    def prepare(self) -> None:
        """The half of every checkpoint's heads check that needs no record: the stored
        head leaves hashed into their tree, its root kept and its nodes compared with the
        stored ones. Called while worker processes scan (the parent would wait idle), so
        that it is not left for after the last segment; :meth:`_heads` uses the result."""
        for size in sorted(self.by_size):
            if size and size not in self.stored_heads_trees:
                self.stored_heads_trees[size] = self._stored_heads_tree(size, None)

    def _stored_heads_tree(
        self, size: int, stored: list[tuple[int, str, int, bytes]] | None
    ) -> tuple[bytes, bool]:
        """(root, stored nodes match) of the heads tree over the checkpoint's stored head
        leaves (``stored``, or read here)."""
        rec, cur = self.recorder, self.cursor
        if stored is None:
            count = rec.checkpoint_head_count(cur, size)
            stored = rec.checkpoint_head_rows(cur, size, [(0, count)])
        root, nodes = heads_tree([(s, k, h) for _, s, k, h in stored])
        stored_nodes = {(lvl, i): h for lvl, i, h in rec.checkpoint_head_node_rows(cur, size)}
        return root, stored_nodes == {(lvl, i): h for lvl, i, h in nodes}

    def add(self, seg: Segment) -> Failure | None:
        """Link ``seg`` (which starts where the previous one stopped); the first failure."""
        failure = seg.failure
        failure = earlier(failure, self._link(seg))
        if seg.start > 0:
            stored = {
                (lvl, idx): h
                for lvl, idx, h in self.recorder.stored_tree_nodes(
                    self.cursor, seg.start, seg.stop, top_level(seg.start) + 1
                )
            }
        else:
            stored = {}
        for sub in sorted(seg.at_checkpoints):
            pieces, partial = seg.at_checkpoints[sub]
            if failure is not None and (failure.position or 0) < sub:
                break
            front = dict(self.frontier)
            size = self.size
            for level, h in pieces:
                size = _append_piece(front, size, level, h, None)[0]
            heads = _Heads(self.heads, seg.lasts if partial is None else partial)
            failure = earlier(failure, self._checkpoint(self.by_size[sub], front, heads))
            if failure is None:
                self.report.checkpoints += 1
        for level, h in seg.pieces:
            before = len(stored)
            self.size, node_failure = _append_piece(self.frontier, self.size, level, h, stored)
            self.report.stored_nodes += before - len(stored)
            failure = earlier(failure, node_failure)
            if node_failure is not None:
                break
        self.report.stored_nodes += seg.checked_nodes
        self.heads.update(seg.lasts)
        self.report.records = seg.stop
        self.report.subjects = len(self.heads)
        return failure

    def _link(self, seg: Segment) -> Failure | None:
        """Each subject's first record in the segment continues its chain before it."""
        found: Failure | None = None
        heads = self.heads
        for subject, (seq, prev, pos, eid) in seg.firsts.items():
            head = heads.get(subject)
            if head is None:
                if seq == 1 and prev == ZERO32:
                    continue
                why = (
                    f"the subject's first record has seq {seq}, not 1"
                    if seq != 1
                    else "seq 1 has a prev other than 64 zeros"
                )
            elif seq != head[0] + 1:
                why = f"seq {seq} follows seq {head[0]} (at position {head[2]})"
            elif prev != head[1]:
                why = f"prev {prev.hex()} is not the hash of seq {head[0]} (at position {head[2]})"
            else:
                continue
            if found is None or (found.position or 0) > pos:
                found = Failure("chain", why, pos, subject, seq, eid)
        return found

    def _checkpoint(self, cp: Checkpoint, front: dict[int, bytes], heads: _Heads) -> Failure | None:
        where = f"checkpoint of size {cp.size}"
        if self.public_key is not None and not cp.verify_signature(self.public_key):
            return Failure("checkpoint", f"{where}: the signature does not verify")
        root = _fold(front)
        if root.hex() != cp.root:
            # Every stored node below cp.size matched, so the difference is in the leaves no
            # stored node covers: the last size % 16 before the checkpoint.
            low = cp.size % BLOCK
            return Failure(
                "checkpoint",
                f"{where}: its root {cp.root} is not the root recomputed from the records "
                f"({root.hex()})"
                + ("" if low else ", although every stored node matched: the checkpoint is wrong"),
                cp.size - low if low else None,
                last_position=cp.size - 1 if low else None,
            )
        return self._heads(cp, heads)

    def _heads(self, cp: Checkpoint, heads: _Heads) -> Failure | None:
        """The stored head leaves are the recomputed heads, in strict subject order, and
        hash (with the stored nodes) to the signed ``heads_root``."""
        where = f"checkpoint of size {cp.size}"
        rec, cur = self.recorder, self.cursor
        count = rec.checkpoint_head_count(cur, cp.size)
        if count != len(heads):
            return Failure(
                "checkpoint",
                f"{where}: {count} head leaves are stored, the records give {len(heads)} subjects",
            )
        stored = rec.checkpoint_head_rows(cur, cp.size, [(0, count)])
        before = ""
        for ordinal, subject, seq, digest in stored:
            if heads.get(subject) != (seq, digest) or not before < subject:
                k, h = heads.get(subject) or (None, b"")
                return Failure(
                    "checkpoint",
                    f"{where}: stored head leaf {ordinal} ({subject} seq {seq}) is not the "
                    f"subject's head recomputed from the records (seq {k} hash {h.hex()}), or "
                    "is out of order",
                    subject=subject,
                    seq=seq,
                )
            before = subject
        found = self.stored_heads_trees.pop(cp.size, None)
        root, nodes_match = found or self._stored_heads_tree(cp.size, stored)
        if root.hex() != cp.heads_root:
            return Failure(
                "checkpoint",
                f"{where}: its heads_root {cp.heads_root} is not the root of the subjects' "
                f"heads recomputed from the records ({root.hex()})",
            )
        if not nodes_match:
            return Failure("checkpoint", f"{where}: its stored heads-tree nodes differ")
        return None

    def empty_checkpoint(self, cp: Checkpoint) -> Failure | None:
        """A checkpoint of size 0 (issued on an empty ledger)."""
        failure = self._checkpoint(cp, {}, _Heads({}, {}))
        if failure is None:
            self.report.checkpoints += 1
        return failure


def _append_piece(
    frontier: dict[int, bytes],
    size: int,
    level: int,
    h: bytes,
    stored: dict[tuple[int, int], bytes] | None,
) -> tuple[int, Failure | None]:
    """Append a perfect piece of ``2**level`` leaves at ``size`` (a multiple of it); check
    each node it completes against ``stored`` (if given). Returns the new size."""
    idx = size >> level
    new_size = size + (1 << level)
    while idx & 1:
        h = merkle.node_hash(frontier.pop(level), h)
        level += 1
        idx >>= 1
        if stored is not None and level >= STORED_MIN_LEVEL:
            found = stored.pop((level, idx), None)
            if found != h:
                return new_size, tree_failure(level, idx, found)
    frontier[level] = h
    return new_size, None


def _fold(frontier: dict[int, bytes]) -> bytes:
    """The root from a frontier (level → hash): right fold, highest level leftmost."""
    return merkle.fold_right([frontier[level] for level in sorted(frontier, reverse=True)])
