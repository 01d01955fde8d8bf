"""Read and write sessions on the ledger (``LedgerSQL.read`` / ``LedgerSQL.write``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from events.recorded import RecordedEvent
from ledger import chain

if TYPE_CHECKING:
    from ledger.store.recorder import LedgerSQL

__all__ = ["Head", "Prefetched", "ReadSession", "WriteSession"]


@dataclass(frozen=True, slots=True)
class Head:
    """The ledger's head at the start of a write: its size and last recording time."""

    size: int
    recorded_us: int


@dataclass(frozen=True, slots=True)
class Prefetched:
    """The committed records among ``keys`` ((source, id) pairs), looked up as the
    session opened."""

    keys: frozenset[tuple[str, str]]
    found: dict[tuple[str, str], RecordedEvent]


class ReadSession:
    """Reads of the committed ledger through one cursor, starting with its head.

    Without the write lock (``LedgerSQL.read``) it is what a writer prepares
    before taking the lock; a :class:`WriteSession` is a read session that holds
    the lock. Read the head first: records read afterwards are never older than
    it, which is all a cache brought up to ``head.size`` relies on.
    """

    def __init__(
        self,
        recorder: LedgerSQL,
        cursor: Any,
        head: Head,
        recent: list[RecordedEvent] | None = None,
        prefetched: Prefetched | None = None,
    ) -> None:
        self._recorder = recorder
        self._prefetched = prefetched
        self._cursor = cursor
        self.head = head
        self.recent = recent
        """The committed records after the position the session was opened ``since``, in
        order, read with the head in one statement; None when not asked for or when
        there were more than ``LedgerSQL.RECENT_LIMIT``."""

    def streams(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[RecordedEvent]]:
        """Every committed record of the given streams, in seq order."""
        return self._recorder.select_streams(self._cursor, originator_ids)

    def changed_since(self, size: int) -> set[UUID]:
        """The streams that received records at positions ≥ ``size`` (up to the head)."""
        return self._recorder.changed_since(self._cursor, size, self.head.size)

    def tail(self, originator_id: UUID, after: int) -> list[RecordedEvent]:
        """The committed records of one stream after seq ``after``, in order."""
        return self._recorder.select_tail(self._cursor, originator_id, after)

    def existing(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], RecordedEvent]:
        """The committed records among the given (source, id) keys (without a statement
        when the session looked them up as it opened)."""
        prefetched = self._prefetched
        if prefetched is not None and prefetched.keys.issuperset(keys):
            return {key: prefetched.found[key] for key in keys if key in prefetched.found}
        return self._recorder.select_by_keys(self._cursor, keys)

    def snapshots(self, originator_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        """The usable decision-state snapshots of the given streams (see
        ``LedgerSQL.select_snapshots``)."""
        return self._recorder.select_snapshots(self._cursor, originator_ids)


class WriteSession(ReadSession):
    """One write transaction holding the ledger's write lock.

    Reads made through it see the committed ledger and nothing can be appended by
    anyone else until it ends. ``append`` hands out positions and computes the
    chain; everything is inserted, with the Merkle nodes and the optional
    tracking record, when the session's ``with`` block exits without error, and
    committed. An exception rolls everything back.
    """

    def __init__(
        self,
        recorder: LedgerSQL,
        cursor: Any,
        head: Head,
        now_us: int,
        recent: list[RecordedEvent] | None = None,
        prefetched: Prefetched | None = None,
    ) -> None:
        super().__init__(recorder, cursor, head, recent, prefetched)
        self._id_param = recorder.store.id_param
        self.recorded_us = max(now_us, head.recorded_us)
        self._rows: list[tuple[Any, ...]] = []
        """Appended rows in ``COLUMNS`` order, inserted at the end of the session."""
        self.tracking: Sequence[Tracking] = ()

    @property
    def size(self) -> int:
        """The ledger's size including what this session appended so far."""
        return self.head.size + len(self._rows)

    @property
    def rows(self) -> Sequence[tuple[Any, ...]]:
        return self._rows

    def append(
        self,
        *,
        originator_id: UUID,
        seq: int,
        prev: str,
        subject: str,
        id: str,
        source: str,
        type: str,
        time: str,
        time_us: int,
        data: dict[str, Any],
        schema_version: int,
    ) -> RecordedEvent:
        """Append one record at the next position; returns it as it will be stored."""
        position = self.size
        state = chain.canonical_trusted(data)
        digest = chain.record_hash_bytes(
            chain.record_bytes(
                subject=subject,
                seq=seq,
                position=position,
                id=id,
                source=source,
                type=type,
                time=time,
                recorded_us=self.recorded_us,
                data_canonical=state,
                prev=prev,
            )
        )
        self._rows.append(
            (
                position + 1,
                self._id_param(originator_id),
                seq,
                type,
                state,
                subject,
                source,
                id,
                time,
                time_us,
                self.recorded_us,
                schema_version,
                digest,
                bytes.fromhex(prev),
            )
        )
        return RecordedEvent(
            originator_id=originator_id,
            originator_version=seq,
            subject=subject,
            id=id,
            source=source,
            type=type,
            time=time,
            time_us=time_us,
            recorded_us=self.recorded_us,
            data=data,
            schema_version=schema_version,
            position=position,
            hash=digest.hex(),
            prev=prev,
        )
