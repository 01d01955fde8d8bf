"""Read snapshots: the standing of a long stream read at any ``as_of`` without its fold.

A cold as-of read (``projections.live``, nothing of the subject in memory) of a stream
of 10,000 records spends its time on the rows read and decoded, the
:class:`~projections.timeline.Timeline` built, and every record's lifecycle, rules
and score wording worked out, before the standing at its ``as_of`` is read. Most of a
long stream is scored records (findings, commitments), and what such a record adds at
an instant is the same for every instant between two marks of its lifecycle
(``projections.standing.score_line``, memoised per stretch). A read snapshot keeps,
for the stream head it was taken at:

* one line per scored record and stretch (numbered from 0): the stretch
  ``[from_us, until_us)``, when the record takes effect, its note, next calendar change
  and contribution (``projections.score.Contribution``, which names the record); a
  note ``"{event id}: {text}"`` as the index of its text in the header's notes;
* one line per commitment (stretch :data:`COMMITMENT_STRETCH`), in force from when it
  takes effect until it is closed: its ``projections.open_items.OpenItem`` but the entry;
* a header: the subject's name, the notes' texts (many records share one) and every
  record's effective time (the standing's ``records``), packed as little-endian int64
  after the JSON and a newline.

The store hands back only the lines in force at the ``as_of`` asked
(``ledger.store.read_snapshots``): a read decodes the commitments open then and the
score lines that count then, not the whole stream's.

:func:`restore` turns them into a timeline without entries (those memo entries set)
and the score lines; ``standing_of`` reads them at ``as_of`` as it reads a fold. Records
after the snapshot (at most :data:`TAIL_RECORDS`) are folded on their own and their lines
added, when none names an earlier record (a correction, a revocation, a commitment's end
would change the snapshot's lines: the stream is folded instead). That is
exact only for a stream whose standing needs nothing else of the records: every record
of :data:`SIMPLE_TYPES` (findings, commitments, corrections and revocations: no
objections, evaluations, lists, sanctions, rectifications, repairs or withdrawals) and
no scored record of a capped key (:func:`takes_snapshot`); other streams are folded.

The bytes are orjson data (never pickle: whoever can write the database must not be
able to run code in the API process) and carry :data:`FORMAT` and two digests a
snapshot must match to be used: the rule services it was evaluated with
(:func:`rules_digest`) and the code that evaluated it (:func:`code_digest`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import threading
from array import array
from collections.abc import Mapping, Sequence
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import orjson

import commands
import events
from commands.services import RuleServices
from events.recorded import RecordedEvent
from events.vocabulary import ref_fields
from ledger.store.read_snapshots import ReadSnapshot
from projections.open_items import OpenItem, open_items
from projections.score import Contribution, scored_records
from projections.standing import ScoreLine, score_line, score_lines
from projections.timeline import Timeline

__all__ = [
    "FORMAT",
    "SIMPLE_TYPES",
    "TAIL_RECORDS",
    "SnapshotLine",
    "code_digest",
    "restore",
    "rules_digest",
    "take",
    "takes_snapshot",
]

FORMAT = 3
"""The encoding's version; a snapshot of another is ignored (and replaced). 1: the
effective times and every commitment in the header's JSON; 2: each line's event id and
whole note in it."""

COMMITMENT_STRETCH = -1
"""The stretch number of a commitment's line (score lines number theirs from 0)."""

SIMPLE_TYPES = frozenset(
    {
        "credit.violation.recorded",
        "credit.penalty.decided",
        "credit.commitment.made",
        "credit.commitment.fulfilled",
        "credit.commitment.withdrawn",
        "credit.commitment.breached",
        "credit.record.corrected",
        "credit.record.revoked",
    }
)
"""The record types of a stream whose standing a snapshot can give (module docstring)."""

TAIL_RECORDS = 500
"""The most records after a snapshot a read folds on top of it (beyond: the stream is
folded, and the snapshot taken again)."""

SnapshotLine = tuple[int, int, int, int | None, int | None, bytes]
"""A stored line: (seq, stretch, effective_us, from_us, until_us, body)."""

_digest_lock = threading.Lock()
_code_digest: str | None = None
_rules_digests: dict[int, tuple[RuleServices, str]] = {}


def code_digest() -> str:
    """SHA-256 of the sources of ``events``, ``commands`` and ``projections`` (once per
    process): a snapshot evaluated by other code is not used. Where the sources are not
    there to read, a digest of this process alone (its snapshots serve only itself)."""
    global _code_digest
    with _digest_lock:
        if _code_digest is None:
            sha = hashlib.sha256()
            roots = (Path(str(events.__file__)).parent, Path(str(commands.__file__)).parent)
            read = 0
            for root in (*roots, Path(__file__).parent):
                for path in sorted(root.rglob("*.py")):
                    sha.update(str(path.relative_to(root.parent)).encode())
                    sha.update(path.read_bytes())
                    read += 1
            if read == 0:
                sha.update(os.urandom(32))
            _code_digest = sha.hexdigest()
        return _code_digest


def _canonical(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON data, whatever the order of its sets (for :func:`rules_digest`)."""
    if depth > 40:
        raise ValueError("rule services nested too deeply to digest")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date | Enum):
        return repr(value)
    if isinstance(value, Mapping):
        pairs = [[_canonical(k, depth + 1), _canonical(v, depth + 1)] for k, v in value.items()]
        return sorted(pairs, key=repr)
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v, depth + 1) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_canonical(v, depth + 1) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return [type(value).__qualname__, _canonical(fields, depth + 1)]
    state: dict[str, Any] = dict(getattr(value, "__dict__", {}))
    slotted = False
    for cls in type(value).__mro__:
        for name in getattr(cls, "__slots__", ()):
            slotted = True
            if not name.startswith("__") and hasattr(value, name):
                state[name] = getattr(value, name)
    if not state and not slotted and not hasattr(value, "__dict__"):
        return [type(value).__qualname__, repr(value)]  # a value type: Decimal, a pattern …
    kept = {k: v for k, v in state.items() if not callable(v)}
    return [type(value).__qualname__, _canonical(kept, depth + 1)]


def rules_digest(rules: RuleServices) -> str:
    """SHA-256 of the rule services' content (once per rule services object): a
    snapshot evaluated under other rules is not used."""
    with _digest_lock:
        found = _rules_digests.get(id(rules))
        if found is not None and found[0] is rules:
            return found[1]
    digest = hashlib.sha256(orjson.dumps(_canonical(rules), default=repr)).hexdigest()
    with _digest_lock:
        _rules_digests[id(rules)] = (rules, digest)
    return digest


def takes_snapshot(timeline: Timeline, rules: RuleServices) -> bool:
    """Whether a snapshot of ``timeline`` (a fold of everything known) gives its
    standing at every ``as_of`` (module docstring)."""
    if timeline.as_of_us is not None or timeline.known_at_us is not None:
        return False
    if any(kind not in SIMPLE_TYPES for kind in timeline.by_type):
        return False
    caps = rules.procedures.grade_scheme().caps
    return not any(item.key in caps for item in scored_records(timeline, rules))


def take(timeline: Timeline, rules: RuleServices) -> tuple[bytes, list[SnapshotLine]]:
    """The snapshot of ``timeline`` (one for which :func:`takes_snapshot` holds): its
    header and its lines, every scored record read once in each stretch of valid time
    from its effective time on."""
    lines: list[SnapshotLine] = []
    notes: dict[str, int] = {}
    for item in scored_records(timeline, rules):
        effective = item.entry.effective_us
        marks = item.marks
        for stretch in range(len(marks) + 1):
            start = marks[stretch - 1] if stretch else None
            until = marks[stretch] if stretch < len(marks) else None
            if until is not None and until <= effective:
                continue  # over before the record takes effect: never read
            at = effective if start is None or start < effective else start
            event_id, note, following, contribution, _, _ = score_line(timeline, item, at, rules)
            if contribution is None:
                raise ValueError(f"{event_id}: a capped key has no line of its own")
            if contribution.event_id != event_id:
                raise ValueError(f"{event_id}: a line's contribution is of another record")
            body = orjson.dumps(
                [_note_ref(note, event_id, notes), following, contribution.to_json()]
            )
            lines.append((item.seq, stretch, effective, start, until, body))
    for commitment in open_items(timeline, "commitments"):
        if commitment.entry is None:
            raise ValueError("a commitment read back from a snapshot cannot be snapshot")
        lines.append(
            (
                commitment.entry.seq,
                COMMITMENT_STRETCH,
                commitment.effective_us,
                None,
                commitment.closed_us,
                orjson.dumps(
                    [
                        commitment.effective_us,
                        commitment.closed_us,
                        commitment.due_end_us,
                        commitment.body,
                    ]
                ),
            )
        )
    header = orjson.dumps(
        {
            "format": FORMAT,
            "code": code_digest(),
            "rules": rules_digest(rules),
            "subject": timeline.subject,
            "seq": timeline.last_seq,
            "subject_name": timeline.subject_name,
            "notes": list(notes),
        }
    )
    times = array("q", sorted(e.effective_us for e in timeline.entries))
    if sys.byteorder == "big":
        times.byteswap()
    return header + b"\n" + times.tobytes(), lines


def _note_ref(note: str | None, event_id: str, notes: dict[str, int]) -> str | int | None:
    """How a line stores its record's ``note``: the index in ``notes`` (the snapshot's,
    added to) of what follows ``"{event_id}: "`` when it starts so (the findings' notes
    do, and many records share the rest), else the note itself."""
    prefix = f"{event_id}: "
    if note is None or not note.startswith(prefix):
        return note
    return notes.setdefault(note[len(prefix) :], len(notes))


def _tail_apart(tail: Sequence[RecordedEvent], rules: RuleServices) -> Timeline | None:
    """The fold of the records after a snapshot on their own, when none of them names
    a record before them (corrections, revocations, a commitment's end: the snapshot's
    lines would change) and a snapshot could serve them; else None."""
    ids: set[str] = set()
    for record in tail:
        if record.type not in SIMPLE_TYPES:
            return None
        for name in ref_fields(record.type):
            value = record.data.get(name)
            if isinstance(value, str) and value not in ids:
                return None
        ids.add(record.id)
    part = Timeline(tail[0].subject).extend(tail)
    return part if takes_snapshot(part, rules) else None


def restore(
    found: ReadSnapshot,
    subject: str,
    rules: RuleServices,
    as_of_us: int,
    tail: Sequence[RecordedEvent] = (),
) -> tuple[Timeline, list[ScoreLine]] | None:
    """The timeline (no entries; the memo entries the standing reads set: the open
    commitments among them are those open at ``as_of_us``) and the score lines at
    ``as_of_us`` (the instant ``found`` was read for), with ``tail``, the
    records after the snapshot, folded on top; None when the snapshot is of another
    format, subject, code or rules, not of the record its row names, or when a record
    of ``tail`` names an earlier record or is of a kind a snapshot cannot serve."""
    text, _, packed = found.body.partition(b"\n")
    header: dict[str, Any] = orjson.loads(text)
    if (
        not isinstance(header, dict)
        or header.get("format") != FORMAT
        or header.get("subject") != subject
        or header.get("seq") != found.seq
        or header.get("code") != code_digest()
        or header.get("rules") != rules_digest(rules)
    ):
        return None
    part = _tail_apart(tail, rules) if tail else None
    if tail and part is None:
        return None
    timeline = Timeline(subject)
    timeline.last_seq = found.seq
    timeline.subject_name = header["subject_name"]
    if len(packed) % 8:
        return None
    times = array("q", packed)
    if sys.byteorder == "big":
        times.byteswap()
    effective_times: Sequence[int] = times
    notes: list[str] = header["notes"]
    commitments: list[OpenItem] = []
    lines: list[ScoreLine] = []
    for row in found.lines:
        stretch, raw = row[0], row[1]
        if stretch == COMMITMENT_STRETCH:
            effective, closed, due, body = orjson.loads(raw)
            commitments.append(OpenItem(None, effective, closed, due, body))
        else:
            note, following, json = orjson.loads(raw)
            contribution = Contribution.from_json(json)
            event_id = contribution.event_id
            if isinstance(note, int):
                note = f"{event_id}: {notes[note]}"
            lines.append((event_id, note, following, contribution, None, None))
    if part is not None:
        timeline.last_seq = part.last_seq
        if timeline.subject_name is None:
            timeline.subject_name = part.subject_name
        effective_times = sorted([*effective_times, *(e.effective_us for e in part.entries)])
        commitments += open_items(part, "commitments")
        lines += score_lines(part, as_of_us, rules)
    timeline.memo = {
        "effective_times": effective_times,
        ("open", "commitments"): tuple(commitments),
        ("open", "rectifications"): (),
    }
    return timeline, lines
