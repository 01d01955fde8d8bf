"""Disclosure rule sets, procedures and calendar months, as shipped in commands/rules/."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from commands.periods import add_months
from commands.procedures import Procedures
from commands.rulesets import NoRuleSet, RuleBook, RuleSet
from entrypoints import rule_files

D = date.fromisoformat
RULES = Path(__file__).resolve().parents[3] / "commands" / "rules"


@pytest.fixture(scope="module")
def book() -> RuleBook:
    return rule_files.rule_book()


@pytest.fixture(scope="module")
def procedures() -> Procedures:
    return rule_files.procedures()


def shipped(name: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads((RULES / name).read_text(encoding="utf-8"))
    return obj


def write(directory: Path, name: str, obj: Any) -> None:
    (directory / name).write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


# -- which rule set ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "rule_set"),
    [
        ("2023-05-01", "ndrc-order-58"),
        ("2025-06-30", "ndrc-order-58"),
        ("2026-03-15", "ndrc-order-58"),
        ("2026-03-31", "ndrc-order-58"),
        ("2026-04-01", "ndrc-order-36"),
        ("2031-01-01", "ndrc-order-36"),
    ],
)
def test_rule_set_by_valid_date(book: RuleBook, on: str, rule_set: str) -> None:
    assert book.in_force(D(on)).id == rule_set


@pytest.mark.parametrize("on", ["2023-04-30", "2019-07-01"])
def test_no_rule_set_before_order_58(book: RuleBook, on: str) -> None:
    with pytest.raises(NoRuleSet) as info:
        book.in_force(D(on))
    assert info.value.on == D(on)
    assert on in str(info.value) and "2023-05-01" in str(info.value)


def test_in_force_refuses_a_datetime(book: RuleBook) -> None:
    with pytest.raises(TypeError, match="China Standard Time"):
        book.in_force(datetime(2026, 3, 31, 23, 0))


# -- periods ------------------------------------------------------------------------------

SPECIAL = ("special-equipment", "work-safety", "fire-safety")


@pytest.mark.parametrize(
    ("on", "family", "severity", "sector", "publish", "min_months", "max_months"),
    [
        # Order 58: 3 months – 3 years whatever the severity; 1 year min in special sectors
        ("2026-03-31", "penalty", "minor", None, True, 3, 36),
        ("2026-03-31", "penalty", "general", None, True, 3, 36),
        ("2026-03-31", "penalty", "serious", None, True, 3, 36),
        ("2026-03-31", "penalty", "minor", "special-equipment", True, 12, 36),
        ("2026-03-31", "penalty", "general", "work-safety", True, 12, 36),
        ("2026-03-31", "penalty", "serious", "fire-safety", True, 12, 36),
        ("2026-03-31", "penalty", "general", "food-safety", True, 3, 36),
        ("2026-03-31", "violation", "general", None, True, 3, 36),
        ("2026-03-31", "violation", "serious", "fire-safety", True, 12, 36),
        # Order 36: minor not published (≤ 3 months), general 3–12, serious 12–36
        ("2026-04-01", "penalty", "minor", None, False, 0, 3),
        ("2026-04-01", "penalty", "general", None, True, 3, 12),
        ("2026-04-01", "penalty", "serious", None, True, 12, 36),
        ("2026-04-01", "penalty", "minor", "special-equipment", False, 0, 3),
        ("2026-04-01", "penalty", "general", "work-safety", True, 3, 12),
        ("2026-04-01", "penalty", "serious", "fire-safety", True, 12, 36),
        ("2026-04-01", "violation", "minor", None, False, 0, 3),
        ("2026-04-01", "violation", "general", "fire-safety", True, 3, 12),
        ("2026-04-01", "violation", "serious", None, True, 12, 36),
    ],
)
def test_periods(
    book: RuleBook,
    on: str,
    family: str,
    severity: str,
    sector: str | None,
    publish: bool,
    min_months: int,
    max_months: int,
) -> None:
    rule_set = book.in_force(D(on))
    p = rule_set.period(family, severity, sector)
    assert (p.publish, p.min_months, p.max_months) == (publish, min_months, max_months)
    assert p.rule_set == rule_set.id
    assert p.rule_title == rule_set.title and "/" in p.rule_title


@pytest.mark.parametrize(
    ("on", "severity", "decided", "repair_from", "ends_by"),
    [
        ("2026-04-01", "general", "2026-04-01", "2026-07-01", "2027-04-01"),
        ("2026-04-01", "serious", "2026-05-31", "2027-05-31", "2029-05-31"),
        ("2026-03-31", "general", "2025-11-30", "2026-02-28", "2028-11-30"),
    ],
)
def test_repair_from_and_ends_by(
    book: RuleBook, on: str, severity: str, decided: str, repair_from: str, ends_by: str
) -> None:
    p = book.in_force(D(on)).period("penalty", severity, None)
    assert p.repair_from(D(decided)) == D(repair_from)
    assert p.ends_by(D(decided)) == D(ends_by)


@pytest.mark.parametrize("rule_set_id", ["ndrc-order-58", "ndrc-order-36"])
def test_deadlines_and_repair_obligations(book: RuleBook, rule_set_id: str) -> None:
    r = book.get(rule_set_id)
    assert r.publication_deadline.working_days == 7
    assert r.withdrawal_deadline.working_days == 3
    assert r.archive_after_months == 60
    assert r.repair.after_min_period is True
    assert r.repair.requires_rectification is True
    assert r.repair.requires_repair_commitment is True
    assert r.notes and r.source and r.title_zh and r.title_en


def test_order_36_knows_what_minor_means(book: RuleBook) -> None:
    m = book.get("ndrc-order-36").minor_definition
    assert m is not None
    assert m.procedure == "simplified"
    assert m.kinds == {"warning", "fine"}
    assert (m.fine_max_person, m.fine_max_organisation) == (Decimal("200"), Decimal("3000"))


def test_force_dates(book: RuleBook) -> None:
    o58, o36 = book.get("ndrc-order-58"), book.get("ndrc-order-36")
    assert (o58.in_force_from, o58.in_force_until) == (D("2023-05-01"), D("2026-03-31"))
    assert (o36.in_force_from, o36.in_force_until) == (D("2026-04-01"), None)
    assert [r.id for r in book.rule_sets] == ["ndrc-order-58", "ndrc-order-36"]


@pytest.mark.parametrize(
    ("family", "severity", "message"),
    [("ban", "general", "record family 'ban'"), ("penalty", "grave", "severity 'grave'")],
)
def test_unknown_family_or_severity(
    book: RuleBook, family: str, severity: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        book.get("ndrc-order-36").period(family, severity, "fire-safety")


# -- loading --------------------------------------------------------------------------------


def test_overlapping_rule_sets_are_rejected(tmp_path: Path) -> None:
    obj = shipped("ndrc-order-36.json")
    obj.update(id="test-overlap", in_force_from="2026-01-01", in_force_until="2026-06-30")
    write(tmp_path, "overlap.json", obj)
    with pytest.raises(ValueError, match="overlap"):
        rule_files.rule_book([tmp_path])


def test_a_rule_set_after_an_open_ended_one_overlaps(tmp_path: Path) -> None:
    obj = shipped("ndrc-order-36.json")
    obj.update(id="test-2030", in_force_from="2030-01-01", in_force_until=None)
    write(tmp_path, "later.json", obj)
    with pytest.raises(ValueError, match=r"ndrc-order-36 .* and test-2030 .* overlap"):
        rule_files.rule_book([tmp_path])


def test_a_deployment_replaces_a_rule_set_by_id(tmp_path: Path) -> None:
    obj = shipped("ndrc-order-36.json")
    obj["archive_after_months"] = 36
    write(tmp_path, "regional.json", obj)
    book = rule_files.rule_book([tmp_path])
    assert book.get("ndrc-order-36").archive_after_months == 36
    assert len(book.rule_sets) == 2


def test_two_files_with_one_id_in_one_directory(tmp_path: Path) -> None:
    obj = shipped("ndrc-order-36.json")
    write(tmp_path, "a.json", obj)
    write(tmp_path, "b.json", obj)
    with pytest.raises(ValueError, match="two files define rule set 'ndrc-order-36'"):
        rule_files.rule_book([tmp_path])


def test_a_gap_is_allowed_and_reported(tmp_path: Path) -> None:
    obj = shipped("ndrc-order-58.json")
    obj.update(id="test-2019", in_force_from="2019-07-01", in_force_until="2022-12-31")
    write(tmp_path, "old.json", obj)
    book = rule_files.rule_book([tmp_path])
    assert book.in_force(D("2020-01-01")).id == "test-2019"
    with pytest.raises(NoRuleSet, match="2023-02-01"):
        book.in_force(D("2023-02-01"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"sector_overrides": {"fire-safety": {"min_months": 12}}},
            "sector_overrides.fire-safety on penalty.minor: min_months 12 is greater",
        ),
        ({"in_force_until": "2026-02-30"}, "in_force_until"),
        ({"in_force_from": "2026/04/01"}, "in_force_from"),
        ({"archive_after_months": "60"}, "archive_after_months"),
        ({"publication_deadline": {"working_days": 0, "source": "x"}}, "less than 1"),
        ({"title": {"zh": "只有中文"}}, "missing `en`"),
        ({"severity_levels": 3}, "unknown key"),
        ({"kind": "rules"}, "`kind` is 'rules'"),
    ],
)
def test_malformed_rule_sets_are_rejected(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    obj = shipped("ndrc-order-36.json")
    obj.update(change)
    write(tmp_path, "bad.json", obj)
    with pytest.raises(ValueError, match=message):
        rule_files.rule_book([tmp_path])


def test_a_missing_severity_is_rejected() -> None:
    obj = shipped("ndrc-order-36.json")
    del obj["periods"]["violation"]["serious"]
    with pytest.raises(ValueError, match=r"periods\.violation\.serious is missing"):
        RuleSet.from_json(obj)


def test_missing_rules_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        rule_files.rule_book([tmp_path / "nope"])


# -- calendar months ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-01-31", 1, "2026-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-05-31", -3, "2026-02-28"),
        ("2026-08-31", 1, "2026-09-30"),
        ("2026-04-01", 3, "2026-07-01"),
        ("2026-11-30", 3, "2027-02-28"),
        ("2026-12-15", 1, "2027-01-15"),
        ("2026-03-15", 36, "2029-03-15"),
        ("2026-01-15", -1, "2025-12-15"),
        ("2026-12-31", 0, "2026-12-31"),
    ],
)
def test_add_months(start: str, months: int, expected: str) -> None:
    assert add_months(D(start), months) == D(expected)


def test_add_months_out_of_range() -> None:
    with pytest.raises(ValueError):
        add_months(date(9999, 12, 1), 1)
    with pytest.raises(TypeError):
        add_months(date(2026, 1, 1), 1.5)  # type: ignore[arg-type]


# -- procedures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "flag", "decide", "extensions", "suspend"),
    [
        (None, 1, 5, False, True),
        ("default", 1, 5, False, True),
        ("shanghai", 1, 5, False, True),
        ("zhejiang", 1, 20, True, True),
        ("jiangxi", 1, 5, False, True),
    ],
)
def test_objection_profiles(
    procedures: Procedures,
    region: str | None,
    flag: int,
    decide: int,
    extensions: bool,
    suspend: bool,
) -> None:
    assert procedures.objection_deadlines(region) == (flag, decide)
    p = procedures.objection_profile(region)
    assert p.extensions_allowed is extensions
    assert p.suspend_measures_during_verification is suspend
    assert p.source


def test_unknown_region_is_an_error(procedures: Procedures) -> None:
    with pytest.raises(ValueError, match="no objection profile for region 'atlantis'"):
        procedures.objection_deadlines("atlantis")


def test_spot_check_ratios_are_exact_decimals(procedures: Procedures) -> None:
    ratios = procedures.spot_check_ratios()
    assert ratios == {
        "high": Decimal("0.30"),
        "medium-high": Decimal("0.10"),
        "medium": Decimal("0.02"),
        "low": Decimal("0.01"),
    }
    assert all(type(v) is Decimal for v in ratios.values())
    assert procedures.spot_check_ratios("henan-2021") == ratios


@pytest.mark.parametrize(
    ("score", "grade"),
    [(100, "A"), (90, "A"), (89, "B"), (75, "B"), (74, "C"), (60, "C"), (59, "D"), (-40, "D")],
)
def test_grade_thresholds(procedures: Procedures, score: int, grade: str) -> None:
    assert procedures.grade_scheme().grade_for(score) == grade


@pytest.mark.parametrize(
    ("key", "points"),
    [
        ("violation.minor", -2),
        ("violation.general", -5),
        ("violation.serious", -20),
        ("penalty.minor", -1),
        ("penalty.general", -5),
        ("penalty.serious", -15),
        ("list.serious-dishonesty", -40),
        ("list.focus", -15),
        ("commitment.breached", -10),
        ("registration.submitted", 2),
    ],
)
def test_grade_points(procedures: Procedures, key: str, points: int) -> None:
    scheme = procedures.grade_scheme("grade-scheme-abcd-v1")
    assert scheme.points_for(key) == points


def test_grade_scheme_default_and_cap(procedures: Procedures) -> None:
    scheme = procedures.grade_scheme()
    assert scheme.id == "grade-scheme-abcd-v1"
    assert scheme.start == 100
    assert scheme.cap("registration.submitted") == 10
    assert scheme.cap("penalty.serious") is None
    with pytest.raises(KeyError, match=r"no points for 'ban\.imposed'"):
        scheme.points_for("ban.imposed")
    with pytest.raises(ValueError, match="no grade scheme"):
        procedures.grade_scheme("grade-scheme-abcd-v9")


def test_a_deployment_overrides_procedures_key_by_key(tmp_path: Path) -> None:
    write(
        tmp_path,
        "local.json",
        {
            "kind": "procedures",
            "version": "procedures-local-1",
            "objection": {"regions": {"zhejiang": {"decide_working_days": 15}, "hainan": {}}},
            "spot_check": {"schemes": {"local": {"source": "test", "ratios": {"high": "0.5"}}}},
        },
    )
    p = rule_files.procedures([tmp_path])
    assert p.version == "procedures-local-1"
    assert p.objection_deadlines("zhejiang") == (1, 15)
    # a replaced region inherits from `default`, not from the packaged region
    assert p.objection_profile("zhejiang").extensions_allowed is False
    assert p.objection_deadlines("hainan") == (1, 5)
    assert p.objection_deadlines("shanghai") == (1, 5)
    assert p.spot_check_ratios("local") == {"high": Decimal("0.5")}
    assert p.spot_check_ratios()["high"] == Decimal("0.30")


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ({"spot_check": {"schemes": {"x": {"source": "t", "ratios": {"high": 0.3}}}}}, "decimal"),
        ({"spot_check": {"schemes": {"x": {"source": "t", "ratios": {"high": "1.5"}}}}}, "0 and 1"),
        ({"spot_check": {"default": "missing"}}, "default spot-check scheme 'missing'"),
        ({"objection": {"regions": {"x": {"decide_working_days": 0}}}}, "less than 1"),
        ({"objection": {"regions": {"x": {"deadline": 3}}}}, "unknown key"),
        (
            {
                "grade_schemes": {
                    "schemes": {
                        "g": {
                            "title": "t",
                            "start": 100,
                            "grades": [
                                {"grade": "A", "min": 60},
                                {"grade": "B", "min": 70},
                                {"grade": "C", "min": None},
                            ],
                            "points": {},
                        }
                    }
                }
            },
            "strictly decrease",
        ),
    ],
)
def test_malformed_procedures(tmp_path: Path, part: dict[str, Any], message: str) -> None:
    write(tmp_path, "local.json", {"kind": "procedures", **part})
    with pytest.raises(ValueError, match=message):
        rule_files.procedures([tmp_path])


def test_shipped_files_are_all_loaded(book: RuleBook, procedures: Procedures) -> None:
    kinds = sorted(shipped(p.name)["kind"] for p in RULES.glob("*.json"))
    assert kinds == [
        "disclosure-rule-set",
        "disclosure-rule-set",
        "incentives",
        "measures-list",
        "procedures",
    ]
    assert procedures.version == "procedures-v1"
    assert procedures.regions() == ("default", "jiangxi", "shanghai", "zhejiang")


def test_list_notice_window_is_data(tmp_path: Path, procedures: Procedures) -> None:
    assert procedures.list_notice is not None
    assert procedures.list_notice.working_days == 5
    write(
        tmp_path,
        "local.json",
        {"kind": "procedures", "lists": {"notice": {"working_days": 10, "source": "local"}}},
    )
    local = rule_files.procedures([tmp_path])
    assert local.list_notice is not None
    assert (local.list_notice.working_days, local.list_notice.source) == (10, "local")
    write(tmp_path, "local.json", {"kind": "procedures", "lists": {"notice": {"days": 3}}})
    with pytest.raises(ValueError, match="unknown key"):
        rule_files.procedures([tmp_path])
