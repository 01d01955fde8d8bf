"""The ledger application: submit events, read streams.

``Ledger.submit`` takes a batch of parsed envelopes and, in ONE transaction
holding the ledger's write lock: finds which (source, id) are already recorded
(repeats get the first recording's result), brings the decision state of each
subject up to date, decides every event in input order (``commands.decide``),
and appends the accepted ones with their chain and Merkle nodes. Deciding under
the lock means two writers can never both extend a stream from the same head;
the primary key (originator_id, originator_version) and the unique
(event_id, source) key still guard the table, and a transaction that fails on
them or on a transient database error is retried, a bounded number of times,
from fresh state.
"""

from __future__ import annotations

import logging
import random
import threading
import time as _time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from eventsourcing.persistence import IntegrityError, OperationalError, Tracking

from commands.decide import SYSTEM_SOURCE, Accepted, Context, decide
from commands.services import RuleServices
from commands.state import SubjectState
from events.codes import subject_stream_id
from events.envelope import Envelope, Refused
from events.reasons import Reason, Rejection
from events.recorded import RecordedEvent
from events.vocabulary import EVENT_TYPES
from ledger import chain, snapshots
from ledger.sealing import KeyStore, protect_items
from ledger.store.recorder import LedgerSQL
from ledger.store.rows import row_to_event
from ledger.store.sessions import ReadSession

Status = Literal["recorded", "repeat", "rejected"]
_log = logging.getLogger("ledger.app")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one submitted event (DESIGN.md ``submit --json``)."""

    index: int
    id: str | None
    source: str | None
    status: Status
    code: str | None = None
    message: str | None = None
    record: RecordedEvent | None = None
    """The record: the new one, or for a repeat the first recording."""
    details: dict[str, Any] = field(default_factory=dict)
    """For a rejection, machine-readable extras (field, earliest date …)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "status": self.status,
            "code": self.code,
            "message": self.message,
        }
        if self.record is not None:
            r = self.record
            out.update(subject=r.subject, seq=r.seq, position=r.position, hash=r.hash)
        if self.details:
            out["details"] = self.details
        return out


SubmitObserver = Callable[[Sequence[Envelope | Refused], list[Outcome], float], None]
"""``observer(items, outcomes, seconds)`` of :class:`Ledger`."""


def rejected(index: int, id: str | None, source: str | None, rejection: Rejection) -> Outcome:
    return Outcome(
        index,
        id,
        source,
        "rejected",
        str(rejection.code),
        rejection.message,
        details=dict(rejection.details),
    )


def ref_fields(type_name: str) -> Iterable[str]:
    """The reference fields of an event type (for indexing in the state)."""
    spec = EVENT_TYPES.get(type_name)
    return spec.references.keys() if spec is not None else ()


def fold(subject: str, events: Iterable[RecordedEvent]) -> SubjectState:
    """The decision state after the given records (a subject's stream, in order)."""
    state = SubjectState(subject)
    for event in events:
        state.evolve(event, ref_fields(event.type))
    return state


def same_content(envelope: Envelope, record: RecordedEvent) -> bool:
    """Whether a resubmission says exactly what the first recording said."""
    return (
        envelope.type == record.type
        and envelope.subject == record.subject
        and envelope.time == record.time
        and chain.canonical(envelope.data) == chain.canonical(record.data)
    )


def system_clock_us() -> int:
    return _time.time_ns() // 1000


class StateCache:
    """A bounded LRU of subject decision states, valid as of ledger size ``synced``.

    Before use in a write session the cache is brought to the session's head:
    streams that received records since ``synced`` are dropped (or, after a
    large gap, everything).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.synced = 0
        self._states: OrderedDict[UUID, SubjectState] = OrderedDict()
        self.stale: set[UUID] = set()
        """Cached streams that received records from another writer since they were
        cached: their state is brought forward from its version before use."""

    def get(self, key: UUID) -> SubjectState | None:
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def put(self, key: UUID, state: SubjectState) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > self.capacity:
            evicted, _ = self._states.popitem(last=False)
            self.stale.discard(evicted)

    def mark_stale(self, keys: Iterable[UUID]) -> None:
        self.stale.update(k for k in keys if k in self._states)

    def drop(self, keys: Iterable[UUID]) -> None:
        for key in keys:
            self._states.pop(key, None)
            self.stale.discard(key)

    def clear(self) -> None:
        self._states.clear()
        self.stale.clear()


class Ledger:
    """The write and raw-read side of the ledger (one per process; thread-safe
    for reads, writes serialise on the database's write lock)."""

    RESYNC_LIMIT = 50_000
    """Beyond this many foreign records since the last sync, the state cache is cleared."""

    def __init__(
        self,
        recorder: LedgerSQL,
        *,
        clock: Callable[[], int] = system_clock_us,
        rules: RuleServices | None = None,
        keystore: KeyStore | None = None,
        cache_size: int = 100_000,
        max_attempts: int = 8,
        observer: SubmitObserver | None = None,
    ) -> None:
        self.recorder = recorder
        self.clock = clock
        self.rules = rules
        self.keystore = keystore
        """Encrypts personal data (identity numbers) before anything is stored."""
        self.cache = StateCache(cache_size)
        self._cache_lock = threading.Lock()
        self._unsnapshotted: set[UUID] = set()
        """Long streams loaded without a usable snapshot: snapshotted after a commit."""
        """Serialises this process's use of ``cache`` (the database's write lock
        serialises writers, but states are prepared before it is taken)."""
        self.max_attempts = max_attempts
        self.observer = observer
        """Called after each :meth:`submit` with the (protected) items, their outcomes and
        the call's duration in seconds (e.g. ``LedgerMetrics.observe_submit``); its
        exceptions are logged, never raised."""

    def rule_services(self) -> RuleServices:
        """The rule services this ledger was built with (the composition root always
        gives them); ``ValueError`` for a bare ledger built without."""
        if self.rules is None:
            raise ValueError(
                "this ledger was built without rule services (build it with bootstrap())"
            )
        return self.rules

    # -- writing ---------------------------------------------------------------------
    def submit(
        self,
        items: Sequence[Envelope | Refused],
        *,
        tracking: Sequence[Tracking] = (),
        now_us: int | None = None,
        before_commit: Callable[[list[Outcome]], None] | None = None,
        system: bool = False,
    ) -> list[Outcome]:
        """Record a batch. Returns one outcome per item, in input order.

        Only the ledger's own jobs (deadlines, spot checks) pass ``system=True``;
        otherwise an event whose ``source`` is the ledger's own (``SYSTEM_SOURCE``)
        is refused, whoever submits it. Personal data is encrypted by the key
        store before anything else looks at the batch.

        Refused items (parse errors) and rejected decisions write nothing; the
        accepted ones are committed together with the ``tracking`` records (upstream
        positions consumed, e.g. Kafka offsets), or not at all.

        ``before_commit``, if given, is called inside the transaction, after every
        decision and before the commit, with the outcomes as they will be returned
        (e.g. to hand rejections to a dead-letter topic that must not lose them).
        If it raises, nothing is committed and the exception propagates. When the
        transaction is retried (write conflict, transient error) it is called again
        for each attempt, with that attempt's outcomes.
        """
        started = _time.perf_counter()
        if self.keystore is not None:
            items = protect_items(items, self.keystore)
        if not system:
            items = [_refuse_system_source(i, item) for i, item in enumerate(items)]
        outcomes: list[Outcome | None] = [None] * len(items)
        candidates: list[tuple[int, Envelope]] = []
        first_of: dict[tuple[str, str], int] = {}
        duplicates: list[tuple[int, int]] = []
        for i, item in enumerate(items):
            if isinstance(item, Refused):
                outcomes[i] = rejected(i, item.id, item.source, item.rejection)
                continue
            key = (item.source, item.id)
            if key in first_of:
                duplicates.append((i, first_of[key]))
            else:
                first_of[key] = i
                candidates.append((i, item))

        def complete(results: dict[int, Outcome]) -> list[Outcome]:
            done = list(outcomes)
            for i, outcome in results.items():
                done[i] = outcome
            for i, first in duplicates:
                done[i] = self._repeat_in_batch(i, items[i], done[first], items[first])
            return [o for o in done if o is not None]

        hook = None
        if before_commit is not None:
            call = before_commit

            def hook(results: dict[int, Outcome]) -> None:
                call(complete(results))

        with self._cache_lock:
            results = self._submit_prepared(candidates, tracking, now_us, hook, outcomes)
        done = complete(results)
        if self.observer is not None:
            try:
                self.observer(items, done, _time.perf_counter() - started)
            except Exception:
                _log.exception("submit observer failed")
        return done

    def _submit_prepared(
        self,
        candidates: list[tuple[int, Envelope]],
        tracking: Sequence[Tracking],
        now_us: int | None,
        hook: Callable[[dict[int, Outcome]], None] | None,
        outcomes: list[Outcome | None],
    ) -> dict[int, Outcome]:
        """Prepare the states, then write under the lock; a write conflict or a
        transient error is retried (bounded, jittered) from fresh state."""
        self._prepare(candidates)
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._submit_once(candidates, tracking, now_us, hook)
            except (IntegrityError, OperationalError) as e:
                self.cache.drop(subject_stream_id(env.subject) for _, env in candidates)
                if attempt >= self.max_attempts:
                    for i, env in candidates:
                        outcomes[i] = rejected(
                            i,
                            env.id,
                            env.source,
                            Rejection(
                                Reason.CONFLICT, f"not recorded after {attempt} attempts: {e}"
                            ),
                        )
                    return {}
                _time.sleep(random.uniform(0, 0.01 * 2**attempt))
            except BaseException:
                # Rolled back: the cached states may hold what was not committed.
                self.cache.drop(subject_stream_id(env.subject) for _, env in candidates)
                raise

    def _prepare(self, candidates: list[tuple[int, Envelope]]) -> None:
        """Before the write lock: bring the state cache to the committed head and
        load (or fast-forward) the batch's subjects, so that under the lock only
        what other writers committed in between is read. Safe whatever they
        commit: the write session marks every stream changed after
        ``cache.synced`` stale and brings it forward from its version."""
        if not candidates:
            return
        with self.recorder.read() as session:
            self._sync_cache(session.head.size, session.changed_since)
            states = self._states_for(candidates, session)
        for key, state in states.items():
            self.cache.put(key, state)

    def _repeat_in_batch(
        self,
        i: int,
        item: Envelope | Refused,
        first: Outcome | None,
        first_item: Envelope | Refused,
    ) -> Outcome:
        assert isinstance(item, Envelope) and isinstance(first_item, Envelope) and first is not None
        if chain.canonical(_content(item)) != chain.canonical(_content(first_item)):
            return rejected(i, item.id, item.source, _id_reused(item))
        if first.status == "recorded":
            return Outcome(i, item.id, item.source, "repeat", record=first.record)
        return Outcome(
            i, item.id, item.source, first.status, first.code, first.message, first.record
        )

    def _submit_once(
        self,
        candidates: list[tuple[int, Envelope]],
        tracking: Sequence[Tracking],
        now_us: int | None,
        before_commit: Callable[[dict[int, Outcome]], None] | None = None,
    ) -> dict[int, Outcome]:
        results: dict[int, Outcome] = {}
        now = self.clock() if now_us is None else now_us
        with self.recorder.write(now, tracking) as session:
            self._sync_cache(session.head.size, session.changed_since)
            existing = (
                session.existing([(env.source, env.id) for _, env in candidates])
                if candidates
                else {}
            )
            states = self._states_for(candidates, session)
            before = {key: state.version for key, state in states.items()}
            context = Context(now_us=session.recorded_us, rules=self.rules)
            for i, env in candidates:
                prior = existing.get((env.source, env.id))
                if prior is not None:
                    if same_content(env, prior):
                        results[i] = Outcome(i, env.id, env.source, "repeat", record=prior)
                    else:
                        results[i] = rejected(i, env.id, env.source, _id_reused(env))
                    continue
                state = states[subject_stream_id(env.subject)]
                decision = decide(state, env, context)
                if not isinstance(decision, Accepted):
                    results[i] = rejected(i, env.id, env.source, decision)
                    continue
                record = None
                for accepted in (decision.event, *decision.derived):
                    target = states[subject_stream_id(accepted.subject)]
                    appended = session.append(
                        originator_id=subject_stream_id(accepted.subject),
                        seq=target.version + 1,
                        prev=target.head,
                        subject=accepted.subject,
                        id=accepted.id,
                        source=accepted.source,
                        type=accepted.type,
                        time=accepted.time,
                        time_us=accepted.time_us,
                        data=accepted.data,
                        schema_version=accepted.schema_version,
                    )
                    target.evolve(appended, ref_fields(accepted.type))
                    record = record or appended
                results[i] = Outcome(i, env.id, env.source, "recorded", record=record)
            if before_commit is not None:
                before_commit(results)
            new_size = session.size
        self.cache.synced = new_size
        for key, state in states.items():
            self.cache.put(key, state)
        self._take_snapshots(states, before)
        return results

    def _sync_cache(self, size: int, changed_since: Callable[[int], set[UUID]]) -> None:
        if size == self.cache.synced:
            return
        if size < self.cache.synced or size - self.cache.synced > self.RESYNC_LIMIT:
            self.cache.clear()
        else:
            self.cache.mark_stale(changed_since(self.cache.synced))
        self.cache.synced = size

    def _states_for(
        self, candidates: list[tuple[int, Envelope]], session: ReadSession
    ) -> dict[UUID, SubjectState]:
        """The decision states of the candidates' subjects as of ``session``: cached
        ones (brought forward if stale) and the rest loaded."""
        states: dict[UUID, SubjectState] = {}
        missing: dict[UUID, str] = {}
        for _, env in candidates:
            key = subject_stream_id(env.subject)
            if key in states or key in missing:
                continue
            cached = self.cache.get(key)
            if cached is not None:
                if key in self.cache.stale:
                    for event in session.tail(key, cached.version):
                        cached.evolve(event, ref_fields(event.type))
                    self.cache.stale.discard(key)
                states[key] = cached
            else:
                missing[key] = env.subject
        if missing:
            states.update(self._load(missing, session))
        return states

    def _load(self, missing: dict[UUID, str], session: ReadSession) -> dict[UUID, SubjectState]:
        """Fold uncached subjects: from a usable snapshot and the records after it,
        else from the whole stream (``ledger.snapshots``). A long stream found
        without a usable snapshot is noted, to be snapshotted after the next commit."""
        out: dict[UUID, SubjectState] = {}
        for key, raw in session.snapshots(list(missing)).items():
            state = snapshots.decode(raw)
            if state is None or state.subject != missing[key]:
                continue
            for event in session.tail(key, state.version):
                state.evolve(event, ref_fields(event.type))
            out[key] = state
        rest = [key for key in missing if key not in out]
        if rest:
            streams = session.streams(rest)
            for key in rest:
                out[key] = fold(missing[key], streams.get(key, ()))
                if out[key].version >= snapshots.SNAPSHOT_EVERY:
                    self._unsnapshotted.add(key)
        return out

    def _take_snapshots(self, states: dict[UUID, SubjectState], before: dict[UUID, int]) -> None:
        """After a commit: store the snapshots that are due (best effort: a failure
        is logged and costs only a replay later)."""
        every = snapshots.SNAPSHOT_EVERY
        due = [  # is_due inlined: this runs over every state of every batch
            (key, state)
            for key, state in states.items()
            if state.version // every > before.get(key, 0) // every
        ]
        if self._unsnapshotted:
            chosen = {key for key, _ in due}
            due += [
                (key, state)
                for key, state in states.items()
                if key in self._unsnapshotted and key not in chosen
            ]
        if not due:
            return
        try:
            self.recorder.put_snapshots(
                [(key, st.version, bytes.fromhex(st.head), snapshots.encode(st)) for key, st in due]
            )
        except Exception:
            _log.warning("could not store %d decision-state snapshot(s)", len(due), exc_info=True)
            return
        self._unsnapshotted.difference_update(key for key, _ in due)

    # -- reading ---------------------------------------------------------------------
    def stream(self, subject: str, *, known_at_us: int | None = None) -> list[RecordedEvent]:
        """The subject's records in seq order; with ``known_at_us``, only those the
        ledger had recorded by then."""
        rows = self.recorder.select_stream_rows(
            subject_stream_id(subject), recorded_lte=known_at_us
        )
        return [row_to_event(r) for r in rows]

    def size(self) -> int:
        """How many records the ledger holds (= the next position)."""
        return self.recorder.max_notification_id() or 0


def _refuse_system_source(index: int, item: Envelope | Refused) -> Envelope | Refused:
    if isinstance(item, Envelope) and item.source == SYSTEM_SOURCE:
        return Refused(
            index,
            item.id,
            item.source,
            Rejection(
                Reason.SOURCE_NOT_ALLOWED,
                f"source {SYSTEM_SOURCE} is reserved for events the ledger issues itself",
                {"field": "source"},
            ),
        )
    return item


def _content(env: Envelope) -> dict[str, Any]:
    return {"type": env.type, "subject": env.subject, "time": env.time, "data": env.data}


def _id_reused(env: Envelope) -> Rejection:
    return Rejection(
        Reason.ID_REUSED,
        f"id '{env.id}' from {env.source} was already used for a different event; "
        "an id may be resubmitted only with identical content",
        {"field": "id"},
    )
