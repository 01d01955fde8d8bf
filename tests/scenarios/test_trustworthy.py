"""Scenario: the trustworthy list (守信激励). A subject enters it with its second
consecutive 优 comprehensive evaluation (the rule in commands/rules/incentives.json: two
periods), its spot-check ratio lowered to the rule's; it leaves it when a penalty of it
is published, when its last grade is no longer valid, or when it breaches a commitment."""

from __future__ import annotations

from typing import Any

from events.instants import parse_instant
from ledger.app import Ledger
from tests.scenarios.support import at, event, penalty, recorded, views

NDRC = "ndrc/440300"
SAMR = "samr/440300"


def _graded(ledger: Ledger, subject: str, *grades: str) -> list[str]:
    ids = []
    for i, grade in enumerate(grades):
        year = 2023 + i
        (found,) = recorded(
            ledger,
            event(
                "credit.evaluation.published",
                subject,
                at(f"{year + 1}-05-06"),
                {
                    "scheme": "national-comprehensive",
                    "period": str(year),
                    "grade": grade,
                    "valid_until": f"{year + 2}-06-30",
                },
                NDRC,
            ),
        )
        ids.append(found)
    return ids


def _standing(ledger: Ledger, subject: str, day: str) -> dict[str, Any]:
    found = views(ledger, subject, parse_instant(day))
    assert found is not None
    return found[0]


def test_two_top_grades_enter_and_a_published_penalty_leaves(ledger: Ledger) -> None:
    subject = "91440300708461136T"
    first, second = _graded(ledger, subject, "优", "优")
    assert _standing(ledger, subject, "2024-12-31")["trustworthy"] is None  # one period only
    member = _standing(ledger, subject, "2025-05-07")
    assert member["trustworthy"] is not None
    assert member["trustworthy"]["grades"] == ["优", "优"]
    assert member["trustworthy"]["since"] == "2025-05-06"
    assert [d["id"] for d in member["trustworthy"]["derived_from"]] == [first, second]
    assert member["spot_check_ratio"] == "0.005"  # lowered from its tier's 0.01

    recorded(ledger, penalty(subject, "2025-07-01", SAMR))
    assert _standing(ledger, subject, "2025-06-30")["trustworthy"] is not None
    after = _standing(ledger, subject, "2025-07-02")
    assert after["trustworthy"] is None
    assert after["spot_check_ratio"] != "0.005"


def test_a_lapsed_grade_or_a_lower_one_leaves(ledger: Ledger) -> None:
    subject = "91110000600037341L"
    _graded(ledger, subject, "优", "优")
    assert _standing(ledger, subject, "2026-06-30")["trustworthy"] is not None
    assert _standing(ledger, subject, "2026-07-01")["trustworthy"] is None  # grade lapsed
    other = "91440300708461136T"
    _graded(ledger, other, "优", "良", "优")
    assert _standing(ledger, other, "2026-05-07")["trustworthy"] is None  # 良 in between


def test_a_breached_commitment_leaves(ledger: Ledger) -> None:
    subject = "91440300708461136T"
    _graded(ledger, subject, "优", "优")
    (made,) = recorded(
        ledger,
        event(
            "credit.commitment.made",
            subject,
            at("2025-06-02"),
            {"commitment_type": "voluntary", "matter": "年度信用承诺书", "due": None},
            f"subject/{subject}",
        ),
    )
    assert _standing(ledger, subject, "2025-06-03")["trustworthy"] is not None
    recorded(
        ledger,
        event(
            "credit.commitment.breached",
            subject,
            at("2025-08-01"),
            {"commitment": made, "kind": "false"},
            SAMR,
        ),
    )
    assert _standing(ledger, subject, "2025-08-02")["trustworthy"] is None


def test_a_member_is_drawn_at_the_lowered_ratio(ledger: Ledger) -> None:
    from decimal import Decimal

    from services.spotcheck import spot_check

    member, other = "91440300708461136T", "91110000600037341L"
    _graded(ledger, member, "优", "优")
    _graded(ledger, other, "良", "良")
    check = spot_check(ledger, 7, now_us=parse_instant("2025-06-02"))
    assert check.result.population["trustworthy"] == 1
    assert check.result.ratios["trustworthy"] == Decimal("0.005")
    assert member not in {
        c for tier, codes in check.result.drawn.items() if tier != "trustworthy" for c in codes
    }
    assert check.result.population.get("low") == 1  # the other one keeps its tier


def test_the_standing_says_when_the_membership_changes_by_the_calendar(ledger: Ledger) -> None:
    """A breach keeps the subject off the list for the rule's two years: the standing
    names the day it leaves the window as its next change, and from then it is a member."""
    subject = "91440300708461136T"
    (made,) = recorded(
        ledger,
        event(
            "credit.commitment.made",
            subject,
            at("2023-06-01"),
            {"commitment_type": "voluntary", "matter": "年度信用承诺书", "due": None},
            f"subject/{subject}",
        ),
    )
    recorded(
        ledger,
        event(
            "credit.commitment.breached",
            subject,
            at("2023-07-01"),
            {"commitment": made, "kind": "false"},
            SAMR,
        ),
    )
    _graded(ledger, subject, "优", "优")
    off = _standing(ledger, subject, "2025-06-01")
    assert off["trustworthy"] is None
    assert off["next_change"] == "2025-07-01T00:00:00+08:00"  # the breach leaves the window
    assert _standing(ledger, subject, "2025-07-01")["trustworthy"] is not None
