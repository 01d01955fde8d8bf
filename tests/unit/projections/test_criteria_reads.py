"""What the criteria of the serious acts change on the read side: repair per record,
a breached repair commitment restoring what its repair ended, evaluations per
scheme raising the supervision tier, a declared minor flagged where unchecked.

The streams are decided by ``decide`` (tests.unit.commands.stream), derived events
included, and read by the pure standing projection.
"""

from __future__ import annotations

import uuid
from typing import Any

from events.instants import parse_instant
from events.recorded import RecordedEvent
from projections.standing import standing
from tests.unit.commands.stream import BASIS, RULES, Stream, at

NDRC = "ndrc/440300"


def records(s: Stream) -> list[RecordedEvent]:
    stream = uuid.uuid4()
    return [
        RecordedEvent(
            originator_id=stream,
            originator_version=i + 1,
            subject=e.subject,
            id=e.id,
            source=e.source,
            type=e.type,
            time=e.time,
            time_us=e.time_us,
            recorded_us=e.time_us,
            data=e.data,
            schema_version=e.schema_version,
            position=i,
            hash="0" * 64,
            prev="0" * 64,
        )
        for i, e in enumerate(s.recorded)
    ]


def read(s: Stream, as_of: str) -> dict[str, Any]:
    return standing(s.state.subject, records(s), parse_instant(as_of), None, RULES).to_json()


def listed_and_repaired() -> tuple[Stream, dict[str, str]]:
    """A serious penalty (Order 58), listed, with a measure on the listing and one on
    the penalty; the penalty is repaired on 2025-06-12."""
    s = Stream()
    ids: dict[str, str] = {}
    ids["penalty"] = s.penalty("2025-02-10", "serious")
    ids["proposal"] = s.proposal("2025-03-03", ids["penalty"], end="2027-03-01")
    ids["designation"] = s.ok(
        "credit.list.designated",
        at("2025-03-20"),
        {"proposal": ids["proposal"], **BASIS},
        source=NDRC,
    )
    ids["on_listing"] = s.ok(
        "credit.measure.applied",
        at("2025-03-21"),
        {"measure": "bidding-restriction", "finding": ids["designation"], "until": None, **BASIS},
        source=NDRC,
    )
    ids["on_penalty"] = s.ok(
        "credit.measure.applied",
        at("2025-03-21"),
        {"measure": "enhanced-supervision", "finding": ids["penalty"], "until": None, **BASIS},
    )
    ids["commitment"] = s.repair_commitment("2025-06-01")
    ids["request"] = s.ok(
        "credit.repair.requested",
        at("2025-06-10"),
        {"target": ids["penalty"], "methods": ["commitment"]},
    )
    ids["approval"] = s.ok(
        "credit.repair.approved", at("2025-06-12"), {"request": ids["request"], "reasons": "ok"}
    )
    return s, ids


def test_a_listing_is_not_ended_by_the_repair_of_its_finding() -> None:
    s, ids = listed_and_repaired()
    body = read(s, "2025-07-01")
    assert body["lists"] == ["serious-dishonesty"]
    assert [m["event_id"] for m in body["measures"]] == [
        ids["on_listing"]
    ]  # the penalty's is lifted
    points = {c["event_id"]: c["points"] for c in body["explanation"]}
    assert points[ids["penalty"]] == 0 and points[ids["designation"]] < 0
    s.ok(
        "credit.list.removed",
        at("2025-07-10"),
        {"designation": ids["designation"], "reason": "repaired"},
        source=NDRC,
    )
    body = read(s, "2025-07-11")
    assert body["lists"] == [] and body["measures"] == []


def test_a_breached_repair_commitment_restores_disclosure_and_measures() -> None:
    s, ids = listed_and_repaired()
    s.ok(
        "credit.commitment.breached",
        at("2025-08-01"),
        {"commitment": ids["commitment"], "kind": "false", **BASIS},
    )
    body = read(s, "2025-08-02")
    points = {c["event_id"]: c["points"] for c in body["explanation"]}
    assert points[ids["penalty"]] < 0  # in force again
    assert {m["event_id"] for m in body["measures"]} == {ids["on_listing"], ids["on_penalty"]}
    assert body["lists"] == ["serious-dishonesty"]


def evaluation(s: Stream, day: str, scheme: str, grade: str, until: str, period: str) -> str:
    return s.ok(
        "credit.evaluation.published",
        at(day),
        {"scheme": scheme, "period": period, "grade": grade, "valid_until": until},
        source="ndrc/000000" if scheme == "national-comprehensive" else "tax/440300",
    )


def test_evaluations_are_kept_per_scheme_and_a_national_poor_grade_raises_the_tier() -> None:
    s = Stream()
    poor = evaluation(s, "2025-07-01", "national-comprehensive", "差", "2026-06-30", "2024")
    tax = evaluation(s, "2025-09-01", "tax", "A", "2026-12-31", "2024")
    body = read(s, "2025-10-01")
    by_scheme = {e["scheme"]: e for e in body["evaluations"]}
    assert by_scheme["national-comprehensive"]["grade"] == "差"  # not hidden by the newer tax A
    assert by_scheme["national-comprehensive"]["period"] == "2024"
    assert by_scheme["tax"]["event_id"] == tax
    assert (body["grade"], body["tier"], body["tier_raised_by"]) == ("A", "high", poor)
    assert body["spot_check_ratio"] == "0.30"
    newer = evaluation(s, "2025-11-01", "national-comprehensive", "良", "2026-12-31", "2025")
    body = read(s, "2025-11-02")
    by_scheme = {e["scheme"]: e for e in body["evaluations"]}
    assert by_scheme["national-comprehensive"]["event_id"] == newer  # the same scheme's replaces it
    assert (body["tier"], body["tier_raised_by"]) == ("low", None)


def test_a_poor_grade_raises_the_tier_only_while_valid() -> None:
    s = Stream()
    evaluation(s, "2025-07-01", "national-comprehensive", "差", "2025-12-31", "2024")
    assert read(s, "2025-12-31")["tier"] == "high"
    body = read(s, "2026-01-01")
    assert body["tier"] == "low" and body["evaluations"][0]["valid"] is False


def test_a_declared_minor_is_flagged_where_the_order_gives_no_definition() -> None:
    s = Stream()
    old = s.ok(
        "credit.penalty.decided",
        at("2025-05-06"),
        {
            "kinds": ["fine"],
            "amount": "500000.00",
            "procedure": "ordinary",
            "severity": "minor",
            "sector": "food",
            **BASIS,
        },
    )
    new = s.penalty("2026-05-06", "minor")
    notes = read(s, "2026-05-07")["notes"]
    assert [n for n in notes if "not checked" in n] == [
        f"{old}: severity minor as declared, not checked: ndrc-order-58 gives no definition "
        "of a minor penalty"
    ]
    assert not any(n.startswith(new) for n in notes)
