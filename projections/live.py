"""LIVE mode (Marten's "live" aggregation): as-of reads fold the subject's stream on demand.

:class:`LiveReads` answers standing, disclosure and history for any
(``as_of``, ``known_at``) by folding the subject's stream. What makes it fast:

* everything known is folded once into a :class:`~projections.timeline.Timeline`
  whose lifecycles do not depend on ``as_of``; a read at any ``as_of`` only
  evaluates them (``standing_of``/``disclosure_of`` leave out what takes effect
  later, so the answer equals a fold of the records selected at ``as_of``);
* that fold is a snapshot kept in memory per subject (an LRU bounded by
  subjects and records), checked against the stream's head with one indexed
  query per read and brought up to date by reading only the new records;
* a read ``known_at`` a past moment folds the prefix of records recorded by
  then, from the snapshot's records (no database read), and keeps that fold
  too, for the next question about the same moment;
* the standing of a subject not in memory, known at or after its last record, is
  read from its read snapshot in the database (``projections.read_snapshot``: only
  the score lines in force at ``as_of`` are read, records after it that name no
  earlier record folded on top, nothing kept); a subject folded here for want of one, of at
  least ``snapshot_records`` records and of a kind a snapshot can serve, has one
  written after the read (best-effort, in a short transaction of its own).

Thread-safe: reads of one subject serialise on that subject's lock.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from uuid import UUID

from commands.services import RuleServices
from events.codes import subject_stream_id
from events.recorded import RecordedEvent
from ledger.store.read_snapshots import ReadSnapshots
from ledger.store.recorder import LedgerSQL
from ledger.store.views import ViewStore
from projections import read_snapshot
from projections.collector import fewer_collections
from projections.disclosure import Disclosure, disclosure_of
from projections.history import History, history
from projections.standing import Standing, standing_of
from projections.timeline import Timeline

__all__ = ["LiveReads", "UnknownSubject"]

log = logging.getLogger(__name__)


class UnknownSubject(LookupError):
    """The ledger holds no record of this subject (as known at the moment asked)."""


@dataclass
class _Snapshot:
    records: list[RecordedEvent]
    recorded: list[int]
    full: Timeline
    prefixes: OrderedDict[int, Timeline] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_Taken = tuple[RecordedEvent, bytes, list[read_snapshot.SnapshotLine]]
"""A read snapshot taken: the head record it is of, its header and its lines."""


class LiveReads:
    """Folds subjects' streams on demand (module docstring).

    ``cache_subjects``/``cache_records`` bound the snapshots kept; ``prefixes``
    how many past-``known_at`` folds are kept per subject; ``snapshot_records`` how
    long a stream must be for its read snapshot to be written (None: never).
    """

    def __init__(
        self,
        recorder: LedgerSQL,
        rules: RuleServices,
        *,
        store: ViewStore | None = None,
        cache_subjects: int = 1024,
        cache_records: int = 2_000_000,
        prefixes: int = 4,
        clock: Callable[[], int] | None = None,
        snapshot_records: int | None = 1_000,
        warm_after_snapshot: bool = False,
    ) -> None:
        self.recorder = recorder
        self.rules = rules
        self.store = store or recorder.store.views()
        self.cache_subjects = cache_subjects
        self.cache_records = cache_records
        self.prefixes = prefixes
        self.snapshot_records = snapshot_records
        self.read_snapshots = ReadSnapshots(self.store.store)
        self.warm_after_snapshot = warm_after_snapshot
        """Whether a standing served from a read snapshot starts the subject's fold in the
        background (:meth:`settle` waits for it), so that its next reads are served from
        memory: a read snapshot answers the first read of a long stream in a process, the
        fold in memory every read after it (an API process). Off, every read of a subject
        this process has not folded goes to the read snapshot again (a query and ~3 MB of
        JSON for a 10,000-record stream)."""
        self.served_from_snapshot = False
        """Whether the last :meth:`standing` was read from a read snapshot (for tests)."""
        self._warming: dict[str, threading.Thread] = {}
        self._snapshots: OrderedDict[str, _Snapshot] = OrderedDict()
        self._records = 0
        self._lock = threading.Lock()

    # -- folds -------------------------------------------------------------------------
    def _snapshot(self, subject: str) -> _Snapshot:
        oid = subject_stream_id(subject)
        head = self.store.stream_head(oid)
        with self._lock:
            snap = self._snapshots.get(subject)
            if snap is not None:
                self._snapshots.move_to_end(subject)
        if head is None:
            if snap is not None:
                return snap
            raise UnknownSubject(subject)
        last_seq = head[0]
        if snap is None:
            with fewer_collections():
                records = self.store.stream_rows(oid, 0)
                snap = _Snapshot(
                    records, [r.recorded_us for r in records], Timeline(subject).extend(records)
                )
            with self._lock:
                self._snapshots[subject] = snap
                self._records += len(records)
                self._trim()
            return snap
        if snap.full.last_seq < last_seq:
            with snap.lock:
                if snap.full.last_seq < last_seq:
                    more = self.store.stream_rows(oid, snap.full.last_seq)
                    snap.full.extend(more)
                    snap.records.extend(more)
                    snap.recorded.extend(r.recorded_us for r in more)
                    with self._lock:
                        self._records += len(more)
                        self._trim()
        return snap

    def _trim(self) -> None:
        while len(self._snapshots) > 1 and (
            len(self._snapshots) > self.cache_subjects or self._records > self.cache_records
        ):
            _, dropped = self._snapshots.popitem(last=False)
            self._records -= len(dropped.records)

    def timeline(self, subject: str, known_at_us: int | None = None) -> Timeline:
        """Everything the ledger had recorded about ``subject`` by ``known_at_us``
        (None: now), folded (not limited in valid time). Raises
        :class:`UnknownSubject` when nothing was."""
        snap = self._snapshot(subject)
        if known_at_us is None:
            return snap.full
        count = bisect_right(snap.recorded, known_at_us)
        if count == 0:
            raise UnknownSubject(subject)
        if count == len(snap.records):
            return snap.full
        with snap.lock:
            found = snap.prefixes.get(count)
            if found is None:
                with fewer_collections():
                    found = Timeline(subject, None, known_at_us).extend(snap.records[:count])
                snap.prefixes[count] = found
                while len(snap.prefixes) > self.prefixes:
                    snap.prefixes.popitem(last=False)
            else:
                snap.prefixes.move_to_end(count)
            return found

    def records(self, subject: str, known_at_us: int | None = None) -> list[RecordedEvent]:
        """The subject's records as recorded by ``known_at_us`` (seq order)."""
        snap = self._snapshot(subject)
        if known_at_us is None:
            return list(snap.records)
        return snap.records[: bisect_right(snap.recorded, known_at_us)]

    # -- reads ---------------------------------------------------------------------------
    def standing(self, subject: str, as_of_us: int, known_at_us: int | None = None) -> Standing:
        """The standing at ``as_of_us`` as known at ``known_at_us`` (None: now)."""
        with self._lock:
            cold = subject not in self._snapshots
        self.served_from_snapshot = False
        if cold:
            stored = self._stored_standing(subject, as_of_us, known_at_us)
            if stored is not None:
                self.served_from_snapshot = True
                if self.warm_after_snapshot:
                    self._warm_later(subject, as_of_us)
                return stored
        return self._folded_standing(subject, as_of_us, known_at_us, snapshot_due=cold)

    def _folded_standing(
        self, subject: str, as_of_us: int, known_at_us: int | None, *, snapshot_due: bool
    ) -> Standing:
        """The standing from the subject's fold (folded now if not in memory); with
        ``snapshot_due``, its read snapshot is taken and saved when the stream has one."""
        timeline = self.timeline(subject, known_at_us)
        snap = self._snapshots.get(subject)
        lock = snap.lock if snap is not None else threading.Lock()
        taken: _Taken | None = None
        with lock, fewer_collections():
            result = standing_of(timeline, as_of_us, self.rules)
            if snapshot_due and snap is not None and timeline is snap.full:
                taken = self._take_snapshot(snap)
        if taken is not None:
            self._save_snapshot(*taken)
        return replace(result, known_at_us=known_at_us)

    def _warm_later(self, subject: str, as_of_us: int) -> None:
        """Fold ``subject`` (and memoise its evaluation) in a background thread, once."""
        with self._lock:
            if subject in self._warming or subject in self._snapshots:
                return
            thread = threading.Thread(
                target=self._warm, args=(subject, as_of_us), name="warm-fold", daemon=True
            )
            self._warming[subject] = thread
        thread.start()

    def _warm(self, subject: str, as_of_us: int) -> None:
        try:
            self._folded_standing(subject, as_of_us, None, snapshot_due=False)
        except Exception:
            log.warning("the background fold of %s failed", subject, exc_info=True)
        finally:
            with self._lock:
                self._warming.pop(subject, None)

    def settle(self, timeout_s: float | None = None) -> None:
        """Wait for the background folds started so far (``warm_after_snapshot``)."""
        with self._lock:
            threads = list(self._warming.values())
        for thread in threads:
            thread.join(timeout_s)

    def _stored_standing(
        self, subject: str, as_of_us: int, known_at_us: int | None
    ) -> Standing | None:
        """The standing from the subject's read snapshot and the records after it (see
        ``projections.read_snapshot``), when ``known_at_us`` is not before the last
        record (else None). A stream shorter than ``snapshot_records`` is not looked up
        (none is written for it)."""
        oid = subject_stream_id(subject)
        head = self.store.stream_head(oid)
        if head is None or (known_at_us is not None and known_at_us < head[2]):
            return None
        if self.snapshot_records is not None and head[0] < self.snapshot_records:
            return None
        with fewer_collections():  # thousands of rows and lines, all alive until the answer
            result = self._standing_from_snapshot(oid, subject, head[0], as_of_us)
        return None if result is None else replace(result, known_at_us=known_at_us)

    def _standing_from_snapshot(
        self, oid: UUID, subject: str, head_seq: int, as_of_us: int
    ) -> Standing | None:
        """:meth:`_stored_standing` from the read on (the rows and lines it decodes are
        freed when it returns)."""
        found = self.read_snapshots.read(oid, as_of_us)
        if found is None or not head_seq - read_snapshot.TAIL_RECORDS <= found.seq <= head_seq:
            return None
        tail = self.store.stream_rows(oid, found.seq) if found.seq < head_seq else []
        if tail and tail[-1].seq != head_seq:
            return None  # recorded since the head was read: fold
        restored = read_snapshot.restore(found, subject, self.rules, as_of_us, tail)
        if restored is None:
            return None
        timeline, lines = restored
        return standing_of(timeline, as_of_us, self.rules, lines)

    def _take_snapshot(self, snap: _Snapshot) -> _Taken | None:
        """The read snapshot of ``snap.full`` (the head record it is of, header and
        lines) when the stream is long enough and of a kind a snapshot serves; called
        under ``snap.lock`` (taking it reads the timeline's memo and adds to it). None
        also when taking it failed (logged: the read goes on)."""
        if self.snapshot_records is None or len(snap.records) < self.snapshot_records:
            return None
        try:
            if not read_snapshot.takes_snapshot(snap.full, self.rules):
                return None
            header, lines = read_snapshot.take(snap.full, self.rules)
        except Exception:
            log.warning("read snapshot of %s not taken", snap.full.subject, exc_info=True)
            return None
        return snap.records[-1], header, lines

    def _save_snapshot(
        self, head: RecordedEvent, header: bytes, lines: list[read_snapshot.SnapshotLine]
    ) -> None:
        """Store a snapshot :meth:`_take_snapshot` took of the stream up to ``head``, in
        a short transaction of its own, best-effort (a failure is logged: the read goes
        on)."""
        try:
            self.read_snapshots.save(
                head.originator_id, head.seq, bytes.fromhex(head.hash), header, lines
            )
        except Exception:
            log.warning("read snapshot of %s not written", head.subject, exc_info=True)

    def disclosure(self, subject: str, as_of_us: int, known_at_us: int | None = None) -> Disclosure:
        """The disclosure at ``as_of_us`` as known at ``known_at_us`` (None: now)."""
        timeline = self.timeline(subject, known_at_us)
        snap = self._snapshots.get(subject)
        lock = snap.lock if snap is not None else threading.Lock()
        with lock, fewer_collections():
            result = disclosure_of(timeline, as_of_us, self.rules)
        return replace(result, known_at_us=known_at_us)

    def history(
        self, subject: str, as_of_us: int | None = None, known_at_us: int | None = None
    ) -> History:
        """The traceable history (``projections.history``)."""
        return history(
            subject, self.records(subject, known_at_us), as_of_us, known_at_us, self.rules
        )
