"""Credit repair: the rule set in force on the target's date decides when and with
what obligations; requests are decided once; approvals revoked once."""

from __future__ import annotations

import pytest

from commands.decide import Accepted
from tests.unit.commands.stream import Stream, at


def request(s: Stream, target: str, day: str, **kw: object):
    return s.add(
        "credit.repair.requested",
        at(day),
        {"target": target, "methods": ["commitment"]},
        source="credit-platform/440300",
        **kw,
    )


def decision(s: Stream, kind: str, request_id: str, day: str):
    return s.add(
        f"credit.repair.{kind}",
        at(day),
        {"request": request_id, "reasons": "审核"},
        source="credit-platform/440300",
    )


@pytest.mark.parametrize(
    ("decided", "severity", "sector", "earliest"),
    [
        ("2025-02-10", "general", "food", "2025-05-10"),  # Order 58: 3 months
        ("2025-02-10", "serious", "food", "2025-05-10"),  # Order 58: severity does not matter
        ("2025-02-10", "general", "fire-safety", "2026-02-10"),  # Order 58: 1 year for fire safety
        ("2026-04-15", "general", "food", "2026-07-15"),  # Order 36: general 3 months
        ("2026-04-15", "serious", "food", "2027-04-15"),  # Order 36: serious 1 year
        ("2024-01-31", "general", "food", "2024-04-30"),  # month ends clamp
    ],
)
def test_too_early_names_the_earliest_date(
    decided: str, severity: str, sector: str, earliest: str
) -> None:
    s = Stream()
    penalty = s.penalty(decided, severity, sector)
    s.repair_commitment(decided)
    r = request(s, penalty, "2026-11-17" if earliest > "2026-11-17" else _day_before(earliest))
    assert r.code == "repair-too-early"
    assert r.details["earliest"] == earliest
    assert earliest in r.message and "repair" in r.message


def _day_before(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def test_accepted_on_the_earliest_day_with_the_obligations_met() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    s.repair_commitment("2025-05-09")
    assert isinstance(request(s, penalty, "2025-05-10"), Accepted)


def test_minor_penalties_not_published_under_order_36_cannot_be_repaired() -> None:
    s = Stream()
    minor = s.penalty("2026-04-15", "minor")
    s.repair_commitment("2026-05-01")
    r = request(s, minor, "2026-11-01")
    assert r.code == "repair-not-applicable"
    assert "not published" in r.message and "ndrc-order-36" in r.message
    # under Order 58 a minor penalty was published, so it can be repaired
    old = s.penalty("2025-02-10", "minor")
    s.repair_commitment("2025-06-01")
    assert isinstance(request(s, old, "2025-06-10"), Accepted)


def test_no_rule_set_before_order_58() -> None:
    s = Stream()
    penalty = s.penalty("2023-03-01")
    s.repair_commitment("2023-09-01")
    r = request(s, penalty, "2023-10-01")
    assert r.code == "no-rule-set" and r.details["date"] == "2023-03-01"


def test_obligations_rectification_and_repair_commitment() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    order = s.ok(
        "credit.rectification.ordered",
        at("2025-02-11"),
        {"finding": penalty, "deadline": "2025-03-31"},
    )
    r = request(s, penalty, "2025-06-10")
    assert r.code == "repair-obligations-unmet"
    assert len(r.details["missing"]) == 2
    assert order in r.details["missing"][0] and "repair commitment" in r.details["missing"][1]
    s.ok("credit.rectification.completed", at("2025-03-20"), {"rectification": order})
    commitment = s.repair_commitment("2025-06-01")
    s.ok(
        "credit.commitment.breached",
        at("2025-06-05"),
        {"commitment": commitment, "kind": "false"},
    )
    r = request(s, penalty, "2025-06-10")  # a breached commitment does not count
    assert r.code == "repair-obligations-unmet" and len(r.details["missing"]) == 1
    s.repair_commitment("2025-06-11")
    r = request(s, penalty, "2025-06-10")  # made after the request: does not count
    assert r.code == "repair-obligations-unmet"
    assert isinstance(request(s, penalty, "2025-06-12"), Accepted)


def test_one_request_at_a_time_and_no_repair_of_a_repaired_record() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    s.repair_commitment("2025-06-01")
    first = s.ok(
        "credit.repair.requested", at("2025-06-10"), {"target": penalty, "methods": ["commitment", "report"]}
    )
    r = request(s, penalty, "2025-06-11")
    assert r.code == "out-of-order" and r.details["pending"] == first
    assert isinstance(decision(s, "rejected", first, "2025-06-12"), Accepted)
    second = s.ok(
        "credit.repair.requested", at("2025-06-20"), {"target": penalty, "methods": ["commitment", "report"]}
    )
    approval = decision(s, "approved", second, "2025-06-25")
    assert isinstance(approval, Accepted)
    r = request(s, penalty, "2025-07-01")
    assert r.code == "out-of-order" and "already repaired" in r.message
    s.ok(
        "credit.repair.revoked",
        at("2025-08-01"),
        {"approval": approval.event.id, "reason": "承诺不实"},
    )
    assert isinstance(request(s, penalty, "2025-08-10"), Accepted)


def test_approving_a_repair_that_was_never_requested() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    assert decision(s, "approved", "nope", "2025-06-25").code == "unknown-reference"
    assert decision(s, "approved", penalty, "2025-06-25").code == "wrong-reference-type"
    s.repair_commitment("2025-06-01")
    req = s.ok(
        "credit.repair.requested", at("2025-06-10"), {"target": penalty, "methods": ["commitment", "report"]}
    )
    s.ok("credit.record.revoked", at("2025-06-11"), {"target": req, "reason": "误录"})
    r = decision(s, "approved", req, "2025-06-25")
    assert r.code == "out-of-order" and "never requested" in r.message


def test_a_request_is_decided_once() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    s.repair_commitment("2025-06-01")
    req = s.ok(
        "credit.repair.requested", at("2025-06-10"), {"target": penalty, "methods": ["commitment", "report"]}
    )
    assert isinstance(decision(s, "rejected", req, "2025-06-12"), Accepted)
    r = decision(s, "approved", req, "2025-06-13")
    assert r.code == "out-of-order" and "already decided" in r.message


def test_an_approval_is_revoked_once() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    s.repair_commitment("2025-06-01")
    req = s.ok(
        "credit.repair.requested", at("2025-06-10"), {"target": penalty, "methods": ["commitment", "report"]}
    )
    approval = s.ok("credit.repair.approved", at("2025-06-12"), {"request": req, "reasons": "ok"})
    s.ok("credit.repair.revoked", at("2025-07-01"), {"approval": approval, "reason": "违约"})
    r = s.refused("credit.repair.revoked", at("2025-07-02"), {"approval": approval, "reason": "x"})
    assert r.code == "out-of-order" and "already revoked" in r.message


def test_a_withdrawn_penalty_has_nothing_to_repair() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    s.repair_commitment("2025-06-01")
    s.ok("credit.penalty.withdrawn", at("2025-03-01"), {"penalty": penalty, "reason": "复议撤销"})
    assert request(s, penalty, "2025-06-10").code == "out-of-order"


def test_the_corrected_severity_decides_the_period() -> None:
    s = Stream()
    penalty = s.penalty("2026-04-10", "serious")
    s.ok(
        "credit.record.corrected",
        at("2026-04-20"),
        {"target": penalty, "changes": {"severity": "general"}},
    )
    s.repair_commitment("2026-07-01")
    assert isinstance(request(s, penalty, "2026-07-10"), Accepted)


def test_a_designation_is_repaired_after_its_findings_serious_period() -> None:
    s = Stream()
    penalty = s.penalty("2026-04-01", "general")
    proposal = s.proposal("2026-04-02", penalty, name="focus")
    designation = s.ok(
        "credit.list.designated",
        at("2026-04-20"),
        {"proposal": proposal, **_basis()},
        source="ndrc/440300",
    )
    s.repair_commitment("2026-08-01")
    r = request(s, designation, "2026-08-10")
    assert r.code == "repair-too-early" and r.details["earliest"] == "2027-04-20"
    assert isinstance(request(s, penalty, "2026-08-10"), Accepted)  # the finding itself: 3 months


def _basis() -> dict[str, str]:
    return {"basis": "《严重失信主体名单管理办法》", "document": "发改信用〔2026〕1号"}
