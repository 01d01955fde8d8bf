"""Corrections are judged as the corrected record would be, at both doors: the
issue's examples (``{"due":"garbage"}``, ``{"severity":"bogus"}``,
``{"amount":"abc"}``, ``{"finding":"nope"}``) are refused over ``ledger submit``
and ``POST /v1/events`` with a stable reason code naming the field, and a
corrected identity number is stored sealed, never in clear. Both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api.access_log import AccessLog
from api.app import create_app
from api.tokens import TokenStore
from entrypoints.bootstrap import bootstrap
from entrypoints.cli import main
from entrypoints.settings import Settings
from services.persons import keystore_of

SUBJECT = "91440300708461136T"
AGENCY = "samr/440300"
PLATFORM = "credit-platform/440300"
NUMBER = "11010519491231002X"
CORRECTED_NUMBER = "440301199001010013"
BASIS = {"basis": "《测试条例》第一条", "document": "测〔2025〕1号"}


def ev(ident: str, type_: str, day: str, data: dict[str, Any], source: str = AGENCY) -> dict:
    return {
        "specversion": "1.0",
        "id": ident,
        "source": source,
        "type": type_,
        "subject": SUBJECT,
        "time": f"{day}T10:00:00+08:00",
        "datacontenttype": "application/json",
        "data": data,
    }


SETUP = [
    ev(
        "c-1",
        "credit.commitment.made",
        "2025-01-02",
        {"commitment_type": "approval-substitute", "matter": "许可", "due": "2025-03-01"},
    ),
    ev(
        "p-1",
        "credit.penalty.decided",
        "2025-02-10",
        {
            "kinds": ["fine"],
            "amount": "5000.00",
            "procedure": "ordinary",
            "severity": "general",
            "sector": "food",
            **BASIS,
        },
    ),
    ev(
        "r-1",
        "credit.rectification.ordered",
        "2025-02-12",
        {"finding": "p-1", "deadline": "2025-03-12"},
    ),
    ev(
        "l-1",
        "credit.person.linked",
        "2025-01-03",
        {"role": "legal-representative", "name": "张三", "id_number": NUMBER},
    ),
    ev(
        "o-1",
        "credit.objection.filed",
        "2025-02-14",
        {"target": "p-1", "grounds": "金额有误"},
        PLATFORM,
    ),
]


def correction(ident: str, target: str, changes: dict[str, Any]) -> dict:
    return ev(
        ident,
        "credit.record.corrected",
        "2025-04-01",
        {"target": target, "changes": changes, "reason": "更正"},
    )


REFUSED = [
    # (correction, reason code, the field the message names)
    (correction("x-due", "c-1", {"due": "garbage"}), "invalid-field", "data.changes.due"),
    (
        correction("x-sev", "p-1", {"severity": "bogus"}),
        "invalid-field",
        "data.changes.severity",
    ),
    (correction("x-amt", "p-1", {"amount": "abc"}), "invalid-field", "data.changes.amount"),
    (
        correction("x-find", "r-1", {"finding": "nope"}),
        "unknown-reference",
        "data.changes.finding",
    ),
    (
        correction("x-find-type", "r-1", {"finding": "c-1"}),
        "wrong-reference-type",
        "data.changes.finding",
    ),
    (
        correction("x-unknown", "p-1", {"colour": "red"}),
        "invalid-field",
        "data.changes.colour",
    ),
    (
        correction("x-pii-elsewhere", "p-1", {"id_number": CORRECTED_NUMBER}),
        "invalid-field",
        "data.changes.id_number",
    ),
    (
        correction("x-pii-number", "l-1", {"id_number": 440301199001010013}),
        "invalid-field",
        "data.changes.id_number",
    ),
    (
        correction("x-pii-forged", "l-1", {"id_number": {"enc": "AAAA", "key": "pk-" + "0" * 32}}),
        "invalid-field",
        "data.changes.id_number",
    ),
    (
        ev(
            "x-resolved",
            "credit.objection.resolved",
            "2025-02-20",
            {
                "objection": "o-1",
                "outcome": "upheld",
                "reasons": "异议成立",
                "changes": {"amount": "abc"},
            },
        ),
        "invalid-field",
        "data.changes.amount",
    ),
]


@pytest.fixture
def settings(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    env = {
        "LEDGER_DATABASE_URL": store_url,
        "LEDGER_PERSON_SECRET_FILE": str(tmp_path / "person.key"),
        "LEDGER_SIGNING_KEY_FILE": str(tmp_path / "signing.key"),
        "LEDGER_ERASURE_LOG": str(tmp_path / "erasures.jsonl"),
        "LEDGER_TOKENS_FILE": str(tmp_path / "tokens.json"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return Settings()


def submit_cli(events: list[dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list:
    path = tmp_path / "events.json"
    path.write_bytes(orjson.dumps(events))
    main(["submit", str(path), "--json"])
    return [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]


def stored_text(settings: Settings) -> str:
    ledger = bootstrap(settings)
    try:
        return orjson.dumps([r.data for r in ledger.stream(SUBJECT)]).decode()
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def test_the_cli_refuses_each_invalid_correction(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [o["status"] for o in submit_cli(SETUP, tmp_path, capsys)] == ["recorded"] * 5
    results = submit_cli([item for item, _, _ in REFUSED], tmp_path, capsys)
    for (item, code, field), got in zip(REFUSED, results, strict=True):
        assert (got["id"], got["status"], got["code"]) == (item["id"], "rejected", code)
        assert field in got["message"], got["message"]
    # a valid correction still passes; a corrected number is sealed, never in clear
    good = [
        correction("ok-amt", "p-1", {"amount": "4000.00"}),
        correction("ok-pii", "l-1", {"id_number": CORRECTED_NUMBER}),
    ]
    assert [o["status"] for o in submit_cli(good, tmp_path, capsys)] == ["recorded"] * 2
    assert [o["status"] for o in submit_cli(good, tmp_path, capsys)] == ["repeat"] * 2
    text = stored_text(settings)
    assert NUMBER not in text and CORRECTED_NUMBER not in text
    assert "garbage" not in text and "bogus" not in text


def test_the_api_refuses_each_invalid_correction(settings: Settings, tmp_path: Path) -> None:
    ledger = bootstrap(settings)
    try:
        tokens = TokenStore(settings.tokens_file)
        token = tokens.add("agency", agency=AGENCY, name="samr")[0]
        platform = tokens.add("agency", agency=PLATFORM, name="platform")[0]
        app = create_app(
            ledger,
            tokens=tokens,
            access_log=AccessLog(tmp_path / "access.jsonl", ledger.clock),
            keystore=keystore_of(ledger, settings.person_secret_file),
        )
        client = TestClient(app, raise_server_exceptions=False)
        headers = {"Authorization": f"Bearer {token}"}
        for item in SETUP:
            who = platform if item["source"] == PLATFORM else token
            response = client.post(
                "/v1/events", json=item, headers={"Authorization": f"Bearer {who}"}
            )
            assert response.status_code == 201, response.text
        for item, code, field in REFUSED:
            response = client.post("/v1/events", json=item, headers=headers)
            assert response.status_code == 422, response.text
            problem = response.json()
            assert problem["code"] == code and field in problem["detail"], problem
        response = client.post(
            "/v1/events",
            json=correction("ok-pii", "l-1", {"id_number": CORRECTED_NUMBER}),
            headers=headers,
        )
        assert response.status_code == 201, response.text
        text = orjson.dumps([r.data for r in ledger.stream(SUBJECT)]).decode()
        assert CORRECTED_NUMBER not in text and "garbage" not in text
        # an auditor reads the corrected number in clear, as the first one
        auditor = tokens.add("auditor", name="auditor")[0]
        history = client.get(
            f"/v1/subjects/{SUBJECT}/history", headers={"Authorization": f"Bearer {auditor}"}
        )
        assert history.status_code == 200, history.text
        (fix,) = [e for e in history.json()["events"] if e["id"] == "ok-pii"]
        assert fix["data"]["changes"]["id_number"] == CORRECTED_NUMBER
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
