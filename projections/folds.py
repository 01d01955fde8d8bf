"""The apply of a batch: the touched subjects' folds and the view writes they make.

:class:`SubjectFolds` keeps each touched subject's fold (its ``projections.timeline``,
its stored disclosure bodies and current list rows) warm between batches in a cache
bounded by the number of events held (least recently used first out), and reloads a
subject from the database when it fell out or is not where the batch continues.

:meth:`SubjectFolds.fold` folds a batch (consecutive ledger records grouped by
subject) into :class:`ViewWrites`: one standing row per subject with records new to
the standing view, the disclosure plans whose body changed (and those gone), and the
list-membership versions the batch opened, closed or removed. Only views whose
position is below a record are written for it, so a batch replayed over views at
different positions writes each view once. :meth:`SubjectFolds.write` stores them on
a cursor of the runner's transaction; nothing here commits or tracks.

A subject whose fold raises is contained (``projections.faults``): its writes of the
batch are dropped, it is forgotten from the cache and a failure is returned with the
writes; every other subject goes on.

Every view is a function of the ledger prefix processed, whatever the batch sizes:
the standing is read as of the subject's last record, disclosure plans hold all
known ends, and list membership versions are keyed by the recording time of the
record that changed them (a version superseded at the instant it was made is
removed, so splitting one recording across batches leaves no trace).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from commands.services import RuleServices
from events.codes import subject_stream_id
from events.recorded import RecordedEvent
from ledger.store.views import VIEW_NAMES, FoldFailure, ListRow, ViewStore, dumps
from projections.disclosure_plans import plans_of
from projections.faults import FoldError, fold_failure
from projections.lifecycles import day_text
from projections.membership import membership_rows
from projections.standing import Standing, standing_of
from projections.timeline import Timeline

__all__ = ["ListChanges", "SubjectFold", "SubjectFolds", "ViewWrites"]


@dataclass
class SubjectFold:
    """A subject's fold as the runner keeps it between batches: its timeline, its
    disclosure bodies by seq and its current list rows (None: not loaded yet)."""

    timeline: Timeline
    disclosure: dict[int, str] | None = None
    lists: dict[tuple[int, int], tuple[ListRow, int]] | None = None


@dataclass
class ListChanges:
    """List-membership versions a batch changes, keyed by (subject, seq, valid_from_us,
    known_from_us): inserted ([row, known_from, known_until]), closed at a later
    recording, or deleted (superseded at the instant they were made)."""

    inserts: dict[tuple[str, int, int, int], list[Any]] = field(default_factory=dict)
    closes: dict[tuple[str, int, int, int], tuple[ListRow, int, int]] = field(default_factory=dict)
    deletes: dict[tuple[str, int, int, int], tuple[ListRow, int]] = field(default_factory=dict)

    def drop(self, subject: str) -> None:
        """Forget every change of ``subject`` (its fold failed)."""
        for changes in (self.inserts, self.closes, self.deletes):
            for key in [k for k in changes if k[0] == subject]:
                del changes[key]


@dataclass
class ViewWrites:
    """What a fold writes to the view tables, and the subjects whose fold failed."""

    standing: list[tuple[Any, ...]] = field(default_factory=list)
    disclosure: list[tuple[Any, ...]] = field(default_factory=list)
    disclosure_deletes: list[tuple[str, int]] = field(default_factory=list)
    lists: ListChanges = field(default_factory=ListChanges)
    failed: list[FoldFailure] = field(default_factory=list)


def _standing_row(
    subject: str, last: RecordedEvent, at_us: int, result: Standing
) -> tuple[Any, ...]:
    """The ``view_standing`` row of ``subject`` evaluated at ``at_us`` after ``last``."""
    return (
        subject,
        last.seq,
        last.position + 1,
        at_us,
        result.next_change_us,
        result.grade,
        result.score,
        dumps(result.to_json()),
    )


class SubjectFolds:
    """The folds of the subjects a runner touches, cached, and the fold of a batch
    into view writes (module docstring). Not thread-safe."""

    def __init__(
        self,
        store: ViewStore,
        rules: RuleServices,
        views: Sequence[str] = VIEW_NAMES,
        cache_events: int = 500_000,
    ) -> None:
        self.store = store
        self.rules = rules
        self.views = tuple(views)
        self.cache_events = cache_events
        """At most about this many events are kept in cached timelines."""
        self._cache: OrderedDict[str, SubjectFold] = OrderedDict()
        self._cached_events = 0

    # -- the cache ------------------------------------------------------------------------
    def forget(self, subject: str) -> None:
        """Drop ``subject``'s cached fold (it is reloaded when next touched)."""
        dropped = self._cache.pop(subject, None)
        if dropped is not None:
            self._cached_events -= len(dropped.timeline)

    def clear(self) -> None:
        """Drop every cached fold."""
        self._cache.clear()
        self._cached_events = 0

    def _trim(self) -> None:
        while self._cached_events > self.cache_events and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cached_events -= len(dropped.timeline)

    def load(
        self,
        touched: dict[str, list[RecordedEvent]],
        upto_id: int,
        failures: list[FoldFailure],
    ) -> dict[str, SubjectFold]:
        """The touched subjects' folds up to (not including) notification id
        ``upto_id`` + 1, from the cache or the database. A subject whose earlier
        records cannot be folded is appended to ``failures`` and removed from
        ``touched``; a stream that does not end right before the batch's first record
        of it raises ``RuntimeError``."""
        out: dict[str, SubjectFold] = {}
        missing: list[str] = []
        for subject, events in touched.items():
            cached = self._cache.get(subject)
            if cached is not None and cached.timeline.last_seq == events[0].seq - 1:
                self._cache.move_to_end(subject)
                out[subject] = cached
            else:
                if cached is not None:
                    self.forget(subject)
                missing.append(subject)
        if missing:
            ids = {subject_stream_id(s): s for s in missing}
            streams = self.store.streams(list(ids), upto_id)
            for oid, subject in ids.items():
                try:
                    timeline = Timeline(subject).extend(streams.get(oid, ()))
                except Exception as exc:  # contained as in fold
                    failures.append(fold_failure(subject, touched.pop(subject)[0], exc))
                    continue
                if timeline.last_seq != touched[subject][0].seq - 1:
                    raise RuntimeError(
                        f"stream of {subject} has {timeline.last_seq} records before position "
                        f"{upto_id}, but the next one is seq {touched[subject][0].seq}"
                    )
                out[subject] = SubjectFold(timeline)
                self._cache[subject] = out[subject]
                self._cached_events += len(timeline)
        need_disclosure = [s for s, sub in out.items() if sub.disclosure is None]
        if need_disclosure and "disclosure" in self.views:
            stored = self.store.disclosure_bodies(need_disclosure)
            for s in need_disclosure:
                out[s].disclosure = stored[s]
        need_lists = [s for s, sub in out.items() if sub.lists is None]
        if need_lists and "lists" in self.views:
            current = self.store.current_list_rows(need_lists)
            for s in need_lists:
                out[s].lists = current[s]
        return out

    # -- folding -----------------------------------------------------------------------------
    def fold(
        self,
        touched: dict[str, list[RecordedEvent]],
        subjects: dict[str, SubjectFold],
        positions: dict[str, int],
        views: Sequence[str] | None = None,
    ) -> ViewWrites:
        """Fold each subject's ``touched`` records onto its fold in ``subjects`` into
        the writes of ``views`` (default: this object's), for the records past each
        view's position (notification ids). A subject whose fold raises is left out
        of the writes and forgotten, and its failure is in ``ViewWrites.failed``."""
        writes = ViewWrites()
        active = self.views if views is None else views
        do = {v: v in active for v in VIEW_NAMES}
        for subject, events in touched.items():
            marks = (len(writes.standing), len(writes.disclosure), len(writes.disclosure_deletes))
            try:
                self._fold_subject(subjects[subject], events, positions, do, writes)
            except FoldError as failed:  # contained: this subject fails, the others go on
                writes.failed.append(
                    fold_failure(subject, failed.event, failed.__cause__ or failed)
                )
                del writes.standing[marks[0] :], writes.disclosure[marks[1] :]
                del writes.disclosure_deletes[marks[2] :]
                writes.lists.drop(subject)
                self.forget(subject)
        self._trim()
        return writes

    def _fold_subject(
        self,
        sub: SubjectFold,
        events: Sequence[RecordedEvent],
        positions: dict[str, int],
        do: dict[str, bool],
        writes: ViewWrites,
    ) -> None:
        """Fold one subject's ``events`` into ``writes``. Raises :class:`FoldError`
        naming the record being folded when anything raises."""
        subject = sub.timeline.subject
        timeline = sub.timeline
        new_for = {v: False for v in VIEW_NAMES}
        at = events[0]
        try:
            for i, event in enumerate(events):
                at = event
                timeline.append(event)
                self._cached_events += 1
                nid = event.position + 1
                for v in VIEW_NAMES:
                    if do[v] and nid > positions[v]:
                        new_for[v] = True
                group_ends = i == len(events) - 1 or events[i + 1].recorded_us != event.recorded_us
                if do["lists"] and nid > positions["lists"] and group_ends:
                    self._lists_step(sub, event.recorded_us, writes.lists)
            last = at = events[-1]
            if new_for["standing"]:
                moment = max(timeline.recorded_us, timeline.max_time_us)
                result = standing_of(timeline, moment, self.rules)
                writes.standing.append(_standing_row(subject, last, moment, result))
            if new_for["disclosure"]:
                self._disclosure_step(sub, writes.disclosure, writes.disclosure_deletes)
        except Exception as exc:
            raise FoldError(at) from exc

    def _disclosure_step(
        self,
        sub: SubjectFold,
        rows: list[tuple[Any, ...]],
        deletes: list[tuple[str, int]],
    ) -> None:
        subject = sub.timeline.subject
        stored = sub.disclosure if sub.disclosure is not None else {}
        fresh: dict[int, str] = {}
        for plan in plans_of(sub.timeline, self.rules):
            body = dumps(plan.to_json())
            fresh[plan.seq] = body
            if stored.get(plan.seq) != body:
                public = plan.public_intervals()
                first = day_text(public[0].start_us) if public else None
                end = public[-1].end_us if public else None
                rows.append(
                    (
                        subject,
                        plan.seq,
                        plan.event_id,
                        plan.kind,
                        first,
                        None if end is None else day_text(end),
                        body,
                    )
                )
        deletes.extend((subject, seq) for seq in stored if seq not in fresh)
        sub.disclosure = fresh

    def _lists_step(self, sub: SubjectFold, at_us: int, changes: ListChanges) -> None:
        current = sub.lists if sub.lists is not None else {}
        fresh = membership_rows(sub.timeline)
        if not fresh and not current:
            sub.lists = current
            return
        subject = sub.timeline.subject
        for key, (row, known_from) in list(current.items()):
            if fresh.get(key) == row:
                continue
            vkey = (subject, row.seq, row.valid_from_us, known_from)
            if vkey in changes.inserts:
                if known_from == at_us:
                    del changes.inserts[vkey]
                else:
                    changes.inserts[vkey][2] = at_us
            elif known_from == at_us:
                changes.deletes[vkey] = (row, known_from)
            else:
                changes.closes[vkey] = (row, known_from, at_us)
            del current[key]
        for key, row in fresh.items():
            if key in current:
                continue
            vkey = (subject, row.seq, row.valid_from_us, at_us)
            changes.inserts[vkey] = [row, at_us, None]
            current[key] = (row, at_us)
        sub.lists = current

    # -- writing -------------------------------------------------------------------------------
    def write(self, cursor: Any, writes: ViewWrites, *, fresh: bool = False) -> None:
        """Store a fold's writes on ``cursor`` (the caller's transaction); ``fresh``:
        into tables this transaction emptied, each subject written once (a rebuild),
        so rows are loaded, not upserted."""
        if fresh and not writes.disclosure_deletes:
            self.store.load_fresh(cursor, writes.standing, writes.disclosure)
        else:
            self.store.put_standing(cursor, writes.standing)
            self.store.put_disclosure(cursor, writes.disclosure, writes.disclosure_deletes)
        self.store.mark_failed(cursor, writes.failed)
        changes = writes.lists
        self.store.put_list_changes(
            cursor,
            [(row, known_from, until) for row, known_from, until in changes.inserts.values()],
            list(changes.closes.values()),
            list(changes.deletes.values()),
        )

    # -- staleness -------------------------------------------------------------------------------
    def refresh_standings(self, now_us: int, upto: int, limit: int) -> int:
        """Recompute, as of ``now_us``, the stored standings that went stale by then
        (at most ``limit``), from their streams up to notification id ``upto``, and
        store them in one transaction with the failures; returns how many."""
        subjects = self.store.stale_standings(now_us, limit)
        if not subjects:
            return 0
        ids = {subject_stream_id(s): s for s in subjects}
        streams = self.store.streams(list(ids), upto)
        rows = []
        failures: list[FoldFailure] = []
        for oid, subject in ids.items():
            records = streams.get(oid, [])
            if not records:
                continue
            last = records[-1]
            try:
                timeline = Timeline(subject).extend(records)
                at = max(now_us, timeline.recorded_us, timeline.max_time_us)
                result = standing_of(timeline, at, self.rules)
            except Exception as exc:  # contained as in fold
                failures.append(fold_failure(subject, last, exc))
                continue
            rows.append(_standing_row(subject, last, at, result))
        with self.store.transaction() as cursor:
            self.store.put_standing(cursor, rows)
            self.store.mark_failed(cursor, failures)
        return len(rows)
