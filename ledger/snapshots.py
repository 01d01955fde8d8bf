"""Snapshots of subjects' decision states, so a writer need not replay long streams.

A writer that meets a subject it has not cached folds the subject's whole stream
into a :class:`commands.state.SubjectState` (about 40 µs per record: a subject
with 10,000 records costs 0.4 s, under load more). Every ``SNAPSHOT_EVERY``
records the state is stored (table ``ledger_state_snapshots``, one row per
subject, the newest kept) and a cold writer loads the snapshot and only the
records after it.

The snapshot is derived data, never trusted blindly: it is used only when the
ledger still holds the record it was taken at with the same hash (the join in
``LedgerSQL.select_snapshots``), and it carries a format tag — a snapshot of
another format is ignored and the stream replayed. A snapshot is written after
the batch that crossed the threshold has committed, in its own short transaction
without the write lock; losing one costs only a replay.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from operator import is_
from typing import Any

import orjson

from commands.state import EventFacts, SubjectState

__all__ = ["FORMAT", "SNAPSHOT_EVERY", "decode", "encode", "is_due"]

FORMAT = 1
"""The encoding's version; a snapshot with another is ignored (and replaced)."""

SNAPSHOT_EVERY = 500
"""A snapshot is taken each time a stream's seq crosses a multiple of this, so a cold
load replays fewer than this many records after the snapshot."""


def is_due(before: int, after: int) -> bool:
    """Whether a stream that went from seq ``before`` to ``after`` crossed a snapshot
    threshold."""
    return after // SNAPSHOT_EVERY > before // SNAPSHOT_EVERY


def encode(state: SubjectState) -> bytes:
    """The snapshot bytes of ``state`` (orjson; event facts as arrays, stream order).

    A long stream is snapshotted again and again as it grows: the encoding of the facts
    a previous snapshot of the same subject already held (the very same objects, in the
    same order) is reused, so each snapshot encodes only what was added since
    (:class:`_FactsMemo`); the bytes are those of encoding everything at once."""
    return orjson.dumps(
        {
            "format": FORMAT,
            "subject": state.subject,
            "version": state.version,
            "head": state.head,
            "events": orjson.Fragment(_facts_memo.encode(state.subject, state.events)),
            "ambiguous": sorted(state.ambiguous),
            "revoked": sorted(state.revoked),
            "referenced_by": state.referenced_by,
        }
    )


def _encode_facts(facts: list[EventFacts]) -> bytes:
    """The JSON array of ``facts``, each as ``[id, type, source, time_us, seq, data]``."""
    return orjson.dumps([[f.id, f.type, f.source, f.time_us, f.seq, f.data] for f in facts])


class _FactsMemo:
    """The last encoded facts of the few longest-snapshotted streams (at most
    ``streams``, least recently used dropped; only streams of at least ``SNAPSHOT_EVERY``
    facts): subject → (the facts, their array's bytes without the closing bracket)."""

    def __init__(self, streams: int = 16) -> None:
        self.streams = streams
        self._lock = threading.Lock()
        self._memo: OrderedDict[str, tuple[list[EventFacts], bytes]] = OrderedDict()

    def encode(self, subject: str, events: dict[str, EventFacts]) -> bytes:
        facts = list(events.values())
        if len(facts) < SNAPSHOT_EVERY:
            return _encode_facts(facts)
        with self._lock:
            known = self._memo.get(subject)
        head = b"["
        done = 0
        if known is not None:
            old, old_head = known
            # The facts are immutable: the same objects in the same places encode the same.
            if len(old) <= len(facts) and all(map(is_, old, facts)):
                head, done = old_head, len(old)
        if done < len(facts):
            more = _encode_facts(facts[done:])[1:-1]
            head = head + b"," + more if done else head + more
        with self._lock:
            self._memo[subject] = (facts, head)
            self._memo.move_to_end(subject)
            while len(self._memo) > self.streams:
                self._memo.popitem(last=False)
        return head + b"]"


_facts_memo = _FactsMemo()


def decode(raw: bytes) -> SubjectState | None:
    """The state a snapshot holds, or None if it is of another format."""
    body: dict[str, Any] = orjson.loads(raw)
    if body.get("format") != FORMAT:
        return None
    return SubjectState(
        subject=body["subject"],
        version=body["version"],
        head=body["head"],
        events={e[0]: EventFacts(*e) for e in body["events"]},
        ambiguous=set(body["ambiguous"]),
        revoked=set(body["revoked"]),
        referenced_by=body["referenced_by"],
    )
