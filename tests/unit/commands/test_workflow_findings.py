"""Rectification and interviews by the finding's agency; orders completed once;
overdue orders; penalties withdrawn once."""

from __future__ import annotations

from datetime import date

from commands.workflows.common import day_start_us
from commands.workflows.findings import rectification_status
from tests.unit.commands.stream import Stream, at

D = date.fromisoformat


def order(s: Stream, finding: str, deadline: str = "2025-03-31") -> str:
    return s.ok(
        "credit.rectification.ordered", at("2025-02-11"), {"finding": finding, "deadline": deadline}
    )


def test_an_interview_by_another_agency_is_refused() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    r = s.refused(
        "credit.interview.held",
        at("2025-02-12"),
        {"finding": penalty, "kind": "warning"},
        source="tax/440300",
    )
    assert r.code == "wrong-agency" and "谁认定、谁约谈" in r.message


def test_an_order_is_completed_once_and_only_while_it_stands() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    first = order(s, penalty)
    s.ok("credit.rectification.completed", at("2025-03-01"), {"rectification": first})
    r = s.refused("credit.rectification.completed", at("2025-03-02"), {"rectification": first})
    assert r.code == "out-of-order" and "already completed" in r.message
    second = order(s, penalty)
    s.ok("credit.record.revoked", at("2025-02-12"), {"target": second, "reason": "重复下达"})
    r = s.refused("credit.rectification.completed", at("2025-03-02"), {"rectification": second})
    assert r.code == "out-of-order" and "revoked" in r.message


def test_rectification_status_over_time() -> None:
    s = Stream()
    o = order(s, s.penalty("2025-02-10"), "2025-03-31")
    assert rectification_status(s.state, o, day_start_us(D("2025-03-31"))).stage == "open"
    late = rectification_status(s.state, o, day_start_us(D("2025-04-03")))
    assert (late.stage, late.days_overdue) == ("overdue", 3)
    s.ok("credit.rectification.completed", at("2025-04-05"), {"rectification": o})
    assert rectification_status(s.state, o, day_start_us(D("2025-04-03"))).stage == "overdue"
    done = rectification_status(s.state, o, day_start_us(D("2025-05-01")))
    assert (done.stage, done.days_overdue) == ("completed-late", 5)


def test_a_penalty_is_withdrawn_once() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    s.ok("credit.penalty.withdrawn", at("2025-03-01"), {"penalty": penalty, "reason": "复议撤销"})
    r = s.refused("credit.penalty.withdrawn", at("2025-03-02"), {"penalty": penalty, "reason": "x"})
    assert r.code == "out-of-order"
