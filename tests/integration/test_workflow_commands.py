"""The workflow commands as the ``ledger`` CLI will run them (``register`` on an
argparse parser, the handler called with settings), on both stores."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.cli import persons, spotcheck
from entrypoints.cli import tick as deadlines
from entrypoints.settings import Settings
from ledger.app import Ledger
from tests.scenarios.support import at, event, recorded, submit

CODES = ["91440300708461136T", "91310000MA1FL8L96X", "91330100MA2CXXXX1F", "91360100MA35XXXX7J"]


def run(store_url: str, *argv: str, **settings: Any) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for module in (deadlines, spotcheck, persons):
        module.register(sub, bootstrap)
    args = parser.parse_args(list(argv))
    code: int = args.handler(args, Settings(database_url=store_url, **settings))
    return code


def test_tick_prints_what_it_recorded(
    ledger: Ledger, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (commitment,) = recorded(
        ledger,
        event(
            "credit.commitment.made",
            CODES[0],
            at("2025-06-03"),
            {"commitment_type": "approval-substitute", "matter": "容缺受理", "due": "2025-06-20"},
            "samr/440300",
        ),
    )
    assert run(store_url, "tick", "--at", "2025-06-20", "--json") == 0  # the deadline day itself
    assert json.loads(capsys.readouterr().out)["breaches"] == 0
    assert run(store_url, "tick", "--json") == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert (report["breaches"], report["recorded"], report["rejected"]) == (1, 1, 0)
    assert report["events"][0]["id"] == f"breach-{commitment}"
    assert err.strip().startswith("tick ")
    assert run(store_url, "tick") == 0
    assert "0 overdue commitments" in capsys.readouterr().err


def test_spot_check_draws_reproducibly_and_records_the_draw(
    ledger: Ledger, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for code in CODES:
        outcomes = submit(
            ledger,
            event(
                "credit.registration.submitted",
                code,
                at("2025-03-03"),
                {"category": "certificate", "description": "ISO 9001"},
                "credit-platform/" + code[2:8],
            ),
        )
        assert outcomes[0].status == "recorded"
    argv = ("spot-check", "--seed", "7", "--ratios", "low=0.5,high=0.3", "--json")
    assert run(store_url, *argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["population"] == {"high": 0, "low": 4}
    assert len(first["drawn"]["low"]) == 2 and first["recorded"] == 2
    assert run(store_url, *argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["drawn"] == first["drawn"] and again["repeat"] == 2
    for code in first["drawn"]["low"]:
        (selected,) = [r for r in ledger.stream(code) if r.type == "credit.inspection.selected"]
        assert selected.data["seed"] == 7 and selected.data["ratio"] == "0.5"
    with pytest.raises(SystemExit):
        run(store_url, "spot-check", "--seed", "7", "--ratios", "low=2")
