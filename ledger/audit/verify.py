"""``ledger verify``: recheck the whole store against itself and against what was signed.

:func:`verify_store` streams every record in position order (pages of :data:`PAGE` rows,
tuple rows, no JSON decoding, no event objects) and checks, stopping at the first failure:

* ``position``: positions run 0..n−1 without gaps (``notification_id`` = position + 1);
* ``hash``: the stored hash is SHA-256 of the record rebuilt from its columns (the stored
  ``state`` bytes spliced in as the canonical data, as :func:`ledger.chain.record_bytes`);
* ``chain``: per subject, ``seq`` runs 1..k without gaps, positions increase, and ``prev`` is
  the previous record's hash (64 zeros for seq 1);
* ``stream``: ``originator_id`` is the subject's stream id (not covered by the hash);
* ``time``: ``time_us`` is the instant ``time`` names (not covered by the hash);
* ``tree``: the RFC 6962 tree recomputed from the leaves equals every stored perfect node,
  and no stored node lies beyond the last record;
* ``checkpoint``: every stored checkpoint's body is canonical, its signature verifies
  (when a public key is known), its root is the recomputed root of its size, its
  ``heads_root`` the recomputed heads tree, and its stored head leaves and nodes match.

``schema_version`` is neither hashed nor derivable: a change to it alone goes unnoticed.

A failure names the first bad record: its position, subject, seq and event id, and the
check. Where only a range can be named (a record rewritten together with its hash is caught
by the tree, which commits to groups of 16 leaves below the stored levels),
``position``..``last_position`` bound the altered record.

Work is split in *segments* of positions (``workers`` > 1: processes, each with its own
connection). A segment is checked on its own — hashes, chains from each subject's first
record in the segment on, the tree below the segment's alignment — and returns a
:class:`Segment` summary; the parent stitches the summaries in order (chain links across
segments, the upper tree, checkpoints). One segment is the single-process case.
:func:`check_rows` is the per-record part, shared with the bundle builder.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time as _time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from events.codes import SUBJECT_NAMESPACE, subject_stream_id
from events.rfc3339 import format_time_us
from ledger import merkle
from ledger.audit.checkpoints import Checkpoint, CheckpointError, heads_tree, list_checkpoints
from ledger.store.audit_reads import STORED_MIN_LEVEL
from ledger.store.recorder import LedgerSQL

__all__ = [
    "PAGE",
    "SEGMENT_ALIGN",
    "WORKER_START",
    "Failure",
    "VerifyReport",
    "check_rows",
    "verify_store",
]

PAGE = 32_768
"""Rows read per statement."""
SEGMENT_ALIGN = 1 << 16
"""Segments handed to worker processes start at multiples of this many positions."""
ZERO32 = bytes(32)
_BLOCK = 1 << STORED_MIN_LEVEL
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_sha256 = hashlib.sha256
_NAMESPACE = SUBJECT_NAMESPACE.bytes
_dumps = orjson.dumps
_Fragment = orjson.Fragment
_STRICT = orjson.OPT_STRICT_INTEGER

Row = Sequence[Any]
"""A row in ``ledger.store.rows.AUDIT_COLUMNS`` order: notification_id, subject,
originator_id, originator_version, event_id, source, topic, time, time_us, recorded_us,
state, hash, prev."""


@dataclass(frozen=True, slots=True)
class Failure:
    """The first thing found wrong. ``check`` is one of ``position``, ``hash``, ``chain``,
    ``stream``, ``time``, ``tree``, ``checkpoint``, ``published`` (the store is not
    consistent with the checkpoint log, :mod:`ledger.audit.checkpoint_log`); ``position``..``last_position`` is the
    range the altered record lies in (``last_position`` None: the record itself is known)."""

    check: str
    message: str
    position: int | None = None
    subject: str | None = None
    seq: int | None = None
    event_id: str | None = None
    last_position: int | None = None

    @property
    def last(self) -> int | None:
        """The highest position the failure may concern."""
        return self.position if self.last_position is None else self.last_position

    def where(self) -> str:
        """``position 17 subject … seq 3 id …``, ``positions 16..31`` or ``ledger``."""
        if self.position is None:
            return "ledger"
        if self.last_position is not None and self.last_position != self.position:
            return f"positions {self.position}..{self.last_position}"
        who = [f"position {self.position}"]
        if self.subject is not None:
            who.append(f"subject {self.subject}")
        if self.seq is not None:
            who.append(f"seq {self.seq}")
        if self.event_id is not None:
            who.append(f"id {self.event_id}")
        return " ".join(who)

    def describe(self) -> str:
        """One line for a person: where, check, what."""
        return f"{self.where()}: {self.check}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _earlier(a: Failure | None, b: Failure | None) -> Failure | None:
    """The failure that concerns the earlier record; a failure naming one record wins over a
    range that contains it."""
    if a is None or b is None:
        return a or b
    if a.position is None or b.position is None:
        return a if a.position is None else b
    if (a.last or 0) < b.position:
        return a
    if (b.last or 0) < a.position:
        return b
    if (a.last_position is None) != (b.last_position is None):
        return a if a.last_position is None else b
    return a if a.position <= b.position else b


@dataclass
class VerifyReport:
    """What :func:`verify_store` checked and the first failure, if any."""

    records: int = 0
    subjects: int = 0
    checkpoints: int = 0
    checkpoint_size: int | None = None
    """The size of the largest stored checkpoint the ledger was checked against (None: none
    was stored)."""
    stored_nodes: int = 0
    published: int = 0
    """Checkpoints of the checkpoint log (or given) the store was checked against."""
    published_size: int | None = None
    """The size of the newest of them (None: none)."""
    seconds: float = 0.0
    workers: int = 1
    failure: Failure | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """The one-line summary with figures."""
        line = (
            f"{'OK' if self.ok else 'FAILED'}: {self.records:,} records of {self.subjects:,} "
            f"subjects, {self.stored_nodes:,} stored tree nodes and {self.checkpoints} "
            f"checkpoints checked in {self.seconds:.1f} s ({self.records_per_s:,.0f} records/s)"
        )
        if self.published_size is not None:
            line += (
                f"; consistent with {self.published} published checkpoints (newest: size "
                f"{self.published_size:,})"
                if self.published
                else f"; checked against the published checkpoint of size {self.published_size:,}"
            )
        if self.failure is not None:
            line += f"; first failure: {self.failure.describe()}"
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "subjects": self.subjects,
            "checkpoints": self.checkpoints,
            "stored_nodes": self.stored_nodes,
            "published": self.published,
            "published_size": self.published_size,
            "seconds": round(self.seconds, 3),
            "records_per_s": round(self.records_per_s),
            "workers": self.workers,
            "failure": None if self.failure is None else self.failure.to_json(),
            "warnings": self.warnings,
        }


# -- per-record checks ---------------------------------------------------------------------


_UUID5_CLEAR = ~((0xF << 76) | (0xC << 60)) & ((1 << 128) - 1)
_UUID5_SET = (0x5 << 76) | (0x8 << 60)  # version 5, RFC 4122 variant


def stream_id_bytes(subject: str) -> bytes:
    """``subject_stream_id(subject).bytes`` (uuid5), without building a ``UUID``."""
    digest = hashlib.sha1(_NAMESPACE + subject.encode()).digest()[:16]
    return ((int.from_bytes(digest, "big") & _UUID5_CLEAR) | _UUID5_SET).to_bytes(16, "big")


def _stream_id(subject: str, like: Any) -> Any:
    """The subject's stream id in the form the store returned ``like`` in."""
    if isinstance(like, bytes):
        return stream_id_bytes(subject)
    oid = subject_stream_id(subject)
    if isinstance(like, str):
        return oid.hex
    return oid


def _record_hash(row: Row, position: int | None = None) -> bytes:
    """SHA-256 of the canonical record built from ``row`` (at ``position`` if given)."""
    return _sha256(
        _dumps(
            {
                "data": _Fragment(bytes(row[10])),
                "format": 1,
                "id": row[4],
                "position": row[0] - 1 if position is None else position,
                "prev": bytes(row[12]).hex(),
                "recorded_us": row[9],
                "seq": row[3],
                "source": row[5],
                "subject": row[1],
                "time": row[7],
                "type": row[6],
            },
            option=_STRICT,
        )
    ).digest()


def _failure(check: str, message: str, row: Row) -> Failure:
    return Failure(check, message, row[0] - 1, row[1], row[3], row[4])


def check_rows(
    rows: Iterable[Row],
    heads: dict[str, list[Any]],
    leaves: list[bytes],
    *,
    expect_position: int | None = None,
    firsts: dict[str, tuple[int, bytes, int, str]] | None = None,
) -> Failure | None:
    """Check rows (``AUDIT_COLUMNS`` order); append each good record's hash to ``leaves``.

    The rows come in position order: a run of the ledger from ``expect_position`` on
    (positions must then be dense), or one subject's stream (``expect_position`` None).
    ``heads`` maps subject → ``[seq, hash, stream id, position]`` of the last good record
    and is updated. A subject not in ``heads`` must start at seq 1 with a zero ``prev`` —
    unless ``firsts`` is given (a segment that does not start at position 0): then its first
    record's ``(seq, prev, position, event id)`` is put there for the caller to link.

    Every check is made on the stored bytes: the canonical record is rebuilt from the
    columns with ``state`` spliced in verbatim (exactly :func:`ledger.chain.record_bytes`;
    inlined here because this loop is the verifier's hot path). Returns the first failure
    (later rows are not looked at), or None.
    """
    sha = _sha256
    dumps = _dumps
    fragment = _Fragment
    strict = _STRICT
    add = leaves.append
    fromiso = datetime.fromisoformat
    epoch, us = _EPOCH, _US
    times: dict[str, int] = {}  # many records share a valid time
    expected = None if expect_position is None else expect_position + 1
    previous: Row | None = None
    for row in rows:
        nid, subject, oid, seq, eid, source, type_, time, time_us, rec_us, state, digest, prev = row
        if expected is not None and nid != expected:
            return _position_failure(row, expected)
        computed = sha(
            dumps(
                {
                    "data": fragment(state),
                    "format": 1,
                    "id": eid,
                    "position": nid - 1,
                    "prev": prev.hex(),
                    "recorded_us": rec_us,
                    "seq": seq,
                    "source": source,
                    "subject": subject,
                    "time": time,
                    "type": type_,
                },
                option=strict,
            )
        ).digest()
        if computed != digest:
            return _hash_failure(row, previous)
        head = heads.get(subject)
        if head is None:
            if firsts is not None:
                firsts[subject] = (seq, prev, nid - 1, eid)
            elif seq != 1:
                return _failure("chain", f"the subject's first record has seq {seq}, not 1", row)
            elif prev != ZERO32:
                return _failure("chain", "seq 1 has a prev other than 64 zeros", row)
            head = heads[subject] = [seq, digest, _stream_id(subject, oid), nid - 1]
        else:
            if seq != head[0] + 1:
                return _failure(
                    "chain", f"seq {seq} follows seq {head[0]} (at position {head[3]})", row
                )
            if prev != head[1]:
                return _failure(
                    "chain",
                    f"prev {prev.hex()} is not the hash of seq {head[0]} (at position {head[3]})",
                    row,
                )
            if nid - 1 <= head[3]:
                return _failure("chain", f"not after seq {head[0]} (at position {head[3]})", row)
            head[0] = seq
            head[1] = digest
            head[3] = nid - 1
        if oid != head[2]:
            return _failure("stream", "originator_id is not the subject's stream id", row)
        instant = times.get(time)
        if instant is None:
            try:
                instant = (fromiso(time) - epoch) // us
            except (ValueError, TypeError):
                return _time_failure(row)
            if len(times) < 65_536:
                times[time] = instant
        if instant != time_us:
            return _time_failure(row)
        add(digest)
        if expected is not None:
            expected += 1
        previous = row
    return None


def _position_failure(row: Row, expected: int) -> Failure:
    nid = row[0]
    if nid > expected:
        missing = (
            f"position {expected - 1} is missing"
            if nid == expected + 1
            else f"positions {expected - 1}..{nid - 2} are missing"
        )
        return Failure(
            "position",
            f"{missing}: the next stored record is at position {nid - 1} "
            f"(subject {row[1]} seq {row[3]} id {row[4]})",
            expected - 1,
        )
    return _failure("position", f"expected position {expected - 1}, found {nid - 1}", row)


def _hash_failure(row: Row, previous: Row | None) -> Failure:
    """The stored hash is not the record's: say what most likely happened."""
    nid = row[0]
    stored = bytes(row[11])
    if nid >= 2 and _record_hash(row, nid - 2) == stored and previous is not None:
        if tuple(previous[1:]) == tuple(row[1:]):
            return _failure("position", f"duplicates the record at position {nid - 2}", row)
        return _failure(
            "position",
            f"does not belong here: the record after it was recorded at position {nid - 2} "
            f"(a record was inserted at position {nid - 2})",
            previous,
        )
    if _record_hash(row, nid) == stored:
        return _failure(
            "hash", f"the record was recorded at position {nid}, not here (records moved)", row
        )
    return _failure(
        "hash",
        f"stored hash {stored.hex()} is not the SHA-256 of the record rebuilt from its columns "
        f"({_record_hash(row).hex()})",
        row,
    )


def _time_failure(row: Row) -> Failure:
    time, time_us = row[7], row[8]
    try:
        shown = format_time_us(time_us)
    except (ValueError, OverflowError, TypeError):
        shown = "out of range"
    return _failure("time", f"time_us {time_us} ({shown}) is not time {time!r}", row)


# -- the tree of one segment ---------------------------------------------------------------


def _tree_failure(level: int, idx: int, found: bytes | None) -> Failure:
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
        full = len(buf) - len(buf) % _BLOCK
        if not full:
            return None
        level_hashes = buf[:full]
        del buf[:full]
        for _ in range(STORED_MIN_LEVEL):
            level_hashes = merkle.parent_level(level_hashes)
        for h in level_hashes:
            failure = self._push(STORED_MIN_LEVEL, self.size >> STORED_MIN_LEVEL, h, stored)
            self.size += _BLOCK
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
                return _tree_failure(level, idx, found)
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


def _top_level(start: int) -> int:
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
    produces rows while Python hashes), always through ``cursor`` and one page at a time.
    """
    heads: dict[str, list[Any]] = {}
    firsts: dict[str, tuple[int, bytes, int, str]] = {}
    tree = _SegmentTree(start, _top_level(start))
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
    with ThreadPoolExecutor(1) as reader:
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
            failure = _earlier(failure, tree.add(leaves, stored))
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


# -- stitching segments ----------------------------------------------------------------------


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


class _Stitcher:
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

    def add(self, seg: Segment) -> Failure | None:
        """Link ``seg`` (which starts where the previous one stopped); the first failure."""
        failure = seg.failure
        failure = _earlier(failure, self._link(seg))
        if seg.start > 0:
            stored = {
                (lvl, idx): h
                for lvl, idx, h in self.recorder.stored_tree_nodes(
                    self.cursor, seg.start, seg.stop, _top_level(seg.start) + 1
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
            failure = _earlier(failure, self._checkpoint(self.by_size[sub], front, heads))
            if failure is None:
                self.report.checkpoints += 1
        for level, h in seg.pieces:
            before = len(stored)
            self.size, node_failure = _append_piece(self.frontier, self.size, level, h, stored)
            self.report.stored_nodes += before - len(stored)
            failure = _earlier(failure, node_failure)
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
            low = cp.size % _BLOCK
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
        root, nodes = heads_tree([(s, k, h) for _, s, k, h in stored])
        if root.hex() != cp.heads_root:
            return Failure(
                "checkpoint",
                f"{where}: its heads_root {cp.heads_root} is not the root of the subjects' "
                f"heads recomputed from the records ({root.hex()})",
            )
        stored_nodes = {(lvl, i): h for lvl, i, h in rec.checkpoint_head_node_rows(cur, cp.size)}
        if stored_nodes != {(lvl, i): h for lvl, i, h in nodes}:
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
                return new_size, _tree_failure(level, idx, found)
    frontier[level] = h
    return new_size, None


def _fold(frontier: dict[int, bytes]) -> bytes:
    """The root from a frontier (level → hash): right fold, highest level leftmost."""
    return merkle.fold_right([frontier[level] for level in sorted(frontier, reverse=True)])


# -- the whole store -----------------------------------------------------------------------


def _segments(size: int, workers: int) -> list[tuple[int, int]]:
    """One segment per worker, starting at multiples of ``SEGMENT_ALIGN``; one segment for
    everything when the ledger is too small for processes to pay for their start."""
    if workers <= 1 or size < 4 * SEGMENT_ALIGN:
        return [(0, size)] if size else []
    bounds = sorted(
        {round(size * i / workers / SEGMENT_ALIGN) * SEGMENT_ALIGN for i in range(workers)}
    )
    return [(a, b) for a, b in zip(bounds, [*bounds[1:], size], strict=True) if a < b]


WORKER_START = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
"""How worker processes start. A spawned process imports the parent's main module (for
``ledger verify`` the whole command line, for the bench ``bench.run``) and the recorder
factory's module before it checks a record: measured 1-2 s per run on an idle 2-core
machine, most of a 300,000-record verify. A forked one starts in ~0.1 s. The child uses
only what it opens itself (``open_recorder``: a new pool, new connections) and the
parent's pooled connections are never touched in it (a pool worker leaves by
``os._exit``); where fork is unavailable, spawn."""

_progress_counter: Any = None
"""In a worker process only: the shared counter of records done (set by the pool's
initializer, the way ``multiprocessing`` hands shared state to pool workers)."""


def _init_worker(counter: Any) -> None:
    global _progress_counter
    _progress_counter = counter


def _count(n: int) -> None:
    with _progress_counter.get_lock():
        _progress_counter.value += n


def _scan_in_worker(
    open_recorder: Callable[[], LedgerSQL],
    start: int,
    stop: int,
    checkpoint_sizes: Sequence[int],
    page: int,
) -> Segment:
    recorder = open_recorder()
    try:
        with recorder.audit_reader() as cursor:
            return scan_segment(recorder, cursor, start, stop, checkpoint_sizes, page, _count)
    finally:
        close = getattr(getattr(recorder, "datastore", None), "close", None)
        if close is not None:
            close()


def verify_store(
    recorder: LedgerSQL,
    *,
    public_key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    page: int = PAGE,
    workers: int = 1,
    open_recorder: Callable[[], LedgerSQL] | None = None,
) -> VerifyReport:
    """Recheck the whole store (module docstring); never raises for bad data.

    ``public_key`` (raw 32 bytes) checks checkpoint signatures; without it a warning says
    they were not checked. ``progress`` is called with numbers of records as they are done.
    With ``workers`` > 1 and a picklable ``open_recorder`` (a factory for a recorder on
    the same store, e.g. ``functools.partial(open_recorder, url)``), segments are checked
    in that many processes; each reads the records below the size found at the start,
    which never change once written (a concurrent append is not seen).
    """
    started = _time.perf_counter()
    report = VerifyReport()
    if public_key is None:
        report.warnings.append("no public key: checkpoint signatures were not checked")
    with recorder.audit_reader() as cursor:
        size = recorder.ledger_size(cursor)
        node_count = recorder.stored_tree_node_count(cursor)
        try:
            checkpoints = list_checkpoints(recorder, cursor)
        except CheckpointError as e:
            report.failure = Failure("checkpoint", str(e))
            return _done(report, started)
        report.checkpoint_size = checkpoints[-1].size if checkpoints else None
        stitcher = _Stitcher(recorder, cursor, checkpoints, public_key, report)
        failure: Failure | None = None
        for cp in checkpoints:
            if cp.size == 0:
                failure = _earlier(failure, stitcher.empty_checkpoint(cp))
        sizes = [cp.size for cp in checkpoints]
        plan = _segments(size, workers if open_recorder is not None else 1)
        if failure is None:
            if len(plan) <= 1:
                for start, stop in plan:
                    seg = scan_segment(recorder, cursor, start, stop, sizes, page, progress)
                    failure = stitcher.add(seg)
            else:
                report.workers = workers
                assert open_recorder is not None
                failure = _run_workers(
                    stitcher, open_recorder, plan, sizes, page, workers, progress
                )
        if failure is None:
            failure = _after(checkpoints, size, node_count, report)
        report.failure = failure
    return _done(report, started)


def _run_workers(
    stitcher: _Stitcher,
    open_recorder: Callable[[], LedgerSQL],
    plan: list[tuple[int, int]],
    sizes: list[int],
    page: int,
    workers: int,
    progress: Callable[[int], None] | None,
) -> Failure | None:
    ctx = multiprocessing.get_context(WORKER_START)
    counter = ctx.Value("q", 0)
    shown = 0
    with ctx.Pool(workers, initializer=_init_worker, initargs=(counter,)) as pool:
        jobs = [
            pool.apply_async(_scan_in_worker, (open_recorder, a, b, sizes, page)) for a, b in plan
        ]
        for job in jobs:
            while True:
                try:
                    seg = job.get(timeout=0.2)
                    break
                except multiprocessing.TimeoutError:
                    pass
                finally:
                    if progress is not None and counter.value > shown:
                        now = counter.value
                        progress(now - shown)
                        shown = now
            failure = stitcher.add(seg)
            if failure is not None:
                pool.terminate()
                return failure
    return None


def _after(
    checkpoints: list[Checkpoint], size: int, node_count: int, report: VerifyReport
) -> Failure | None:
    for cp in checkpoints:
        if cp.size > size:
            return Failure(
                "checkpoint",
                f"checkpoint of size {cp.size} was signed but the ledger holds only {size} "
                f"records: positions {size}..{cp.size - 1} are missing",
                size,
                last_position=cp.size - 1,
            )
    if report.stored_nodes != node_count:
        return Failure(
            "tree",
            f"{node_count - report.stored_nodes} stored Merkle nodes were not matched by the "
            f"records: they lie beyond position {size - 1} (records were removed from the end)",
            size,
        )
    return None


def _done(report: VerifyReport, started: float) -> VerifyReport:
    report.seconds = _time.perf_counter() - started
    return report
