"""Early warnings, one scenario per shipped rule: the risky subject is warned with
the right evidence and since the right instant, a clean one is not, and the
warnings as of a past date are what the ledger showed then (the two clocks)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from entrypoints import rule_files
from events.instants import parse_instant
from projections.timeline import Timeline
from projections.warnings import RiskWarning, warnings_of
from tests.unit.projections.records import DOC, Stream

RULES = rule_files.load_rules()
BOOK = rule_files.warning_book()


def warned(s: Stream, as_of: str, rule: str, known_at: str | None = None) -> RiskWarning | None:
    timeline = Timeline(s.subject, None, None if known_at is None else parse_instant(known_at))
    timeline.extend(s.records)
    found = warnings_of(timeline, parse_instant(as_of), RULES, BOOK, rule)
    assert len(found) <= 1
    return found[0] if found else None


def violation(s: Stream, time: str, source: str, **options: str) -> str:
    return s.add(
        "credit.violation.recorded",
        time,
        {"behaviour": "TAX-0101", "severity": "general", "sector": "tax", **DOC},
        source=source,
        **options,
    )


def test_every_shipped_rule_has_a_scenario_here() -> None:
    shipped = {r.id for rs in BOOK.rule_sets for r in rs.rules}
    assert shipped == {
        "multi-agency-findings",
        "breach-then-finding",
        "grade-fall",
        "rectification-overdue",
        "sanction-elsewhere",
    }


# -- findings from two or more agencies within 12 months ------------------------------------


def test_findings_by_two_agencies_within_a_year_warn_from_the_second() -> None:
    s = Stream()
    first = s.penalty("2026-01-10T10:00:00+08:00")
    second = violation(s, "2026-03-02T10:00:00+08:00", "tax/440300")
    w = warned(s, "2026-03-10", "multi-agency-findings")
    assert w is not None
    assert w.hit.evidence == (first, second)
    assert w.since_us == parse_instant("2026-03-02T10:00:00+08:00")
    assert w.rule_set == "warnings-national@2026.1"
    assert w.sectors == ("samr", "tax") and w.regions == ("440300",)
    # the first finding leaves the 12-month window on 2027-01-10
    assert warned(s, "2027-01-09", "multi-agency-findings") is not None
    assert warned(s, "2027-01-10", "multi-agency-findings") is None


def test_findings_by_one_agency_do_not_warn() -> None:
    s = Stream()
    s.penalty("2026-01-10T10:00:00+08:00")
    s.penalty("2026-02-10T10:00:00+08:00", source="samr/440300")
    assert warned(s, "2026-03-10", "multi-agency-findings") is None


def test_a_withdrawn_penalty_stops_counting_when_withdrawn() -> None:
    s = Stream()
    first = s.penalty("2026-01-10T10:00:00+08:00")
    violation(s, "2026-03-02T10:00:00+08:00", "tax/440300")
    s.add(
        "credit.penalty.withdrawn", "2026-04-01T10:00:00+08:00", {"penalty": first, "reason": "r"}
    )
    assert warned(s, "2026-03-31", "multi-agency-findings") is not None
    assert warned(s, "2026-04-02", "multi-agency-findings") is None


def test_the_list_as_of_a_past_date_is_what_the_ledger_showed_then() -> None:
    s = Stream()
    s.penalty("2026-01-10T10:00:00+08:00")
    second = violation(s, "2026-03-02T10:00:00+08:00", "tax/440300")
    # learnt in April: the tax record was wrong from the start
    s.add(
        "credit.record.revoked",
        "2026-04-01T10:00:00+08:00",
        {"target": second, "reason": "wrong subject"},
        source="tax/440300",
    )
    then = warned(s, "2026-03-10", "multi-agency-findings", known_at="2026-03-10")
    assert then is not None and second in then.hit.evidence
    assert warned(s, "2026-03-10", "multi-agency-findings") is None


# -- a breached commitment followed by a new finding ----------------------------------------


def _commitment(s: Stream, time: str) -> str:
    return s.add(
        "credit.commitment.made",
        time,
        {"commitment_type": "approval-substitute", "matter": "m", "due": None},
    )


def test_a_finding_after_a_breach_warns_with_both() -> None:
    s = Stream()
    made = _commitment(s, "2026-01-05T10:00:00+08:00")
    breach = s.add(
        "credit.commitment.breached",
        "2026-02-02T10:00:00+08:00",
        {"commitment": made, "kind": "unfulfilled"},
    )
    penalty = s.penalty("2026-03-02T10:00:00+08:00")
    assert warned(s, "2026-03-01", "breach-then-finding") is None
    w = warned(s, "2026-03-05", "breach-then-finding")
    assert w is not None
    assert w.hit.evidence == (made, breach, penalty)
    assert w.since_us == parse_instant("2026-03-02T10:00:00+08:00")
    assert warned(s, "2027-03-02", "breach-then-finding") is None


def test_a_finding_before_the_breach_does_not_warn() -> None:
    s = Stream()
    made = _commitment(s, "2026-01-05T10:00:00+08:00")
    s.penalty("2026-01-20T10:00:00+08:00")
    s.add(
        "credit.commitment.breached",
        "2026-02-02T10:00:00+08:00",
        {"commitment": made, "kind": "unfulfilled"},
    )
    assert warned(s, "2026-03-05", "breach-then-finding") is None


# -- a grade that fell two steps within a year --------------------------------------------


def _grade(s: Stream, time: str, grade: str, year: int) -> str:
    return s.add(
        "credit.evaluation.published",
        time,
        {
            "scheme": f"public-credit-comprehensive-evaluation-{year}",
            "grade": grade,
            "valid_until": "2027-06-30",
        },
        source="ndrc/440300",
    )


def test_a_grade_two_steps_down_within_a_year_warns() -> None:
    s = Stream()
    good = _grade(s, "2025-05-06T10:00:00+08:00", "优", 2024)
    fallen = _grade(s, "2026-04-20T10:00:00+08:00", "中", 2025)
    w = warned(s, "2026-05-01", "grade-fall")
    assert w is not None
    assert w.hit.evidence == (good, fallen)
    assert w.since_us == parse_instant("2026-04-20T10:00:00+08:00")
    assert "优 → 中" in w.hit.detail
    assert "优 → 中" in w.hit.detail_zh and not re.search(r"[a-z]+(-[a-z]+)+", w.hit.detail_zh)
    assert warned(s, "2026-04-19", "grade-fall") is None


def test_one_step_down_or_over_a_year_apart_does_not_warn() -> None:
    s = Stream()
    _grade(s, "2025-05-06T10:00:00+08:00", "良", 2024)
    _grade(s, "2026-04-20T10:00:00+08:00", "中", 2025)
    assert warned(s, "2026-05-01", "grade-fall") is None
    s = Stream()
    _grade(s, "2025-04-01T10:00:00+08:00", "优", 2024)
    _grade(s, "2026-04-20T10:00:00+08:00", "中", 2025)
    assert warned(s, "2026-05-01", "grade-fall") is None


# -- a rectification overdue -----------------------------------------------------------------


def _order(s: Stream) -> tuple[str, str]:
    penalty = s.penalty("2026-01-10T10:00:00+08:00")
    order = s.add(
        "credit.rectification.ordered",
        "2026-01-12T10:00:00+08:00",
        {"finding": penalty, "deadline": "2026-02-12"},
    )
    return penalty, order


def test_an_overdue_rectification_warns_from_the_day_after_its_deadline() -> None:
    s = Stream()
    penalty, order = _order(s)
    assert warned(s, "2026-02-12", "rectification-overdue") is None
    w = warned(s, "2026-02-20", "rectification-overdue")
    assert w is not None
    assert w.hit.evidence == (order, penalty)
    assert w.since_us == parse_instant("2026-02-13T00:00:00+08:00")
    s.add("credit.rectification.completed", "2026-03-01T10:00:00+08:00", {"rectification": order})
    assert warned(s, "2026-02-20", "rectification-overdue") is not None
    assert warned(s, "2026-03-02", "rectification-overdue") is None


def test_a_rectification_completed_in_time_does_not_warn() -> None:
    s = Stream()
    _, order = _order(s)
    s.add("credit.rectification.completed", "2026-02-10T10:00:00+08:00", {"rectification": order})
    assert warned(s, "2026-02-20", "rectification-overdue") is None


# -- a measure or ban in another sector or region ----------------------------------------------


def _ban(s: Stream, source: str) -> tuple[str, str]:
    finding = s.penalty("2026-01-10T10:00:00+08:00", "serious", source=source)
    ban = s.add(
        "credit.ban.imposed",
        "2026-01-20T10:00:00+08:00",
        {"sector": "work-safety", "finding": finding, "until": "2027-01-19", **DOC},
        source=source,
    )
    return finding, ban


def test_a_ban_by_another_sector_warns_the_sector_that_knows_the_subject() -> None:
    s = Stream()
    licence = s.add(
        "credit.license.granted",
        "2025-06-02T10:00:00+08:00",
        {"license_type": "food", "matter": "m", "valid_until": None, **DOC},
        source="samr/440300",
    )
    _, ban = _ban(s, "emergency/440300")
    w = warned(s, "2026-02-01", "sanction-elsewhere")
    assert w is not None
    assert w.hit.evidence == (ban, licence)
    assert w.since_us == parse_instant("2026-01-20T10:00:00+08:00")
    assert (
        w.seen_by("samr/440300", RULES.agencies)
        and w.seen_by("samr/440000", RULES.agencies)
        and w.seen_by("emergency/000000", RULES.agencies)
    )
    assert not w.seen_by("samr/110000", RULES.agencies) and not w.seen_by(
        "tax/440300", RULES.agencies
    )
    assert w.seen_by("credit-platform/440000", RULES.agencies)
    # the ban ends after its last day
    assert warned(s, "2027-01-20", "sanction-elsewhere") is None


def test_a_ban_by_the_only_agency_of_the_home_region_does_not_warn() -> None:
    s = Stream()
    _ban(s, "emergency/440300")
    assert warned(s, "2026-02-01", "sanction-elsewhere") is None


def test_a_ban_from_another_region_warns_the_home_region() -> None:
    s = Stream()
    _, ban = _ban(s, "emergency/110000")
    w = warned(s, "2026-02-01", "sanction-elsewhere")
    assert w is not None and ban in w.hit.evidence
    assert "home region 440300" in w.hit.detail
    assert "实施地不在主体注册地" in w.hit.detail_zh and "/" not in w.hit.detail_zh
    assert w.regions == ("110000", "440300")


# -- the rules are data -----------------------------------------------------------------------


def test_a_region_ships_its_own_stricter_rules(tmp_path: Path) -> None:
    shipped = json.loads(
        (Path(__file__).parents[3] / "commands/rules/warnings/national.json").read_text("utf-8")
    )
    local = {**shipped, "id": "warnings-guangdong", "version": "1", "region": "440000"}
    local["rules"] = [
        {**r, "min_agencies": 3} if "min_agencies" in r else r for r in shipped["rules"]
    ]
    (tmp_path / "warnings").mkdir()
    (tmp_path / "warnings/gd.json").write_text(json.dumps(local), "utf-8")
    book = rule_files.warning_book([tmp_path])
    s = Stream()
    s.penalty("2026-01-10T10:00:00+08:00")
    violation(s, "2026-03-02T10:00:00+08:00", "tax/440300")
    timeline = Timeline(s.subject).extend(s.records)
    assert (
        warnings_of(timeline, parse_instant("2026-03-10"), RULES, book, "multi-agency-findings")
        == []
    )
    beijing = Stream("91110000600037341L")
    beijing.penalty("2026-01-10T10:00:00+08:00")
    violation(beijing, "2026-03-02T10:00:00+08:00", "tax/110000")
    found = warnings_of(
        Timeline(beijing.subject).extend(beijing.records), parse_instant("2026-03-10"), RULES, book
    )
    assert [w.rule_set for w in found] == ["warnings-national@2026.1"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"detector": "nonsense"}, "unknown detector"),
        ({"min_agencies": 0}, "min_agencies"),
        ({"extra": 1}, "takes exactly"),
    ],
)
def test_a_malformed_rule_is_refused_naming_the_file(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    rule = {
        "id": "x",
        "detector": "findings-by-agencies",
        "title": {"zh": "x", "en": "x"},
        "window_months": 12,
        "min_agencies": 2,
        **change,
    }
    body = {
        "kind": "warning-rule-set",
        "id": "bad",
        "version": "1",
        "region": "440000",
        "in_force_from": "2020-01-01",
        "in_force_until": None,
        "rules": [rule],
    }
    (tmp_path / "warnings").mkdir()
    (tmp_path / "warnings/bad.json").write_text(json.dumps(body), "utf-8")
    with pytest.raises(ValueError, match=message) as caught:
        rule_files.warning_book([tmp_path])
    assert "bad.json" in str(caught.value)
