"""The standing, read along one subject's year: points with their reasons,
measures, lists, bans, open items, objection deadlines by region."""

from __future__ import annotations

import re
from typing import Any

import pytest

from entrypoints import rule_files
from events.codes import complete_subject_code
from events.instants import parse_instant
from projections.standing import standing
from tests.unit.projections.records import Stream

RULES = rule_files.load_rules()
DOCUMENTED = {"basis": "b", "document": "d"}


def year(subject: str = "91440300708461136T") -> tuple[Stream, dict[str, str]]:
    s = Stream(subject)
    ids: dict[str, str] = {}
    ids["registration"] = s.add(
        "credit.registration.submitted",
        "2026-01-05T10:00:00+08:00",
        {"category": "certificate", "description": "ISO 9001"},
    )
    ids["violation"] = s.add(
        "credit.violation.recorded",
        "2026-01-10T10:00:00+08:00",
        {"behaviour": "FOOD-0203", "severity": "general", "sector": "food", **DOCUMENTED},
    )
    ids["objection"] = s.add(
        "credit.objection.filed",
        "2026-01-15T10:00:00+08:00",
        {"target": ids["violation"], "grounds": "g"},
    )
    s.add(
        "credit.objection.resolved",
        "2026-01-19T10:00:00+08:00",
        {"objection": ids["objection"], "outcome": "rejected", "reasons": "r"},
    )
    ids["penalty"] = s.penalty("2026-01-20T10:00:00+08:00", "serious")
    ids["evaluation"] = s.add(
        "credit.evaluation.published",
        "2026-02-01T00:00:00+08:00",
        {"scheme": "公共信用综合评价", "grade": "良", "valid_until": "2026-12-31"},
    )
    ids["proposal"] = s.add(
        "credit.list.proposed",
        "2026-02-02T10:00:00+08:00",
        {
            "list": "serious-dishonesty",
            "finding": ids["penalty"],
            "planned_end": "2029-03-01",
            **DOCUMENTED,
        },
    )
    ids["designation"] = s.add(
        "credit.list.designated",
        "2026-03-02T10:00:00+08:00",
        {"proposal": ids["proposal"], **DOCUMENTED},
    )
    ids["measure"] = s.add(
        "credit.measure.applied",
        "2026-03-02T11:00:00+08:00",
        {
            "measure": "bidding-restriction",
            "finding": ids["designation"],
            "until": "2026-06-30",
            **DOCUMENTED,
        },
    )
    ids["ban"] = s.add(
        "credit.ban.imposed",
        "2026-03-02T12:00:00+08:00",
        {"sector": "食品生产", "finding": ids["penalty"], "until": "2026-05-31", **DOCUMENTED},
    )
    ids["commitment"] = s.add(
        "credit.commitment.made",
        "2026-03-03T10:00:00+08:00",
        {"commitment_type": "approval-substitute", "matter": "补交材料", "due": "2026-03-20"},
    )
    ids["rectification"] = s.add(
        "credit.rectification.ordered",
        "2026-03-03T11:00:00+08:00",
        {"finding": ids["penalty"], "deadline": "2026-03-15"},
    )
    ids["request"] = s.add(
        "credit.repair.requested",
        "2026-04-20T10:00:00+08:00",
        {"target": ids["penalty"], "methods": ["commitment"]},
    )
    ids["approval"] = s.add(
        "credit.repair.approved",
        "2026-05-06T10:00:00+08:00",
        {"request": ids["request"], "reasons": "r"},
    )
    # Repair is per record: the listing resting on the repaired penalty ends by its own removal.
    ids["removal"] = s.add(
        "credit.list.removed",
        "2026-05-06T11:00:00+08:00",
        {"designation": ids["designation"], "reason": "repaired"},
    )
    return s, ids


def read(stream: Stream, as_of: str) -> dict[str, Any]:
    return standing(stream.subject, stream.records, parse_instant(as_of), None, RULES).to_json()


def points(body: dict[str, Any]) -> dict[str, int]:
    return {c["event_id"]: c["points"] for c in body["explanation"]}


YEAR = [
    # as of, grade, score, lists, measures, bans, tier, ratio
    ("2026-01-16", "A", 97, [], [], [], "low", "0.01"),
    ("2026-03-03", "D", 42, ["serious-dishonesty"], ["measure"], ["ban"], "high", "0.30"),
    ("2026-05-07", "A", 97, [], [], ["ban"], "low", "0.01"),
    ("2026-06-01", "A", 97, [], [], [], "low", "0.01"),
]


@pytest.mark.parametrize(
    ("as_of", "grade", "score", "lists", "measures", "bans", "tier", "ratio"), YEAR
)
def test_grade_score_and_sanctions_along_the_year(
    as_of: str,
    grade: str,
    score: int,
    lists: list[str],
    measures: list[str],
    bans: list[str],
    tier: str,
    ratio: str,
) -> None:
    stream, ids = year()
    body = read(stream, as_of)
    assert (body["grade"], body["score"], body["lists"]) == (grade, score, lists)
    assert [m["event_id"] for m in body["measures"]] == [ids[m] for m in measures]
    assert [b["event_id"] for b in body["bans"]] == [ids[b] for b in bans]
    assert (body["tier"], body["spot_check_ratio"]) == (tier, ratio)
    assert body["scheme"] == "grade-scheme-abcd-v1" and body["start"] == 100
    assert sum(points(body).values()) + 100 == score


def test_every_point_names_its_event_and_what_stopped_counting_says_why() -> None:
    stream, ids = year()
    body = read(stream, "2026-05-07")
    reasons = {c["event_id"]: c["reason"] for c in body["explanation"]}
    assert points(body)[ids["registration"]] == 2
    assert points(body)[ids["violation"]] == -5
    assert points(body)[ids["penalty"]] == 0
    assert reasons[ids["penalty"]].endswith(
        f"no points: ended 2026-05-06: repair approved ({ids['approval']})"
    )
    # repair is per record: the listing ended by its own removal, not by the penalty's repair
    assert reasons[ids["designation"]].endswith(
        f"no points: ended 2026-05-06: removed from the list (repaired) ({ids['removal']})"
    )


def test_a_pending_objection_suspends_the_targets_measures_and_has_deadlines() -> None:
    stream, ids = year()
    body = read(stream, "2026-01-16")
    assert body["suspended"] == [ids["violation"]]
    (objection,) = body["pending_objections"]
    assert (objection["filed"], objection["flag_by"], objection["decide_by"]) == (
        "2026-01-15",
        "2026-01-16",
        "2026-01-22",
    )
    assert objection["overdue"] is False
    assert read(stream, "2026-01-20")["suspended"] == []  # resolved (rejected) on the 19th


@pytest.mark.parametrize(
    ("region", "profile", "decide_by", "extensions"),
    [
        ("310115", "shanghai", "2026-01-22", False),
        ("330106", "zhejiang", "2026-02-12", True),
        ("360102", "jiangxi", "2026-01-22", False),
        ("440300", "default", "2026-01-22", False),
    ],
)
def test_objection_deadlines_follow_the_subjects_region(
    region: str, profile: str, decide_by: str, extensions: bool
) -> None:
    stream, _ = year(complete_subject_code("91" + region + "MA1FL0EX"))
    (objection,) = read(stream, "2026-01-16")["pending_objections"]
    assert (objection["region"], objection["decide_by"], objection["extensions_allowed"]) == (
        profile,
        decide_by,
        extensions,
    )


def test_overdue_commitments_and_rectifications() -> None:
    stream, ids = year()
    body = read(stream, "2026-03-20")
    assert [c["overdue"] for c in body["open_commitments"]] == [False]
    assert [r["overdue"] for r in body["open_rectifications"]] == [True]
    body = read(stream, "2026-03-21")
    assert [c["event_id"] for c in body["overdue_commitments"]] == [ids["commitment"]]
    assert body["evaluation"]["grade"] == "良" and body["evaluation"]["valid"] is True
    assert read(stream, "2027-01-01")["evaluation"]["valid"] is False


def test_the_next_change_is_the_first_day_the_calendar_changes_something() -> None:
    stream, _ = year()
    body = read(stream, "2026-03-03")
    assert body["next_change"] == "2026-03-16T00:00:00+08:00"  # the day after the deadline


def test_positive_registrations_are_capped() -> None:
    stream = Stream()
    for day in range(1, 8):
        stream.add(
            "credit.registration.submitted",
            f"2026-01-0{day}T10:00:00+08:00",
            {"category": "charity", "description": "x"},
        )
    body = read(stream, "2026-02-01")
    assert body["score"] == 110
    assert [c["points"] for c in body["explanation"]] == [2, 2, 2, 2, 2, 0, 0]
    assert "capped" in body["explanation"][-1]["reason"]


def test_design_keys_are_present() -> None:
    stream, _ = year()
    body = read(stream, "2026-03-03")
    for key in ("subject", "grade", "score", "explanation", "measures", "lists", "suspended"):
        assert key in body
    for contribution in body["explanation"]:
        assert {"points", "event_id", "type", "reason"} <= set(contribution)


def test_every_explanation_line_reads_in_chinese_from_its_parts() -> None:
    """The English ``reason`` stays as clients read it; ``reason_zh`` names the codes
    (severity, sector, agency, list, cause) and ``reason_parts`` holds them."""
    stream, ids = year()
    lines = {c["event_id"]: c for c in read(stream, "2026-05-07")["explanation"]}
    violation = lines[ids["violation"]]
    assert violation["reason_zh"] == (
        "一般失信行为（食品领域），深圳市市场监管，d；计分至2029-01-10（公示期满）"
    )
    assert violation["reason_parts"]["what"] == {
        "code": "finding",
        "severity": "general",
        "family": "violation",
        "sector": "food",
        "agency": "samr/440300",
        "document": "d",
    }
    assert violation["reason_parts"]["until"] == {
        "day": "2029-01-10",
        "cause": {"code": "maximum-period"},
    }
    removed = lines[ids["designation"]]
    assert removed["reason_zh"] == (
        "列入严重失信主体名单；不计分：2026-05-06起不再计分，移出名单（信用修复后移出）"
    )
    assert removed["reason_parts"]["event"] == ids["removal"]
    for line in lines.values():
        assert not re.search(r"[a-z]+(-[a-z]+)+", line["reason_zh"]), line["reason_zh"]
