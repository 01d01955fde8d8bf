"""``ledger verify``: recheck the whole store against itself and against what was signed.

:func:`verify_store` streams every record in position order (pages of :data:`PAGE` rows,
tuple rows, no JSON decoding, no event objects) and checks, stopping at the first failure:

* ``position``: positions run 0..n−1 without gaps (``notification_id`` = position + 1);
* ``hash``: the stored hash is SHA-256 of the record rebuilt from its columns (the stored
  ``state`` bytes spliced in as the canonical data, as :func:`ledger.chain.record_bytes`);
* ``chain``: per subject, ``seq`` runs 1..k without gaps, positions increase, and ``prev`` is
  the previous record's hash (64 zeros for seq 1);
* ``stream``: ``originator_id`` is the subject's stream id (not covered by the hash);
* ``time``: ``time_us`` is the instant ``time`` names (not covered by the hash);
* ``tree``: the RFC 6962 tree recomputed from the leaves equals every stored perfect node,
  and no stored node lies beyond the last record;
* ``checkpoint``: every stored checkpoint's body is canonical, its signature verifies
  (when a public key is known), its root is the recomputed root of its size, its
  ``heads_root`` the recomputed heads tree, and its stored head leaves and nodes match.

``schema_version`` is neither hashed nor derivable: a change to it alone goes unnoticed.

A failure names the first bad record: its position, subject, seq and event id, and the
check. Where only a range can be named (a record rewritten together with its hash is caught
by the tree, which commits to groups of 16 leaves below the stored levels),
``position``..``last_position`` bound the altered record.

Work is split in *segments* of positions (``workers`` > 1: processes, each with its own
connection). A segment is checked on its own — hashes, chains from each subject's first
record in the segment on, the tree below the segment's alignment — and returns a
:class:`~ledger.audit.segments.Segment` summary; the parent stitches the summaries in order
(chain links across segments, the upper tree, checkpoints). One segment is the
single-process case.

The parts: :mod:`ledger.audit.verify_outcome` (the failure and the report),
:mod:`ledger.audit.record_checks` (the per-record checks, :func:`check_rows`, shared with the
bundle builder), :mod:`ledger.audit.segments` (one segment and its tree),
:mod:`ledger.audit.stitching` (segments linked, checkpoints checked) and
:mod:`ledger.audit.verify_workers` (the worker processes); this module plans the segments
and runs them.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable

from ledger.audit.checkpoints import Checkpoint, CheckpointError, list_checkpoints
from ledger.audit.segments import PAGE, scan_segment
from ledger.audit.stitching import Stitcher
from ledger.audit.verify_outcome import Failure, VerifyReport, earlier
from ledger.audit.verify_workers import run_workers
from ledger.store.recorder import LedgerSQL

__all__ = ["PAGE", "PARALLEL_FROM", "SEGMENT_ALIGN", "verify_store"]

SEGMENT_ALIGN = 1 << 12
"""Segments handed to worker processes start at multiples of this many positions: fine
enough that the segments are within a few percent of equal (the slowest worker bounds
the run), coarse enough that each segment hands few tree nodes on to the parent (below
this level every node is checked in the worker)."""
PARALLEL_FROM = 1 << 16
"""Ledgers smaller than this are checked in one process: below it, starting the worker
processes and their connections costs about what they would save."""


def _segments(size: int, workers: int) -> list[tuple[int, int]]:
    """One segment per worker, of nearly equal sizes, starting at multiples of
    ``SEGMENT_ALIGN``; one segment for everything when the ledger is too small for
    processes to pay for their start (``PARALLEL_FROM``)."""
    if workers <= 1 or size < PARALLEL_FROM:
        return [(0, size)] if size else []
    bounds = sorted(
        {round(size * i / workers / SEGMENT_ALIGN) * SEGMENT_ALIGN for i in range(workers)}
    )
    return [(a, b) for a, b in zip(bounds, [*bounds[1:], size], strict=True) if a < b]


def verify_store(
    recorder: LedgerSQL,
    *,
    public_key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    page: int = PAGE,
    workers: int = 1,
    open_recorder: Callable[[], LedgerSQL] | None = None,
) -> VerifyReport:
    """Recheck the whole store (module docstring); never raises for bad data.

    ``public_key`` (raw 32 bytes) checks checkpoint signatures; without it a warning says
    they were not checked. ``progress`` is called with numbers of records as they are done.
    With ``workers`` > 1 and a picklable ``open_recorder`` (a factory for a recorder on
    the same store, e.g. ``functools.partial(open_recorder, url)``), segments are checked
    in that many processes; each reads the records below the size found at the start,
    which never change once written (a concurrent append is not seen).
    """
    started = _time.perf_counter()
    report = VerifyReport()
    if public_key is None:
        report.warnings.append("no public key: checkpoint signatures were not checked")
    with recorder.audit_reader() as cursor:
        size = recorder.ledger_size(cursor)
        node_count = recorder.stored_tree_node_count(cursor)
        try:
            checkpoints = list_checkpoints(recorder, cursor)
        except CheckpointError as e:
            report.failure = Failure("checkpoint", str(e))
            return _done(report, started)
        report.checkpoint_size = checkpoints[-1].size if checkpoints else None
        stitcher = Stitcher(recorder, cursor, checkpoints, public_key, report)
        failure: Failure | None = None
        for cp in checkpoints:
            if cp.size == 0:
                failure = earlier(failure, stitcher.empty_checkpoint(cp))
        sizes = [cp.size for cp in checkpoints]
        plan = _segments(size, workers if open_recorder is not None else 1)
        if failure is None:
            if len(plan) <= 1:
                for start, stop in plan:
                    seg = scan_segment(recorder, cursor, start, stop, sizes, page, progress)
                    failure = stitcher.add(seg)
            else:
                report.workers = workers
                assert open_recorder is not None
                failure = run_workers(stitcher, open_recorder, plan, sizes, page, workers, progress)
        if failure is None:
            failure = _after(checkpoints, size, node_count, report)
        report.failure = failure
    return _done(report, started)


def _after(
    checkpoints: list[Checkpoint], size: int, node_count: int, report: VerifyReport
) -> Failure | None:
    for cp in checkpoints:
        if cp.size > size:
            return Failure(
                "checkpoint",
                f"checkpoint of size {cp.size} was signed but the ledger holds only {size} "
                f"records: positions {size}..{cp.size - 1} are missing",
                size,
                last_position=cp.size - 1,
            )
    if report.stored_nodes != node_count:
        return Failure(
            "tree",
            f"{node_count - report.stored_nodes} stored Merkle nodes were not matched by the "
            f"records: they lie beyond position {size - 1} (records were removed from the end)",
            size,
        )
    return None


def _done(report: VerifyReport, started: float) -> VerifyReport:
    report.seconds = _time.perf_counter() - started
    return report
