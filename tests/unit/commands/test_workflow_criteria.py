"""The criteria that guard the serious acts (DOMAIN.md), one scenario per criterion,
through ``decide``: what is accepted, what is refused and with which reason code.

Order 58 governs events dated 2023-05-01 – 2026-03-31, Order 36 from 2026-04-01.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from commands.decide import SYSTEM_SOURCE, Accepted
from commands.services import RuleServices
from commands.workflows.criteria import unchecked_minor
from commands.workflows.persons import extensions_for_person
from entrypoints import rule_files
from events.codes import complete_subject_code
from tests.unit.commands.stream import BASIS, NOW_US, SHANGHAI, Stream, at
from tests.unit.commands.test_workflow_persons_inspections import key, link

MEASURES = rule_files.load_rules().measures

NDRC = "ndrc/440300"
INDIVIDUAL = complete_subject_code("92440300MA5F1234")  # 个体工商户
LIFELONG = {
    "basis": "《中华人民共和国食品安全法》第一百三十五条",
    "document": "深市监禁〔2026〕1号",
}
COURT = {
    "basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条第（一）项",
    "document": "（2026）粤0305执123号",
}
RULES_DIR = Path(__file__).resolve().parents[3] / "commands" / "rules"


def penalty_data(
    kinds: list[str], amount: str | None, procedure: str = "simplified"
) -> dict[str, Any]:
    return {
        "kinds": kinds,
        "amount": amount,
        "procedure": procedure,
        "severity": "minor",
        "sector": "food",
        **BASIS,
    }


# -- 1. minor ----------------------------------------------------------------------------


def test_minor_is_what_the_rule_set_in_force_defines() -> None:
    s = Stream()  # an organisation (91…): a fine of at most 3,000 yuan
    day = at("2026-05-06")
    s.ok("credit.penalty.decided", day, penalty_data(["warning"], None))
    s.ok("credit.penalty.decided", day, penalty_data(["fine"], "3000.00"))
    over = s.refused("credit.penalty.decided", day, penalty_data(["fine"], "3000.01"))
    assert over.code == "not-minor" and over.details["fine_max"] == "3000"
    assert "3000.01 yuan" in over.message and "ndrc-order-36" in over.message
    # the case: revocation and a large fine in the ordinary procedure, called minor
    claimed = s.refused(
        "credit.penalty.decided", day, penalty_data(["fine", "revocation"], "500000.00", "ordinary")
    )
    assert claimed.code == "not-minor"
    assert len(claimed.details["problems"]) == 3  # procedure, kind, amount
    assert (
        s.refused("credit.penalty.decided", day, penalty_data(["fine"], None)).code == "not-minor"
    )
    # the same penalty as general is what it is
    s.ok(
        "credit.penalty.decided",
        day,
        {**penalty_data(["fine"], "500000.00", "ordinary"), "severity": "general"},
    )


def test_an_individual_business_is_fined_as_a_person() -> None:
    s = Stream(INDIVIDUAL)
    s.ok("credit.penalty.decided", at("2026-05-06"), penalty_data(["fine"], "200.00"))
    r = s.refused("credit.penalty.decided", at("2026-05-06"), penalty_data(["fine"], "300.00"))
    assert r.code == "not-minor" and r.details["fine_max"] == "200" and "person" in r.message


def test_where_the_order_gives_no_definition_a_declared_minor_is_accepted_and_flagged() -> None:
    s = Stream()
    data = penalty_data(["fine"], "500000.00", "ordinary")
    s.ok("credit.penalty.decided", at("2025-05-06"), data)  # Order 58: no minor definition
    assert unchecked_minor(s.rules.rulebook.in_force(date(2025, 5, 6)), data)  # type: ignore[union-attr]
    assert not unchecked_minor(s.rules.rulebook.in_force(date(2026, 5, 6)), data)  # type: ignore[union-attr]


# -- 2. what a list rests on ------------------------------------------------------------------


def test_serious_dishonesty_rests_on_a_serious_finding_focus_on_general_or_serious() -> None:
    s = Stream()
    general = s.penalty("2026-04-10", "general")
    r = s.refused(
        "credit.list.proposed",
        at("2026-05-06"),
        {"list": "serious-dishonesty", "finding": general, "planned_end": "2027-05-06", **BASIS},
        source=NDRC,
    )
    assert r.code == "listing-grounds" and r.details["severity"] == "general"
    assert r.details["allowed"] == ["serious"]
    s.proposal("2026-05-06", general, name="focus", end="2027-05-06")
    minor = s.ok(
        "credit.violation.recorded",
        at("2026-04-10"),
        {"behaviour": "X", "severity": "minor", "sector": "food", **BASIS},
    )
    r = s.refused(
        "credit.list.proposed",
        at("2026-05-06"),
        {"list": "focus", "finding": minor, "planned_end": "2027-05-06", **BASIS},
        source=NDRC,
    )
    assert r.code == "listing-grounds"
    s.proposal("2026-05-06", s.penalty("2026-04-10", "serious"), end="2027-05-06")


def test_a_courts_dishonest_debtor_finding_grounds_serious_dishonesty() -> None:
    s = Stream()
    court = s.ok(
        "credit.violation.recorded",
        at("2026-04-10"),
        {
            "behaviour": "dishonest-judgment-debtor",
            "severity": "general",
            "sector": "judicial",
            **COURT,
        },
        source="court/440300",
    )
    s.proposal("2026-05-06", court, end="2027-05-06")


def test_the_corrected_severity_is_what_a_listing_rests_on() -> None:
    s = Stream()
    penalty = s.penalty("2026-04-10", "serious")
    s.ok(
        "credit.record.corrected",
        at("2026-04-20"),
        {"target": penalty, "changes": {"severity": "general"}},
    )
    r = s.refused(
        "credit.list.proposed",
        at("2026-05-06"),
        {"list": "serious-dishonesty", "finding": penalty, "planned_end": "2027-05-06", **BASIS},
        source=NDRC,
    )
    assert r.code == "listing-grounds"


# -- 3. a bounded planned_end ---------------------------------------------------------------------


def test_planned_end_at_most_three_years_after_the_notice_window() -> None:
    s = Stream()
    penalty = s.penalty("2026-04-10", "serious")
    # proposal 2026-05-06; the 5-working-day notice window closes 2026-05-12
    r = s.refused(
        "credit.list.proposed",
        at("2026-05-06"),
        {"list": "serious-dishonesty", "finding": penalty, "planned_end": "2029-05-13", **BASIS},
        source=NDRC,
    )
    assert r.code == "planned-end-too-late"
    assert (r.details["latest"], r.details["max_months"]) == ("2029-05-12", 36)
    s.proposal("2026-05-06", penalty, end="2029-05-12")


def test_an_open_ended_listing_only_on_a_basis_that_requires_it() -> None:
    s = Stream()
    penalty = s.penalty("2026-04-10", "serious")
    r = s.refused(
        "credit.list.proposed",
        at("2026-05-06"),
        {"list": "serious-dishonesty", "finding": penalty, "planned_end": None, **BASIS},
        source=NDRC,
    )
    assert r.code == "open-ended-not-allowed"
    assert "失信被执行人" in r.message
    s.ok(
        "credit.list.proposed",
        at("2026-05-06"),
        {"list": "serious-dishonesty", "finding": penalty, "planned_end": None, **COURT},
        source="court/440300",
    )


def _local_rules(tmp_path: Path, regions: dict[str, int]) -> RuleServices:
    """The packaged rule sets with Order 36's serious-dishonesty bound set per region."""
    rule_set = json.loads((RULES_DIR / "ndrc-order-36.json").read_text(encoding="utf-8"))
    rule_set["criteria"]["lists"]["serious-dishonesty"]["regions"] = regions
    (tmp_path / "ndrc-order-36.json").write_text(json.dumps(rule_set, ensure_ascii=False))
    return rule_files.rule_services(rules_dir=tmp_path)


def test_the_bound_is_configured_per_list_and_region(tmp_path: Path) -> None:
    rules = _local_rules(tmp_path, {"44": 24, "4403": 12})
    shenzhen = Stream(rules=rules)
    penalty = shenzhen.penalty("2026-04-10", "serious")
    r = shenzhen.refused(
        "credit.list.proposed",
        at("2026-05-06"),
        {"list": "serious-dishonesty", "finding": penalty, "planned_end": "2027-05-13", **BASIS},
        source=NDRC,
    )
    assert (r.code, r.details["max_months"], r.details["latest"]) == (
        "planned-end-too-late",
        12,  # the longest prefix (4403, Shenzhen) wins over the province (44)
        "2027-05-12",
    )
    focus = shenzhen.proposal("2026-05-06", penalty, name="focus", end="2029-05-12")
    assert focus  # the focus list keeps the default bound
    shanghai = Stream(SHANGHAI, rules=rules)
    shanghai.proposal("2026-05-06", shanghai.penalty("2026-04-10", "serious"), end="2029-05-12")


def test_a_malformed_criteria_file_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="regions"):
        _local_rules(tmp_path, {"4": 12})


# -- 4. permanent bans --------------------------------------------------------------------------


def test_a_permanent_ban_needs_a_basis_the_rule_set_names() -> None:
    s = Stream()
    penalty = s.penalty("2026-04-10", "serious")
    ban = {"sector": "食品生产", "finding": penalty}
    r = s.refused("credit.ban.imposed", at("2026-05-06"), {**ban, "until": None, **BASIS})
    assert r.code == "permanent-ban-not-allowed" and "食品安全法" in r.message
    s.ok("credit.ban.imposed", at("2026-05-06"), {**ban, "until": "2031-05-05", **BASIS})
    s.ok("credit.ban.imposed", at("2026-05-07"), {**ban, "until": None, **LIFELONG})


# -- 6. repair methods ----------------------------------------------------------------------------


def test_order_58_requires_a_commitment_with_every_repair_request() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    s.repair_commitment("2025-06-01")
    r = s.refused(
        "credit.repair.requested", at("2025-06-10"), {"target": penalty, "methods": ["report"]}
    )
    assert r.code == "repair-methods" and r.details["missing"] == ["commitment"]
    assert "信用承诺书" in r.message  # what the rule set requires, from its source
    s.ok(
        "credit.repair.requested",
        at("2025-06-10"),
        {"target": penalty, "methods": ["commitment", "report"]},
    )


def test_under_order_36_a_penalty_is_repaired_without_a_commitment_a_listing_not() -> None:
    s = Stream()
    penalty = s.penalty("2026-04-10", "general")
    s.ok("credit.repair.requested", at("2026-07-15"), {"target": penalty, "methods": ["report"]})
    serious = s.penalty("2026-04-01", "serious")
    proposal = s.proposal("2026-04-02", serious, end="2027-04-01")
    designation = s.ok(
        "credit.list.designated", at("2026-04-20"), {"proposal": proposal, **BASIS}, source=NDRC
    )
    s.now_us = NOW_US + 400 * 86_400_000_000
    s.repair_commitment("2027-05-01")  # on record, but the request must name it
    r = s.refused(
        "credit.repair.requested", at("2027-05-06"), {"target": designation, "methods": ["report"]}
    )
    assert r.code == "repair-methods" and r.details["required"] == ["commitment"]


# -- 7. a breached repair commitment revokes its repairs ------------------------------------------


def _repaired(s: Stream, penalty: str, commitment_day: str = "2025-06-01") -> tuple[str, str]:
    commitment = s.repair_commitment(commitment_day)
    request = s.ok(
        "credit.repair.requested", at("2025-06-10"), {"target": penalty, "methods": ["commitment"]}
    )
    approval = s.ok(
        "credit.repair.approved", at("2025-06-12"), {"request": request, "reasons": "ok"}
    )
    return commitment, approval


def test_a_breached_repair_commitment_revokes_the_repair_it_promised() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    commitment, approval = _repaired(s, penalty)
    decision = s.add(
        "credit.commitment.breached",
        at("2025-08-01"),
        {"commitment": commitment, "kind": "false", **BASIS},
    )
    assert isinstance(decision, Accepted)
    (revocation,) = decision.derived
    assert (revocation.type, revocation.source, revocation.time) == (
        "credit.repair.revoked",
        SYSTEM_SOURCE,
        decision.event.time,
    )
    assert revocation.data["approval"] == approval
    assert (
        revocation.data["commitment"] == commitment and revocation.data["agency"] == "samr/440300"
    )
    # the repair no longer stands: it can be revoked no more, and a new request may follow
    again = s.refused(
        "credit.repair.revoked", at("2025-08-02"), {"approval": approval, "reason": "x"}
    )
    assert again.code == "out-of-order" and revocation.id in again.message


def test_only_the_repairs_whose_commitment_it_is_are_revoked() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    older = s.repair_commitment("2025-05-20")
    _repaired(s, penalty, "2025-06-01")  # the request's commitment is the later one
    decision = s.add(
        "credit.commitment.breached",
        at("2025-08-01"),
        {"commitment": older, "kind": "false", **BASIS},
    )
    assert isinstance(decision, Accepted) and decision.derived == ()
    other = s.ok(
        "credit.commitment.made",
        at("2025-07-01"),
        {"commitment_type": "voluntary", "matter": "诚信经营", "due": None},
    )
    decision = s.add(
        "credit.commitment.breached",
        at("2025-08-01"),
        {"commitment": other, "kind": "false", **BASIS},
    )
    assert isinstance(decision, Accepted) and decision.derived == ()


# -- 8. the measures list ---------------------------------------------------------------------------


def test_measures_come_from_the_list_once_per_finding() -> None:
    s = Stream()
    penalty = s.penalty("2026-04-10", "serious")
    other = s.penalty("2026-04-11", "serious")

    def apply(code: str, finding: str, day: str = "2026-05-06") -> Any:
        return s.add(
            "credit.measure.applied",
            at(day),
            {"measure": code, "finding": finding, "until": None, **BASIS},
        )

    unknown = apply("bidding", penalty)
    assert unknown.code == "unknown-measure" and "bidding-restriction" in unknown.details["known"]
    first = apply("bidding-restriction", penalty)
    assert isinstance(first, Accepted)
    twice = apply("bidding-restriction", penalty, "2026-05-07")
    assert twice.code == "duplicate-measure" and twice.details["application"] == first.event.id
    assert isinstance(apply("bidding-restriction", other), Accepted)
    assert isinstance(apply("public-criticism", penalty), Accepted)
    s.ok("credit.measure.lifted", at("2026-06-01"), {"application": first.event.id})
    assert isinstance(apply("bidding-restriction", penalty, "2026-06-02"), Accepted)


def test_the_measures_list_holds_category_basis_and_person_extension() -> None:
    measures = rule_files.load_rules().measures
    flight = measures.get("flight-restriction")
    assert flight is not None and flight.category_zh == "市场性" and flight.extends_to_persons
    assert flight.basis.startswith("《最高人民法院关于限制被执行人高消费")
    bidding = measures.get("bidding-restriction")
    assert bidding is not None and bidding.category == "administrative"
    assert not bidding.extends_to_persons
    assert measures.get("bidding") is None


def test_only_measures_the_list_extends_reach_the_responsible_persons() -> None:
    s = Stream()
    link(s, "2025-01-02", "pk-a")
    court = s.ok(
        "credit.violation.recorded",
        at("2026-04-10"),
        {
            "behaviour": "dishonest-judgment-debtor",
            "severity": "serious",
            "sector": "judicial",
            **COURT,
        },
        source="court/440300",
    )
    for code in ("flight-restriction", "bidding-restriction"):
        s.ok(
            "credit.measure.applied",
            at("2026-04-11"),
            {"measure": code, "finding": court, "until": None, **COURT},
            source="court/440300",
        )
    found = extensions_for_person(key("pk-a"), [s.state], NOW_US, MEASURES)
    assert [(e.kind, e.what) for e in found] == [("measure", "flight-restriction")]


# -- 9. evaluations ---------------------------------------------------------------------------------


def test_an_evaluation_scheme_is_named_without_its_year() -> None:
    s = Stream()
    data = {"grade": "差", "valid_until": "2027-06-30", "period": "2025"}
    r = s.refused(
        "credit.evaluation.published",
        at("2026-05-06"),
        {**data, "scheme": "public-credit-comprehensive-evaluation-2025"},
        source="ndrc/000000",
    )
    assert r.code == "invalid-field" and r.details["field"] == "data.scheme"
    s.ok(
        "credit.evaluation.published",
        at("2026-05-06"),
        {**data, "scheme": "national-comprehensive"},
        source="ndrc/000000",
    )


def test_a_deployment_adds_and_amends_measures_as_data(tmp_path: Path) -> None:
    local = {
        "kind": "measures-list",
        "version": "measures-local-1",
        "title": "本地惩戒措施清单",
        "source": "某省社会信用条例",
        "measures": [
            {
                "code": "bidding-restriction",
                "name": "限制参与政府采购、招标投标",
                "category": "administrative",
                "basis": "某省社会信用条例 第三十条",
                "extends_to_persons": True,
            },
            {
                "code": "subsidy-restriction",
                "name": "限制享受财政补贴",
                "category": "administrative",
                "basis": "某省社会信用条例 第三十一条",
                "extends_to_persons": False,
            },
        ],
    }
    (tmp_path / "measures-local.json").write_text(json.dumps(local, ensure_ascii=False))
    measures = rule_files.rule_services(rules_dir=tmp_path).measures
    assert measures.version == "measures-local-1"
    assert measures.extends_to_persons("bidding-restriction")  # amended
    assert measures.get("subsidy-restriction") is not None  # added
    assert measures.get("flight-restriction") is not None  # the packaged rest stays
    local["measures"][0]["category"] = "moral"  # type: ignore[index]
    (tmp_path / "measures-local.json").write_text(json.dumps(local, ensure_ascii=False))
    with pytest.raises(ValueError, match=r"measures-local\.json.*category"):
        rule_files.rule_services(rules_dir=tmp_path)


def test_the_derived_revocation_keeps_an_id_within_the_limit() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    commitment, approval = _repaired(s, penalty)
    decision = s.add(
        "credit.commitment.breached",
        at("2025-08-01"),
        {"commitment": commitment, "kind": "false", **BASIS},
        id="b" * 200,
    )
    assert isinstance(decision, Accepted)
    (revocation,) = decision.derived
    assert revocation.data["approval"] == approval
    assert len(revocation.id) <= 200 and revocation.id.startswith("repair-revoked-")
