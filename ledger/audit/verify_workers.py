"""Worker processes of ``ledger verify --workers N``: each checks one segment with its own
connection (:func:`~ledger.audit.segments.scan_segment`) while the parent stitches the
summaries in order (:func:`run_workers`) and reports progress from a shared counter.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

from ledger.audit.segments import Segment, scan_segment
from ledger.audit.stitching import Stitcher
from ledger.audit.verify_outcome import Failure
from ledger.store.recorder import LedgerSQL

__all__ = ["WORKER_START", "run_workers"]

WORKER_START = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
"""How worker processes start. A spawned process imports the parent's main module (for
``ledger verify`` the whole command line, for the bench ``bench.run``) and the recorder
factory's module before it checks a record: measured 1-2 s per run on an idle 2-core
machine, most of a 300,000-record verify. A forked one starts in ~0.1 s. The child uses
only what it opens itself (``open_recorder``: a new pool, new connections) and the
parent's pooled connections are never touched in it (a pool worker leaves by
``os._exit``); where fork is unavailable, spawn."""

_progress_counter: Any = None
"""In a worker process only: the shared counter of records done (set by the pool's
initializer, the way ``multiprocessing`` hands shared state to pool workers)."""


def _init_worker(counter: Any) -> None:
    global _progress_counter
    _progress_counter = counter


def _count(n: int) -> None:
    with _progress_counter.get_lock():
        _progress_counter.value += n


def _scan_in_worker(
    open_recorder: Callable[[], LedgerSQL],
    start: int,
    stop: int,
    checkpoint_sizes: Sequence[int],
    page: int,
) -> Segment:
    recorder = open_recorder()
    try:
        with recorder.audit_reader() as cursor:
            return scan_segment(recorder, cursor, start, stop, checkpoint_sizes, page, _count)
    finally:
        close = getattr(getattr(recorder, "datastore", None), "close", None)
        if close is not None:
            close()


def run_workers(
    stitcher: Stitcher,
    open_recorder: Callable[[], LedgerSQL],
    plan: list[tuple[int, int]],
    sizes: list[int],
    page: int,
    workers: int,
    progress: Callable[[int], None] | None,
) -> Failure | None:
    ctx = multiprocessing.get_context(WORKER_START)
    counter = ctx.Value("q", 0)
    shown = 0
    with ctx.Pool(workers, initializer=_init_worker, initargs=(counter,)) as pool:
        jobs = [
            pool.apply_async(_scan_in_worker, (open_recorder, a, b, sizes, page)) for a, b in plan
        ]
        stitcher.prepare()  # meanwhile: what the checkpoints' heads checks need of no record
        for job in jobs:
            while True:
                try:
                    seg = job.get(timeout=0.2)
                    break
                except multiprocessing.TimeoutError:
                    pass
                finally:
                    if progress is not None and counter.value > shown:
                        now = counter.value
                        progress(now - shown)
                        shown = now
            failure = stitcher.add(seg)
            if failure is not None:
                pool.terminate()
                return failure
    return None
