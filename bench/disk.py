"""Bytes on disk per event: what the ledger's schema holds after the bench wrote it
(issue 21: "bytes per event on disk (records, Merkle nodes, views, indexes)").

Every table of the schema is measured with PostgreSQL's own accounting:
``pg_table_size`` (heap, TOAST, free-space and visibility maps) and ``pg_indexes_size``.
Tables are grouped by what they hold — the records, the Merkle nodes, the views, and the
rest (checkpoints, snapshots, person keys, tracking) — and the indexes of all of them
are one more group, so the groups add up to the schema's total.
"""

from __future__ import annotations

import psycopg

from bench.database import conninfo, postgres_address
from bench.measurement import Measurement
from ledger.store.tables import EVENTS_TABLE, MERKLE_TABLE

__all__ = ["GROUPS", "measure_disk", "table_group"]

GROUPS = ("records", "merkle", "views", "other", "indexes")
"""The groups of :func:`measure_disk`, in the order they are reported."""


def table_group(table: str) -> str:
    """The group a table of the ledger's schema is counted in (indexes apart)."""
    if table == EVENTS_TABLE:
        return "records"
    if table == MERKLE_TABLE:
        return "merkle"
    if table.startswith("view_"):
        return "views"
    return "other"


def measure_disk(r: Measurement, url: str, events: int) -> None:
    """Record ``ledger.disk_bytes_per_event`` (all of the schema over ``events``) and, per
    group, bytes and bytes per event under ``counts.disk``."""
    schema = postgres_address(url).schema
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
            (schema,),
        ).fetchall()
    sizes = dict.fromkeys(GROUPS, 0)
    tables: dict[str, int] = {}
    for name, table_bytes, index_bytes in rows:
        sizes[table_group(name)] += table_bytes
        sizes["indexes"] += index_bytes
        tables[name] = table_bytes + index_bytes
    total = sum(sizes.values())
    per_event = max(events, 1)
    r.values["ledger.disk_bytes_per_event"] = total / per_event
    r.counts["disk"] = {
        "events": events,
        "bytes": total,
        "groups": {
            group: {"bytes": size, "per_event": round(size / per_event, 1)}
            for group, size in sizes.items()
        },
        "tables": dict(sorted(tables.items(), key=lambda kv: -kv[1])),
    }
