"""Objections: one pending per record, resolved once, carried corrections, who
may correct, deadlines per region."""

from __future__ import annotations

from datetime import date

import pytest

from commands.calendar import CalendarUnknown
from commands.decide import Accepted
from commands.workflows.objections import (
    objection_deadlines,
    objection_status,
    pending_objections,
)
from tests.unit.commands.stream import RULES, SHANGHAI, ZHEJIANG, Stream, at

D = date.fromisoformat


def filed(s: Stream, target: str, day: str = "2025-03-03", **kw: object) -> str:
    return s.ok("credit.objection.filed", at(day), {"target": target, "grounds": "金额有误"}, **kw)


def resolve(s: Stream, objection: str, outcome: str, day: str = "2025-03-05", **extra: object):
    return s.add(
        "credit.objection.resolved",
        at(day),
        {"objection": objection, "outcome": outcome, "reasons": "经核查", **extra},
    )


def test_a_second_objection_waits_for_the_first() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    first = filed(s, penalty)
    r = s.refused(
        "credit.objection.filed", at("2025-03-04"), {"target": penalty, "grounds": "again"}
    )
    assert r.code == "out-of-order" and first in r.message and r.details["pending"] == first
    assert isinstance(resolve(s, first, "rejected"), Accepted)
    filed(s, penalty, "2025-03-10")  # after the resolution: a new objection is fine


def test_resolving_an_objection_never_filed() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    missing = s.refused(
        "credit.objection.resolved",
        at("2025-03-05"),
        {"objection": "nope", "outcome": "rejected", "reasons": "x"},
    )
    assert missing.code == "unknown-reference"
    wrong = s.refused(
        "credit.objection.resolved",
        at("2025-03-05"),
        {"objection": penalty, "outcome": "rejected", "reasons": "x"},
    )
    assert wrong.code == "wrong-reference-type"
    objection = filed(s, penalty)
    s.ok("credit.record.revoked", at("2025-03-04"), {"target": objection, "reason": "误录"})
    revoked = resolve(s, objection, "rejected")
    assert revoked.code == "out-of-order" and "never filed" in revoked.message


def test_an_objection_is_resolved_once() -> None:
    s = Stream()
    objection = filed(s, s.penalty("2025-02-10"))
    assert isinstance(resolve(s, objection, "rejected"), Accepted)
    again = resolve(s, objection, "upheld", "2025-03-06")
    assert again.code == "out-of-order" and "already resolved" in again.message


def test_an_upheld_resolution_may_carry_the_correction() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    objection = filed(s, penalty)
    decision = resolve(s, objection, "upheld", changes={"amount": "5000.00"})
    assert isinstance(decision, Accepted)
    (derived,) = decision.derived
    assert derived.type == "credit.record.corrected"
    assert derived.id == f"{decision.event.id}/correction"
    assert (derived.source, derived.time) == (decision.event.source, decision.event.time)
    assert derived.data["target"] == penalty and derived.data["changes"] == {"amount": "5000.00"}
    status = objection_status(s.state, objection)
    assert (status.stage, status.compensation) == ("upheld", derived.id)


def test_an_upheld_resolution_may_carry_the_revocation() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    decision = resolve(s, filed(s, penalty), "upheld", revoke=True)
    assert isinstance(decision, Accepted)
    assert [d.type for d in decision.derived] == ["credit.record.revoked"]
    assert penalty in s.state.revoked


@pytest.mark.parametrize(
    ("outcome", "extra", "field"),
    [
        ("rejected", {"changes": {"amount": "1.00"}}, "data.changes"),
        ("rejected", {"revoke": True}, "data.revoke"),
        ("upheld", {"changes": {"amount": "1.00"}, "revoke": True}, "data.revoke"),
    ],
)
def test_what_a_resolution_may_carry(outcome: str, extra: dict, field: str) -> None:
    s = Stream()
    r = resolve(s, filed(s, s.penalty("2025-02-10")), outcome, **extra)
    assert r.code == "invalid-field" and r.details["field"] == field


def test_upheld_without_correction_awaits_one_from_the_agency_or_the_platform() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    objection = filed(s, penalty, source="credit-platform/440300")
    assert objection_status(s.state, objection).stage == "pending"
    assert [p.id for p in pending_objections(s.state)] == [objection]
    s.ok(
        "credit.objection.resolved",
        at("2025-03-05"),
        {"objection": objection, "outcome": "upheld", "reasons": "成立"},
        source="credit-platform/440300",
    )
    assert objection_status(s.state, objection).stage == "awaiting-correction"
    other = s.refused(
        "credit.record.corrected",
        at("2025-03-06"),
        {"target": penalty, "changes": {"amount": "1.00"}},
        source="tax/440300",
    )
    assert other.code == "not-authorised"
    assert other.details["responsible"] == "samr/440300"
    s.ok(
        "credit.record.corrected",
        at("2025-03-06"),
        {"target": penalty, "changes": {"amount": "1.00"}},
        source="credit-platform/440300",
    )
    assert objection_status(s.state, objection).stage == "upheld"


def test_the_agency_corrects_its_own_records_without_an_objection() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    s.ok(
        "credit.record.corrected",
        at("2025-02-11"),
        {"target": penalty, "changes": {"amount": "2.00"}},
    )
    r = s.refused(
        "credit.record.revoked",
        at("2025-02-12"),
        {"target": penalty, "reason": "x"},
        source="mee/440300",
    )
    assert r.code == "not-authorised" and "samr/440300（深圳市市场监管）" in r.message


@pytest.mark.parametrize(
    ("subject", "filed_on", "flag_by", "decide_by"),
    [
        (SHANGHAI, "2025-03-03", "2025-03-04", "2025-03-10"),  # Monday: 1 and 5 working days
        (ZHEJIANG, "2025-03-03", "2025-03-04", "2025-03-31"),  # Zhejiang decides within 20
        (SHANGHAI, "2025-09-30", "2025-10-09", "2025-10-14"),  # across National Day
        ("91440300708461136T", "2025-09-28", "2025-09-29", "2025-10-11"),  # make-up days count
    ],
)
def test_objection_deadlines_by_region(
    subject: str, filed_on: str, flag_by: str, decide_by: str
) -> None:
    s = Stream(subject)
    objection = filed(s, s.penalty("2025-02-10"), filed_on)
    assert objection_deadlines(s.state, objection, RULES) == (D(flag_by), D(decide_by))


def test_objection_deadlines_are_never_guessed() -> None:
    s = Stream(now_us=1_830_000_000_000_000)  # 2027-12-29: 2027 is not in the calendar
    objection = filed(s, s.penalty("2026-01-10"), "2026-12-29")
    with pytest.raises(CalendarUnknown):
        objection_deadlines(s.state, objection, RULES)
