"""A late correction, read with both clocks, on both stores.

A general penalty decided on 2026-04-02 (Order 36: published for 3 months to
1 year) is found in June to have been minor all along; the correction reaches
the ledger on 2026-06-15. Asked about 2026-05-01:

* ``as_of=known_at=2026-05-01`` — what the ledger showed then: published, −5;
* ``as_of=2026-05-01`` alone — what we now know was true then: a minor penalty,
  not published under Order 36, −1.
"""

from __future__ import annotations

from typing import Any

import orjson

from events.envelope import parse_submission
from events.instants import parse_instant
from ledger.app import Ledger
from projections.reads import Reads
from projections.runner import ProjectionRunner

SUBJECT = "91440300708461136T"
SOURCE = "samr/440300"


def _event(id: str, type: str, time: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": id,
        "source": SOURCE,
        "type": type,
        "subject": SUBJECT,
        "time": time,
        "data": data,
    }


def _submit(ledger: Ledger, event: dict[str, Any], recorded: str) -> None:
    (outcome,) = ledger.submit(
        parse_submission(orjson.dumps(event)), now_us=parse_instant(recorded)
    )
    assert outcome.status == "recorded", outcome.to_json()


def test_a_late_correction_read_with_both_clocks(ledger: Ledger) -> None:
    penalty = _event(
        "pen-1",
        "credit.penalty.decided",
        "2026-04-02T10:00:00+08:00",
        {
            "kinds": ["fine"],
            "amount": "5000.00",
            "procedure": "ordinary",
            "severity": "general",
            "sector": "food",
            "basis": "《中华人民共和国食品安全法》第一百二十四条",
            "document": "深市监罚〔2026〕101号",
        },
    )
    _submit(ledger, penalty, "2026-04-02T15:00:00+08:00")
    correction = _event(
        "cor-1",
        "credit.record.corrected",
        "2026-06-15T09:00:00+08:00",
        {
            "target": "pen-1",
            "changes": {"severity": "minor", "procedure": "simplified", "amount": "200.00"},
        },
    )
    _submit(ledger, correction, "2026-06-15T09:30:00+08:00")
    reads = Reads(ledger.recorder, ledger.rules, clock=lambda: parse_instant("2026-07-01"))  # type: ignore[arg-type]
    before = parse_instant("2026-05-01")

    shown = reads.disclosure(SUBJECT, before, before)
    (item,) = shown["items"]
    assert (item["published"], item["reason"]) == (
        True,
        "published: general penalty, Order 36, 3 months–1 year, ends by 2027-04-02",
    )
    standing_then = reads.standing(SUBJECT, before, before)
    assert (standing_then["score"], standing_then["explanation"][0]["key"]) == (
        95,
        "penalty.general",
    )

    truth = reads.disclosure(SUBJECT, before)
    (item,) = truth["items"]
    assert (item["published"], item["reason"]) == (False, "not published: minor penalty (Order 36)")
    assert (item["severity"], item["amount"]) == ("minor", "200.00")
    standing_now_known = reads.standing(SUBJECT, before)
    assert (standing_now_known["score"], standing_now_known["explanation"][0]["key"]) == (
        99,
        "penalty.minor",
    )

    # the materialised current view agrees with the live fold once it has caught up
    ProjectionRunner(ledger.recorder, ledger.rules).catch_up()  # type: ignore[arg-type]
    current = reads.disclosure(SUBJECT)
    assert reads.served_by == "ASYNC"
    assert current == reads.live.disclosure(SUBJECT, parse_instant("2026-07-01")).to_json()

    # the history links the correction to what it supersedes, with both clocks
    text = reads.history(SUBJECT).text()
    assert "#2  记录更正 record corrected" in text
    assert "(applies from 2026-04-02 10:00)" in text
    assert (
        "↳ corrects #1 pen-1 (amount: 5000.00 → 200.00; procedure: ordinary → simplified; "
        "severity: general → minor)"
    ) in text
    assert "Δ score 95 → 99 (grade A → A)" not in text  # the grade did not change: no grade part
    assert "Δ score 95 → 99" in text
    assert "Δ disclosure pen-1: not published: minor penalty (Order 36)" in text
