"""The national store: what the regions published, and how far each topic was consumed.

Tables (prefix ``national_``) in the national service's own database (its
``database_url``: a PostgreSQL schema or database of its own, or SQLite), beside the
recorder's tracking table:

* ``national_items``: one row per (origin, event_id): a disclosure item as the region's
  feed last carried it: ``published``, the ``item`` and the ``cause`` (JSON), the region's
  ledger ``position`` of the record that caused the change, ``recorded_us`` (when the
  region recorded it) and ``applied_us`` (when the national store took it). An ``ended``
  change keeps the row (the position guards against replays) but drops the content:
  mirrors delete what the region stopped publishing.
* ``national_subjects``: subject code → the name its region's disclosure shows (search).
* ``national_checkpoints``: every signed checkpoint received whose signature verified under
  its region's public key.

Guarantees:

* :meth:`NationalStore.apply` writes a batch of changes and checkpoints AND the consumer's
  tracking records (eventsourcing ``Tracking``, application ``kafka:GROUP:TOPIC:PARTITION``,
  notification id = the next offset) in one transaction: exactly-once in effect, as
  ``ledger ingest`` does. A tracking record not beyond the stored one fails the whole
  transaction (``IntegrityError``): a batch is never applied twice.
* A change is applied only when its ``position`` is beyond the item's stored position (the
  feed is at-least-once: a batch it produced again after a crash changes nothing), so
  within one item the national view follows the region's ledger order.

The statements go through the store's public API (``ledger.store.base.Store``: ``%s``
placeholders, qualified names, transactions) of the recorder the URL opens.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from eventsourcing.persistence import Tracking

from ledger.audit.checkpoints import Checkpoint
from ledger.store.recorder import LedgerSQL
from ledger.store.views import ViewStore

__all__ = ["TABLES", "ItemChange", "NationalStore", "Page"]

TABLES: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS {national_items} ("
    "origin text NOT NULL, event_id text NOT NULL, subject text NOT NULL, "
    "kind text, list_name text, published {bigint} NOT NULL, position {bigint} NOT NULL, "
    "recorded_us {bigint} NOT NULL, applied_us {bigint} NOT NULL, body text, "
    "PRIMARY KEY (origin, event_id))",
    "CREATE INDEX IF NOT EXISTS national_items_subject ON {national_items} (subject)",
    "CREATE INDEX IF NOT EXISTS national_items_list ON {national_items} "
    "(list_name, published, subject)",
    "CREATE TABLE IF NOT EXISTS {national_subjects} ("
    "subject text PRIMARY KEY, name text, updated_us {bigint} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {national_checkpoints} ("
    "origin text NOT NULL, size {bigint} NOT NULL, issued_us {bigint} NOT NULL, "
    "root text NOT NULL, heads_root text NOT NULL, signature text NOT NULL, "
    "received_us {bigint} NOT NULL, PRIMARY KEY (origin, size, issued_us))",
)
"""The national tables, declared as ``ledger.store.tables`` declares the ledger's."""


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One disclosure change of one region, as the national store applies it."""

    origin: str
    subject: str
    event_id: str
    change: str
    """``published``, ``updated`` or ``ended``."""
    position: int
    recorded_us: int
    item: dict[str, Any] | None
    """The item as shown (None for ``ended``)."""
    cause: dict[str, Any] | None
    subject_name: str | None = None

    @property
    def published(self) -> bool:
        return self.change != "ended" and bool(self.item and self.item.get("published"))


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list-shaped answer: ``rows``, the ``total`` count, and the cursor of
    the next page (None on the last)."""

    rows: list[dict[str, Any]]
    total: int
    next: str | None


def _now_us() -> int:
    return time.time_ns() // 1000


class NationalStore:
    """The national tables on one database (module docstring). Thread-safe as its
    connection pool is: the consumer writes while the API reads."""

    def __init__(self, recorder: LedgerSQL) -> None:
        self.recorder = recorder
        self.db: ViewStore = recorder.store.views(create=False)

    @classmethod
    def open(cls, recorder: LedgerSQL) -> NationalStore:
        """The store in ``recorder``'s database (``entrypoints.bootstrap.open_recorder``
        opens one), its tables created."""
        store = cls(recorder)
        store.create_tables()
        return store

    def close(self) -> None:
        self.recorder.datastore.close()  # type: ignore[attr-defined]

    def create_tables(self) -> None:
        """Create the national tables if they do not exist (``TABLES``; concurrent
        processes take turns, ``ledger.store.base.Store.create_tables``)."""
        self.recorder.store.create_tables(TABLES)

    # -- writing ---------------------------------------------------------------------------

    def tracked(self, name: str) -> int | None:
        """The next offset recorded for tracking application ``name`` (None: never)."""
        position: int | None = self.recorder.max_tracking_id(name)  # type: ignore[attr-defined]
        return position

    def apply(
        self,
        changes: Sequence[ItemChange],
        checkpoints: Sequence[Checkpoint],
        tracking: Sequence[Tracking],
    ) -> int:
        """Apply ``changes`` (each only if beyond its item's stored position) and store
        ``checkpoints``, with ``tracking``, in one transaction; returns how many changes
        were applied. Raises what the database raises (nothing is applied then)."""
        applied = 0
        now = _now_us()
        sql = self.db.sql
        t = self.db.table
        with self.db.transaction() as cursor:
            for c in changes:
                cursor.execute(
                    sql(
                        f"SELECT position FROM {t('national_items')} WHERE origin = %s AND event_id = %s"
                    ),
                    (c.origin, c.event_id),
                )
                row = cursor.fetchone()
                if row is not None and int(row[0]) >= c.position:
                    continue
                body = None
                if c.item is not None:
                    body = orjson.dumps({"item": c.item, "cause": c.cause}).decode()
                values = (
                    c.subject,
                    c.item.get("kind") if c.item else None,
                    _list_name(c.item),
                    int(c.published),
                    c.position,
                    c.recorded_us,
                    now,
                    body,
                )
                if row is None:
                    cursor.execute(
                        sql(
                            f"INSERT INTO {t('national_items')} (subject, kind, list_name, "
                            "published, position, recorded_us, applied_us, body, origin, "
                            "event_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                        ),
                        (*values, c.origin, c.event_id),
                    )
                else:
                    cursor.execute(
                        sql(
                            f"UPDATE {t('national_items')} SET subject = %s, kind = %s, "
                            "list_name = %s, published = %s, position = %s, recorded_us = %s, "
                            "applied_us = %s, body = %s WHERE origin = %s AND event_id = %s"
                        ),
                        (*values, c.origin, c.event_id),
                    )
                if c.subject_name:
                    cursor.execute(
                        sql(
                            f"INSERT INTO {t('national_subjects')} (subject, name, updated_us) "
                            "VALUES (%s, %s, %s) ON CONFLICT (subject) DO UPDATE SET "
                            "name = excluded.name, updated_us = excluded.updated_us"
                        ),
                        (c.subject, c.subject_name, now),
                    )
                applied += 1
            for cp in checkpoints:
                cursor.execute(
                    sql(
                        f"INSERT INTO {t('national_checkpoints')} (origin, size, issued_us, "
                        "root, heads_root, signature, received_us) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT DO NOTHING"
                    ),
                    (cp.origin, cp.size, cp.issued_us, cp.root, cp.heads_root, cp.signature, now),
                )
            for record in tracking:
                self.recorder.record_tracking(cursor, record)
        return applied

    # -- reading ---------------------------------------------------------------------------

    def _rows(self, query: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self.db.read_cursor() as cursor:
            cursor.execute(self.db.sql(query), tuple(params))
            return [tuple(r) for r in cursor.fetchall()]

    def subject_items(self, subject: str) -> list[dict[str, Any]]:
        """Every item of ``subject`` any region published (published now or not; an ended
        one without content), oldest change first."""
        rows = self._rows(
            f"SELECT origin, event_id, published, position, recorded_us, applied_us, body "
            f"FROM {self.db.table('national_items')} WHERE subject = %s "
            "ORDER BY recorded_us, origin, position",
            (subject,),
        )
        return [_item(subject, r) for r in rows]

    def subject_name(self, subject: str) -> str | None:
        rows = self._rows(
            f"SELECT name FROM {self.db.table('national_subjects')} WHERE subject = %s", (subject,)
        )
        return rows[0][0] if rows else None

    def list_members(self, name: str, limit: int, after: str | None) -> Page:
        """The subjects on list ``name`` in at least one region (published list items),
        by code, ``limit`` from the one after ``after``; each with its listings."""
        t = self.db.table("national_items")
        where = "list_name = %s AND published = 1"
        total = self._rows(f"SELECT COUNT(DISTINCT subject) FROM {t} WHERE {where}", (name,))
        subjects = [
            r[0]
            for r in self._rows(
                f"SELECT DISTINCT subject FROM {t} WHERE {where} AND subject > %s "
                "ORDER BY subject LIMIT %s",
                (name, after or "", limit + 1),
            )
        ]
        more = len(subjects) > limit
        subjects = subjects[:limit]
        listings: dict[str, list[dict[str, Any]]] = {s: [] for s in subjects}
        if subjects:
            predicate, values = self.db.store.where_in("subject", subjects)
            rows = self._rows(
                f"SELECT subject, origin, event_id, published, position, recorded_us, "
                f"applied_us, body FROM {t} WHERE {where} AND {predicate} "
                "ORDER BY subject, recorded_us",
                (name, *values),
            )
            for r in rows:
                listings[r[0]].append(_item(r[0], r[1:]))
        names = self._names(subjects)
        out = [
            {"subject": s, "subject_name": names.get(s), "listings": listings[s]} for s in subjects
        ]
        return Page(out, int(total[0][0]), subjects[-1] if more else None)

    def search(self, q: str, limit: int, after: str | None) -> Page:
        """Subjects whose code starts with ``q`` (case-insensitive) or whose name contains
        it, by code."""
        items = self.db.table("national_items")
        names = self.db.table("national_subjects")
        query = (
            f"SELECT DISTINCT i.subject FROM {items} i LEFT JOIN {names} n "
            "ON n.subject = i.subject WHERE (i.subject LIKE %s OR n.name LIKE %s)"
        )
        params = (f"{q.upper()}%", f"%{q}%")
        total = self._rows(f"SELECT COUNT(*) FROM ({query}) found", params)
        subjects = [
            r[0]
            for r in self._rows(
                f"{query} AND i.subject > %s ORDER BY i.subject LIMIT %s",
                (*params, after or "", limit + 1),
            )
        ]
        more = len(subjects) > limit
        subjects = subjects[:limit]
        found = self._names(subjects)
        rows = [{"subject": s, "subject_name": found.get(s)} for s in subjects]
        return Page(rows, int(total[0][0]), subjects[-1] if more else None)

    def _names(self, subjects: Sequence[str]) -> dict[str, str]:
        if not subjects:
            return {}
        predicate, values = self.db.store.where_in("subject", subjects)
        rows = self._rows(
            f"SELECT subject, name FROM {self.db.table('national_subjects')} "
            f"WHERE {predicate}",
            values,
        )
        return {r[0]: r[1] for r in rows}

    def latest_checkpoints(self) -> dict[str, Checkpoint]:
        """Origin → the largest (then latest) checkpoint received from it."""
        rows = self._rows(
            f"SELECT origin, size, root, issued_us, heads_root, signature "
            f"FROM {self.db.table('national_checkpoints')} ORDER BY origin, size, issued_us"
        )
        return {r[0]: Checkpoint(r[0], int(r[1]), r[2], int(r[3]), r[4], r[5]) for r in rows}

    def checkpoints(self, origin: str, limit: int = 100) -> list[Checkpoint]:
        """The newest ``limit`` checkpoints received from ``origin``, newest first."""
        rows = self._rows(
            f"SELECT origin, size, root, issued_us, heads_root, signature "
            f"FROM {self.db.table('national_checkpoints')} WHERE origin = %s "
            "ORDER BY size DESC, issued_us DESC LIMIT %s",
            (origin, limit),
        )
        return [Checkpoint(r[0], int(r[1]), r[2], int(r[3]), r[4], r[5]) for r in rows]

    def region_figures(self) -> dict[str, dict[str, Any]]:
        """Origin → ``items`` (published now), ``position`` (the highest region position
        applied), ``last_recorded_us`` and ``last_applied_us``."""
        rows = self._rows(
            "SELECT origin, SUM(published), MAX(position), MAX(recorded_us), MAX(applied_us) "
            f"FROM {self.db.table('national_items')} GROUP BY origin"
        )
        return {
            r[0]: {
                "items": int(r[1] or 0),
                "position": int(r[2]),
                "last_recorded_us": int(r[3]),
                "last_applied_us": int(r[4]),
            }
            for r in rows
        }

    def lags_us(self, since_us: int = 0) -> list[int]:
        """``applied_us - recorded_us`` of every item row applied at or after ``since_us``
        (how long a region's record took to show nationally; the benchmark reads it)."""
        rows = self._rows(
            f"SELECT applied_us - recorded_us FROM {self.db.table('national_items')} "
            "WHERE applied_us >= %s",
            (since_us,),
        )
        return [int(r[0]) for r in rows]


def _list_name(item: dict[str, Any] | None) -> str | None:
    """The national list an item puts its subject on: the list of a listing, ``bans`` for
    a market ban, else None."""
    if not item:
        return None
    if item.get("kind") == "list":
        return str(item.get("list")) if item.get("list") else None
    return "bans" if item.get("kind") == "ban" else None


def _item(subject: str, row: Sequence[Any]) -> dict[str, Any]:
    origin, event_id, published, position, recorded_us, applied_us, body = row
    content = orjson.loads(body) if body else {}
    return {
        "origin": origin,
        "subject": subject,
        "event_id": event_id,
        "published": bool(published),
        "position": int(position),
        "recorded_us": int(recorded_us),
        "applied_us": int(applied_us),
        "item": content.get("item"),
        "cause": content.get("cause"),
    }
