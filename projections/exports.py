"""Data sharing (按需共享): consistent snapshots of the ledger for other systems.

An export is one of four tables, read at ``as_of`` (valid time) from exactly the
records a signed checkpoint commits to (its ``size`` first records), so a
receiving system knows which ledger state it holds and can verify it:

``records``
    every record as recorded (``data`` as JSON text; identity numbers stay
    encrypted) with its position and audit ``hash``: the leaves of the
    checkpoint's tree (AUDIT-FORMAT.md), so the checkpoint's ``root`` can be
    recomputed from the export alone.
``disclosure``
    one row per record published at ``as_of``, as the reader may see it
    (``projections.public``: a record whose publication ended is not shared,
    except with its responsible agency and auditors).
``lists``
    the members of the lists (serious-dishonesty, focus) and the market-ban
    register at ``as_of``, one row per listing or ban.
``standing``
    one row per subject: grade, score, tier, lists, counts of open items, and
    the whole standing as JSON.

The snapshot metadata (``Snapshot.to_json``: kind, as_of, position, known_at,
checkpoint) travels with the table: in the Parquet file's key-value metadata
(key ``credit-ledger.snapshot``), beside a CSV or JSON-lines file as
``FILE.snapshot.json``, and in the ``Ledger-Snapshot`` header of the HTTP answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from commands.services import RuleServices
from ledger.store.views import ViewStore
from projections.disclosure import disclosure_of
from projections.export_kinds import EXPORT_FORMATS, EXPORT_KINDS
from projections.public import EVERYTHING, Audience, disclosure_for
from projections.scan import subject_streams
from projections.standing import standing_of
from projections.statistics import record_batches, record_schema
from projections.timeline import Timeline, instant_text

__all__ = [
    "EXPORT_FORMATS",
    "EXPORT_KINDS",
    "METADATA_KEY",
    "Export",
    "Snapshot",
    "export_of",
    "write_export",
]

METADATA_KEY = b"credit-ledger.snapshot"
FORMAT = "credit-ledger-export/1"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Which ledger state an export holds: the first ``position`` records, those
    the ``checkpoint`` (signed, AUDIT-FORMAT.md) commits to, read at ``as_of_us``."""

    kind: str
    as_of_us: int
    position: int
    known_at_us: int | None
    checkpoint: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "kind": self.kind,
            "as_of": instant_text(self.as_of_us),
            "position": self.position,
            "known_at": instant_text(self.known_at_us),
            "checkpoint": self.checkpoint,
        }


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


_DISCLOSURE = pa.schema(
    [
        ("subject", pa.string()),
        ("subject_name", pa.string()),
        ("event_id", pa.string()),
        ("kind", pa.string()),
        ("agency", pa.string()),
        ("from", pa.string()),
        ("until", pa.string()),
        ("publish_by", pa.string()),
        ("late", pa.bool_()),
        ("document", pa.string()),
        ("item", pa.string()),
    ]
)
_LISTS = pa.schema(
    [
        ("list", pa.string()),
        ("subject", pa.string()),
        ("subject_name", pa.string()),
        ("event_id", pa.string()),
        ("agency", pa.string()),
        ("since", pa.string()),
        ("until", pa.string()),
    ]
)
_STANDING = pa.schema(
    [
        ("subject", pa.string()),
        ("subject_name", pa.string()),
        ("grade", pa.string()),
        ("score", pa.int64()),
        ("tier", pa.string()),
        ("lists", pa.string()),
        ("measures", pa.int64()),
        ("bans", pa.int64()),
        ("open_rectifications", pa.int64()),
        ("overdue_commitments", pa.int64()),
        ("pending_objections", pa.int64()),
        ("standing", pa.string()),
    ]
)


def _disclosure_rows(
    timeline: Timeline, as_of_us: int, now_us: int, rules: RuleServices, audience: Audience
) -> list[dict[str, Any]]:
    at = disclosure_of(timeline, as_of_us, rules).to_json()
    now = None if audience.everything else disclosure_of(timeline, now_us, rules).to_json()
    shown = disclosure_for(audience, at, now)
    return [
        {
            "subject": shown["subject"],
            "subject_name": shown.get("subject_name"),
            "event_id": item["event_id"],
            "kind": item.get("kind"),
            "agency": item.get("agency"),
            "from": item.get("from"),
            "until": item.get("until"),
            "publish_by": item.get("publish_by"),
            "late": item.get("late"),
            "document": item.get("document"),
            "item": _json(item),
        }
        for item in shown["items"]
        if item.get("published")
    ]


def _list_rows(
    timeline: Timeline, as_of_us: int, now_us: int, rules: RuleServices, audience: Audience
) -> list[dict[str, Any]]:
    def members(us: int) -> list[dict[str, Any]]:
        s = standing_of(timeline, us, rules)
        rows = []
        for d in s.list_designations:
            entry = timeline.get(d["event_id"])
            rows.append(
                {
                    "list": d["list"],
                    "event_id": d["event_id"],
                    "agency": entry.source if entry is not None else None,
                    "since": d.get("since"),
                    "until": d.get("planned_end"),
                }
            )
        for b in s.bans:
            entry = timeline.get(b["event_id"])
            rows.append(
                {
                    "list": "bans",
                    "event_id": b["event_id"],
                    "agency": entry.source if entry is not None else None,
                    "since": b.get("since"),
                    "until": b.get("until"),
                }
            )
        return rows

    at = members(as_of_us)
    if not audience.everything:
        current = {m["event_id"] for m in members(now_us)}
        at = [
            m for m in at if m["event_id"] in current or audience.sees_all_of(timeline.subject, m)
        ]
    return [{**m, "subject": timeline.subject, "subject_name": timeline.subject_name} for m in at]


def _standing_row(timeline: Timeline, as_of_us: int, rules: RuleServices) -> dict[str, Any]:
    s = standing_of(timeline, as_of_us, rules)
    return {
        "subject": s.subject,
        "subject_name": s.subject_name,
        "grade": s.grade,
        "score": s.score,
        "tier": s.tier,
        "lists": _json(list(s.lists)),
        "measures": len(s.measures),
        "bans": len(s.bans),
        "open_rectifications": len(s.open_rectifications),
        "overdue_commitments": len(s.overdue_commitments),
        "pending_objections": len(s.pending_objections),
        "standing": _json(s.to_json()),
    }


_SCHEMAS = {"disclosure": _DISCLOSURE, "lists": _LISTS, "standing": _STANDING}
BATCH_ROWS = 10_000
"""Rows per Arrow batch of the folded exports (memory stays bounded by a batch)."""


@dataclass(frozen=True)
class Export:
    """An export ready to write: its columns, its batches (a one-pass iterator) and
    the snapshot it holds."""

    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    snapshot: Snapshot


def export_of(
    kind: str,
    store: ViewStore,
    rules: RuleServices,
    checkpoint: dict[str, Any],
    as_of_us: int,
    now_us: int,
    audience: Audience = EVERYTHING,
) -> Export:
    """The export of ``kind`` from the first ``checkpoint["size"]`` records, read at
    ``as_of_us`` (``now_us``: the instant "published now" means) as ``audience``
    may see it. An agency's ``records`` are its own. Raises ``ValueError`` for an
    unknown kind."""
    if kind not in EXPORT_KINDS:
        raise ValueError(f"no export {kind!r}; exports: {', '.join(EXPORT_KINDS)}")
    size = int(checkpoint["size"])
    known = store.recorded_at(size) if size else None
    snapshot = Snapshot(kind, as_of_us, size, known, checkpoint)
    if kind == "records":
        source = None if audience.everything else (audience.agency or "")
        batches = record_batches(store, size, hashes=True, source=source)
        return Export(record_schema(hashes=True), batches, snapshot)
    make: Callable[[Timeline], list[dict[str, Any]]]
    if kind == "disclosure":

        def make(t: Timeline) -> list[dict[str, Any]]:
            return _disclosure_rows(t, as_of_us, now_us, rules, audience)
    elif kind == "lists":

        def make(t: Timeline) -> list[dict[str, Any]]:
            return _list_rows(t, as_of_us, now_us, rules, audience)
    else:

        def make(t: Timeline) -> list[dict[str, Any]]:
            known = any(e.effective_us <= as_of_us for e in t.entries)
            return [_standing_row(t, as_of_us, rules)] if known else []

    schema = _SCHEMAS[kind]

    def folded() -> Iterator[pa.RecordBatch]:
        rows: list[dict[str, Any]] = []
        for records in subject_streams(store, size):
            rows += make(Timeline(records[0].subject).extend(records))
            if len(rows) >= BATCH_ROWS:
                yield pa.RecordBatch.from_pylist(rows, schema=schema)
                rows = []
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=schema)

    return Export(schema, folded(), snapshot)


def write_export(export: Export, fmt: str, out: BinaryIO) -> int:
    """Write ``export`` to ``out`` in ``fmt``, batch by batch; return the rows
    written. Parquet carries the snapshot in its metadata; CSV and JSON lines
    travel with ``snapshot.to_json()`` beside them."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"no format {fmt!r}; formats: {', '.join(EXPORT_FORMATS)}")
    rows = 0
    if fmt == "parquet":
        meta = {METADATA_KEY: orjson.dumps(export.snapshot.to_json())}
        with pq.ParquetWriter(out, export.schema.with_metadata(meta), compression="zstd") as w:
            for batch in export.batches:
                w.write_batch(batch)
                rows += batch.num_rows
            if rows == 0:
                w.write_table(export.schema.empty_table())
    elif fmt == "csv":
        with pa_csv.CSVWriter(out, export.schema) as w:
            for batch in export.batches:
                w.write_batch(batch)
                rows += batch.num_rows
    else:
        for batch in export.batches:
            for row in batch.to_pylist():
                out.write(orjson.dumps(row) + b"\n")
            rows += batch.num_rows
    return rows
