"""A credit report on each store (SQLite and PostgreSQL): issued over a small story, it
verifies offline, the register of issued reports answers for it on the same store, and
a report of a subject the ledger does not know is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from ledger.app import Ledger
from ledger.audit.keys import load_or_create_key, public_key_b64
from ledger.audit.reports import report_hash
from projections.live import UnknownSubject
from projections.reads import Reads
from projections.report import ReportIssuer
from tests.scenarios.support import at, event, penalty, recorded

ROOT = Path(__file__).resolve().parents[2]
SUBJECT = "91440300708461136T"


def test_a_report_on_each_store(ledger: Ledger, tmp_path: Path) -> None:
    assert ledger.rules is not None
    key = load_or_create_key(tmp_path / "signing.key")
    (fine,) = recorded(ledger, penalty(SUBJECT, "2026-06-01", "samr/440300"))
    recorded(
        ledger,
        event(
            "credit.person.linked",
            SUBJECT,
            at("2026-06-02"),
            {"role": "legal-representative", "name": "张三", "id_number": "11010519491231002X"},
            "samr/440300",
        ),
    )
    reads = Reads(ledger.recorder, ledger.rules, clock=ledger.clock)
    issuer = ReportIssuer(ledger.recorder, reads, key, "test-ledger", ledger.clock)
    report = issuer.issue(SUBJECT)
    penalties = next(s for s in report["content"]["sections"] if s["key"] == "penalties")
    assert [i["id"] for i in penalties["items"]] == [fine]
    assert [e.get("redacted", False) for e in report["bundle"]["records"]] == [False, True]

    found = issuer.issued(report["report_id"])
    assert found is not None and found.sha256 == report_hash(report)
    assert issuer.issued("01ARZ3NDEKTSV4RRFFQ69G5FAV") is None

    path = tmp_path / "report.json"
    path.write_bytes(orjson.dumps(report))
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools/verify_report.py"), str(path), "--public-key",
         public_key_b64(key)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert "1 redacted" in result.stdout

    with pytest.raises(UnknownSubject):
        issuer.issue("91110000600037341L")


def test_a_corrected_record_shows_only_its_corrected_values(ledger: Ledger, tmp_path: Path) -> None:
    assert ledger.rules is not None
    key = load_or_create_key(tmp_path / "signing.key")
    (fine,) = recorded(ledger, penalty(SUBJECT, "2026-06-01", "samr/440300", amount="77777.00"))
    (correction,) = recorded(
        ledger,
        event(
            "credit.record.corrected",
            SUBJECT,
            at("2026-06-03"),
            {"target": fine, "changes": {"amount": "6666.00"}},
            "samr/440300",
        ),
    )
    reads = Reads(ledger.recorder, ledger.rules, clock=ledger.clock)
    report = ReportIssuer(ledger.recorder, reads, key, "test-ledger", ledger.clock).issue(SUBJECT)
    text = orjson.dumps(report).decode()
    assert "77777.00" not in text  # the old amount is never public, not even in the bundle
    (item,) = next(s for s in report["content"]["sections"] if s["key"] == "penalties")["items"]
    assert item["details"]["amount"] == "6666.00" and item["corrected"]["mark"] == "已更正"
    assert (item["id"], item["record"]) == (correction, fine)
    path = tmp_path / "report.json"
    path.write_bytes(orjson.dumps(report))
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools/verify_report.py"), str(path), "--public-key",
         public_key_b64(key)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout


def test_a_changed_licence_cites_its_change(ledger: Ledger, tmp_path: Path) -> None:
    assert ledger.rules is not None
    key = load_or_create_key(tmp_path / "signing.key")
    licence = {
        "license_type": "食品经营许可",
        "matter": "预包装食品销售",
        "valid_until": None,
        "basis": "《中华人民共和国食品安全法》第三十五条",
        "document": "JY14403050011111",
    }
    (granted,) = recorded(
        ledger, event("credit.license.granted", SUBJECT, at("2026-03-02"), licence, "samr/440300")
    )
    (change,) = recorded(
        ledger,
        event(
            "credit.license.changed",
            SUBJECT,
            at("2026-05-06"),
            {"license": granted, "changes": {"matter": "预包装食品销售、散装食品销售"}},
            "samr/440300",
        ),
    )
    reads = Reads(ledger.recorder, ledger.rules, clock=ledger.clock)
    report = ReportIssuer(ledger.recorder, reads, key, "test-ledger", ledger.clock).issue(SUBJECT)
    (item,) = next(s for s in report["content"]["sections"] if s["key"] == "licenses")["items"]
    assert item["id"] == granted and item["derived_from"] == [
        {"id": change, "source": "samr/440300"}
    ]
    assert item["title"].startswith("食品经营许可：预包装食品销售、散装食品销售")
    assert [e.get("redacted", False) for e in report["bundle"]["records"]] == [False, False]
