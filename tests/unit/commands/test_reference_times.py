"""A reference names an event dated no later than the one referring to it
(``reference-dated-later``, checked with the other structural reference checks):
objections, repair, corrections and revocations, the ends of a commitment and
every lifecycle step after its predecessor. The same instant is accepted. The
events the ledger issues for deadlines (``ledger tick``) respect it too."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from commands.decide import SYSTEM_SOURCE
from commands.workflows.commitments import breach_event, overdue_commitments
from commands.workflows.lists import expired_designations, removal_event
from events.rfc3339 import format_time_us
from tests.unit.commands.stream import BASIS, RULES, Stream, at

D = date.fromisoformat
PENALTY_DAY = "2025-03-10"
PENALTY_TIME = "2025-03-10T02:00:00Z"  # 10:00 CST, as stored (UTC)
NDRC = "ndrc/440300"


def assert_dated_later(s: Stream, type_: str, time: str, data: dict[str, Any], field: str) -> None:
    """``type_`` at ``time`` is refused because ``data[field]`` is dated later, and
    nothing of it is folded."""
    version = s.state.version
    r = s.refused(type_, time, data)
    assert r.code == "reference-dated-later", r
    target_time = format_time_us(s.state.events[data[field]].time_us)
    assert r.details == {"field": f"data.{field}", "ref": data[field], "target_time": target_time}
    assert target_time in r.message
    assert s.state.version == version


# -- one test per kind of reference -----------------------------------------------------


def test_an_objection_cannot_be_dated_before_its_target() -> None:
    s = Stream()
    fine = s.penalty(PENALTY_DAY)
    data = {"target": fine, "grounds": "罚款金额有误"}
    r = s.refused("credit.objection.filed", at("2025-03-09"), data)
    assert r.code == "reference-dated-later"
    assert r.details == {"field": "data.target", "ref": fine, "target_time": PENALTY_TIME}
    # one microsecond before is still before; the same instant is accepted
    assert_dated_later(
        s, "credit.objection.filed", at(PENALTY_DAY, "09:59:59.999999"), data, "target"
    )
    s.ok("credit.objection.filed", at(PENALTY_DAY), data)


def test_a_repair_request_cannot_be_dated_before_its_target() -> None:
    s = Stream(rules=None)  # the rule-set checks (minimum period …) are not the point here
    fine = s.penalty(PENALTY_DAY)
    data = {"target": fine, "methods": ["commitment"]}
    r = s.refused("credit.repair.requested", at("2025-03-01"), data)
    assert (r.code, r.details["target_time"]) == ("reference-dated-later", PENALTY_TIME)
    s.ok("credit.repair.requested", at(PENALTY_DAY), data)


@pytest.mark.parametrize(
    ("type_", "extra"),
    [
        ("credit.record.corrected", {"changes": {"severity": "serious"}}),
        ("credit.record.revoked", {"reason": "录入错误"}),
    ],
)
def test_a_correction_or_revocation_cannot_be_dated_before_its_target(
    type_: str, extra: dict[str, Any]
) -> None:
    s = Stream()
    fine = s.penalty(PENALTY_DAY)
    data = {"target": fine, **extra}
    r = s.refused(type_, at("2025-03-09", "23:59:59"), data)
    assert r.code == "reference-dated-later"
    assert r.details == {"field": "data.target", "ref": fine, "target_time": PENALTY_TIME}
    s.ok(type_, at(PENALTY_DAY), data)


@pytest.mark.parametrize(
    ("type_", "extra"),
    [
        ("credit.commitment.fulfilled", {}),
        ("credit.commitment.withdrawn", {}),
        ("credit.commitment.breached", {"kind": "false"}),
    ],
)
def test_a_commitment_cannot_end_before_it_was_made(type_: str, extra: dict[str, Any]) -> None:
    s = Stream()
    made = s.ok(
        "credit.commitment.made",
        at("2025-03-10"),
        {"commitment_type": "voluntary", "matter": "诚信经营承诺", "due": None},
    )
    data = {"commitment": made, **extra}
    r = s.refused(type_, at("2025-03-05"), data)
    assert r.code == "reference-dated-later"
    assert r.details == {
        "field": "data.commitment",
        "ref": made,
        "target_time": "2025-03-10T02:00:00Z",
    }
    s.ok(type_, at("2025-03-10"), data)  # the same instant


# -- lifecycle steps after their predecessor (the same structural check) --------------------


def test_lifecycle_steps_come_no_earlier_than_the_step_they_follow() -> None:
    s = Stream(rules=None)
    fine = s.penalty("2025-03-03")
    # objection: resolved before it was filed
    objection = s.ok("credit.objection.filed", at("2025-03-10"), {"target": fine, "grounds": "g"})
    resolve = {"objection": objection, "outcome": "rejected", "reasons": "r"}
    assert_dated_later(s, "credit.objection.resolved", at("2025-03-09"), resolve, "objection")
    s.ok("credit.objection.resolved", at("2025-03-10"), resolve)
    # repair: approved before it was requested, revoked before it was approved
    request = s.ok(
        "credit.repair.requested", at("2025-06-10"), {"target": fine, "methods": ["commitment"]}
    )
    approve = {"request": request, "reasons": "r"}
    assert_dated_later(s, "credit.repair.approved", at("2025-06-09"), approve, "request")
    approval = s.ok("credit.repair.approved", at("2025-06-12"), approve)
    revoke = {"approval": approval, "reason": "承诺未履行"}
    assert_dated_later(s, "credit.repair.revoked", at("2025-06-11"), revoke, "approval")
    s.ok("credit.repair.revoked", at("2025-06-12"), revoke)
    # rectification: completed before it was ordered
    order = s.ok(
        "credit.rectification.ordered",
        at("2025-03-05"),
        {"finding": fine, "deadline": "2025-04-05"},
    )
    done = {"rectification": order}
    assert_dated_later(s, "credit.rectification.completed", at("2025-03-04"), done, "rectification")
    s.ok("credit.rectification.completed", at("2025-03-20"), done)
    # penalty: withdrawn before it was decided
    withdraw = {"penalty": fine, "reason": "复议撤销"}
    assert_dated_later(s, "credit.penalty.withdrawn", at("2025-03-02"), withdraw, "penalty")


def test_list_steps_come_no_earlier_than_the_step_they_follow() -> None:
    s = Stream(rules=None)  # no notice window: only the order in time is tested
    finding = s.penalty("2025-02-10", "serious")
    proposal = s.proposal("2025-03-03", finding)
    designate = {"proposal": proposal, **BASIS}
    assert_dated_later(s, "credit.list.designated", at("2025-03-02"), designate, "proposal")
    designation = s.ok("credit.list.designated", at("2025-03-20"), designate, source=NDRC)
    measure = s.ok(
        "credit.measure.applied",
        at("2025-03-21"),
        {"measure": "bidding-restriction", "finding": designation, "until": None, **BASIS},
        source=NDRC,
    )
    lift = {"application": measure}
    assert_dated_later(s, "credit.measure.lifted", at("2025-03-20"), lift, "application")
    remove = {"designation": designation, "reason": "revoked"}
    assert_dated_later(s, "credit.list.removed", at("2025-03-19"), remove, "designation")
    s.ok("credit.list.removed", at("2025-03-20"), remove, source=NDRC)


# -- what the ledger issues for deadlines -----------------------------------------------------


def test_a_breach_is_not_dated_before_a_commitment_already_overdue_when_made() -> None:
    s = Stream()
    made = s.ok(
        "credit.commitment.made",
        at("2025-03-12", "15:30:00"),
        {"commitment_type": "approval-substitute", "matter": "容缺受理", "due": "2025-03-10"},
    )
    (overdue,) = overdue_commitments(s.state, D("2025-04-01"), RULES.calendar)
    breach = breach_event(overdue)
    assert breach.time == "2025-03-12T07:30:00Z"  # the commitment's own time, not 03-11 00:00
    s.ok(breach.type, breach.time, breach.data, source=SYSTEM_SOURCE, id=breach.id)
    assert s.state.events[breach.id].data["commitment"] == made


def test_an_expiry_is_not_dated_before_a_designation_made_after_the_planned_end() -> None:
    s = Stream(rules=None)
    proposal = s.proposal("2025-03-03", s.penalty("2025-02-10", "serious"), end="2025-03-19")
    designation = s.ok(
        "credit.list.designated", at("2025-03-20"), {"proposal": proposal, **BASIS}, source=NDRC
    )
    (expiry,) = expired_designations(s.state, D("2025-03-21"))
    removal = removal_event(expiry)
    assert removal.time == "2025-03-20T02:00:00Z"  # the designation's time, not 03-20 00:00
    s.ok(removal.type, removal.time, removal.data, source=SYSTEM_SOURCE, id=removal.id)
    assert s.state.events[removal.id].data["designation"] == designation
