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

The table is created by :func:`entrypoints.bootstrap.open_recorder` with the others
(:func:`create_verifications_table`); statements go through the recorder's dialect hooks
(placeholders, the snapshot reader), as :mod:`ledger.audit.checkpoints` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.audit.verify import VerifyReport
from ledger.recorders import LedgerSQL

__all__ = [
    "OUTCOMES",
    "VERIFICATIONS_TABLE",
    "Verification",
    "VerificationSummary",
    "create_verifications_table",
    "record_verification",
    "verification_summary",
]

VERIFICATIONS_TABLE = "ledger_verifications"
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


def _table(recorder: LedgerSQL) -> str:
    """The table as statements name it: schema-qualified on PostgreSQL."""
    schema = getattr(recorder.datastore, "schema", None)  # type: ignore[attr-defined]
    return f'"{schema}".{VERIFICATIONS_TABLE}' if schema else VERIFICATIONS_TABLE


def create_verifications_table(recorder: LedgerSQL) -> None:
    """Create ``ledger_verifications`` and its index next to the ledger tables
    (idempotent; ``CREATE … IF NOT EXISTS``). Raises what the database raises; callers
    that start concurrently retry (``entrypoints.bootstrap``)."""
    table = _table(recorder)
    postgres = getattr(recorder.datastore, "schema", None) is not None  # type: ignore[attr-defined]
    integer = "bigint" if postgres else "INTEGER"
    statements = [
        f"CREATE TABLE IF NOT EXISTS {table} ("
        f"finished_us {integer} NOT NULL, "
        "outcome text NOT NULL CHECK (outcome IN ('ok', 'failed')), "
        f"records {integer} NOT NULL, "
        f"checkpoint_size {integer}, "
        f"first_bad_position {integer}, "
        "reason text)",
        f"CREATE INDEX IF NOT EXISTS {VERIFICATIONS_TABLE}_finished ON {table} (finished_us)",
    ]
    with recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
        for statement in statements:
            cursor.execute(statement)


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
    marks = ", ".join(["%s"] * len(row))
    with recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            recorder._sql(f"INSERT INTO {_table(recorder)} ({_COLUMNS}) VALUES ({marks})"), row
        )


def verification_summary(recorder: LedgerSQL) -> VerificationSummary:
    """Counts by outcome, the latest run of each outcome and the latest run, read in one
    snapshot (two statements over the small table)."""
    table = _table(recorder)
    with recorder.audit_reader() as cursor:
        by_outcome = recorder._fetch(
            cursor, f"SELECT outcome, count(*), max(finished_us) FROM {table} GROUP BY outcome"
        )
        latest = recorder._fetch(
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
