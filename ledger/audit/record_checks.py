"""The per-record checks of ``ledger verify``: ``position``, ``hash``, ``chain``, ``stream``
and ``time`` (:mod:`ledger.audit.verify`), over rows in ``AUDIT_COLUMNS`` order.

:func:`check_rows` is the verifier's hot path, shared with the bundle builder
(:mod:`ledger.audit.bundle`): it rebuilds each canonical record from its columns with the
stored ``state`` bytes spliced in (exactly :func:`ledger.chain.record_bytes`), compares the
hash, links each subject's chain and returns the first :class:`Failure`, explained as well
as the row allows (a duplicate, an insertion, a move, a rewrite).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import floordiv, itemgetter, sub
from typing import Any

import orjson

from events.codes import SUBJECT_NAMESPACE, subject_stream_id
from events.rfc3339 import format_time_us
from ledger.audit.verify_outcome import Failure

__all__ = ["ZERO32", "Row", "check_rows", "stream_id_bytes"]

ZERO32 = bytes(32)
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


_TIME = itemgetter(7)
_TIME_US = itemgetter(8)


def _times_match(rows: Sequence[Row]) -> bool:
    """Every row's ``time_us`` is the instant its ``time`` names (C-level maps over all the
    rows, no bytecode per row)."""
    try:
        instants = map(
            floordiv,
            map(sub, map(datetime.fromisoformat, map(_TIME, rows)), repeat(_EPOCH)),
            repeat(_US),
        )
        return list(instants) == list(map(_TIME_US, rows))
    except (ValueError, TypeError):  # not an RFC 3339 time, or one without an offset
        return False


def _first_bad_time(rows: Sequence[Row]) -> Row | None:
    """The first row whose ``time_us`` is not the instant ``time`` names, or None."""
    if _times_match(rows):
        return None
    return next(row for row in rows if not _times_match((row,)))


def _failure(check: str, message: str, row: Row) -> Failure:
    return Failure(check, message, row[0] - 1, row[1], row[3], row[4])


def check_rows(
    rows: Sequence[Row],
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
    bad_time = _first_bad_time(rows)  # checked in its turn below: after the row's others
    expected = None if expect_position is None else expect_position + 1
    previous: Row | None = None
    for row in rows:
        nid, subject, oid, seq, eid, source, type_, time, _time_us, rec_us, state, digest, prev = (
            row
        )
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
        if row is bad_time:
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
