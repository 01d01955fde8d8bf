"""Scenario: a serious-dishonesty listing — proposed, designated after the notice
window, then expiring by itself when ``ledger tick`` passes its planned end;
out-of-order steps refused (designating an entry never proposed, an interview by
another agency, a second removal)."""

from __future__ import annotations

from commands.decide import SYSTEM_SOURCE
from ledger.app import Ledger
from services.deadlines import tick
from tests.scenarios.support import BASIS, at, event, recorded, refused, views

SUBJECT = "91360100MA35XXXX7J"  # Nanchang, Jiangxi
SAMR = "samr/360100"
NDRC = "ndrc/360100"


def test_a_listing_expires_by_itself(ledger: Ledger) -> None:
    (violation,) = recorded(
        ledger,
        event(
            "credit.violation.recorded",
            SUBJECT,
            at("2024-05-06"),
            {
                "behaviour": "food-safety-dishonesty",
                "severity": "serious",
                "sector": "food",
                **BASIS,
            },
            SAMR,
        ),
    )
    # 谁认定、谁约谈: only samr may interview about its finding
    refused(
        ledger,
        event(
            "credit.interview.held",
            SUBJECT,
            at("2024-05-08"),
            {"finding": violation, "kind": "warning"},
            "tax/360100",
        ),
        "wrong-agency",
    )
    recorded(
        ledger,
        event(
            "credit.interview.held",
            SUBJECT,
            at("2024-05-08"),
            {"finding": violation, "kind": "warning"},
            SAMR,
        ),
    )
    (proposal,) = recorded(
        ledger,
        event(
            "credit.list.proposed",
            SUBJECT,
            at("2024-05-20"),
            {
                "list": "serious-dishonesty",
                "finding": violation,
                "planned_end": "2025-05-19",
                **BASIS,
            },
            NDRC,
        ),
    )

    def designation(day: str, proposal_id: str, id: str | None = None) -> dict:
        return event(
            "credit.list.designated", SUBJECT, at(day), {"proposal": proposal_id, **BASIS}, NDRC, id
        )

    # designating a list entry never proposed
    refused(ledger, designation("2024-06-05", "proposal-never-made"), "unknown-reference")
    refused(ledger, designation("2024-06-05", violation), "wrong-reference-type")
    # within the notice window (5 working days after 2024-05-20: until 2024-05-27)
    outcome = refused(ledger, designation("2024-05-27", proposal), "designation-too-early")
    assert "2024-05-28" in str(outcome.message)
    (designated,) = recorded(ledger, designation("2024-06-05", proposal))
    refused(ledger, designation("2024-06-06", proposal), "out-of-order")  # designated once
    (measure,) = recorded(
        ledger,
        event(
            "credit.measure.applied",
            SUBJECT,
            at("2024-06-06"),
            {"measure": "bidding-restriction", "finding": designated, "until": None, **BASIS},
            NDRC,
        ),
    )
    before = views(ledger, SUBJECT)
    if before is not None:
        assert before[0]["lists"] == ["serious-dishonesty"]

    report = tick(ledger)
    assert [e.designation for e in report.expiries] == [designated]
    assert [o.status for o in report.outcomes] == ["recorded"]
    removal = ledger.stream(SUBJECT)[-1]
    assert (removal.type, removal.id, removal.source) == (
        "credit.list.removed",
        f"expiry-{designated}",
        SYSTEM_SOURCE,
    )
    assert removal.time == "2025-05-19T16:00:00Z"  # 00:00 CST on 2025-05-20
    assert removal.data["reason"] == "expired" and removal.data["designation"] == designated

    # once removed, it is not removed again — by the agency or by another tick
    refused(
        ledger,
        event(
            "credit.list.removed",
            SUBJECT,
            at("2025-05-21"),
            {"designation": designated, "reason": "expired"},
            NDRC,
        ),
        "out-of-order",
    )
    assert tick(ledger).outcomes == []
    after = views(ledger, SUBJECT)
    if after is not None:
        standing, _ = after
        assert standing["lists"] == []
    # the measure on the designation is still the agency's to lift
    recorded(
        ledger,
        event("credit.measure.lifted", SUBJECT, at("2025-05-21"), {"application": measure}, NDRC),
    )
