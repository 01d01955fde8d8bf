"""The record of ``ledger verify`` runs: ``ledger_verifications``, one row per run.

``ledger verify`` is a one-shot process (or ``verify --every``); ``ledger serve`` publishes
its results at ``GET /metrics`` by reading this table at scrape time
(:func:`verification_summary`, :class:`ledger.metrics.VerificationCollector`), so the
verifier needs no metrics endpoint of its own and no push gateway.

Columns: ``finished_us`` (when the run ended, microseconds since the epoch), ``outcome``
(``ok`` or ``failed``), ``records`` (records checked), ``checkpoint_size`` (the largest
stored checkpoint the run checked the ledger against; NULL when none was stored),
``first_bad_position`` (the first record the failure concerns; NULL when ok or when the
failure names no record) and ``reason`` (the failing check, ``Failure.check``: position,
hash, chain, stream, time, tree, checkpoint or published; NULL when ok). Rows are inserted once and
never updated; the table lives beside the ledger tables (the same SQLite file or PostgreSQL
schema), so backups carry it.

The table is declared in ``ledger.store.tables`` (``AUDIT``) and created by the store's
factory with the others; statements go through the store's public API (placeholders,
the snapshot reader), as :mod:`ledger.audit.checkpoints` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.audit.verify_outcome import VerifyReport
from ledger.store.recorder import LedgerSQL
from ledger.store.tables import VERIFICATIONS_TABLE

__all__ = [
    "OUTCOMES",
    "VERIFICATIONS_TABLE",
    "Verification",
    "VerificationSummary",
    "record_verification",
    "verification_summary",
]

OUTCOMES = ("ok", "failed")
"""Every outcome of a verify run, in the order metrics list them."""

_COLUMNS = "finished_us, outcome, records, checkpoint_size, first_bad_position, reason"


@dataclass(frozen=True, slots=True)
class Verification:
    """One verify run as stored (module docstring for the fields)."""

    finished_us: int
    outcome: str
    records: int
    checkpoint_size: int | None = None
    first_bad_position: int | None = None
    reason: str | None = None

    @classmethod
    def of_report(cls, report: VerifyReport, finished_us: int) -> Verification:
        """The row for ``report`` of a run that ended at ``finished_us``."""
        failure = report.failure
        return cls(
            finished_us=finished_us,
            outcome="ok" if failure is None else "failed",
            records=report.records,
            checkpoint_size=report.checkpoint_size,
            first_bad_position=None if failure is None else failure.position,
            reason=None if failure is None else failure.check,
        )


@dataclass(frozen=True, slots=True)
class VerificationSummary:
    """What the metrics show: ``runs`` counts the stored runs of every outcome in
    :data:`OUTCOMES` (0 when none), ``last_run_us`` holds the latest ``finished_us`` of each
    outcome that has a run, ``last`` is the latest run of any outcome (None before the
    first)."""

    runs: dict[str, int]
    last_run_us: dict[str, int]
    last: Verification | None


def record_verification(recorder: LedgerSQL, verification: Verification) -> None:
    """Insert one run's row in its own short transaction. It does not take the ledger's
    write lock (the row says nothing about the ledger's order), so appends go on."""
    row: tuple[Any, ...] = (
        verification.finished_us,
        verification.outcome,
        verification.records,
        verification.checkpoint_size,
        verification.first_bad_position,
        verification.reason,
    )
    store = recorder.store
    marks = ", ".join(["%s"] * len(row))
    with store.transaction() as cursor:
        cursor.execute(
            store.sql(
                f"INSERT INTO {store.table(VERIFICATIONS_TABLE)} ({_COLUMNS}) VALUES ({marks})"
            ),
            row,
        )


def verification_summary(recorder: LedgerSQL) -> VerificationSummary:
    """Counts by outcome, the latest run of each outcome and the latest run, read in one
    snapshot (two statements over the small table)."""
    store = recorder.store
    table = store.table(VERIFICATIONS_TABLE)
    with store.audit_reader() as cursor:
        by_outcome = store.fetch(
            cursor, f"SELECT outcome, count(*), max(finished_us) FROM {table} GROUP BY outcome"
        )
        latest = store.fetch(
            cursor,
            f"SELECT {_COLUMNS} FROM {table} ORDER BY finished_us DESC LIMIT 1",
        )
    runs = dict.fromkeys(OUTCOMES, 0)
    last_run_us: dict[str, int] = {}
    for outcome, count, finished_us in by_outcome:
        runs[outcome] = int(count)
        last_run_us[outcome] = int(finished_us)
    last = None
    if latest:
        finished_us, outcome, records, size, position, reason = latest[0]
        last = Verification(int(finished_us), outcome, int(records), size, position, reason)
    return VerificationSummary(runs, last_run_us, last)
