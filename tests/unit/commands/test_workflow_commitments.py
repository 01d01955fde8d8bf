"""Commitments end once; conditional acceptances fall due by the working-day
calendar; the ledger's breach is deterministic and acts for the accepting agency."""

from __future__ import annotations

from datetime import date

import pytest

from commands.decide import SYSTEM_SOURCE
from commands.workflows.commitments import (
    breach_event,
    commitment_deadline,
    open_commitments,
    overdue_commitments,
)
from tests.unit.commands.stream import RULES, Stream, at

D = date.fromisoformat


def conditional(s: Stream, day: str, due: str | None) -> str:
    return s.ok(
        "credit.commitment.made",
        at(day),
        {
            "commitment_type": "approval-substitute",
            "matter": "营业执照变更（容缺受理）",
            "due": due,
        },
    )


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("fulfilled", "breached"),
        ("fulfilled", "fulfilled"),
        ("withdrawn", "fulfilled"),
        ("breached", "withdrawn"),
    ],
)
def test_only_an_open_commitment_ends(first: str, then: str) -> None:
    s = Stream()
    commitment = conditional(s, "2025-03-03", None)
    data = {"commitment": commitment, "kind": "unfulfilled"}
    s.ok(f"credit.commitment.{first}", at("2025-03-10"), data)
    r = s.refused(f"credit.commitment.{then}", at("2025-03-11"), data)
    assert r.code == "out-of-order" and f"it was {first}" in r.message


def test_a_revoked_commitment_cannot_end() -> None:
    s = Stream()
    commitment = conditional(s, "2025-03-03", None)
    s.ok("credit.record.revoked", at("2025-03-04"), {"target": commitment, "reason": "误录"})
    r = s.refused("credit.commitment.fulfilled", at("2025-03-10"), {"commitment": commitment})
    assert r.code == "out-of-order" and "revoked" in r.message


@pytest.mark.parametrize(
    ("due", "deadline"),
    [
        ("2025-03-14", "2025-03-14"),  # a Friday: itself
        ("2025-03-15", "2025-03-17"),  # a Saturday: the next Monday
        ("2025-10-01", "2025-10-09"),  # National Day: after the holiday
        ("2025-09-28", "2025-09-28"),  # a make-up working Sunday: itself
    ],
)
def test_deadline_moves_to_the_next_working_day(due: str, deadline: str) -> None:
    assert commitment_deadline(D(due), RULES.calendar) == D(deadline)


def test_overdue_once_the_deadline_day_is_over() -> None:
    s = Stream()
    due_saturday = conditional(s, "2025-03-03", "2025-03-15")
    conditional(s, "2025-03-03", None)  # not conditional: never overdue
    done = conditional(s, "2025-03-03", "2025-03-10")
    s.ok("credit.commitment.fulfilled", at("2025-03-07"), {"commitment": done})
    assert overdue_commitments(s.state, D("2025-03-17"), RULES.calendar) == []
    (overdue,) = overdue_commitments(s.state, D("2025-03-18"), RULES.calendar)
    assert (overdue.commitment, overdue.due, overdue.deadline) == (
        due_saturday,
        D("2025-03-15"),
        D("2025-03-17"),
    )
    assert overdue.agency == "samr/440300"


def test_a_year_the_calendar_does_not_know_is_reported_not_guessed() -> None:
    s = Stream(now_us=1_830_000_000_000_000)
    commitment = conditional(s, "2026-12-20", "2027-01-09")
    (overdue,) = overdue_commitments(s.state, D("2027-02-01"), RULES.calendar)
    assert overdue.commitment == commitment and overdue.deadline is None
    assert "2027" in str(overdue.unknown)
    with pytest.raises(ValueError):
        breach_event(overdue)


def test_the_ledgers_breach_is_deterministic_and_accepted() -> None:
    s = Stream()
    commitment = conditional(s, "2025-03-03", "2025-03-15")
    (overdue,) = overdue_commitments(s.state, D("2025-04-01"), RULES.calendar)
    breach = breach_event(overdue)
    assert breach == breach_event(overdue)
    assert (breach.id, breach.source, breach.time) == (
        f"breach-{commitment}",
        SYSTEM_SOURCE,
        "2025-03-17T16:00:00Z",  # 00:00 CST on 2025-03-18
    )
    assert breach.data["kind"] == "unfulfilled" and breach.data["agency"] == "samr/440300"
    s.ok(breach.type, "2025-03-18T00:00:00+08:00", breach.data, source=SYSTEM_SOURCE, id=breach.id)
    assert open_commitments(s.state) == []
    assert overdue_commitments(s.state, D("2025-04-01"), RULES.calendar) == []
    # the breach is a finding of the accepting agency: it orders, it interviews
    s.ok(
        "credit.interview.held",
        at("2025-03-20"),
        {"finding": breach.id, "kind": "reminder"},
    )
    r = s.refused(
        "credit.interview.held",
        at("2025-03-21"),
        {"finding": breach.id, "kind": "reminder"},
        source="tax/440300",
    )
    assert r.code == "wrong-agency" and r.details["expected_source"] == "samr/440300"
