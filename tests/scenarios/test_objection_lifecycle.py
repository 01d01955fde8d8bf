"""Scenario: objections (异议) — one upheld with the correction it carries, one
rejected so the suspended measure resumes; out-of-order steps refused."""

from __future__ import annotations

from datetime import date

from commands.workflows.objections import objection_deadlines
from ledger.app import Ledger, fold
from tests.scenarios.support import (
    BASIS,
    at,
    event,
    item,
    penalty,
    recorded,
    refused,
    types_and_ids,
    views,
)

SUBJECT = "91310000MA1FL8L96X"  # Shanghai: flag within 1, decide within 5 working days
SAMR = "samr/310000"
PLATFORM = "credit-platform/310000"


def test_an_objection_upheld_corrects_the_record(ledger: Ledger) -> None:
    (fine,) = recorded(ledger, penalty(SUBJECT, "2025-03-03", SAMR))
    (objection,) = recorded(
        ledger,
        event(
            "credit.objection.filed",
            SUBJECT,
            at("2025-03-10"),
            {"target": fine, "grounds": "罚款金额与复议决定不一致"},
            PLATFORM,
        ),
    )
    assert ledger.rules is not None
    state = fold(SUBJECT, ledger.stream(SUBJECT))
    assert objection_deadlines(state, objection, ledger.rules) == (
        date(2025, 3, 11),
        date(2025, 3, 17),
    )
    seen = views(ledger, SUBJECT)
    if seen is not None:
        standing, _ = seen
        assert [o["event_id"] for o in standing["pending_objections"]] == [objection]
        assert fine in standing["suspended"]

    # a second objection against the same record waits for the first
    refused(
        ledger,
        event(
            "credit.objection.filed",
            SUBJECT,
            at("2025-03-11"),
            {"target": fine, "grounds": "again"},
            PLATFORM,
        ),
        "out-of-order",
    )
    # an objection (or anything else) cannot be dated before the record it names
    early = refused(
        ledger,
        event(
            "credit.objection.filed",
            SUBJECT,
            at("2025-03-02"),
            {"target": fine, "grounds": "dated before the penalty"},
            PLATFORM,
        ),
        "reference-dated-later",
    )
    assert early.details["target_time"] == "2025-03-03T02:00:00Z"
    resolution = event(
        "credit.objection.resolved",
        SUBJECT,
        at("2025-03-14"),
        {
            "objection": objection,
            "outcome": "upheld",
            "reasons": "经核查，异议成立，按复议决定更正罚款金额",
            "changes": {"amount": "5000.00"},
        },
        SAMR,
    )
    recorded(ledger, resolution)
    assert types_and_ids(ledger, SUBJECT)[-2:] == [
        ("credit.objection.resolved", resolution["id"]),
        ("credit.record.corrected", f"{resolution['id']}/correction"),
    ]
    correction = ledger.stream(SUBJECT)[-1]
    assert correction.data["target"] == fine and correction.data["changes"] == {"amount": "5000.00"}
    assert correction.source == SAMR and correction.time == "2025-03-14T02:00:00Z"

    # out of order: resolving it again, resolving an objection never filed
    again = dict(resolution, id="resolve-again", data={**resolution["data"], "outcome": "rejected"})
    again["data"].pop("changes")
    refused(ledger, again, "out-of-order")
    never = event(
        "credit.objection.resolved",
        SUBJECT,
        at("2025-03-14"),
        {"objection": "objection-never-filed", "outcome": "rejected", "reasons": "x"},
        SAMR,
    )
    refused(ledger, never, "unknown-reference")

    seen = views(ledger, SUBJECT)
    if seen is not None:
        standing, disclosure = seen
        assert standing["pending_objections"] == [] and standing["suspended"] == []
        assert item(disclosure, fine) is not None


def test_an_objection_rejected_resumes_the_measures(ledger: Ledger) -> None:
    (fine,) = recorded(ledger, penalty(SUBJECT, "2025-04-01", SAMR, severity="serious"))
    (measure,) = recorded(
        ledger,
        event(
            "credit.measure.applied",
            SUBJECT,
            at("2025-04-02"),
            {"measure": "enhanced-supervision", "finding": fine, "until": None, **BASIS},
            SAMR,
        ),
    )
    (objection,) = recorded(
        ledger,
        event(
            "credit.objection.filed",
            SUBJECT,
            at("2025-04-07"),
            {"target": fine, "grounds": "违法情节认定有误"},
            PLATFORM,
        ),
    )
    during = views(ledger, SUBJECT)
    if during is not None:
        assert fine in during[0]["suspended"]
    (resolution,) = recorded(
        ledger,
        event(
            "credit.objection.resolved",
            SUBJECT,
            at("2025-04-10"),
            {"objection": objection, "outcome": "rejected", "reasons": "经核查，认定事实清楚"},
            SAMR,
        ),
    )
    assert [t for t, _ in types_and_ids(ledger, SUBJECT)][-1] == "credit.objection.resolved"
    # a rejected objection carries no correction
    carrying = event(
        "credit.objection.resolved",
        SUBJECT,
        at("2025-04-10"),
        {"objection": objection, "outcome": "rejected", "reasons": "x", "revoke": True},
        SAMR,
    )
    refused(ledger, carrying, "out-of-order")  # and it is resolved already
    after = views(ledger, SUBJECT)
    if after is not None:
        standing, _ = after
        assert standing["suspended"] == []
        assert measure in [m["event_id"] for m in standing["measures"]]
        assert resolution not in standing["suspended"]
