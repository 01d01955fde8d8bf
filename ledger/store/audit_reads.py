"""The audit's reads of the ledger (``ledger.audit``): records in position order, the
Merkle tree's nodes, the stored checkpoints and their subject heads.

Every method takes a cursor of ``Store.audit_reader()`` and reads through the store's
public API (``fetch`` transfers binary on PostgreSQL).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger import merkle
from ledger.store.rows import AUDIT_COLUMNS

if TYPE_CHECKING:
    from ledger.store.base import Store

__all__ = ["HEAD_NODES_MIN_LEVEL", "STORED_MIN_LEVEL", "ZERO32", "AuditReads", "chunks"]

STORED_MIN_LEVEL = 4
"""Perfect Merkle subtrees of 16 leaves and up are stored; smaller ones are recomputed."""
HEAD_NODES_MIN_LEVEL = 6
"""Heads-tree perfect subtrees of 64 leaves and up are stored; smaller ones are recomputed."""
ZERO32 = bytes(32)
_first = itemgetter(0)


class AuditReads:
    """The audit read methods of the recorder (``LedgerSQL``)."""

    store: Store
    events_table: str
    merkle_table: str
    heads_table: str
    head_nodes_table: str
    checkpoints_table: str

    def audit_reader(self) -> contextlib.AbstractContextManager[Any]:
        """A read-only cursor over one consistent snapshot, for the audit read methods
        (``Store.audit_reader``)."""
        return self.store.audit_reader()

    def audit_rows(self, cursor: Any, start: int, stop: int) -> list[tuple[Any, ...]]:
        """Rows in ``AUDIT_COLUMNS`` order of positions ``start <= position < stop``, in
        position order. Types: ints, strs, ``bytes`` state/hash/prev; ``originator_id`` 16
        raw bytes (PostgreSQL) or its hex string (SQLite)."""
        # No ORDER BY: sorting a page in Python (already in order, as it almost always is)
        # costs far less than the sort a planner without statistics adds to a bitmap scan.
        rows = self.store.fetch(
            cursor,
            self.store.sql(
                f"SELECT {AUDIT_COLUMNS} FROM {self.events_table} WHERE notification_id > %s "
                "AND notification_id <= %s"
            ),
            (start, stop),
        )
        rows.sort(key=_first)  # itemgetter: no bytecode per row
        return rows

    def stream_audit_rows(
        self, cursor: Any, originator_id: UUID, size: int
    ) -> list[tuple[Any, ...]]:
        """One stream's rows (``AUDIT_COLUMNS``) with position < ``size``, in seq order."""
        return self.store.fetch(
            cursor,
            self.store.sql(
                f"SELECT {AUDIT_COLUMNS} FROM {self.events_table} WHERE originator_id = %s "
                "AND notification_id <= %s ORDER BY originator_version"
            ),
            (self.store.id_param(originator_id), size),
        )

    def tree_nodes(
        self, cursor: Any, wanted: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """The hashes of the given perfect nodes ``(level, idx)`` of the committed tree.

        Stored nodes (level >= ``STORED_MIN_LEVEL``) and the leaves of the lower ones are
        read with one statement per few hundred nodes. Raises ``LookupError`` if a node or
        a leaf under it is not in the store."""
        want = set(wanted)
        stored = sorted(n for n in want if n[0] >= STORED_MIN_LEVEL)
        low = sorted(n for n in want if n[0] < STORED_MIN_LEVEL)
        ranges = _merge_ranges([(idx << lvl, (idx + 1) << lvl) for lvl, idx in low])
        found: dict[tuple[int, int], bytes] = {}
        leaves: dict[int, bytes] = {}
        for part in range(0, max(len(stored), len(ranges)), 300):
            selects: list[str] = []
            params: list[Any] = []
            nodes = stored[part : part + 300]
            if nodes:
                pairs = " OR ".join(["(level = %s AND idx = %s)"] * len(nodes))
                selects.append(f"SELECT level, idx, hash FROM {self.merkle_table} WHERE {pairs}")
                params += [x for n in nodes for x in n]
            spans = ranges[part : part + 300]
            if spans:
                preds = " OR ".join(
                    ["(notification_id > %s AND notification_id <= %s)"] * len(spans)
                )
                selects.append(
                    f"SELECT -1, notification_id - 1, hash FROM {self.events_table} WHERE {preds}"
                )
                params += [x for r in spans for x in r]
            for level, idx, digest in self.store.fetch(
                cursor, self.store.sql(" UNION ALL ".join(selects)), params
            ):
                if level < 0:
                    leaves[idx] = merkle.leaf_hash(bytes(digest))
                else:
                    found[(level, idx)] = bytes(digest)
        for level, idx in low:
            start = idx << level
            try:
                block = [leaves[i] for i in range(start, start + (1 << level))]
            except KeyError:
                msg = f"leaves {start}..{start + (1 << level) - 1} are not all in the ledger"
                raise LookupError(msg) from None
            found[(level, idx)] = merkle.root(block)
        missing = [n for n in stored if n not in found]
        if missing:
            msg = f"Merkle node {missing[0]} is missing from {self.merkle_table}"
            raise LookupError(msg)
        return found

    def stored_tree_nodes(
        self, cursor: Any, start: int, stop: int, min_level: int = STORED_MIN_LEVEL
    ) -> list[tuple[int, int, bytes]]:
        """The stored perfect nodes ``(level, idx, hash)`` of level >= ``min_level`` completed
        by the leaves at positions ``start <= position < stop`` (their last leaf is in that
        range), in no order."""
        preds: list[str] = []
        params: list[Any] = []
        for level in range(max(min_level, STORED_MIN_LEVEL), 63):
            lo = -(-(start + 1) // (1 << level)) - 1  # first idx whose last leaf >= start
            hi = stop >> level  # idx whose last leaf < stop
            if lo >= hi:
                if (1 << level) > stop:
                    break
                continue
            preds.append("(level = %s AND idx >= %s AND idx < %s)")
            params += [level, lo, hi]
        if not preds:
            return []
        return [
            (level, idx, bytes(digest))
            for level, idx, digest in self.store.fetch(
                cursor,
                self.store.sql(
                    f"SELECT level, idx, hash FROM {self.merkle_table} WHERE " + " OR ".join(preds)
                ),
                params,
            )
        ]

    def stored_tree_node_count(self, cursor: Any) -> int:
        """How many perfect nodes ``ledger_merkle`` holds."""
        cursor.execute(f"SELECT count(*) FROM {self.merkle_table}")
        return int(cursor.fetchone()[0])

    def checkpoint_rows(
        self, cursor: Any, *, size: int | None = None, latest: bool = False
    ) -> list[tuple[int, int, bytes, bytes]]:
        """Stored checkpoints ``(size, issued_us, body, signature)`` in size order: all, the
        one of ``size``, or (``latest``) the last one."""
        sql = f"SELECT size, issued_us, body, signature FROM {self.checkpoints_table}"
        params: list[Any] = []
        if size is not None:
            sql += " WHERE size = %s"
            params.append(size)
        sql += " ORDER BY size DESC LIMIT 1" if latest else " ORDER BY size"
        rows = self.store.fetch(cursor, self.store.sql(sql), params)
        return [(r[0], r[1], bytes(r[2]), bytes(r[3])) for r in rows]

    def checkpoint_head_count(self, cursor: Any, size: int) -> int:
        """How many head leaves are stored for the checkpoint of ``size``."""
        cursor.execute(
            self.store.sql(f"SELECT count(*) FROM {self.heads_table} WHERE size = %s"), (size,)
        )
        return int(cursor.fetchone()[0])

    def checkpoint_head_rows(
        self, cursor: Any, size: int, ranges: Sequence[tuple[int, int]]
    ) -> list[tuple[int, str, int, bytes]]:
        """Stored head leaves ``(ordinal, subject, seq, hash)`` of the checkpoint of ``size``
        whose ordinal is in one of the half-open ``ranges``, in ordinal order."""
        spans = _merge_ranges(list(ranges))
        if not spans:
            return []
        preds = " OR ".join(["(ordinal >= %s AND ordinal < %s)"] * len(spans))
        rows = self.store.fetch(
            cursor,
            self.store.sql(
                f"SELECT ordinal, subject, seq, hash FROM {self.heads_table} WHERE size = %s "
                f"AND ({preds}) ORDER BY ordinal"
            ),
            [size, *(x for r in spans for x in r)],
        )
        return [(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def checkpoint_head_rank(self, cursor: Any, size: int, subject: str) -> tuple[int, bool]:
        """``(ordinal, present)``: the ordinal of ``subject`` among the checkpoint's stored
        heads if present, else how many stored subjects sort before it."""
        cursor.execute(
            self.store.sql(
                f"SELECT ordinal FROM {self.heads_table} WHERE size = %s AND subject = %s"
            ),
            (size, subject),
        )
        row = cursor.fetchone()
        if row is not None:
            return int(row[0]), True
        cursor.execute(
            self.store.sql(
                f"SELECT ordinal FROM {self.heads_table} WHERE size = %s AND subject < %s "
                "ORDER BY subject DESC LIMIT 1"
            ),
            (size, subject),
        )
        row = cursor.fetchone()
        return (0 if row is None else int(row[0]) + 1), False

    def checkpoint_head_nodes(
        self, cursor: Any, size: int, wanted: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """The stored heads-tree nodes ``(level, idx)`` of the checkpoint of ``size`` among
        ``wanted`` (levels below ``HEAD_NODES_MIN_LEVEL`` are never stored)."""
        want = sorted(n for n in set(wanted) if n[0] >= HEAD_NODES_MIN_LEVEL)
        found: dict[tuple[int, int], bytes] = {}
        for part in range(0, len(want), 300):
            nodes = want[part : part + 300]
            pairs = " OR ".join(["(level = %s AND idx = %s)"] * len(nodes))
            for level, idx, digest in self.store.fetch(
                cursor,
                self.store.sql(
                    f"SELECT level, idx, hash FROM {self.head_nodes_table} WHERE size = %s "
                    f"AND ({pairs})"
                ),
                [size, *(x for n in nodes for x in n)],
            ):
                found[(level, idx)] = bytes(digest)
        return found

    def checkpoint_head_node_rows(self, cursor: Any, size: int) -> list[tuple[int, int, bytes]]:
        """Every stored heads-tree node ``(level, idx, hash)`` of the checkpoint of ``size``."""
        rows = self.store.fetch(
            cursor,
            self.store.sql(f"SELECT level, idx, hash FROM {self.head_nodes_table} WHERE size = %s"),
            (size,),
        )
        return [(r[0], r[1], bytes(r[2])) for r in rows]


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open ``[start, stop)`` ranges merged where they overlap or touch, sorted."""
    out: list[tuple[int, int]] = []
    for start, stop in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], stop))
        else:
            out.append((start, stop))
    return out


def chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
