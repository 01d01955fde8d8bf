"""The credit report (issue 19): a demo subject's PDF from the API shows its name, code and
every public record's document number, typeset in a CJK font; the JSON attached to it
verifies offline with ``tools/verify_report.py`` and one changed byte makes it fail; a
repaired penalty is in a report dated before the repair and absent from one issued after
it (redacted from its bundle too); the ledger answers whether it issued a report; a past
date is for the roles that see everything; the CLI writes the same formats."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from entrypoints.cli import main as ledger_main
from events.instants import end_of_day_us
from ledger.audit.keys import load_or_create_key, public_key_b64
from ledger.audit.reports import report_hash
from ledger.chain import canonical
from tests.e2e.apphelpers import DemoApp, build_demo_app

ROOT = Path(__file__).resolve().parents[2]
VERIFY = ROOT / "tools" / "verify_report.py"
REPORTED_KINDS = {"penalty", "violation", "list", "measure", "ban", "registration", "license"}


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("report")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=40)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def client(demo_app: DemoApp) -> TestClient:
    return TestClient(demo_app.app, raise_server_exceptions=False, follow_redirects=False)


def _public_key(demo_app: DemoApp) -> str:
    return public_key_b64(load_or_create_key(demo_app.tmp / "signing.key"))


def _verify(path: Path, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFY), str(path), "--public-key", key],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _richest_subject(client: TestClient, demo_app: DemoApp) -> tuple[str, list[dict[str, Any]]]:
    """The demo subject with the most public records of the kinds a report shows."""
    best: tuple[int, str, list[dict[str, Any]]] = (-1, "", [])
    for code in demo_app.subjects():
        items = client.get(f"/v1/subjects/{code}/disclosure").json()["items"]
        shown = [i for i in items if i.get("kind") in REPORTED_KINDS and i.get("published")]
        documented = sum(1 for i in shown if i.get("document"))
        if documented > best[0]:
            best = (documented, code, shown)
    return best[1], best[2]


def test_pdf_shows_the_public_records_and_its_json_verifies(
    client: TestClient, demo_app: DemoApp, tmp_path: Path
) -> None:
    code, public = _richest_subject(client, demo_app)
    documents = {i["document"] for i in public if i.get("document")}
    assert len(documents) >= 3, "the demo subject should have several public records"

    response = client.get(f"/v1/subjects/{code}/report", headers={"Accept": "application/pdf"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    attached = reader.attachments["credit-report.json"][0]
    report = orjson.loads(attached)
    assert report["format"] == "credit-report/1"
    assert report["name"] and report["name"] in text
    assert code in text
    for document in documents:
        assert document in text, f"document {document} missing from the PDF"
    assert report["report_id"] in text
    assert report_hash(report) in text
    assert attached == canonical(report)
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("Noto-Sans-CJK-SC" in f for f in fonts), fonts

    key = _public_key(demo_app)
    json_path = tmp_path / "report.json"
    json_path.write_bytes(attached)
    ok = _verify(json_path, key)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "head proof" in ok.stdout and "redacted" in ok.stdout
    pdf_path = tmp_path / "report.pdf"
    pdf_path.write_bytes(response.content)
    from_pdf = _verify(pdf_path, key)
    assert from_pdf.returncode == 0, from_pdf.stdout + from_pdf.stderr
    assert report_hash(report) in from_pdf.stdout

    tampered = bytearray(attached)
    where = attached.index(b'"document":"') + len(b'"document":"') + 2
    tampered[where] = ord("9") if tampered[where] != ord("9") else ord("8")
    json_path.write_bytes(bytes(tampered))
    bad = _verify(json_path, key)
    assert bad.returncode == 1 and "FAIL" in bad.stdout, bad.stdout

    other_key = base64.b64encode(bytes(32)).decode()
    json_path.write_bytes(attached)
    assert _verify(json_path, other_key).returncode != 0


def test_the_report_bundle_shows_only_what_the_report_cites(
    client: TestClient, demo_app: DemoApp
) -> None:
    code, _ = _richest_subject(client, demo_app)
    report = client.get(f"/v1/subjects/{code}/report").json()
    shown = [e["record"] for e in report["bundle"]["records"] if "record" in e]
    redacted = [e for e in report["bundle"]["records"] if e.get("redacted")]
    assert redacted, "a demo subject has records the public does not see (persons at least)"
    assert all(r["type"] != "credit.person.linked" for r in shown)
    cited = {(i["id"], i["source"]) for s in report["content"]["sections"] for i in s["items"]}
    assert {(r["id"], r["source"]) for r in shown} >= cited
    assert report["bundle"]["checkpoint"]["issued_us"] >= end_of_day_us(date(1970, 1, 1))
    period = report["content"]["period"]
    dates = [i["date"] for s in report["content"]["sections"] for i in s["items"]]
    assert period["from"] == min(dates) and period["from"] <= period["to"]
    assert "verify_report.py" in report["content"]["verification"]["note"]
    assert "score" not in report["content"]["standing"]
    assert "tier" not in report["content"]["standing"]


def _repaired_penalty(demo_app: DemoApp) -> tuple[str, dict[str, Any], str]:
    """(subject, penalty event, day of the repair approval) of a published penalty."""
    by_id = {d.event["id"]: d.event for d in demo_app.events}
    for d in demo_app.events:
        e = d.event
        if e["type"] != "credit.repair.approved":
            continue
        target = by_id[by_id[e["data"]["request"]]["data"]["target"]]
        if target["type"] == "credit.penalty.decided" and target["data"]["severity"] != "minor":
            return e["subject"], target, e["time"][:10]
    raise AssertionError("the demo has no repaired published penalty")


def test_a_repaired_penalty_is_in_a_report_before_the_repair_and_absent_after(
    client: TestClient, demo_app: DemoApp
) -> None:
    code, penalty, repaired_on = _repaired_penalty(demo_app)
    before = (date.fromisoformat(repaired_on) - timedelta(days=2)).isoformat()

    def ids(report: dict[str, Any]) -> set[str]:
        """The records a report's items stand for: the item's own id, and the corrected
        record's id when a correction's values are shown (``record``)."""
        items = [i for s in report["content"]["sections"] for i in s["items"]]
        return {i["id"] for i in items} | {i["record"] for i in items if "record" in i}

    now = client.get(f"/v1/subjects/{code}/report").json()
    assert penalty["id"] not in ids(now)
    assert penalty["data"]["document"] not in orjson.dumps(now).decode()
    redacted = [e for e in now["bundle"]["records"] if e.get("redacted")]
    assert any(e["seq"] for e in redacted)

    refused = client.get(f"/v1/subjects/{code}/report", params={"as_of": before})
    assert refused.status_code == 403
    assert refused.json()["code"] == "role-not-allowed"
    then = client.get(
        f"/v1/subjects/{code}/report",
        params={"as_of": before},
        headers=demo_app.headers("auditor"),
    ).json()
    assert penalty["id"] in ids(then)
    item = next(
        i
        for s in then["content"]["sections"]
        for i in s["items"]
        if penalty["id"] in (i["id"], i.get("record"))
    )
    assert item["document"] == penalty["data"]["document"]
    assert item["rule_set"] and item["agency_name"] and item["until"]


def test_the_ledger_answers_whether_it_issued_a_report(
    client: TestClient, demo_app: DemoApp
) -> None:
    code = demo_app.subjects()[0]
    report = client.get(f"/v1/subjects/{code}/report").json()
    answer = client.get(f"/v1/reports/{report['report_id']}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["issued"] is True and body["subject"] == code
    assert body["sha256"] == report_hash(report)
    assert report["content"]["verification"]["url"].endswith(f"/v1/reports/{report['report_id']}")
    never = client.get("/v1/reports/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert never.status_code == 404
    assert client.get("/v1/reports/not-an-id").status_code == 400


def test_a_browser_reads_the_report_check_as_a_page(client: TestClient, demo_app: DemoApp) -> None:
    """The report's QR code opens ``/v1/reports/{id}`` on a phone: a page, not JSON."""
    code = demo_app.subjects()[0]
    report = client.get(f"/v1/subjects/{code}/report").json()
    url = f"/v1/reports/{report['report_id']}"
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = client.get(url, headers=browser)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "本平台签发过此报告" in page.text and report_hash(report) in page.text
    assert f'href="/subjects/{code}"' in page.text
    assert client.get(url).headers["content-type"].startswith("application/json")
    assert client.get(url, headers={"Accept": "application/json, text/html"}).json()["issued"]
    never = client.get("/v1/reports/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=browser)
    assert never.status_code == 404 and never.headers["content-type"].startswith("text/html")


def test_the_subject_page_offers_the_report(client: TestClient, demo_app: DemoApp) -> None:
    code = demo_app.subjects()[0]
    page = client.get(f"/subjects/{code}")
    assert page.status_code == 200
    assert "下载信用报告" in page.text
    assert f"/v1/subjects/{code}/report.pdf" in page.text
    pdf = client.get(f"/v1/subjects/{code}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_cli_writes_json_pdf_and_html(
    demo_app: DemoApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = demo_app.subjects()[1]
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(demo_app.tmp / "signing.key"))
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(demo_app.tmp / "person.key"))
    common = ["--database-url", f"sqlite:///{demo_app.tmp / 'ledger.db'}"]
    for fmt in ("json", "pdf", "html"):
        out = tmp_path / f"r.{fmt}"
        assert ledger_main([*common, "report", code, "--format", fmt, "--output", str(out)]) == 0
    assert ledger_main([*common, "report", code, "--format", "pdf"]) == 2
    assert ledger_main([*common, "report", "91110000600037341X"]) == 2
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert "信用报告" in (tmp_path / "r.html").read_text()
    ok = _verify(tmp_path / "r.json", _public_key(demo_app))
    assert ok.returncode == 0, ok.stdout


def test_the_trustworthy_list_is_the_members_the_standings_name(
    client: TestClient, demo_app: DemoApp, tmp_path: Path
) -> None:
    body = client.get("/v1/lists/trustworthy").json()
    listed = {m["subject"] for m in body["members"]}
    expected = {
        code
        for code in demo_app.subjects()
        if client.get(f"/v1/subjects/{code}/standing", headers=demo_app.headers("auditor")).json()[
            "trustworthy"
        ]
    }
    assert listed == expected and body["count"] == len(listed) >= 1
    assert client.get("/v1/lists/trustworthy", params={"as_of": "2025-06-01"}).status_code == 403
    page = client.get("/lists/trustworthy")
    assert page.status_code == 200 and "守信激励对象名单" in page.text
    assert all(code in page.text for code in listed)

    member = sorted(listed)[0]
    report = client.get(f"/v1/subjects/{member}/report").json()
    trust = report["content"]["standing"]["trustworthy"]
    assert trust["member"] is True and trust["derived_from"]
    assert any("守信激励对象名单" in line for line in report["content"]["standing"]["summary"])
    path = tmp_path / "member.json"
    path.write_bytes(orjson.dumps(report))
    ok = _verify(path, _public_key(demo_app))
    assert ok.returncode == 0, ok.stdout


def _first_with(client: TestClient, codes: list[str], kind: str) -> tuple[str, list[Any]]:
    """The first subject whose public disclosure shows an item of ``kind``."""
    for code in codes:
        items = client.get(f"/v1/subjects/{code}/disclosure").json()["items"]
        shown = [i for i in items if i["kind"] == kind]
        if shown:
            return code, shown
    raise AssertionError(f"no demo subject shows a {kind}")


def test_licences_and_incentives_are_in_the_report_and_on_the_page(
    client: TestClient, demo_app: DemoApp
) -> None:
    for kind, key, title in (
        ("license", "licenses", "行政许可"),
        ("incentive", "incentives", "守信激励"),
    ):
        holders = sorted(
            {
                d.event["subject"]
                for d in demo_app.events
                if d.event["type"] == f"credit.{kind}.granted"
            }
        )
        code, shown = _first_with(client, holders, kind)
        report = client.get(f"/v1/subjects/{code}/report").json()
        section = next(s for s in report["content"]["sections"] if s["key"] == key)
        assert section["title"] == title
        assert {i["id"] for i in section["items"]} == {i["event_id"] for i in shown}
        page = client.get(f"/subjects/{code}").text
        assert title in page
        for item in shown:
            assert (item.get("document") or item.get("measure_name")) in page


def test_the_verifier_checks_more_than_the_signature(
    client: TestClient, demo_app: DemoApp, tmp_path: Path
) -> None:
    """Reports re-signed with the ledger's own key after a change (what a faulty issuer
    would hand out) still fail: a cited record that is redacted, an altered record, an
    entry removed from the end, a checkpoint older than known_at."""
    from ledger.audit.reports import sign_report

    key = load_or_create_key(demo_app.tmp / "signing.key")
    code, _ = _richest_subject(client, demo_app)
    report = client.get(f"/v1/subjects/{code}/report").json()
    records = report["bundle"]["records"]
    redacted = next(e for e in records if e.get("redacted"))
    shown_at = next(i for i, e in enumerate(records) if "record" in e)

    def tampered(change: Any) -> dict[str, Any]:
        copy = orjson.loads(orjson.dumps(report))
        change(copy)
        return sign_report(key, copy)

    def cite_redacted(r: dict[str, Any]) -> None:  # a record the bundle does not show
        r["content"]["sections"][0]["items"].append({"id": "x", "source": "y"})

    def alter_record(r: dict[str, Any]) -> None:
        r["bundle"]["records"][shown_at]["record"]["data"]["tampered"] = True

    def drop_last(r: dict[str, Any]) -> None:
        r["bundle"]["records"].pop()

    def later_known_at(r: dict[str, Any]) -> None:
        r["known_at"] = "2199-01-01T00:00:00.000000Z"

    cases = {
        "not an unredacted record": cite_redacted,
        "hash": alter_record,
        "head": drop_last,
        "before the report's known_at": later_known_at,
    }
    public_key = _public_key(demo_app)
    for expected, change in cases.items():
        path = tmp_path / "tampered.json"
        path.write_bytes(orjson.dumps(tampered(change)))
        result = _verify(path, public_key)
        assert result.returncode == 1 and expected in result.stdout, (expected, result.stdout)
    assert redacted["seq"] >= 1


def test_without_weasyprint_the_pdf_is_unavailable_and_the_json_is_not(
    client: TestClient, demo_app: DemoApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as without Pango
    code = demo_app.subjects()[0]
    pdf = client.get(f"/v1/subjects/{code}/report.pdf")
    assert pdf.status_code == 503 and pdf.json()["code"] == "unavailable"
    assert "ensure-report-deps.sh" in pdf.json()["detail"]
    assert client.get(f"/v1/subjects/{code}/report").status_code == 200
