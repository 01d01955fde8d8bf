"""ASYNC mode (Marten's "async daemon"): the projection runner.

:class:`ProjectionRunner` keeps the materialised CURRENT views
(``ledger.store.views``: standing, disclosure, list membership) in the ledger's
own database. It reads the ledger's notifications in batches
(``recorder.select_notification_rows``), folds each touched subject's stream
(``projections.timeline``, kept warm in a bounded in-memory cache and refreshed
from the database when it falls out), and writes the view rows and one tracking
record per view (eventsourcing ``Tracking``, application names ``views/standing``,
``views/disclosure``, ``views/lists``) in ONE transaction. A batch is therefore
applied exactly once: a crash before the commit leaves neither rows nor
tracking, and the next run starts again after the last committed position. Two
runners racing on one database cannot both commit a batch: the second tracking
insert fails (``IntegrityError``) and its transaction rolls back.

Why our own batching loop rather than eventsourcing's ``ProjectionRunner``: the
library's runner hands a projection one event at a time and records tracking per
event; folding a subject costs the same for one new event as for a hundred, so
applying a batch per subject and one tracking write per batch is far faster
(rebuild speed is reported by :meth:`rebuild`). It is built on the same
recorder interfaces (notifications, ``Tracking``, ``max_tracking_id``,
``subscribe``).

Following: on PostgreSQL :meth:`follow` consumes ``recorder.subscribe(gt=…)``
(LISTEN/NOTIFY) and falls back to polling if the subscription fails; on SQLite
it is a pull loop. :meth:`wait` gives read-your-writes: it returns once every
view has processed a ledger position.

Fault containment: a subject whose fold raises (at loading, folding, the
standing, the disclosure plans or the calendar refresh) does not stop the views.
Its writes of that batch are dropped, it is recorded in ``view_failed_subjects``
(the record and the error) in the batch's own transaction, an ERROR log line
names the subject and the event id, and every other subject's rows and the
tracking position go on. A subject so marked is skipped by later batches (its
rows are left as they were and ``projections.reads`` does not serve them) until
:meth:`ProjectionRunner.rebuild_subject` (``ledger rebuild --subject CODE``) or a
full rebuild folds it again.

Every view is a function of the ledger prefix it has processed, whatever the
batch sizes (the property the tests check): the standing is read as of its
subject's last record, disclosure plans hold all known ends, and list
membership versions are keyed by the recording time of the record that changed
them (a version superseded at the instant it was made is removed, so splitting
one recording across batches leaves no trace).
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from tqdm import tqdm

from commands.services import RuleServices
from events.codes import subject_stream_id
from events.recorded import RecordedEvent
from ledger import heartbeat
from ledger.store.recorder import LedgerSQL
from ledger.store.rows import row_to_event
from ledger.store.views import VIEW_NAMES, FoldFailure, ListRow, ViewStore, dumps
from projections.collector import fewer_collections
from projections.disclosure_plans import corrected_mark, plans_of
from projections.lifecycles import ban_lifecycle, day_text, designation_lifecycle, list_name
from projections.standing import standing_of
from projections.timeline import Timeline

__all__ = ["ProjectionRunner", "RebuildSummary", "SubjectFoldFailed", "membership_rows"]

log = logging.getLogger(__name__)


def membership_rows(timeline: Timeline) -> dict[tuple[int, int], ListRow]:
    """The list and ban-register membership periods a timeline implies (every
    known end applied), keyed by (seq, valid_from_us)."""
    out: dict[tuple[int, int], ListRow] = {}
    if not timeline.of_type("credit.list.designated") and not timeline.of_type(
        "credit.ban.imposed"
    ):
        return out
    facts = timeline.memo.get(("membership",))
    if facts is not None:
        return dict(facts)
    for entry in timeline.of_type("credit.list.designated"):
        name = list_name(entry)
        if name is None:
            continue
        proposal = entry.refs.get("proposal")
        body_base = {
            "list": name,
            "subject": timeline.subject,
            "subject_name": timeline.subject_name,
            "event_id": entry.id,
            "planned_end": proposal.data.get("planned_end") if proposal is not None else None,
            "agency": entry.source,
            "document": entry.data.get("document"),
            "basis": entry.data.get("basis"),
            **corrected_mark(entry),
        }
        for iv in designation_lifecycle(entry).final():
            body = dumps({**body_base, "since": day_text(iv.start_us)})
            out[(entry.seq, iv.start_us)] = ListRow(
                name, timeline.subject, entry.id, entry.seq, iv.start_us, iv.end_us, body
            )
    for entry in timeline.of_type("credit.ban.imposed"):
        body_base = {
            "list": "bans",
            "subject": timeline.subject,
            "subject_name": timeline.subject_name,
            "event_id": entry.id,
            "sector": entry.data.get("sector"),
            "ban_until": entry.data.get("until"),
            "permanent": entry.data.get("until") is None,
            "agency": entry.source,
            "document": entry.data.get("document"),
            "basis": entry.data.get("basis"),
            **corrected_mark(entry),
        }
        for iv in ban_lifecycle(entry).final():
            body = dumps({**body_base, "since": day_text(iv.start_us)})
            out[(entry.seq, iv.start_us)] = ListRow(
                "bans", timeline.subject, entry.id, entry.seq, iv.start_us, iv.end_us, body
            )
    timeline.memo[("membership",)] = tuple(out.items())
    return out


@dataclass
class _Subject:
    """A subject's fold as the runner keeps it between batches."""

    timeline: Timeline
    disclosure: dict[int, str] | None = None
    lists: dict[tuple[int, int], tuple[ListRow, int]] | None = None


@dataclass
class _ListChanges:
    inserts: dict[tuple[str, int, int, int], list[Any]] = field(default_factory=dict)
    closes: dict[tuple[str, int, int, int], tuple[ListRow, int, int]] = field(default_factory=dict)
    deletes: dict[tuple[str, int, int, int], tuple[ListRow, int]] = field(default_factory=dict)

    def drop(self, subject: str) -> None:
        """Forget every change of ``subject`` (its fold failed)."""
        for changes in (self.inserts, self.closes, self.deletes):
            for key in [k for k in changes if k[0] == subject]:
                del changes[key]


@dataclass(frozen=True)
class RebuildSummary:
    """What a rebuild did, with figures."""

    views: tuple[str, ...]
    events: int
    subjects: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"rebuilt {', '.join(self.views)}: {self.events:,} events, {self.subjects:,} subjects "
            f"in {self.seconds:.2f} s ({self.rate:,.0f} events/s)"
        )


class ProjectionRunner:
    """Maintains the materialised views (module docstring).

    ``before_commit(last_notification_id)`` is called inside each batch's
    transaction after the rows are written and before the commit (tests use it
    to crash a runner mid-batch). Not thread-safe: run one per process.
    """

    def __init__(
        self,
        recorder: LedgerSQL,
        rules: RuleServices,
        *,
        store: ViewStore | None = None,
        batch_size: int = 1000,
        rebuild_batch_size: int = 20_000,
        cache_events: int = 500_000,
        views: Sequence[str] = VIEW_NAMES,
        before_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.recorder = recorder
        self.rules = rules
        self.store = store or recorder.store.views()
        self.batch_size = batch_size
        self.rebuild_batch_size = rebuild_batch_size
        """Records per batch during a rebuild: a subject is folded once per batch that
        touches it, so big batches rebuild much faster (one transaction each)."""
        self.cache_events = cache_events
        self.views = tuple(views)
        self.before_commit = before_commit
        self._cache: OrderedDict[str, _Subject] = OrderedDict()
        self._cached_events = 0

    # -- positions ---------------------------------------------------------------------
    def positions(self) -> dict[str, int]:
        """View → the number of ledger records it has processed (= next position)."""
        found = self.store.positions()
        return {v: found[v] for v in self.views}

    def wait(self, position: int, timeout: float = 5.0) -> None:
        """Return once every view has processed ledger ``position`` (0-based);
        ``TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            if min(self.positions().values()) >= position + 1:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"the views have not processed ledger position {position} within {timeout} s"
                )
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.2)

    # -- one batch ------------------------------------------------------------------------
    def run_once(self) -> int:
        """Process the next batch; returns how many records it read (0: caught up)."""
        positions = self.positions()
        start = min(positions.values())
        rows = self.recorder.select_notification_rows(start + 1, self.batch_size)
        if not rows:
            return 0
        self.apply([row_to_event(r) for r in rows], positions)
        return len(rows)

    def catch_up(self, *, progress: bool | None = False, label: str = "views") -> int:
        """Run batches until the views reach the ledger's head; returns records read."""
        total = 0
        head = self.recorder.max_notification_id() or 0
        behind = max(0, head - min(self.positions().values()))
        with tqdm(
            total=behind, unit="ev", desc=label, disable=None if progress else True, file=sys.stderr
        ) as bar:
            while True:
                n = self.run_once()
                if not n:
                    return total
                total += n
                bar.update(n)

    def apply(self, events: Sequence[RecordedEvent], positions: dict[str, int]) -> None:
        """Fold ``events`` (consecutive ledger records, the first right after the
        smallest of ``positions``) into the views and commit them with tracking."""
        last_id = events[-1].position + 1
        first_id = events[0].position + 1
        touched: OrderedDict[str, list[RecordedEvent]] = OrderedDict()
        for event in events:
            touched.setdefault(event.subject, []).append(event)
        for subject in self.store.failed_among(list(touched)):
            del touched[subject]  # views marked failed: skipped until rebuilt (module docstring)
            self._forget(subject)
        try:
            loading_failures: list[FoldFailure] = []
            with fewer_collections():
                subjects = self._subjects(touched, first_id - 1, positions, loading_failures)
                writes = self._fold(touched, subjects, positions)
            writes["failed"] = loading_failures + writes["failed"]
            with self.store.transaction() as cursor:
                self._write(cursor, writes)
                for view in self.views:
                    if positions[view] < last_id:
                        self.store.track(cursor, view, last_id)
                if self.before_commit is not None:
                    self.before_commit(last_id)
        except BaseException:
            for subject in touched:
                self._forget(subject)
            raise

    # -- the cache ------------------------------------------------------------------------
    def _forget(self, subject: str) -> None:
        dropped = self._cache.pop(subject, None)
        if dropped is not None:
            self._cached_events -= len(dropped.timeline)

    def _subjects(
        self,
        touched: dict[str, list[RecordedEvent]],
        upto_id: int,
        positions: dict[str, int],
        failures: list[FoldFailure],
    ) -> dict[str, _Subject]:
        """The touched subjects' folds up to (not including) this batch. A subject
        whose earlier records cannot be folded is appended to ``failures`` and
        removed from ``touched``."""
        out: dict[str, _Subject] = {}
        missing: list[str] = []
        for subject, events in touched.items():
            cached = self._cache.get(subject)
            if cached is not None and cached.timeline.last_seq == events[0].seq - 1:
                self._cache.move_to_end(subject)
                out[subject] = cached
            else:
                if cached is not None:
                    self._forget(subject)
                missing.append(subject)
        if missing:
            ids = {subject_stream_id(s): s for s in missing}
            streams = self.store.streams(list(ids), upto_id)
            for oid, subject in ids.items():
                try:
                    timeline = Timeline(subject).extend(streams.get(oid, ()))
                except Exception as exc:  # contained as in _fold
                    failures.append(self._failed(subject, touched.pop(subject)[0], exc))
                    continue
                if timeline.last_seq != touched[subject][0].seq - 1:
                    raise RuntimeError(
                        f"stream of {subject} has {timeline.last_seq} records before position "
                        f"{upto_id}, but the next one is seq {touched[subject][0].seq}"
                    )
                out[subject] = _Subject(timeline)
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

    def _trim(self) -> None:
        while self._cached_events > self.cache_events and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cached_events -= len(dropped.timeline)

    # -- folding -----------------------------------------------------------------------------
    def _fold(
        self,
        touched: dict[str, list[RecordedEvent]],
        subjects: dict[str, _Subject],
        positions: dict[str, int],
        views: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        standing_rows: list[tuple[Any, ...]] = []
        disclosure_rows: list[tuple[Any, ...]] = []
        disclosure_deletes: list[tuple[str, int]] = []
        changes = _ListChanges()
        failures: list[FoldFailure] = []
        active = self.views if views is None else views
        do = {v: v in active for v in VIEW_NAMES}
        for subject, events in touched.items():
            marks = (len(standing_rows), len(disclosure_rows), len(disclosure_deletes))
            try:
                self._fold_subject(
                    subjects[subject],
                    events,
                    positions,
                    do,
                    standing_rows,
                    (disclosure_rows, disclosure_deletes),
                    changes,
                )
            except _FoldError as failed:  # contained: this subject fails, the others go on
                failures.append(self._failed(subject, failed.event, failed.__cause__ or failed))
                del standing_rows[marks[0] :], disclosure_rows[marks[1] :]
                del disclosure_deletes[marks[2] :]
                changes.drop(subject)
                self._forget(subject)
        self._trim()
        return {
            "standing": standing_rows,
            "disclosure": (disclosure_rows, disclosure_deletes),
            "lists": changes,
            "failed": failures,
        }

    def _fold_subject(
        self,
        sub: _Subject,
        events: Sequence[RecordedEvent],
        positions: dict[str, int],
        do: dict[str, bool],
        standing_rows: list[tuple[Any, ...]],
        disclosure: tuple[list[tuple[Any, ...]], list[tuple[str, int]]],
        changes: _ListChanges,
    ) -> None:
        """Fold one subject's ``events`` into the view writes. Raises
        :class:`_FoldError` naming the record being folded when anything raises."""
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
                    self._lists_step(sub, event.recorded_us, changes)
            last = at = events[-1]
            if new_for["standing"]:
                moment = max(timeline.recorded_us, timeline.max_time_us)
                result = standing_of(timeline, moment, self.rules)
                standing_rows.append(
                    (
                        subject,
                        last.seq,
                        last.position + 1,
                        moment,
                        result.next_change_us,
                        result.grade,
                        result.score,
                        dumps(result.to_json()),
                    )
                )
            if new_for["disclosure"]:
                self._disclosure_step(sub, *disclosure)
        except Exception as exc:
            raise _FoldError(at) from exc

    def _failed(self, subject: str, event: RecordedEvent, exc: BaseException) -> FoldFailure:
        """Report a subject whose fold raised at ``event`` (a JSON log line with the
        subject and the event id) and describe it for ``view_failed_subjects``."""
        error = f"{type(exc).__name__}: {exc}"
        log.error(
            "projection of %s failed at record %s (ledger position %d): %s; its views are "
            "marked failed and skipped until `ledger rebuild --subject %s`",
            subject,
            event.id,
            event.position,
            error,
            subject,
            exc_info=exc,
            extra={"subject": subject, "event_id": event.id},
        )
        return FoldFailure(subject, event.id, event.position + 1, error, time.time_ns() // 1000)

    def _disclosure_step(
        self,
        sub: _Subject,
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

    def _lists_step(self, sub: _Subject, at_us: int, changes: _ListChanges) -> None:
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
    def _write(self, cursor: Any, writes: dict[str, Any], *, fresh: bool = False) -> None:
        """Store a fold's writes; ``fresh``: into tables this transaction emptied,
        each subject written once (a rebuild), so rows are loaded, not upserted."""
        rows, deletes = writes["disclosure"]
        if fresh and not deletes:
            self.store.load_fresh(cursor, writes["standing"], rows)
        else:
            self.store.put_standing(cursor, writes["standing"])
            self.store.put_disclosure(cursor, rows, deletes)
        self.store.mark_failed(cursor, writes["failed"])
        changes: _ListChanges = writes["lists"]
        self.store.put_list_changes(
            cursor,
            [(row, known_from, until) for row, known_from, until in changes.inserts.values()],
            list(changes.closes.values()),
            list(changes.deletes.values()),
        )

    # -- staleness -------------------------------------------------------------------------------
    def refresh(self, now_us: int, limit: int = 10_000) -> int:
        """Recompute stored standings that went stale by ``now_us`` (a day passed a
        measure's end, a commitment fell due …) as of ``now_us``; returns how many.
        Reads stay right without it (they fold live past ``next_change``); this
        keeps them fast."""
        subjects = self.store.stale_standings(now_us, limit)
        if not subjects:
            return 0
        upto = self.positions()["standing"]
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
            except Exception as exc:  # contained as in _fold
                failures.append(self._failed(subject, last, exc))
                continue
            rows.append(
                (
                    subject,
                    last.seq,
                    last.position + 1,
                    at,
                    result.next_change_us,
                    result.grade,
                    result.score,
                    dumps(result.to_json()),
                )
            )
        with self.store.transaction() as cursor:
            self.store.put_standing(cursor, rows)
            self.store.mark_failed(cursor, failures)
        return len(rows)

    # -- rebuild ----------------------------------------------------------------------------------
    def rebuild(
        self,
        views: Iterable[str] | None = None,
        *,
        progress: bool | None = None,
        workers: int = 1,
        open_recorder: Callable[[], LedgerSQL] | None = None,
        open_rules: Callable[[], RuleServices] | None = None,
    ) -> RebuildSummary:
        """Drop the rows of ``views`` (default: all) and rebuild them from the
        ledger as it stands, with a progress bar; returns the figures.

        The rebuild reads the ledger stream by stream (``ViewStore.stream_page``,
        pages of ``rebuild_batch_size`` records) rather than in ledger order, so
        each subject is folded and evaluated once, whatever the number of its
        records. It is ONE transaction: the views are emptied, rewritten and
        tracked at the ledger head the rebuild started from, or, if it fails,
        left exactly as they were. (On SQLite that transaction holds the write
        lock for the whole rebuild.) Records appended meanwhile are applied by
        the next :meth:`catch_up`.

        With ``workers`` > 1 and picklable factories of a recorder on the same
        store and of the rule services (``open_recorder``, ``open_rules``), the
        subjects are folded in that many processes over ranges of stream ids
        (records up to the head never change, so each reads on its own), and
        this process writes what they return in its one transaction.
        """
        names = tuple(views) if views is not None else self.views
        unknown = [v for v in names if v not in VIEW_NAMES]
        if unknown:
            raise ValueError(
                f"unknown view(s) {', '.join(unknown)}; known: {', '.join(VIEW_NAMES)}"
            )
        started = time.perf_counter()
        self._cache.clear()
        self._cached_events = 0
        head = self.recorder.max_notification_id() or 0
        events = subjects = 0
        with (
            fewer_collections(),
            self.store.transaction() as cursor,
            tqdm(
                total=head,
                unit="ev",
                desc=f"rebuild {'+'.join(names)}",
                disable=None if progress else True,
                file=sys.stderr,
            ) as bar,
        ):
            self.store.clear(cursor, names)
            if set(names) == set(VIEW_NAMES):
                self.store.clear_failed(cursor)  # every subject is folded again
            folded: Iterable[tuple[dict[str, Any], int, int]]
            if (
                workers > 1
                and open_recorder is not None
                and open_rules is not None
                and head >= PARALLEL_REBUILD_MIN
            ):
                folded = _fold_in_processes(open_recorder, open_rules, names, head, workers)
            else:
                folded = self._fold_range(names, head, None, None, cursor)
            for writes, n_events, n_subjects in folded:
                self._write(cursor, writes, fresh=True)
                events += n_events
                subjects += n_subjects
                bar.update(n_events)
            if head:
                for view in names:
                    self.store.track(cursor, view, head)
            if self.before_commit is not None:
                self.before_commit(head)
        self._cached_events = 0
        return RebuildSummary(names, events, subjects, time.perf_counter() - started)

    def rebuild_subject(self, subject: str, *, attempts: int = 5) -> int:
        """Fold ``subject``'s views again from its whole stream (``ledger rebuild
        --subject``) and clear its failed mark; returns the records folded.

        In one transaction the subject's rows are deleted and rewritten as a full
        rebuild would write them, up to the position every view has processed
        (the views are caught up first). If its fold still raises, nothing changes
        but its failed mark (updated) and :class:`SubjectFoldFailed` is raised.
        Raises ``LookupError`` for a subject without records. A runner that applied
        records of the subject meanwhile skipped them (it was marked failed): the
        fold is then repeated up to the new position, at most ``attempts`` times.
        """
        oid = subject_stream_id(subject)
        if self.store.stream_head(oid) is None:
            raise LookupError(subject)
        folded = 0
        for _ in range(attempts):
            self.catch_up()
            self._forget(subject)
            upto = min(self.positions().values())
            with self.store.transaction() as cursor:
                records = self.store.streams([oid], upto).get(oid, [])
                writes = self._fold(
                    {subject: records} if records else {},
                    {subject: _Subject(Timeline(subject), disclosure={}, lists={})},
                    dict.fromkeys(VIEW_NAMES, 0),
                )
                self._forget(subject)
                failures: list[FoldFailure] = writes["failed"]
                if failures:
                    self.store.mark_failed(cursor, failures)
                else:
                    self.store.delete_subject(cursor, subject)
                    self._write(cursor, writes)
                    self.store.clear_failed(cursor, subject)
            if failures:
                raise SubjectFoldFailed(failures[0])
            folded = len(records)
            now = min(self.positions().values())
            head = self.store.stream_head(oid)
            if now == upto or head is None or head[1] <= upto:
                return folded
        return folded

    def _fold_range(
        self,
        names: Sequence[str],
        head: int,
        start: UUID | None,
        below: UUID | None,
        cursor: Any,
    ) -> Iterator[tuple[dict[str, Any], int, int]]:
        """The view writes of the streams with ids in [``start``, ``below``) (None:
        unbounded) up to notification id ``head``, whole streams at a time:
        (writes, records, subjects) per group of about ``rebuild_batch_size``."""
        # views not rebuilt count as having processed everything: _fold skips them
        positions = {v: 0 if v in names else head + 1 for v in VIEW_NAMES}
        for streams in self._whole_streams(cursor, head, start, below):
            touched = {stream[0].subject: stream for stream in streams}
            fresh = {
                subject: _Subject(Timeline(subject), disclosure={}, lists={}) for subject in touched
            }
            writes = self._fold(touched, fresh, positions, names)
            yield writes, sum(len(stream) for stream in streams), len(streams)

    def _whole_streams(
        self, cursor: Any, head: int, start: UUID | None, below: UUID | None
    ) -> Iterator[list[list[RecordedEvent]]]:
        """The streams with ids in [``start``, ``below``) up to notification id
        ``head``, whole, in groups of about ``rebuild_batch_size`` records (a
        longer stream is one group of its own)."""
        after: tuple[Any, int] | None = None if start is None else (start, 0)
        carry: list[RecordedEvent] = []
        while True:
            page = self.store.stream_page(cursor, head, after, self.rebuild_batch_size, below)
            if not page:
                break
            after = (page[-1].originator_id, page[-1].seq)
            streams: list[list[RecordedEvent]] = []
            current = carry
            for event in page:
                if current and current[-1].originator_id != event.originator_id:
                    streams.append(current)
                    current = []
                current.append(event)
            carry = current  # the page's last stream may go on in the next page
            if streams:
                yield streams
        if carry:
            yield [carry]

    # -- following ------------------------------------------------------------------------------
    def follow(
        self,
        stop: threading.Event,
        *,
        poll_interval: float = 0.5,
        clock: Callable[[], int] | None = None,
        refresh_every: float = 60.0,
    ) -> None:
        """Keep the views current until ``stop`` is set (module docstring)."""
        next_refresh = 0.0
        while not stop.is_set():
            heartbeat.beat()
            self.catch_up()
            if clock is not None and time.monotonic() >= next_refresh:
                self.refresh(clock())
                next_refresh = time.monotonic() + refresh_every
            try:
                self._follow_subscription(stop, poll_interval)
            except NotImplementedError:
                stop.wait(poll_interval)
            except Exception as exc:  # a lost connection: poll, then subscribe again
                log.warning("projection subscription failed (%s); polling", exc)
                stop.wait(poll_interval)

    def _follow_subscription(self, stop: threading.Event, poll_interval: float) -> None:
        positions = self.positions()
        gt = min(positions.values())
        if max(positions.values()) != gt:
            return  # views at different positions: catch_up first
        subscription = self.recorder.subscribe(gt=gt)
        inbox: queue.Queue[Any] = queue.Queue(maxsize=self.batch_size * 4)
        failure: list[BaseException] = []

        def pump() -> None:
            try:
                for notification in subscription:
                    inbox.put(notification)
            except BaseException as exc:  # surfaced to the runner thread
                failure.append(exc)

        with subscription:
            thread = threading.Thread(target=pump, daemon=True, name="views-subscription")
            thread.start()
            try:
                while not stop.is_set():
                    heartbeat.beat()
                    if failure:
                        raise RuntimeError(f"subscription stopped: {failure[0]}")
                    try:
                        first = inbox.get(timeout=poll_interval)
                    except queue.Empty:
                        continue
                    batch = [first]
                    while len(batch) < self.batch_size:
                        try:
                            batch.append(inbox.get_nowait())
                        except queue.Empty:
                            break
                    events = [_notification_event(n) for n in batch]
                    positions = self.positions()
                    if events[0].position + 1 != min(positions.values()) + 1:
                        return  # someone else moved the views: resubscribe from there
                    self.apply(events, positions)
            finally:
                subscription.stop()


class SubjectFoldFailed(Exception):
    """Folding a subject's views raised; ``failure`` says at which record and why."""

    def __init__(self, failure: FoldFailure) -> None:
        super().__init__(
            f"the views of {failure.subject} still fail at record {failure.event_id} "
            f"(ledger position {failure.notification_id - 1}): {failure.error}"
        )
        self.failure = failure


class _FoldError(Exception):
    """A subject's fold raised at ``event`` (the cause is the original exception)."""

    def __init__(self, event: RecordedEvent) -> None:
        super().__init__(f"fold failed at record {event.id}")
        self.event = event


def _notification_event(n: Any) -> RecordedEvent:
    """A ``LedgerNotification`` as the ``RecordedEvent`` it carries."""
    return RecordedEvent(
        originator_id=n.originator_id,
        originator_version=n.originator_version,
        subject=n.subject,
        id=n.event_id,
        source=n.source,
        type=n.topic,
        time=n.time,
        time_us=n.time_us,
        recorded_us=n.recorded_us,
        data=orjson.loads(n.state),
        schema_version=n.schema_version,
        position=n.id - 1,
        hash=bytes(n.hash).hex(),
        prev=bytes(n.prev).hex(),
    )


PARALLEL_REBUILD_MIN = 50_000
"""Below this many records a rebuild stays in one process (starting others costs more)."""

_worker_runner: ProjectionRunner | None = None
"""In a rebuild worker process only: its runner (set by the pool's initializer)."""


def _range_bounds(parts: int) -> list[tuple[UUID | None, UUID | None]]:
    """``parts`` consecutive ranges of stream ids covering every id."""
    cuts = [UUID(int=(k << 128) // parts) for k in range(1, parts)]
    return list(zip([None, *cuts], [*cuts, None], strict=True))


def _init_rebuild_worker(
    open_recorder: Callable[[], LedgerSQL], open_rules: Callable[[], RuleServices]
) -> None:
    global _worker_runner
    recorder = open_recorder()
    _worker_runner = ProjectionRunner(
        recorder, open_rules(), store=recorder.store.views(create=False)
    )


def _fold_range_in_worker(
    job: tuple[tuple[str, ...], int, UUID | None, UUID | None],
) -> list[tuple[dict[str, Any], int, int]]:
    names, head, start, below = job
    runner = _worker_runner
    assert runner is not None, "not a rebuild worker"
    with fewer_collections(), runner.store.read_cursor() as cursor:
        return list(runner._fold_range(names, head, start, below, cursor))


def _fold_in_processes(
    open_recorder: Callable[[], LedgerSQL],
    open_rules: Callable[[], RuleServices],
    names: Sequence[str],
    head: int,
    workers: int,
) -> Iterator[tuple[dict[str, Any], int, int]]:
    """The view writes of every stream, folded by ``workers`` processes over ranges
    of stream ids (about 20,000 records each, at least 8 per worker), in the order
    the ranges finish."""
    parts = min(4096, max(workers * 8, head // 20_000))
    jobs = [(tuple(names), head, a, b) for a, b in _range_bounds(parts)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(
        workers, initializer=_init_rebuild_worker, initargs=(open_recorder, open_rules)
    ) as pool:
        for folded in pool.imap_unordered(_fold_range_in_worker, jobs):
            yield from folded
