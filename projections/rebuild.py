"""Rebuilding the materialised views from the ledger: all of them, or one subject's.

:func:`rebuild_views` (``ProjectionRunner.rebuild``, ``ledger rebuild``) reads the
ledger stream by stream (``ViewStore.stream_page``, pages of the runner's
``rebuild_batch_size`` records) rather than in ledger order, so each subject is
folded and evaluated once, whatever the number of its records. It is ONE
transaction: the views are emptied, rewritten and tracked at the ledger head the
rebuild started from, or, if it fails, left exactly as they were. (On SQLite that
transaction holds the write lock for the whole rebuild.) Records appended meanwhile
are applied by the runner's next ``catch_up``.

With several workers and picklable factories of a recorder on the same store and of
the rule services, the subjects are folded in that many processes (``spawn``) over
ranges of stream ids: records up to the head never change, so each reads on its
own, and the rebuilding process writes what they return in its one transaction.
Below :data:`PARALLEL_REBUILD_MIN` records it stays in one process.

:func:`rebuild_subject` (``ledger rebuild --subject CODE``) folds one subject again
from its whole stream and clears its failed mark (``projections.faults``).
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from tqdm import tqdm

from commands.services import RuleServices
from events.codes import subject_stream_id
from events.recorded import RecordedEvent
from ledger.store.recorder import LedgerSQL
from ledger.store.views import VIEW_NAMES, FoldFailure, ViewStore
from projections.collector import fewer_collections
from projections.faults import SubjectFoldFailed
from projections.folds import SubjectFold, SubjectFolds, ViewWrites
from projections.timeline import Timeline

if TYPE_CHECKING:
    from projections.runner import ProjectionRunner

__all__ = [
    "PARALLEL_REBUILD_MIN",
    "REBUILD_PAGE",
    "RebuildSummary",
    "rebuild_subject",
    "rebuild_views",
]

PARALLEL_REBUILD_MIN = 50_000
"""Below this many records a rebuild stays in one process (starting others costs more)."""

REBUILD_PAGE = 20_000
"""Records per page read by a rebuild (the runner's default ``rebuild_batch_size``, and
what rebuild worker processes use): a subject is folded once per page that touches it."""


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


Folded = tuple[ViewWrites, int, int]
"""A group of whole streams folded: (its view writes, records, subjects)."""


def rebuild_views(
    runner: ProjectionRunner,
    views: Iterable[str] | None = None,
    *,
    progress: bool | None = None,
    workers: int = 1,
    open_recorder: Callable[[], LedgerSQL] | None = None,
    open_rules: Callable[[], RuleServices] | None = None,
) -> RebuildSummary:
    """Drop the rows of ``views`` (default: the runner's) and rebuild them from the
    ledger as it stands, with a progress bar; returns the figures (module docstring).
    ``ValueError`` for an unknown view name."""
    names = tuple(views) if views is not None else runner.views
    unknown = [v for v in names if v not in VIEW_NAMES]
    if unknown:
        raise ValueError(f"unknown view(s) {', '.join(unknown)}; known: {', '.join(VIEW_NAMES)}")
    store, folds = runner.store, runner.folds
    started = time.perf_counter()
    folds.clear()
    head = runner.recorder.max_notification_id() or 0
    events = subjects = 0
    with (
        fewer_collections(),
        store.transaction() as cursor,
        tqdm(
            total=head,
            unit="ev",
            desc=f"rebuild {'+'.join(names)}",
            disable=None if progress else True,
            file=sys.stderr,
        ) as bar,
    ):
        store.clear(cursor, names)
        if set(names) == set(VIEW_NAMES):
            store.clear_failed(cursor)  # every subject is folded again
        folded: Iterable[Folded]
        if (
            workers > 1
            and open_recorder is not None
            and open_rules is not None
            and head >= PARALLEL_REBUILD_MIN
        ):
            folded = _fold_in_processes(open_recorder, open_rules, names, head, workers)
        else:
            folded = _fold_range(folds, names, head, None, None, cursor, runner.rebuild_batch_size)
        for writes, n_events, n_subjects in folded:
            folds.write(cursor, writes, fresh=True)
            events += n_events
            subjects += n_subjects
            bar.update(n_events)
        if head:
            for view in names:
                store.track(cursor, view, head)
        if runner.before_commit is not None:
            runner.before_commit(head)
    folds.clear()
    return RebuildSummary(names, events, subjects, time.perf_counter() - started)


def rebuild_subject(runner: ProjectionRunner, subject: str, *, attempts: int = 5) -> int:
    """Fold ``subject``'s views again from its whole stream and clear its failed
    mark; returns the records folded.

    In one transaction the subject's rows are deleted and rewritten as a full
    rebuild would write them, up to the position every view has processed (the
    views are caught up first). If its fold still raises, nothing changes but its
    failed mark (updated) and :class:`SubjectFoldFailed` is raised. Raises
    ``LookupError`` for a subject without records. A runner that applied records of
    the subject meanwhile skipped them (it was marked failed): the fold is then
    repeated up to the new position, at most ``attempts`` times.
    """
    store, folds = runner.store, runner.folds
    oid = subject_stream_id(subject)
    if store.stream_head(oid) is None:
        raise LookupError(subject)
    folded = 0
    for _ in range(attempts):
        runner.catch_up()
        folds.forget(subject)
        upto = min(runner.positions().values())
        with store.transaction() as cursor:
            records = store.streams([oid], upto).get(oid, [])
            writes = folds.fold(
                {subject: records} if records else {},
                {subject: SubjectFold(Timeline(subject), disclosure={}, lists={})},
                dict.fromkeys(VIEW_NAMES, 0),
            )
            folds.forget(subject)
            failures: list[FoldFailure] = writes.failed
            if failures:
                store.mark_failed(cursor, failures)
            else:
                store.delete_subject(cursor, subject)
                folds.write(cursor, writes)
                store.clear_failed(cursor, subject)
        if failures:
            raise SubjectFoldFailed(failures[0])
        folded = len(records)
        now = min(runner.positions().values())
        head = store.stream_head(oid)
        if now == upto or head is None or head[1] <= upto:
            return folded
    return folded


def _fold_range(
    folds: SubjectFolds,
    names: Sequence[str],
    head: int,
    start: UUID | None,
    below: UUID | None,
    cursor: Any,
    page: int,
) -> Iterator[Folded]:
    """The view writes of the streams with ids in [``start``, ``below``) (None:
    unbounded) up to notification id ``head``, whole streams at a time, per group of
    about ``page`` records."""
    # views not rebuilt count as having processed everything: fold skips them
    positions = {v: 0 if v in names else head + 1 for v in VIEW_NAMES}
    for streams in _whole_streams(folds.store, cursor, head, start, below, page):
        touched = {stream[0].subject: stream for stream in streams}
        fresh = {
            subject: SubjectFold(Timeline(subject), disclosure={}, lists={}) for subject in touched
        }
        writes = folds.fold(touched, fresh, positions, names)
        yield writes, sum(len(stream) for stream in streams), len(streams)


def _whole_streams(
    store: ViewStore, cursor: Any, head: int, start: UUID | None, below: UUID | None, page: int
) -> Iterator[list[list[RecordedEvent]]]:
    """The streams with ids in [``start``, ``below``) up to notification id ``head``,
    whole, in groups of about ``page`` records (a longer stream is one group of its
    own)."""
    after: tuple[Any, int] | None = None if start is None else (start, 0)
    carry: list[RecordedEvent] = []
    while True:
        rows = store.stream_page(cursor, head, after, page, below)
        if not rows:
            break
        after = (rows[-1].originator_id, rows[-1].seq)
        streams: list[list[RecordedEvent]] = []
        current = carry
        for event in rows:
            if current and current[-1].originator_id != event.originator_id:
                streams.append(current)
                current = []
            current.append(event)
        carry = current  # the page's last stream may go on in the next page
        if streams:
            yield streams
    if carry:
        yield [carry]


# -- worker processes ------------------------------------------------------------------------

_worker_folds: SubjectFolds | None = None
"""In a rebuild worker process only: its folds (set by the pool's initializer)."""


def _range_bounds(parts: int) -> list[tuple[UUID | None, UUID | None]]:
    """``parts`` consecutive ranges of stream ids covering every id."""
    cuts = [UUID(int=(k << 128) // parts) for k in range(1, parts)]
    return list(zip([None, *cuts], [*cuts, None], strict=True))


def _init_rebuild_worker(
    open_recorder: Callable[[], LedgerSQL], open_rules: Callable[[], RuleServices]
) -> None:
    global _worker_folds
    recorder = open_recorder()
    _worker_folds = SubjectFolds(recorder.store.views(create=False), open_rules())


def _fold_range_in_worker(
    job: tuple[tuple[str, ...], int, UUID | None, UUID | None],
) -> list[Folded]:
    names, head, start, below = job
    folds = _worker_folds
    assert folds is not None, "not a rebuild worker"
    with fewer_collections(), folds.store.read_cursor() as cursor:
        return list(_fold_range(folds, names, head, start, below, cursor, REBUILD_PAGE))


def _fold_in_processes(
    open_recorder: Callable[[], LedgerSQL],
    open_rules: Callable[[], RuleServices],
    names: Sequence[str],
    head: int,
    workers: int,
) -> Iterator[Folded]:
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
