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
* ``ledger_reports`` (created by the store's factory; :func:`record_issued`,
  :func:`issued_report`): one row per issued report (id, subject, issued_us, as_of,
  known_at, hash), inserted once and never updated, so ``GET /v1/reports/{id}`` answers
  whether this ledger issued a report and with which hash. The reports themselves are not
  kept: a report is reproducible from the ledger, its holder keeps the copy.

Deliberately no verifier here: ``tools/verify_report.py`` is the independent one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit.format import REPORT_FORMAT, REPORT_UNSIGNED_KEYS, signed_bytes
from ledger.chain import canonical
from ledger.store.recorder import LedgerSQL
from ledger.store.tables import REPORTS_TABLE

__all__ = [
    "REPORTS_TABLE",
    "REPORT_FORMAT",
    "IssuedReport",
    "issued_report",
    "new_report_id",
    "record_issued",
    "redact_bundle",
    "report_hash",
    "sign_report",
]

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


UNSIGNED_KEYS = REPORT_UNSIGNED_KEYS
"""Keys beside the ledger's signature: witnesses' ``cosignatures`` travel outside what the
ledger signs and outside the report's hash (they are added after issue)."""


def sign_report(key: Ed25519PrivateKey, report: Mapping[str, Any]) -> dict[str, Any]:
    """``report`` with ``signature``: Ed25519 over ``canon(report without "signature" and
    "cosignatures")``; the cosignatures, if any, are kept beside it.

    Raises:
        CanonicalError: the report leaves the canonical domain (a float, a huge integer).
    """
    body = {k: v for k, v in report.items() if k not in UNSIGNED_KEYS}
    signature = key.sign(signed_bytes(body))
    beside = {"cosignatures": report["cosignatures"]} if "cosignatures" in report else {}
    return {**body, "signature": base64.b64encode(signature).decode("ascii"), **beside}


def report_hash(report: Mapping[str, Any]) -> str:
    """Hex SHA-256 of ``canon(report)``, signature included, ``cosignatures`` not."""
    return hashlib.sha256(
        canonical({k: v for k, v in report.items() if k != "cosignatures"})
    ).hexdigest()


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


def record_issued(recorder: LedgerSQL, row: IssuedReport) -> None:
    """Store that the ledger issued ``row`` (its id is new: a ULID)."""
    store = recorder.store
    with store.transaction() as cursor:  # not the ledger's write lock: independent of appends
        cursor.execute(
            store.sql(
                f"INSERT INTO {store.table(REPORTS_TABLE)} "
                "(report_id, subject, issued_us, as_of, known_at, sha256) "
                "VALUES (%s, %s, %s, %s, %s, %s)"
            ),
            (row.report_id, row.subject, row.issued_us, row.as_of, row.known_at, row.sha256),
        )


def issued_report(recorder: LedgerSQL, report_id: str) -> IssuedReport | None:
    """The register's row of ``report_id``, or None if this ledger never issued it."""
    store = recorder.store
    with store.read_transaction(snapshot=False) as cursor:
        cursor.execute(
            store.sql(
                "SELECT report_id, subject, issued_us, as_of, known_at, sha256 "
                f"FROM {store.table(REPORTS_TABLE)} WHERE report_id = %s"
            ),
            (report_id,),
        )
        row = cursor.fetchone()
    return None if row is None else IssuedReport(*row)
