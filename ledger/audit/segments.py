"""One *segment* of positions ``[start, stop)`` checked on its own (:mod:`ledger.audit.verify`).

:func:`scan_segment` reads the segment page by page (the next page read by a helper thread
while this one is checked), runs :func:`~ledger.audit.record_checks.check_rows` on it and
recomputes the RFC 6962 tree below the segment's alignment (:class:`_SegmentTree`),
checking every stored node there. It returns a :class:`Segment` summary — the first
failure, each subject's first and last record in it, the perfect pieces of the tree and the
state at each checkpoint inside it — for :class:`~ledger.audit.stitching.Stitcher` to link
in order. The same code runs in the parent and in worker processes.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ledger import merkle
from ledger.audit.record_checks import check_rows
from ledger.audit.verify_outcome import Failure, earlier
from ledger.store.audit_reads import STORED_MIN_LEVEL
from ledger.store.recorder import LedgerSQL

__all__ = ["BLOCK", "PAGE", "Segment", "scan_segment", "top_level", "tree_failure"]

PAGE = 32_768
"""Rows read per statement."""
BLOCK = 1 << STORED_MIN_LEVEL
"""Leaves under the lowest stored tree node."""


def tree_failure(level: int, idx: int, found: bytes | None) -> Failure:
    first, last = idx << level, ((idx + 1) << level) - 1
    what = "is missing" if found is None else "differs"
    return Failure(
        "tree",
        f"stored Merkle node ({level}, {idx}) {what}: the records at positions {first}..{last} "
        "do not hash to what was stored when they were appended (one of them was altered with "
        "its hash, or the node was)",
        first,
        last_position=last,
    )


def _pieces(leaf_hashes: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """The perfect pieces ``(level, hash)`` of fewer than 16 aligned leaves, left to right."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    for level in range(STORED_MIN_LEVEL - 1, -1, -1):
        if len(leaf_hashes) - pos >= 1 << level:
            out.append((level, merkle.root(leaf_hashes[pos : pos + (1 << level)])))
            pos += 1 << level
    return out


class _SegmentTree:
    """The tree over positions ``[start, …)``, ``start`` a multiple of ``2**top``: every
    perfect node inside the segment below level ``top`` is computed here and checked
    against the stored nodes; nodes of level ``top`` are handed on (``emitted``) for the
    parent to combine across segments."""

    def __init__(self, start: int, top: int) -> None:
        self.size = start
        self.top = top
        self.frontier: dict[int, bytes] = {}
        self.buffer: list[bytes] = []
        self.emitted: list[tuple[int, bytes]] = []
        self.checked = 0

    def add(self, digests: list[bytes], stored: dict[tuple[int, int], bytes]) -> Failure | None:
        buf = self.buffer
        buf.extend(merkle.leaf_hashes(digests))
        full = len(buf) - len(buf) % BLOCK
        if not full:
            return None
        level_hashes = buf[:full]
        del buf[:full]
        for _ in range(STORED_MIN_LEVEL):
            level_hashes = merkle.parent_level(level_hashes)
        for h in level_hashes:
            failure = self._push(STORED_MIN_LEVEL, self.size >> STORED_MIN_LEVEL, h, stored)
            self.size += BLOCK
            if failure is not None:
                return failure
        return None

    def _push(
        self, level: int, idx: int, h: bytes, stored: dict[tuple[int, int], bytes]
    ) -> Failure | None:
        frontier = self.frontier
        while True:
            found = stored.pop((level, idx), None)
            if found != h:
                return tree_failure(level, idx, found)
            self.checked += 1
            if level >= self.top:
                self.emitted.append((level, h))
                return None
            if not idx & 1:
                frontier[level] = h
                return None
            h = merkle.node_hash(frontier.pop(level), h)
            level += 1
            idx >>= 1

    def pieces(self) -> list[tuple[int, bytes]]:
        """The perfect pieces of everything added so far, left to right: what was emitted,
        the frontier (high to low), the leaves not yet in a block of 16."""
        front = [(lvl, self.frontier[lvl]) for lvl in sorted(self.frontier, reverse=True)]
        return [*self.emitted, *front, *_pieces(self.buffer)]


@dataclass
class Segment:
    """The summary of one checked segment ``[start, stop)`` of positions (``stop`` is where
    checking stopped: before the failure, if any)."""

    start: int
    stop: int
    failure: Failure | None
    firsts: dict[str, tuple[int, bytes, int, str]]
    """subject → (seq, prev, position, event id) of its first record in the segment, for
    the parent to link (empty for the segment at position 0, which checks them itself)."""
    lasts: dict[str, tuple[int, bytes, int]]
    """subject → (seq, hash, position) of its last good record in the segment."""
    pieces: list[tuple[int, bytes]]
    """The perfect pieces ``(level, hash)`` of the checked leaves, left to right."""
    at_checkpoints: dict[int, tuple[list[tuple[int, bytes]], dict[str, tuple[int, bytes]] | None]]
    """Checkpoint size inside the segment → (pieces, subject → (seq, hash)) of
    ``[start, size)``; the heads are None for a checkpoint at the segment's end (they are
    ``lasts``)."""
    checked_nodes: int


def _snapshot(heads: dict[str, list[Any]]) -> dict[str, tuple[int, bytes]]:
    return {s: (h[0], h[1]) for s, h in heads.items()}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (back on after it if it was on).

    A page is 32,768 row tuples of 13 objects each, alive until the next page: with the
    collector on, its young collections traverse them again and again and promote them
    to the older generations, whose collections then traverse every page still alive.
    The scan makes no reference cycles (rows, hashes and the heads lists are freed by
    their reference counts), so nothing is lost by pausing it. Concurrent scans in one
    process are harmless: one that found the collector off leaves it off."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def top_level(start: int) -> int:
    return 64 if start == 0 else (start & -start).bit_length() - 1


def scan_segment(
    recorder: LedgerSQL,
    cursor: Any,
    start: int,
    stop: int,
    checkpoint_sizes: Sequence[int],
    page: int = PAGE,
    progress: Callable[[int], None] | None = None,
) -> Segment:
    """Check positions ``[start, stop)`` (``start`` a multiple of 16) on their own.

    The next page is read by a helper thread while this one is checked (the database
    produces rows while Python hashes), always through ``cursor`` and one page at a time;
    the cyclic garbage collector is paused meanwhile (:func:`_collector_paused`).
    """
    heads: dict[str, list[Any]] = {}
    firsts: dict[str, tuple[int, bytes, int, str]] = {}
    tree = _SegmentTree(start, top_level(start))
    stops = sorted(s for s in checkpoint_sizes if start < s <= stop)
    at: dict[int, tuple[list[tuple[int, bytes]], dict[str, tuple[int, bytes]] | None]] = {}
    pages: list[tuple[int, int]] = []
    pos = start
    while pos < stop:
        end = min(stop, pos + page)
        for s in stops:
            if pos < s < end:
                end = s
                break
        pages.append((pos, end))
        pos = end

    def read(span: tuple[int, int]) -> tuple[list[tuple[Any, ...]], dict[tuple[int, int], bytes]]:
        a, b = span
        rows = recorder.audit_rows(cursor, a, b)
        nodes = recorder.stored_tree_nodes(cursor, a, b)
        return rows, {(lvl, idx): h for lvl, idx, h in nodes if idx << lvl >= start}

    failure: Failure | None = None
    with _collector_paused(), ThreadPoolExecutor(1) as reader:
        pending = reader.submit(read, pages[0]) if pages else None
        for i, (pos, end) in enumerate(pages):
            assert pending is not None
            rows, stored = pending.result()
            pending = reader.submit(read, pages[i + 1]) if i + 1 < len(pages) else None
            leaves: list[bytes] = []
            failure = check_rows(
                rows, heads, leaves, expect_position=pos, firsts=firsts if start else None
            )
            if failure is None and len(leaves) < end - pos:
                failure = Failure(
                    "position",
                    f"positions {pos + len(leaves)}..{end - 1} are missing",
                    pos + len(leaves),
                )
            failure = earlier(failure, tree.add(leaves, stored))
            if failure is None and end in stops:
                # at the segment's end the heads are its ``lasts``: no copy needed
                at[end] = (tree.pieces(), None if end == stop else _snapshot(heads))
            if progress is not None:
                progress(end - pos)
            if failure is not None:
                if pending is not None:
                    pending.result()  # let the cursor finish before it is reused
                break
    return Segment(
        start=start,
        stop=tree.size + len(tree.buffer),
        failure=failure,
        firsts=firsts,
        lasts={s: (h[0], h[1], h[3]) for s, h in heads.items()},
        pieces=tree.pieces(),
        at_checkpoints=at,
        checked_nodes=tree.checked,
    )
