"""ASYNC mode (Marten's "async daemon"): the projection runner.

:class:`ProjectionRunner` keeps the materialised CURRENT views
(``ledger.store.views``: standing, disclosure, list membership) in the ledger's
own database. It reads the ledger's notifications in batches
(``recorder.select_notification_rows``), folds each touched subject's stream
(``projections.folds``: the timeline kept warm in a bounded in-memory cache and
refreshed from the database when it falls out), and writes the view rows and one
tracking record per view (eventsourcing ``Tracking``, application names
``views/standing``, ``views/disclosure``, ``views/lists``) in ONE transaction. A
batch is therefore applied exactly once: a crash before the commit leaves neither
rows nor tracking, and the next run starts again after the last committed position.
Two runners racing on one database cannot both commit a batch: the second tracking
insert fails (``IntegrityError``) and its transaction rolls back.

Why our own batching loop rather than eventsourcing's ``ProjectionRunner``: the
library's runner hands a projection one event at a time and records tracking per
event; folding a subject costs the same for one new event as for a hundred, so
applying a batch per subject and one tracking write per batch is far faster
(rebuild speed is reported by :meth:`ProjectionRunner.rebuild`). It is built on the
same recorder interfaces (notifications, ``Tracking``, ``max_tracking_id``,
``subscribe``).

Following: on PostgreSQL :meth:`ProjectionRunner.follow` consumes
``recorder.subscribe(gt=…)`` (LISTEN/NOTIFY) and falls back to polling if the
subscription fails; on SQLite it is a pull loop. :meth:`ProjectionRunner.wait` gives
read-your-writes: it returns once every view has processed a ledger position.

Fault containment (``projections.faults``): a subject whose fold raises does not
stop the views. Its writes of that batch are dropped, it is recorded in
``view_failed_subjects`` (the record and the error) in the batch's own transaction,
an ERROR log line names the subject and the event id, and every other subject's rows
and the tracking position go on. A subject so marked is skipped by later batches
(its rows are left as they were and ``projections.reads`` does not serve them) until
:meth:`ProjectionRunner.rebuild_subject` (``ledger rebuild --subject CODE``) or a
full rebuild (``projections.rebuild``) folds it again.

Every view is a function of the ledger prefix it has processed, whatever the batch
sizes (the property the tests check; how, in ``projections.folds``).
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from tqdm import tqdm

from commands.services import RuleServices
from events.recorded import RecordedEvent
from ledger import heartbeat
from ledger.store.recorder import LedgerSQL
from ledger.store.rows import row_to_event
from ledger.store.views import VIEW_NAMES, FoldFailure, ViewStore
from projections.collector import fewer_collections
from projections.folds import SubjectFolds
from projections.rebuild import REBUILD_PAGE, RebuildSummary, rebuild_subject, rebuild_views

__all__ = ["ProjectionRunner"]

log = logging.getLogger(__name__)


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
        rebuild_batch_size: int = REBUILD_PAGE,
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
        self.folds = SubjectFolds(self.store, rules, self.views, cache_events)
        """The touched subjects' folds, kept between batches (``projections.folds``)."""

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
            self.folds.forget(subject)
        try:
            loading_failures: list[FoldFailure] = []
            with fewer_collections():
                subjects = self.folds.load(touched, first_id - 1, loading_failures)
                writes = self.folds.fold(touched, subjects, positions)
            writes.failed = loading_failures + writes.failed
            with self.store.transaction() as cursor:
                self.folds.write(cursor, writes)
                for view in self.views:
                    if positions[view] < last_id:
                        self.store.track(cursor, view, last_id)
                if self.before_commit is not None:
                    self.before_commit(last_id)
        except BaseException:
            for subject in touched:
                self.folds.forget(subject)
            raise

    # -- rebuild and staleness --------------------------------------------------------------
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
        ledger as it stands in one transaction, with a progress bar; returns the
        figures. With ``workers`` > 1 and picklable factories of a recorder on the
        same store and of the rule services, the subjects are folded in that many
        processes (``projections.rebuild.rebuild_views``)."""
        return rebuild_views(
            self,
            views,
            progress=progress,
            workers=workers,
            open_recorder=open_recorder,
            open_rules=open_rules,
        )

    def rebuild_subject(self, subject: str, *, attempts: int = 5) -> int:
        """Fold ``subject``'s views again from its whole stream (``ledger rebuild
        --subject``) and clear its failed mark; returns the records folded.
        ``SubjectFoldFailed`` if its fold still raises, ``LookupError`` for a subject
        without records (``projections.rebuild.rebuild_subject``)."""
        return rebuild_subject(self, subject, attempts=attempts)

    def refresh(self, now_us: int, limit: int = 10_000) -> int:
        """Recompute stored standings that went stale by ``now_us`` (a day passed a
        measure's end, a commitment fell due …) as of ``now_us``; returns how many.
        Reads stay right without it (they fold live past ``next_change``); this
        keeps them fast."""
        return self.folds.refresh_standings(now_us, self.positions()["standing"], limit)

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
