"""The person keys and the number index in the ledger's database (``ledger.sealing``).

Tables (``ledger.store.tables.PERSON_KEYS``): ``ledger_person_keys`` (one key per
person, NULL once erased), ``ledger_person_index`` (the only link from a number to a
key id) and ``ledger_person_secret`` (the fingerprint of the secret the index is keyed
with; its one row is the index lock). ``Store.person_keys(secret)`` builds the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.sealing import (
    IndexRow,
    Keyed,
    KeyStore,
    PersonKey,
    PersonSecrets,
    Rebuild,
    now_us,
)
from ledger.store.tables import PERSON_INDEX_TABLE, PERSON_KEYS_TABLE, PERSON_SECRET_TABLE

if TYPE_CHECKING:
    from ledger.store.base import Store

__all__ = ["SQLKeyStore"]


class SQLKeyStore(KeyStore):
    """Keys and index in the ledger's database (the logic is ``KeyStore``'s)."""

    def __init__(
        self,
        store: Store,
        secrets_: PersonSecrets | bytes | Path,
        clock: Callable[[], int] = now_us,
    ) -> None:
        super().__init__(secrets_, clock)
        self.store = store
        self._keys = store.table(PERSON_KEYS_TABLE)
        self._index = store.table(PERSON_INDEX_TABLE)
        self._secret = store.table(PERSON_SECRET_TABLE)

    def lookup(self, person_key_id: str) -> PersonKey | None:
        with self.store.read_transaction(snapshot=False) as cursor:
            cursor.execute(
                self.store.sql(
                    f"SELECT person_key_id, key, created_us, erased_us FROM {self._keys} "
                    "WHERE person_key_id = %s"
                ),
                (person_key_id,),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        key = bytes(row[1]) if row[1] is not None else None
        return PersonKey(row[0], key, row[2], row[3])

    def _index_find(self, lookups: Sequence[str]) -> str | None:
        pred, params = self.store.where_in("lookup", lookups)
        with self.store.read_transaction(snapshot=False) as cursor:
            cursor.execute(f"SELECT person_key_id FROM {self._index} WHERE {pred}", params)
            row = cursor.fetchone()
        return None if row is None else str(row[0])

    def _lock(self, cursor: Any) -> str:
        """Take the index lock (a write of the one secret row: PostgreSQL row lock,
        SQLite write lock) and return the fingerprint the index is keyed with."""
        cursor.execute(
            f"UPDATE {self._secret} SET fingerprint = fingerprint WHERE id = 1 "
            "RETURNING fingerprint"
        )
        row = cursor.fetchone()
        return "" if row is None else str(row[0])

    def _set_fingerprint(self, cursor: Any, name: str) -> None:
        cursor.execute(
            self.store.sql(f"UPDATE {self._secret} SET fingerprint = %s WHERE id = 1"), (name,)
        )

    def _insert_index_row(self, cursor: Any, row: IndexRow) -> None:
        cursor.execute(
            self.store.sql(
                f"INSERT INTO {self._index} (lookup, person_key_id, number_enc) VALUES (%s, %s, %s)"
            ),
            (row.lookup, row.person_key_id, row.number_enc),
        )

    def _claim(self, keyed: Keyed, new: PersonKey, number_enc: str) -> str:
        sql = self.store.sql
        with self.store.transaction() as cursor:
            current = self._lock(cursor)
            lookup, name = keyed(current)
            cursor.execute(
                sql(f"SELECT person_key_id FROM {self._index} WHERE lookup = %s"), (lookup,)
            )
            row = cursor.fetchone()
            if row is not None:
                return str(row[0])
            if name != current:
                self._set_fingerprint(cursor, name)
            cursor.execute(
                sql(
                    f"INSERT INTO {self._keys} (person_key_id, key, created_us, erased_us) "
                    "VALUES (%s, %s, %s, NULL) ON CONFLICT (person_key_id) DO NOTHING"
                ),
                (new.person_key_id, new.key, new.created_us),
            )
            self._insert_index_row(cursor, IndexRow(lookup, new.person_key_id, number_enc))
        return new.person_key_id

    def _erase(self, person_key_id: str, now_us: int) -> bool:
        sql = self.store.sql
        with self.store.transaction() as cursor:
            self.store.overwrite_deleted(cursor)
            cursor.execute(
                sql(f"SELECT count(*) FROM {self._index} WHERE person_key_id = %s"),
                (person_key_id,),
            )
            unindexed = int(cursor.fetchone()[0]) > 0
            cursor.execute(
                sql(f"DELETE FROM {self._index} WHERE person_key_id = %s"), (person_key_id,)
            )
            cursor.execute(
                sql(f"SELECT erased_us FROM {self._keys} WHERE person_key_id = %s"),
                (person_key_id,),
            )
            row = cursor.fetchone()
            changed = row is not None and row[0] is None
            if changed:
                cursor.execute(
                    sql(
                        f"UPDATE {self._keys} SET key = NULL, erased_us = %s "
                        "WHERE person_key_id = %s"
                    ),
                    (now_us, person_key_id),
                )
        if changed or unindexed:
            self._compact()
        return changed

    def _compact(self) -> None:
        """Drop the wiped rows' old versions (best effort, ``Store.compact``)."""
        self.store.compact((PERSON_KEYS_TABLE, PERSON_INDEX_TABLE))

    def _reindex(self, name: str, rebuild: Rebuild) -> None:
        with self.store.transaction() as cursor:
            self.store.overwrite_deleted(cursor)
            self._lock(cursor)
            cursor.execute(f"SELECT lookup, person_key_id, number_enc FROM {self._index}")
            rows = [IndexRow(str(a), str(b), str(c)) for a, b, c in cursor.fetchall()]
            cursor.execute(f"SELECT person_key_id, key FROM {self._keys} WHERE key IS NOT NULL")
            keys = {str(k): bytes(v) for k, v in cursor.fetchall()}
            new_rows = rebuild(rows, keys)
            cursor.execute(f"DELETE FROM {self._index}")
            for r in new_rows:
                self._insert_index_row(cursor, r)
            self._set_fingerprint(cursor, name)
        self._compact()

    def _indexed_and_live(self) -> tuple[set[str], set[str]]:
        with self.store.read_transaction(snapshot=False) as cursor:
            cursor.execute(f"SELECT DISTINCT person_key_id FROM {self._index}")
            indexed = {str(r[0]) for r in cursor.fetchall()}
            cursor.execute(f"SELECT person_key_id FROM {self._keys} WHERE key IS NOT NULL")
            live = {str(r[0]) for r in cursor.fetchall()}
        return indexed, live
