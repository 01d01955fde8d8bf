"""The ledger application: submit events, read streams.

``Ledger.submit`` takes a batch of parsed envelopes. Concurrent submits in one
process share transactions (group commit, ``ledger.commit_queue``): a submit that
arrives while another is being written waits, and the next transaction records it
together with every other one waiting, each caller getting its own outcomes. One
transaction: before the ledger's write lock, read which (source, id) are already
recorded (repeats get the first recording's result), bring the decision state of
each subject up to date and decide every event in order (``ledger.group_plan``);
then, holding the lock, bring the states to the locked head, decide again only the
subjects that moved, and append the accepted events with their chain and Merkle
nodes. A small group whose subjects' states are all cached skips the read before the
lock and is decided once, under it (``Ledger._warm``). The primary key (originator_id, originator_version) and the unique
(event_id, source) key still guard the table; a transaction that fails on them or
on a transient database error is retried, a bounded number of times, from fresh
state — a group that fails is retried caller by caller, so one caller's failure
(a broken tracking record, a ``before_commit`` that raises) is never another's.
"""

from __future__ import annotations

import logging
import random
import threading
import time as _time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import IntegrityError, OperationalError, Tracking

from commands.decide import SYSTEM_SOURCE, Context
from commands.services import RuleServices
from commands.state import SubjectState
from events.codes import subject_stream_id
from events.envelope import Envelope, Refused
from events.reasons import Reason, Rejection
from events.recorded import RecordedEvent
from ledger import chain, group_plan, snapshots
from ledger.commit_queue import CommitQueue
from ledger.group_plan import Candidate
from ledger.outcomes import (
    Outcome,
    Status,
    content,
    id_reused,
    ref_fields,
    rejected,
    same_content,
)
from ledger.sealing import KeyStore, protect_items
from ledger.state_cache import StateCache
from ledger.store.recorder import LedgerSQL
from ledger.store.rows import row_to_event
from ledger.store.sessions import ReadSession

__all__ = [
    "Ledger",
    "Outcome",
    "StateCache",
    "Status",
    "SubmitObserver",
    "fold",
    "ref_fields",
    "rejected",
    "same_content",
    "system_clock_us",
]

_log = logging.getLogger("ledger.app")

SubmitObserver = Callable[[Sequence[Envelope | Refused], list[Outcome], float], None]
"""``observer(items, outcomes, seconds)`` of :class:`Ledger`."""


def fold(subject: str, events: Iterable[RecordedEvent]) -> SubjectState:
    """The decision state after the given records (a subject's stream, in order)."""
    state = SubjectState(subject)
    for event in events:
        state.evolve(event, ref_fields(event.type))
    return state


def system_clock_us() -> int:
    return _time.time_ns() // 1000


@dataclass(eq=False)
class _Request:
    """One caller's share of a group: its candidates (first occurrences of each
    (source, id), in batch order), tracking records and ``before_commit`` hook; the
    group fills ``results`` (batch index → outcome)."""

    candidates: list[Candidate]
    tracking: Sequence[Tracking]
    now_us: int | None
    hook: Callable[[dict[int, Outcome]], None] | None
    results: dict[int, Outcome] = field(default_factory=dict)
    error: Exception | None = None
    """What made this request fail (raised to its caller alone)."""

    @property
    def writes(self) -> bool:
        return bool(self.candidates or self.tracking or self.hook)


def _same_clock(a: _Request, b: _Request) -> bool:
    """Requests may share a transaction when they ask for the same recording time."""
    return a.now_us == b.now_us


class Ledger:
    """The write and raw-read side of the ledger (one per process; thread-safe
    for reads, writes serialise on the database's write lock)."""

    RESYNC_LIMIT = 50_000
    """Beyond this many foreign records since the last sync, the state cache is cleared."""
    PLAN_LIMIT = 64
    """A caller alone in its transaction with at least this many events (bulk, an ingest
    batch) is decided under the lock only (``ledger.group_plan.undecided``): planning
    it first would decide it twice and copy its busiest subjects' states."""

    def __init__(
        self,
        recorder: LedgerSQL,
        *,
        clock: Callable[[], int] = system_clock_us,
        rules: RuleServices | None = None,
        keystore: KeyStore | None = None,
        cache_size: int = 100_000,
        cache_records: int | None = 1_000_000,
        max_attempts: int = 8,
        observer: SubmitObserver | None = None,
    ) -> None:
        self.recorder = recorder
        self.clock = clock
        self.rules = rules
        self.keystore = keystore
        """Encrypts personal data (identity numbers) before anything is stored."""
        self.cache = StateCache(cache_size, cache_records)
        """Decision states of recently written subjects: at most ``cache_size`` subjects
        and ``cache_records`` of their records (None: no bound on records)."""
        self._cache_lock = threading.Lock()
        """Serialises this process's use of ``cache`` (the commit queue already runs one
        group at a time; this keeps it so for any other path)."""
        self._unsnapshotted: set[UUID] = set()
        """Long streams loaded without a usable snapshot: snapshotted after a commit."""
        self._queue: CommitQueue[_Request] = CommitQueue(self._run_group, _same_clock)
        """Group commit: concurrent submits of this process share transactions."""
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
        candidates: list[Candidate] = []
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
                candidates.append(Candidate(i, item, subject_stream_id(item.subject)))

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

        request = _Request(candidates, tracking, now_us, hook)
        self._queue.run(request)
        if request.error is not None:
            raise request.error
        done = complete(request.results)
        if self.observer is not None:
            try:
                self.observer(items, done, _time.perf_counter() - started)
            except Exception:
                _log.exception("submit observer failed")
        return done

    def _run_group(self, requests: list[_Request]) -> None:
        """Record a group of requests (the commit queue's leader runs this): in one
        transaction; if that fails, each request alone, with its own retries, so a
        failure reaches only the callers it belongs to."""
        active = [r for r in requests if r.writes]
        with self._cache_lock:
            if len(active) > 1:
                try:
                    self._write(active)
                    return
                except Exception:
                    _log.info("a group of %d submits failed; retrying each alone", len(active))
            for request in active:
                try:
                    self._write_alone(request)
                except Exception as e:
                    request.error = e

    def _write_alone(self, request: _Request) -> None:
        """One request in its own transaction; a write conflict or a transient error is
        retried (bounded, jittered) from fresh state, then its events are rejected."""
        attempt = 0
        while True:
            attempt += 1
            try:
                self._write([request])
                return
            except (IntegrityError, OperationalError) as e:
                if attempt >= self.max_attempts:
                    conflict = Rejection(
                        Reason.CONFLICT, f"not recorded after {attempt} attempts: {e}"
                    )
                    request.results = {
                        c.index: rejected(c.index, c.env.id, c.env.source, conflict)
                        for c in request.candidates
                    }
                    return
                _time.sleep(random.uniform(0, 0.01 * 2**attempt))

    def _repeat_in_batch(
        self,
        i: int,
        item: Envelope | Refused,
        first: Outcome | None,
        first_item: Envelope | Refused,
    ) -> Outcome:
        assert isinstance(item, Envelope) and isinstance(first_item, Envelope) and first is not None
        if chain.canonical(content(item)) != chain.canonical(content(first_item)):
            return rejected(i, item.id, item.source, id_reused(item))
        if first.status == "recorded":
            return Outcome(i, item.id, item.source, "repeat", record=first.record)
        return Outcome(
            i, item.id, item.source, first.status, first.code, first.message, first.record
        )

    def _write(self, requests: list[_Request]) -> None:
        """One transaction for ``requests`` (module docstring); on an exception nothing
        is committed, the group's cached states are dropped and it propagates."""
        candidates = [c for r in requests for c in r.candidates]
        now = self.clock() if requests[0].now_us is None else requests[0].now_us
        streams = {c.stream for c in candidates}
        try:
            states: dict[UUID, SubjectState] = {}
            existing: dict[tuple[str, str], RecordedEvent] = {}
            keys = [(c.env.source, c.env.id) for c in candidates]
            bulk = len(requests) == 1 and len(candidates) >= self.PLAN_LIMIT
            warm = self._warm(candidates)
            planned = None
            if candidates and not warm:
                with self.recorder.read(since=self.cache.synced, keys=() if bulk else keys) as read:
                    self._sync_cache(read)
                    states = self._states_for(candidates, read)
                    if not bulk:
                        existing = read.existing(keys)
                    now = max(now, read.head.recorded_us)
                for key, state in states.items():
                    self.cache.put(key, state)
                planned = (
                    group_plan.undecided(candidates, now)
                    if bulk
                    else group_plan.plan(
                        candidates, states, existing, Context(now, self.rules), self.cache.synced
                    )
                )
            tracking = [t for r in requests for t in r.tracking]
            since = self.cache.synced
            with self.recorder.write(
                now, tracking, since=since, keys=keys if warm else ()
            ) as session:
                if planned is None:  # warm (or nothing to decide): the states are cached
                    states = {c.stream: self._cached(c.stream) for c in candidates}
                self._bring_forward(session, states)
                before = {key: state.version for key, state in states.items()}
                context = Context(now_us=session.recorded_us, rules=self.rules)
                if planned is None:
                    planned = group_plan.plan(
                        candidates, states, session.existing(keys), context, session.head.size
                    )
                outcomes = iter(group_plan.apply(planned, candidates, states, session, context))
                for request in requests:
                    request.results = {c.index: next(outcomes) for c in request.candidates}
                    if request.hook is not None:
                        request.hook(request.results)
                new_size = session.size
        except BaseException:
            # Rolled back: the cached states may hold what was not committed.
            self.cache.drop(streams)
            raise
        self.cache.synced = new_size
        for key, state in states.items():
            self.cache.put(key, state)
        self._take_snapshots(states, before)

    WARM_GROUP = 16
    """A group of at most this many events whose subjects are all cached is decided under
    the write lock only (:meth:`_warm`)."""

    def _warm(self, candidates: Sequence[Candidate]) -> bool:
        """Whether the group is decided under the lock, without a read before it: a few
        events whose subjects' states are cached (and not stale). The read before the
        lock would only bring those states forward from the records other writers
        appended, look up the keys and decide, and the lock's own round trip brings the
        same records and keys; on a subject other writers keep moving the decision is
        made again under the lock anyway. Otherwise (a cold subject to load, a large
        batch to decide) deciding before the lock keeps it short."""
        return 0 < len(candidates) <= self.WARM_GROUP and all(
            self.cache.holds(c.stream) for c in candidates
        )

    def _cached(self, key: UUID) -> SubjectState:
        state = self.cache.get(key)
        assert state is not None  # _warm checked it, under the cache lock
        return state

    def _bring_forward(self, session: ReadSession, states: dict[UUID, SubjectState]) -> None:
        """Under the lock: bring the cache and ``states`` (prepared before it) to the
        session's head, reading only what other writers committed in between."""
        stale = self.cache.stale.intersection(states)
        changed = self._sync_cache(session)
        if changed is None:
            states.update(self._load({k: s.subject for k, s in states.items()}, session))
            return
        for key in changed.union(stale).intersection(states):
            self._forward(states[key], session, stale=key in stale)
            self.cache.stale.discard(key)

    def _sync_cache(self, session: ReadSession) -> set[UUID] | None:
        """Bring the cache to the session's head: returns the streams changed since its
        last sync, None when the cache was cleared (after a large gap, or a ledger that
        shrank). Cached states of changed streams are brought forward from the
        session's ``recent`` records when it holds them, else marked stale."""
        size = session.head.size
        if size == self.cache.synced:
            return set()
        changed: set[UUID] | None
        if size < self.cache.synced or size - self.cache.synced > self.RESYNC_LIMIT:
            self.cache.clear()
            changed = None
        elif session.recent is not None:
            changed = {r.originator_id for r in session.recent}
            for key in changed:
                state = self.cache.get(key)
                if state is not None and key not in self.cache.stale:
                    self._forward(state, session)
        else:
            changed = session.changed_since(self.cache.synced)
            self.cache.mark_stale(changed)
        self.cache.synced = size
        return changed

    def _forward(self, state: SubjectState, session: ReadSession, *, stale: bool = False) -> None:
        """Bring ``state`` to the session's head: from its ``recent`` records when they
        continue the state, else from the stream's tail. A ``stale`` state may lack
        records from before ``recent``: without any in it, the tail is read."""
        key = subject_stream_id(state.subject)
        recent = session.recent
        new = [r for r in recent or () if r.originator_id == key and r.seq > state.version]
        if recent is None or (new[0].seq != state.version + 1 if new else stale):
            new = session.tail(key, state.version)
        for event in new:
            state.evolve(event, ref_fields(event.type))

    def _states_for(
        self, candidates: Sequence[Candidate], session: ReadSession
    ) -> dict[UUID, SubjectState]:
        """The decision states of the candidates' subjects as of ``session``: cached
        ones (brought forward if stale) and the rest loaded."""
        states: dict[UUID, SubjectState] = {}
        missing: dict[UUID, str] = {}
        for c in candidates:
            key = c.stream
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
                missing[key] = c.env.subject
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
