"""Credit reports (AUDIT-FORMAT.md, ``credit-report/1``): the signed envelope, the redacted
bundle inside it, and the register of the reports the ledger issued.

* :func:`redact_bundle` turns a subject's audit bundle into the report's bundle: every record
  the report does not cite becomes ``{"redacted": true, "seq", "position", "hash",
  "inclusion"}`` (its content and ``prev`` gone, its place in the chain and the tree kept), so
  the bundle shows the public nothing the report does not show it.
* :func:`sign_report` signs ``canon(report without "signature")`` with the checkpoint key
  (Ed25519, base64); :func:`report_hash` is the SHA-256 of ``canon(report)`` with the
  signature (what a PDF prints, AUDIT-FORMAT.md Clarifications "Report hash").
* :func:`new_report_id`: a 26-character ULID (Crockford base32: 48-bit milliseconds, 80
  random bits), sortable by issue time.
* ``ledger_reports`` (:func:`create_reports_table`, :func:`record_issued`,
  :func:`issued_report`): one row per issued report (id, subject, issued_us, as_of,
  known_at, hash), inserted once and never updated, so ``GET /v1/reports/{id}`` answers
  whether this ledger issued a report and with which hash. The reports themselves are not
  kept: a report is reproducible from the ledger, its holder keeps the copy.

Deliberately no verifier here: ``tools/verify_report.py`` is the independent one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit.format import REPORT_FORMAT, signed_bytes
from ledger.chain import canonical
from ledger.recorders import LedgerSQL

__all__ = [
    "REPORTS_TABLE",
    "REPORT_FORMAT",
    "IssuedReport",
    "create_reports_table",
    "issued_report",
    "new_report_id",
    "record_issued",
    "redact_bundle",
    "report_hash",
    "sign_report",
]

REPORTS_TABLE = "ledger_reports"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_report_id(now_us: int | None = None) -> str:
    """A fresh 26-character ULID for a report issued at ``now_us`` (default: the clock)."""
    ms = (now_us if now_us is not None else time.time_ns() // 1000) // 1000
    value = (ms & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def redact_bundle(bundle: Mapping[str, Any], shown: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``bundle`` (``credit-ledger-audit/1``) with every record whose ``(id, source)`` is not
    in ``shown`` redacted (module docstring). Everything else is kept as it is."""
    keep = set(shown)
    records: list[dict[str, Any]] = []
    for entry in bundle["records"]:
        record = entry["record"]
        if (record["id"], record["source"]) in keep:
            records.append(dict(entry))
        else:
            records.append(
                {
                    "redacted": True,
                    "seq": record["seq"],
                    "position": record["position"],
                    "hash": entry["hash"],
                    "inclusion": list(entry["inclusion"]),
                }
            )
    return {**bundle, "records": records}


def sign_report(key: Ed25519PrivateKey, report: Mapping[str, Any]) -> dict[str, Any]:
    """``report`` with ``signature``: Ed25519 over ``canon(report without "signature")``.

    Raises:
        CanonicalError: the report leaves the canonical domain (a float, a huge integer).
    """
    body = {k: v for k, v in report.items() if k != "signature"}
    signature = key.sign(signed_bytes(body))
    return {**body, "signature": base64.b64encode(signature).decode("ascii")}


def report_hash(report: Mapping[str, Any]) -> str:
    """Hex SHA-256 of ``canon(report)``, signature included."""
    return hashlib.sha256(canonical(dict(report))).hexdigest()


# -- the register of issued reports --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedReport:
    """A row of ``ledger_reports``: ``as_of`` and ``known_at`` as the report states them."""

    report_id: str
    subject: str
    issued_us: int
    as_of: str
    known_at: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "issued": True,
            "subject": self.subject,
            "issued_us": self.issued_us,
            "as_of": self.as_of,
            "known_at": self.known_at,
            "sha256": self.sha256,
        }


def _is_postgres(recorder: LedgerSQL) -> bool:
    return getattr(recorder, "placeholder", "?") == "%s"


def _table(recorder: LedgerSQL) -> str:
    schema = getattr(recorder.datastore, "schema", None)  # type: ignore[attr-defined]
    return f'"{schema}".{REPORTS_TABLE}' if schema else REPORTS_TABLE


@contextlib.contextmanager
def _cursor(recorder: LedgerSQL) -> Iterator[Any]:
    """A cursor in a committed transaction (tuple rows on both stores); not the ledger's
    write lock: the register is independent of appends."""
    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    if _is_postgres(recorder):
        from psycopg.rows import tuple_row

        with (
            datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            yield cursor
    else:
        with datastore.transaction(commit=True) as cursor:
            yield cursor


def create_reports_table(recorder: LedgerSQL) -> None:
    """Create ``ledger_reports`` beside the ledger's tables (idempotent; retried, since
    several processes may race on ``CREATE … IF NOT EXISTS``)."""
    statement = (
        f"CREATE TABLE IF NOT EXISTS {_table(recorder)} ("
        "report_id text PRIMARY KEY, subject text NOT NULL, issued_us bigint NOT NULL, "
        "as_of text NOT NULL, known_at text NOT NULL, sha256 text NOT NULL)"
    )
    for attempt in range(5):
        try:
            with _cursor(recorder) as cursor:
                cursor.execute(statement)
            return
        except Exception:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


def record_issued(recorder: LedgerSQL, row: IssuedReport) -> None:
    """Store that the ledger issued ``row`` (its id is new: a ULID)."""
    p = "%s" if _is_postgres(recorder) else "?"
    with _cursor(recorder) as cursor:
        cursor.execute(
            f"INSERT INTO {_table(recorder)} "
            "(report_id, subject, issued_us, as_of, known_at, sha256) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
            (row.report_id, row.subject, row.issued_us, row.as_of, row.known_at, row.sha256),
        )


def issued_report(recorder: LedgerSQL, report_id: str) -> IssuedReport | None:
    """The register's row of ``report_id``, or None if this ledger never issued it."""
    p = "%s" if _is_postgres(recorder) else "?"
    with _cursor(recorder) as cursor:
        cursor.execute(
            "SELECT report_id, subject, issued_us, as_of, known_at, sha256 "
            f"FROM {_table(recorder)} WHERE report_id = {p}",
            (report_id,),
        )
        row = cursor.fetchone()
    return None if row is None else IssuedReport(*row)
