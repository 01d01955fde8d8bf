"""Scenario: credit repair (信用修复) — refused while too early (with the earliest
date), refused while obligations are unmet, then requested and approved;
approving a repair never requested is refused."""

from __future__ import annotations

from commands.decide import Context, decide
from events.envelope import parse_event
from events.reasons import Rejection
from ledger.app import Ledger, fold
from tests.scenarios.support import at, event, item, penalty, recorded, refused, views

SUBJECT = "91440300708461136T"
SAMR = "samr/440300"
PLATFORM = "credit-platform/440300"


def repair_request(day: str, target: str, id: str | None = None) -> dict:
    return event(
        "credit.repair.requested",
        SUBJECT,
        at(day),
        {"target": target, "methods": ["commitment", "rectification"]},
        PLATFORM,
        id,
    )


def test_repair_refused_early_then_approved(ledger: Ledger) -> None:
    (fine,) = recorded(ledger, penalty(SUBJECT, "2025-02-10", SAMR))  # Order 58: 3 months
    (order,) = recorded(
        ledger,
        event(
            "credit.rectification.ordered",
            SUBJECT,
            at("2025-02-11"),
            {"finding": fine, "deadline": "2025-03-31"},
            SAMR,
        ),
    )
    seen = views(ledger, SUBJECT, as_of_us=None)
    if seen is not None:
        assert item(seen[1], fine)["published"] is True

    # approving a repair that was never requested
    refused(
        ledger,
        event(
            "credit.repair.approved",
            SUBJECT,
            at("2025-05-20"),
            {"request": "repair-never-requested", "reasons": "符合条件"},
            PLATFORM,
        ),
        "unknown-reference",
    )

    # too early: the earliest date is in the message, and in the rejection's details
    early = repair_request("2025-05-06", fine)
    outcome = refused(ledger, early, "repair-too-early")
    assert outcome.message is not None and "2025-05-10" in outcome.message
    decision = decide(
        fold(SUBJECT, ledger.stream(SUBJECT)),
        parse_event(early),
        Context(ledger.clock(), ledger.rules),
    )
    assert isinstance(decision, Rejection) and decision.details["earliest"] == "2025-05-10"

    # in time, but the rectification is not completed and no repair commitment was made
    outcome = refused(ledger, repair_request("2025-05-12", fine), "repair-obligations-unmet")
    assert order in str(outcome.message) and "repair commitment" in str(outcome.message)
    recorded(
        ledger,
        event(
            "credit.rectification.completed",
            SUBJECT,
            at("2025-03-20"),
            {"rectification": order},
            SAMR,
        ),
        event(
            "credit.commitment.made",
            SUBJECT,
            at("2025-05-09"),
            {"commitment_type": "repair", "matter": "信用修复承诺书", "due": None},
            PLATFORM,
        ),
    )
    (request,) = recorded(ledger, repair_request("2025-05-12", fine))
    refused(ledger, repair_request("2025-05-13", fine), "out-of-order")  # one pending at a time
    (approval,) = recorded(
        ledger,
        event(
            "credit.repair.approved",
            SUBJECT,
            at("2025-05-20"),
            {"request": request, "reasons": "已纠正失信行为并作出信用修复承诺"},
            PLATFORM,
        ),
    )
    refused(
        ledger,
        event(
            "credit.repair.rejected",
            SUBJECT,
            at("2025-05-21"),
            {"request": request, "reasons": "重复决定"},
            PLATFORM,
        ),
        "out-of-order",
    )
    assert [r.id for r in ledger.stream(SUBJECT)][-2:] == [request, approval]
    seen = views(ledger, SUBJECT)
    if seen is not None:
        standing, disclosure = seen
        assert item(disclosure, fine)["published"] is False
        assert all(c["points"] == 0 for c in standing["explanation"] if c["event_id"] == fine)
