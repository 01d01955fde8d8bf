"""Lists, measures and bans: designation after the notice window, once; removal,
lifting only of what is in force; expiry by the planned end."""

from __future__ import annotations

from datetime import date

from commands.decide import SYSTEM_SOURCE, Accepted
from commands.workflows.lists import active_designations, expired_designations, removal_event
from tests.unit.commands.stream import BASIS, Stream, at

D = date.fromisoformat
NDRC = "ndrc/440300"
LIFELONG = {"basis": "《中华人民共和国食品安全法》第一百三十五条", "document": "深市监禁〔2025〕1号"}


def designate(s: Stream, proposal: str, day: str):
    return s.add("credit.list.designated", at(day), {"proposal": proposal, **BASIS}, source=NDRC)


def test_designation_waits_for_the_notice_window() -> None:
    s = Stream()
    proposal = s.proposal("2025-09-26", s.penalty("2025-09-01", "serious"))  # a Friday
    # 5 working days after 2025-09-26: 28 (make-up Sunday), 29, 30, 10-09, 10-10
    r = designate(s, proposal, "2025-10-10")
    assert r.code == "designation-too-early"
    assert r.details["earliest"] == "2025-10-11" and "2025-10-11" in r.message
    assert isinstance(designate(s, proposal, "2025-10-11"), Accepted)


def test_a_proposal_is_designated_once() -> None:
    s = Stream()
    proposal = s.proposal("2025-03-03", s.penalty("2025-02-10", "serious"))
    designation = designate(s, proposal, "2025-03-20")
    assert isinstance(designation, Accepted)
    r = designate(s, proposal, "2025-03-21")
    assert r.code == "out-of-order" and r.details["designation"] == designation.event.id


def test_designating_a_list_entry_never_proposed() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10", "serious")
    assert designate(s, "nope", "2025-03-20").code == "unknown-reference"
    assert designate(s, penalty, "2025-03-20").code == "wrong-reference-type"
    proposal = s.proposal("2025-03-03", penalty)
    s.ok(
        "credit.record.revoked",
        at("2025-03-05"),
        {"target": proposal, "reason": "告知有误"},
        source=NDRC,
    )
    assert designate(s, proposal, "2025-03-20").code == "target-revoked"


def test_a_pending_objection_against_the_proposal_is_decided_first() -> None:
    s = Stream()
    proposal = s.proposal("2025-03-03", s.penalty("2025-02-10", "serious"))
    objection = s.ok(
        "credit.objection.filed", at("2025-03-05"), {"target": proposal, "grounds": "依据不足"}
    )
    r = designate(s, proposal, "2025-03-20")
    assert r.code == "out-of-order" and r.details["pending"] == objection
    s.ok(
        "credit.objection.resolved",
        at("2025-03-10"),
        {"objection": objection, "outcome": "rejected", "reasons": "不成立"},
        source=NDRC,
    )
    assert isinstance(designate(s, proposal, "2025-03-20"), Accepted)


def test_removal_and_lifting_only_of_what_is_in_force() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10", "serious")
    designation = designate(s, s.proposal("2025-03-03", penalty), "2025-03-20").event.id
    measure = s.ok(
        "credit.measure.applied",
        at("2025-03-21"),
        {"measure": "bidding-restriction", "finding": designation, "until": "2025-12-31", **BASIS},
        source=NDRC,
    )
    ban = s.ok(
        "credit.ban.imposed",
        at("2025-03-21"),
        {"sector": "食品生产", "finding": penalty, "until": None, **LIFELONG},
    )
    s.ok("credit.ban.lifted", at("2025-06-01"), {"ban": ban})
    again = s.refused("credit.ban.lifted", at("2025-06-02"), {"ban": ban})
    assert again.code == "out-of-order" and "already lifted" in again.message
    ended = s.refused(
        "credit.measure.lifted", at("2026-01-05"), {"application": measure}, source=NDRC
    )
    assert ended.code == "out-of-order" and ended.details["until"] == "2025-12-31"
    s.ok("credit.measure.lifted", at("2025-12-31"), {"application": measure}, source=NDRC)
    s.ok(
        "credit.list.removed",
        at("2025-07-01"),
        {"designation": designation, "reason": "repaired"},
        source=NDRC,
    )
    r = s.refused(
        "credit.list.removed",
        at("2025-07-02"),
        {"designation": designation, "reason": "expired"},
        source=NDRC,
    )
    assert r.code == "out-of-order" and "already removed" in r.message


def test_a_listing_expires_after_its_planned_end() -> None:
    s = Stream()
    proposal = s.proposal("2025-03-03", s.penalty("2025-02-10", "serious"), end="2026-03-02")
    designation = designate(s, proposal, "2025-03-20").event.id
    assert expired_designations(s.state, D("2026-03-02")) == []
    (expiry,) = expired_designations(s.state, D("2026-03-03"))
    assert (expiry.designation, expiry.planned_end, expiry.list) == (
        designation,
        D("2026-03-02"),
        "serious-dishonesty",
    )
    removal = removal_event(expiry)
    assert (removal.id, removal.source, removal.time) == (
        f"expiry-{designation}",
        SYSTEM_SOURCE,
        "2026-03-02T16:00:00Z",
    )
    assert removal.data == {
        "designation": designation,
        "reason": "expired",
        "planned_end": "2026-03-02",
        "list": "serious-dishonesty",
    }
    s.ok(
        removal.type, "2026-03-03T00:00:00+08:00", removal.data, source=SYSTEM_SOURCE, id=removal.id
    )
    assert active_designations(s.state) == []
    assert expired_designations(s.state, D("2026-04-01")) == []


def test_a_listing_without_planned_end_does_not_expire() -> None:
    s = Stream()
    proposal = s.ok(
        "credit.list.proposed",
        at("2025-03-03"),
        {
            "list": "serious-dishonesty",
            "finding": s.penalty("2025-02-10", "serious"),
            "planned_end": None,
            "basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》第二条",
            "document": "（2025）粤0305执1号",
        },
        source=NDRC,
    )
    designate(s, proposal, "2025-03-20")
    assert expired_designations(s.state, D("2030-01-01")) == []
