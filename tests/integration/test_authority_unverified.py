"""Records made before the authority rules: they stay recorded and keep their
effect, ``ledger verify`` stays green, ``ledger unverified`` lists them, and the
history (CLI, API) and the disclosure for non-public roles flag them
(``authority: unverified``) — never the public's disclosure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from commands import authority, decide
from entrypoints.cli import main
from ledger.app import Ledger
from tests.e2e.apphelpers import DemoApp, build_demo_app
from tests.scenarios.support import at, event, penalty, recorded

SUBJECT = "91440300708461136T"


def _before_the_rules(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Record, as a ledger without the authority rules would have: a penalty
    "decided" by a credit platform, and a tax office withdrawing samr's penalty."""
    samr = dict(penalty(SUBJECT, "2025-02-10", "samr/440300"), id="old-samr-penalty")
    recorded(ledger, samr)
    platform_penalty = dict(
        penalty(SUBJECT, "2025-02-11", "credit-platform/440300"), id="old-platform-penalty"
    )
    withdrawal = event(
        "credit.penalty.withdrawn",
        SUBJECT,
        at("2025-03-03"),
        {"penalty": samr["id"], "reason": "复议撤销"},
        "tax/440300",
        id="old-tax-withdrawal",
    )
    with monkeypatch.context() as m:
        for name in decide.RULES:
            m.setitem(
                decide.RULES, name, [r for r in decide.RULES[name] if r is not authority.authorised]
            )
        recorded(ledger, platform_penalty, withdrawal)
    return {"platform": platform_penalty["id"], "withdrawal": withdrawal["id"]}


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("authority-unverified")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=8)
    with pytest.MonkeyPatch.context() as m:
        _before_the_rules(built.ledger, m)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def test_the_rules_refuse_them_now(demo_app: DemoApp) -> None:
    from tests.scenarios.support import submit

    again = dict(
        penalty(SUBJECT, "2025-02-12", "credit-platform/440300"), id="new-platform-penalty"
    )
    (outcome,) = submit(demo_app.ledger, again)
    assert outcome.code == "not-authorised"


def test_cli_lists_them_verify_stays_green_and_history_flags_them(
    demo_app: DemoApp, capsys: pytest.CaptureFixture[str]
) -> None:
    env = ["--database-url", f"sqlite:///{demo_app.tmp / 'ledger.db'}"]
    assert main([*env, "unverified", "--json"]) == 0
    found = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(f["id"], f["code"]) for f in found} == {
        ("old-platform-penalty", "not-authorised"),
        ("old-tax-withdrawal", "not-authorised"),
    }
    withdrawal = next(f for f in found if f["id"] == "old-tax-withdrawal")
    assert withdrawal["responsible"] == "samr/440300"
    assert "samr/440300（深圳市市场监管）" in withdrawal["message"]

    assert main([*env, "verify"]) == 0
    capsys.readouterr()

    assert main([*env, "history", SUBJECT, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    flags = {r["id"]: r.get("authority") for r in rows}
    assert flags == {
        "old-samr-penalty": None,
        "old-platform-penalty": "unverified",
        "old-tax-withdrawal": "unverified",
    }
    assert main([*env, "history", SUBJECT]) == 0
    assert "authority: unverified" in capsys.readouterr().out

    # they keep their effect: the withdrawn penalty is no longer published
    assert main([*env, "disclosure", SUBJECT, "--json"]) == 0
    items = {i["event_id"]: i for i in json.loads(capsys.readouterr().out)["items"]}
    assert items["old-samr-penalty"]["published"] is False


def test_the_api_flags_them_for_auditors_not_for_the_public(demo_app: DemoApp) -> None:
    client = TestClient(demo_app.app, raise_server_exceptions=False)
    url = f"/v1/subjects/{SUBJECT}/disclosure"
    auditor = client.get(url, headers=demo_app.headers("auditor")).json()
    flagged = {i["event_id"]: i.get("authority") for i in auditor["items"]}
    assert flagged["old-platform-penalty"] == "unverified"
    assert flagged["old-samr-penalty"] is None
    public = client.get(url)
    assert public.status_code == 200 and "unverified" not in public.text
    history = client.get(
        f"/v1/subjects/{SUBJECT}/history", headers=demo_app.headers("auditor")
    ).json()
    marked = {e["id"] for e in history["events"] if e.get("authority") == "unverified"}
    assert marked == {"old-platform-penalty", "old-tax-withdrawal"}
