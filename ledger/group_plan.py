"""Decide a group of candidates before the write lock; append them under it.

:func:`plan` decides every candidate, in group order, against copies of the subjects'
states as of a read snapshot, without the lock. :func:`apply` runs under the lock
(``WriteSession``) once the states have been brought to the locked head: a subject is
*dirty* when it received records since the snapshot (its version moved), when the
recording time differs from the one the plan decided with, or when a candidate of it
turned out otherwise than planned (an earlier duplicate in the group was decided
differently); the candidates of dirty subjects are decided again against the current
state, the others keep their planned decision. Every accepted event is appended at the
next position with its chain, under the lock, so positions stay dense, notification
order is commit order and no stream forks. Answers are those of sequential submits: a
(source, id) recorded before the snapshot, or earlier in the group, is a repeat (same
content) or a reused id.

A large batch of one caller (bulk submit, an ingest batch) is not planned:
:func:`undecided` leaves every candidate to :func:`apply`, which decides it under the
lock against the states it evolves in place. Planning it would decide every event twice
over (its subjects' versions rarely stay put for a whole batch anyway) and copy the
state of every subject with several events in the batch — a hot subject's 10,000
facts, batch after batch (py-spy, ``medium`` bulk: planning and copies were 16 % of the
CPU of ``Ledger.submit``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from commands.decide import Accepted, Context, Decision, decide
from commands.state import SubjectState
from events.codes import subject_stream_id
from events.envelope import Envelope
from events.recorded import RecordedEvent
from ledger.outcomes import Outcome, ref_fields, rejected, repeat_of
from ledger.store.sessions import WriteSession

__all__ = ["Candidate", "Plan", "apply", "plan", "undecided"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One envelope to decide: its index in its caller's batch, and its stream."""

    index: int
    env: Envelope
    stream: UUID


@dataclass(frozen=True, slots=True)
class Prior:
    """The (source, id) was recorded before the snapshot."""

    record: RecordedEvent


@dataclass(frozen=True, slots=True)
class EarlierInGroup:
    """The (source, id) was accepted earlier in the group (planned)."""


@dataclass(frozen=True, slots=True)
class Undecided:
    """Not decided before the lock: :func:`apply` decides it (:func:`undecided`)."""


Step = Decision | Prior | EarlierInGroup | Undecided


@dataclass(frozen=True, slots=True)
class Plan:
    now_us: int
    """The recording time the decisions were made for."""
    size: int | None
    """The ledger's size at the snapshot (None: no key was looked up before the lock)."""
    versions: dict[UUID, int]
    """Each subject's version at the snapshot."""
    steps: list[Step]
    """One per candidate, in order."""


def plan(
    candidates: Sequence[Candidate],
    states: dict[UUID, SubjectState],
    existing: dict[tuple[str, str], RecordedEvent],
    context: Context,
    size: int,
) -> Plan:
    """Decide ``candidates`` in order against copies of ``states`` (left unchanged), as of
    the snapshot of ledger size ``size``, given the records of their (source, id) keys
    already in the ledger."""
    # A subject's state is copied (and evolved) only when a later candidate of the group
    # needs it: a hot subject's state is large, and most groups hold one event a subject.
    copies: dict[UUID, SubjectState] = {}
    later = Counter(c.stream for c in candidates)

    def copy_of(stream: UUID) -> SubjectState:
        state = copies.get(stream)
        if state is None:
            state = copies[stream] = states[stream].copy()
        return state

    accepted: set[tuple[str, str]] = set()
    steps: list[Step] = []
    for c in candidates:
        later[c.stream] -= 1
        key = (c.env.source, c.env.id)
        prior = existing.get(key)
        if prior is not None:
            steps.append(Prior(prior))
            continue
        if key in accepted:
            steps.append(EarlierInGroup())
            continue
        decision = decide(copies.get(c.stream) or states[c.stream], c.env, context)
        if isinstance(decision, Accepted):
            accepted.add(key)
            for env in (decision.event, *decision.derived):
                stream = subject_stream_id(env.subject)
                if later[stream] > 0:
                    target = copy_of(stream)
                    target.evolve(_provisional(env, target, context.now_us), ref_fields(env.type))
        steps.append(decision)
    versions = {stream: state.version for stream, state in states.items()}
    return Plan(context.now_us, size, versions, steps)


def undecided(candidates: Sequence[Candidate], now_us: int) -> Plan:
    """A plan that decides nothing: every subject counts as moved, so :func:`apply`
    looks up every (source, id) and decides every candidate under the lock."""
    return Plan(now_us, None, {}, [Undecided()] * len(candidates))


def apply(
    planned: Plan,
    candidates: Sequence[Candidate],
    states: dict[UUID, SubjectState],
    session: WriteSession,
    context: Context,
) -> list[Outcome]:
    """Under the lock: append the group (module docstring), evolving ``states`` (brought
    to the session's head); one outcome per candidate, in order. A (source, id) another
    writer recorded between the snapshot and the lock is answered as a sequential submit
    would answer it: a repeat, or a reused id (found among the session's ``recent``
    records when they are those since the snapshot, else looked up for the subjects
    that moved)."""
    dirty = {s for s, state in states.items() if state.version != planned.versions.get(s)}
    if context.now_us != planned.now_us:
        dirty = set(states)
    late = _committed_since(planned, candidates, dirty, session)
    recorded: dict[tuple[str, str], RecordedEvent] = {}
    outcomes: list[Outcome] = []
    for c, step in zip(candidates, planned.steps, strict=True):
        env = c.env
        key = (env.source, env.id)
        if isinstance(step, Prior):
            outcomes.append(repeat_of(c.index, env, step.record))
            continue
        was_planned = isinstance(step, Accepted)
        # recorded by another writer since the snapshot, or earlier in this group
        first = late.get(key) or recorded.get(key)
        if first is not None:
            outcomes.append(repeat_of(c.index, env, first))
            if was_planned:
                dirty.update(_streams(step))
            continue
        if isinstance(step, EarlierInGroup | Undecided) or c.stream in dirty:
            decision = decide(states[c.stream], env, context)
        else:
            decision = step
        if not isinstance(decision, Accepted):
            outcomes.append(rejected(c.index, env.id, env.source, decision))
            if was_planned:
                dirty.update(_streams(step))
            continue
        if not was_planned:
            dirty.update(_streams(decision))
        record = _append(decision, states, session)
        recorded[key] = record
        outcomes.append(Outcome(c.index, env.id, env.source, "recorded", record=record))
    return outcomes


def _committed_since(
    planned: Plan, candidates: Sequence[Candidate], dirty: set[UUID], session: WriteSession
) -> dict[tuple[str, str], RecordedEvent]:
    """The records among the candidates' (source, id) keys committed after the plan's
    snapshot: from the records the session read with its head when they start at the
    snapshot (no round trip under the lock), else by a lookup of the dirty subjects'
    keys (a key recorded on a subject that did not move fails the unique key)."""
    recent = session.recent
    if (
        planned.size is not None
        and recent is not None
        and session.head.size - len(recent) == planned.size
    ):
        keys = {(c.env.source, c.env.id) for c in candidates}
        return {(r.source, r.id): r for r in recent if (r.source, r.id) in keys}
    if not dirty:
        return {}
    return session.existing([(c.env.source, c.env.id) for c in candidates if c.stream in dirty])


def _streams(step: Step) -> set[UUID]:
    if not isinstance(step, Accepted):
        return set()
    return {subject_stream_id(e.subject) for e in (step.event, *step.derived)}


def _append(
    decision: Accepted, states: dict[UUID, SubjectState], session: WriteSession
) -> RecordedEvent:
    """Append the accepted event and those derived from it; the event's record."""
    first: RecordedEvent | None = None
    for env in (decision.event, *decision.derived):
        stream = subject_stream_id(env.subject)
        target = states[stream]
        appended = session.append(
            originator_id=stream,
            seq=target.version + 1,
            prev=target.head,
            subject=env.subject,
            id=env.id,
            source=env.source,
            type=env.type,
            time=env.time,
            time_us=env.time_us,
            data=env.data,
            schema_version=env.schema_version,
        )
        target.evolve(appended, ref_fields(env.type))
        first = first or appended
    assert first is not None
    return first


def _provisional(env: Envelope, state: SubjectState, now_us: int) -> RecordedEvent:
    """A stand-in for the record ``env`` will become (no position or hash yet): what a
    planned decision needs of its predecessors."""
    return RecordedEvent(
        originator_id=subject_stream_id(env.subject),
        originator_version=state.version + 1,
        subject=env.subject,
        id=env.id,
        source=env.source,
        type=env.type,
        time=env.time,
        time_us=env.time_us,
        recorded_us=now_us,
        data=env.data,
        schema_version=env.schema_version,
        position=-1,
        hash="",
        prev=state.head,
    )
