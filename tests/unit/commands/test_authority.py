"""Who may record what: one scenario per row of DOMAIN.md's authority table (and the
Clarifications' unassigned types), through ``decide``. For each act the allowed
sources are recorded and every disallowed one is refused with its reason code
(``not-authorised``; ``wrong-agency`` for interviews), the refusal naming the
responsible agency with its Chinese name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from commands.agencies import SYSTEM_SOURCE
from commands.authority import AUTHORITY
from commands.decide import Accepted
from entrypoints import rule_files
from events.reasons import Rejection
from events.vocabulary import EVENT_TYPES
from tests.unit.commands.stream import BASIS, SHENZHEN, Stream, at

SAMR = "samr/440300"
SAMR_PROVINCE = "samr/440000"
SAMR_NATIONAL = "samr/000000"
SAMR_DISTRICT = "samr/440305"
SAMR_SHANGHAI = "samr/310000"
TAX = "tax/440300"
NDRC = "ndrc/440300"
PLATFORM = "credit-platform/440300"
PLATFORM_PROVINCE = "credit-platform/440000"
PLATFORM_NATIONAL = "credit-platform/000000"
PLATFORM_DISTRICT = "credit-platform/440305"
PLATFORM_SHANGHAI = "credit-platform/310000"
SELF = f"subject/{SHENZHEN}"
OTHER_SUBJECT = "subject/91110000600037341L"
UNKNOWN = "bureau/440300"
SAMR_NAME = "samr/440300（深圳市市场监管）"
NDRC_NAME = "ndrc/440300（深圳市发展改革）"


@dataclass(frozen=True)
class Act:
    """An act on a prepared stream: ``prepare`` returns the stream and the data."""

    type: str
    day: str
    prepare: Callable[[], tuple[Stream, dict[str, Any]]]


def _penalty(severity: str = "general") -> tuple[Stream, str]:
    s = Stream()
    return s, s.penalty("2025-02-10", severity)


def _with_penalty(build: Callable[[Stream, str], dict[str, Any]], severity: str = "general"):
    def prepare() -> tuple[Stream, dict[str, Any]]:
        s, p = _penalty(severity)
        return s, build(s, p)

    return prepare


def _empty(data: dict[str, Any]):
    return lambda: (Stream(), data)


def _measure(s: Stream, p: str) -> str:
    return s.ok(
        "credit.measure.applied",
        at("2025-02-12"),
        {"measure": "public-criticism", "finding": p, "until": None, **BASIS},
    )


def _ban(s: Stream, p: str) -> str:
    return s.ok(
        "credit.ban.imposed",
        at("2025-02-12"),
        {"sector": "food", "finding": p, "until": "2027-02-11", **BASIS},
    )


def _order(s: Stream, p: str) -> str:
    return s.ok(
        "credit.rectification.ordered", at("2025-02-11"), {"finding": p, "deadline": "2025-03-31"}
    )


def _proposal(s: Stream) -> str:
    p = s.penalty("2024-01-10", "serious")
    return s.proposal("2024-02-01", p, end="2026-06-30")


def _designation(s: Stream) -> str:
    return s.ok(
        "credit.list.designated",
        at("2024-03-01"),
        {"proposal": _proposal(s), **BASIS},
        source=NDRC,
    )


def _objection(s: Stream, target: str) -> str:
    return s.ok(
        "credit.objection.filed",
        at("2025-03-03"),
        {"target": target, "grounds": "金额有误"},
        source=SELF,
    )


def _repair_commitment(s: Stream) -> str:
    return s.ok(
        "credit.commitment.made",
        at("2025-06-10"),
        {"commitment_type": "repair", "matter": "信用修复承诺", "due": None},
        source=SELF,
    )


def _request(s: Stream, target: str, day: str = "2025-06-20") -> str:
    _repair_commitment(s)
    return s.ok(
        "credit.repair.requested",
        at(day),
        {"target": target, "methods": ["commitment"]},
        source=PLATFORM,
    )


def _approval(s: Stream, target: str) -> str:
    request = _request(s, target)
    return s.ok(
        "credit.repair.approved",
        at("2025-06-25"),
        {"request": request, "reasons": "符合条件"},
        source=PLATFORM,
    )


def _commitment(s: Stream, source: str = SAMR, due: str | None = None) -> str:
    return s.ok(
        "credit.commitment.made",
        at("2025-03-03"),
        {"commitment_type": "approval-substitute", "matter": "食品经营许可", "due": due},
        source=source,
    )


FINDING_DATA: dict[str, Callable[[], tuple[Stream, dict[str, Any]]]] = {
    "credit.violation.recorded": _empty(
        {"behaviour": "虚假宣传", "severity": "general", "sector": "advertising", **BASIS}
    ),
    "credit.penalty.decided": _empty(
        {
            "kinds": ["fine"],
            "amount": "50000.00",
            "procedure": "ordinary",
            "severity": "general",
            "sector": "food",
            **BASIS,
        }
    ),
    "credit.measure.applied": _with_penalty(
        lambda s, p: {"measure": "public-criticism", "finding": p, "until": None, **BASIS}
    ),
    "credit.ban.imposed": _with_penalty(
        lambda s, p: {"sector": "food", "finding": p, "until": "2027-02-11", **BASIS}, "serious"
    ),
    "credit.list.proposed": _with_penalty(
        lambda s, p: {
            "list": "serious-dishonesty",
            "finding": p,
            "planned_end": "2027-06-30",
            **BASIS,
        },
        "serious",
    ),
}


# -- row 1: findings -------------------------------------------------------------------


@pytest.mark.parametrize("type_", sorted(FINDING_DATA))
def test_a_finding_is_an_agencys_on_its_own_authority(type_: str) -> None:
    prepare = FINDING_DATA[type_]
    # joint punishment: another agency may rest a measure, ban or listing on samr's finding
    for source in (SAMR, TAX, NDRC, SAMR_SHANGHAI):
        s, data = prepare()
        assert isinstance(s.decide(s.event(type_, at("2025-03-03"), data, source=source)), Accepted)
    for source in (SELF, PLATFORM, SYSTEM_SOURCE, UNKNOWN, "samr/4403", "samr"):
        s, data = prepare()
        r = s.decide(s.event(type_, at("2025-03-03"), data, source=source))
        assert isinstance(r, Rejection) and r.code == "not-authorised", (source, r)


def test_a_platform_records_findings_only_where_configured(tmp_path: Path) -> None:
    extra = tmp_path / "agencies.json"
    extra.write_text(
        '{"kind": "agencies", "kinds": {"credit-platform": {"name": "信用平台", "finding": true}}}',
        encoding="utf-8",
    )
    rules = rule_files.rule_services(agencies_file=extra)
    prepare = FINDING_DATA["credit.violation.recorded"]
    _, data = prepare()
    s = Stream(rules=rules)
    assert isinstance(
        s.decide(s.event("credit.violation.recorded", at("2025-03-03"), data, source=PLATFORM)),
        Accepted,
    )


def test_a_subject_never_records_a_finding_about_itself() -> None:
    s, data = FINDING_DATA["credit.penalty.decided"]()
    r = s.decide(s.event("credit.penalty.decided", at("2025-03-03"), data, source=SELF))
    assert isinstance(r, Rejection) and r.code == "not-authorised"
    assert "never the subject" in r.message and SELF in r.message


def test_an_unknown_source_is_refused_naming_the_kinds() -> None:
    s, data = FINDING_DATA["credit.penalty.decided"]()
    r = s.decide(s.event("credit.penalty.decided", at("2025-03-03"), data, source=UNKNOWN))
    assert isinstance(r, Rejection) and r.code == "not-authorised"
    assert "samr" in r.message and r.details["source"] == UNKNOWN


# -- row 2: interviews (and rectification orders) by the finding's agency --------------------


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        ("credit.interview.held", {"kind": "warning"}),
        ("credit.rectification.ordered", {"deadline": "2025-04-30"}),
    ],
)
def test_only_the_finding_agency_interviews(type_: str, data: dict[str, Any]) -> None:
    s, p = _penalty()
    assert isinstance(s.decide(s.event(type_, at("2025-03-03"), {"finding": p, **data})), Accepted)
    for source in (TAX, SAMR_PROVINCE, PLATFORM, SELF):
        r = s.decide(s.event(type_, at("2025-03-03"), {"finding": p, **data}, source=source))
        assert isinstance(r, Rejection) and r.code == "wrong-agency", source
        assert r.details["expected_source"] == SAMR


# -- row 3: withdrawal, revocation, lifting, completing: the responsible agency or its superior


CLOSING: dict[str, Callable[[], tuple[Stream, dict[str, Any]]]] = {
    "credit.penalty.withdrawn": _with_penalty(lambda s, p: {"penalty": p, "reason": "复议撤销"}),
    "credit.record.revoked": _with_penalty(lambda s, p: {"target": p, "reason": "认定有误"}),
    "credit.measure.lifted": _with_penalty(lambda s, p: {"application": _measure(s, p)}),
    "credit.ban.lifted": _with_penalty(lambda s, p: {"ban": _ban(s, p)}, "serious"),
    "credit.rectification.completed": _with_penalty(lambda s, p: {"rectification": _order(s, p)}),
}


@pytest.mark.parametrize("type_", sorted(CLOSING))
def test_closing_a_record_is_for_its_agency_or_a_superior_of_its_kind(type_: str) -> None:
    prepare = CLOSING[type_]
    for source in (SAMR, SAMR_PROVINCE, SAMR_NATIONAL):
        s, data = prepare()
        decision = s.decide(s.event(type_, at("2025-04-01"), data, source=source))
        assert isinstance(decision, Accepted), (source, decision)
    refused = (
        TAX,
        SAMR_DISTRICT,
        SAMR_SHANGHAI,
        PLATFORM,
        PLATFORM_NATIONAL,
        SELF,
        SYSTEM_SOURCE,
    )
    for source in refused:
        s, data = prepare()
        r = s.decide(s.event(type_, at("2025-04-01"), data, source=source))
        assert isinstance(r, Rejection) and r.code == "not-authorised", (source, r)
        assert SAMR_NAME in r.message and r.details["responsible"] == SAMR


def test_a_ledger_issued_record_answers_to_the_agency_it_acted_for() -> None:
    s = Stream()
    commitment = _commitment(s, due="2025-03-20")
    breach = s.ok(
        "credit.commitment.breached",
        at("2025-03-25"),
        {"commitment": commitment, "kind": "unfulfilled", "agency": SAMR},
        source=SYSTEM_SOURCE,
    )
    data = {"target": breach, "reason": "材料已按时提交"}
    assert isinstance(s.decide(s.event("credit.record.revoked", at("2025-04-01"), data)), Accepted)
    r = s.decide(s.event("credit.record.revoked", at("2025-04-01"), data, source=TAX))
    assert isinstance(r, Rejection) and r.details["responsible"] == SAMR


# -- row 4: corrections: the responsible agency, or a platform of the same or a higher region


def test_a_correction_by_the_agency_or_a_platform_at_or_above_its_region() -> None:
    def attempt(source: str) -> Any:
        s, p = _penalty()
        return s.decide(
            s.event(
                "credit.record.corrected",
                at("2025-03-03"),
                {"target": p, "changes": {"amount": "5000.00"}},
                source=source,
            )
        )

    for source in (SAMR, SAMR_PROVINCE, PLATFORM, PLATFORM_PROVINCE, PLATFORM_NATIONAL):
        assert isinstance(attempt(source), Accepted), source
    for source in (TAX, PLATFORM_DISTRICT, PLATFORM_SHANGHAI, SELF, SYSTEM_SOURCE):
        r = attempt(source)
        assert isinstance(r, Rejection) and r.code == "not-authorised", source
        assert SAMR_NAME in r.message


# -- row 5: designation, removal, a listing's repair: the proposing agency; expiry: the system


def test_designation_and_removal_by_the_proposing_agency() -> None:
    def designate(source: str) -> Any:
        s = Stream()
        return s.decide(
            s.event(
                "credit.list.designated",
                at("2024-03-01"),
                {"proposal": _proposal(s), **BASIS},
                source=source,
            )
        )

    assert isinstance(designate(NDRC), Accepted)
    assert isinstance(designate("ndrc/440000"), Accepted)
    for source in (SAMR, PLATFORM, PLATFORM_NATIONAL, SELF, SYSTEM_SOURCE):
        r = designate(source)
        assert isinstance(r, Rejection) and r.code == "not-authorised", source
        assert NDRC_NAME in r.message and "认定单位" in r.message

    def remove(source: str, reason: str) -> Any:
        s = Stream()
        designation = _designation(s)
        return s.decide(
            s.event(
                "credit.list.removed",
                at("2025-04-01"),
                {"designation": designation, "reason": reason},
                source=source,
            )
        )

    for reason in ("repaired", "revoked", "expired"):
        assert isinstance(remove(NDRC, reason), Accepted)
    assert isinstance(remove(SYSTEM_SOURCE, "expired"), Accepted)
    for source, reason in (
        (SYSTEM_SOURCE, "repaired"),
        (SAMR, "revoked"),
        (PLATFORM, "repaired"),
        (SELF, "repaired"),
    ):
        r = remove(source, reason)
        assert isinstance(r, Rejection) and r.code == "not-authorised", source
        assert NDRC_NAME in r.message


def test_a_listings_repair_is_decided_by_its_listing_agency_only() -> None:
    def decide_repair(source: str, type_: str = "credit.repair.approved") -> Any:
        s = Stream()
        request = _request(s, _designation(s))
        return s.decide(
            s.event(type_, at("2025-06-25"), {"request": request, "reasons": "x"}, source=source)
        )

    for type_ in ("credit.repair.approved", "credit.repair.rejected"):
        assert isinstance(decide_repair(NDRC, type_), Accepted)
        for source in (PLATFORM, PLATFORM_NATIONAL, SAMR, SELF):
            r = decide_repair(source, type_)
            assert isinstance(r, Rejection) and r.code == "not-authorised", source
            assert NDRC_NAME in r.message


# -- row 6: objection resolution and repair decisions: the agency or a platform over it ------


def test_objection_resolution_by_the_agency_or_a_platform_over_it() -> None:
    def resolve(source: str, **extra: Any) -> Any:
        s, p = _penalty()
        objection = _objection(s, p)
        return s.decide(
            s.event(
                "credit.objection.resolved",
                at("2025-03-05"),
                {"objection": objection, "outcome": "upheld", "reasons": "成立", **extra},
                source=source,
            )
        )

    for source in (SAMR, SAMR_PROVINCE, PLATFORM, PLATFORM_PROVINCE, PLATFORM_NATIONAL):
        assert isinstance(resolve(source), Accepted), source
        assert isinstance(resolve(source, changes={"amount": "1.00"}), Accepted), source
    for source in (TAX, "tax/999999", PLATFORM_SHANGHAI, PLATFORM_DISTRICT, SELF):
        r = resolve(source)
        assert isinstance(r, Rejection) and r.code == "not-authorised", source
        assert SAMR_NAME in r.message
    # revoking the decision belongs to the deciding agency alone
    assert isinstance(resolve(SAMR, revoke=True), Accepted)
    r = resolve(PLATFORM, revoke=True)
    assert isinstance(r, Rejection) and r.code == "not-authorised" and SAMR_NAME in r.message


@pytest.mark.parametrize("type_", ["credit.repair.approved", "credit.repair.rejected"])
def test_repair_of_publication_by_the_agency_or_a_platform_over_it(type_: str) -> None:
    def decide_repair(source: str) -> Any:
        s, p = _penalty()
        request = _request(s, p)
        return s.decide(
            s.event(type_, at("2025-06-25"), {"request": request, "reasons": "x"}, source=source)
        )

    for source in (SAMR, PLATFORM, PLATFORM_NATIONAL):
        assert isinstance(decide_repair(source), Accepted), source
    for source in (SELF, TAX, PLATFORM_SHANGHAI, SYSTEM_SOURCE):
        r = decide_repair(source)
        assert isinstance(r, Rejection) and r.code == "not-authorised", source


def test_repair_revocation_by_the_agency_a_platform_or_the_system() -> None:
    def revoke(source: str) -> Any:
        s, p = _penalty()
        approval = _approval(s, p)
        return s.decide(
            s.event(
                "credit.repair.revoked",
                at("2025-07-01"),
                {"approval": approval, "reason": "违反信用修复承诺"},
                source=source,
            )
        )

    for source in (SAMR, PLATFORM, SYSTEM_SOURCE):
        assert isinstance(revoke(source), Accepted), source
    for source in (SELF, TAX, PLATFORM_SHANGHAI):
        r = revoke(source)
        assert isinstance(r, Rejection) and r.code == "not-authorised", source


def test_a_subject_never_approves_resolves_or_revokes_about_itself() -> None:
    acts: list[tuple[str, Callable[[Stream, str], dict[str, Any]]]] = [
        (
            "credit.objection.resolved",
            lambda s, p: {"objection": _objection(s, p), "outcome": "upheld", "reasons": "x"},
        ),
        ("credit.repair.approved", lambda s, p: {"request": _request(s, p), "reasons": "x"}),
        ("credit.record.revoked", lambda s, p: {"target": p, "reason": "x"}),
        ("credit.penalty.withdrawn", lambda s, p: {"penalty": p, "reason": "x"}),
    ]
    for type_, build in acts:
        s, p = _penalty()
        r = s.decide(s.event(type_, at("2025-07-01"), build(s, p), source=SELF))
        assert isinstance(r, Rejection) and r.code == "not-authorised", type_


def test_a_subject_never_revokes_even_what_it_filed() -> None:
    s, p = _penalty()
    objection = _objection(s, p)  # filed by the subject itself
    r = s.decide(
        s.event(
            "credit.record.revoked",
            at("2025-03-05"),
            {"target": objection, "reason": "撤回"},
            source=SELF,
        )
    )
    assert isinstance(r, Rejection) and r.code == "not-authorised"
    assert "never approves, resolves or revokes" in r.message
    # the platform it was filed with may
    ok = s.decide(
        s.event(
            "credit.record.revoked",
            at("2025-03-05"),
            {"target": objection, "reason": "撤回"},
            source=PLATFORM,
        )
    )
    assert isinstance(ok, Accepted)


# -- row 7: filings: the subject itself, or any agency or platform ----------------------------


FILINGS: dict[str, Callable[[], tuple[Stream, dict[str, Any]]]] = {
    "credit.commitment.made": _empty(
        {"commitment_type": "voluntary", "matter": "诚信经营承诺", "due": None}
    ),
    "credit.registration.submitted": _empty({"category": "charity", "description": "捐赠"}),
    "credit.objection.filed": _with_penalty(lambda s, p: {"target": p, "grounds": "有误"}),
    "credit.repair.requested": _with_penalty(
        lambda s, p: (
            _repair_commitment(s),
            {"target": p, "methods": ["commitment"]},
        )[1]
    ),
}


@pytest.mark.parametrize("type_", sorted(FILINGS))
def test_filings_by_the_subject_for_itself_or_by_an_agency_or_platform(type_: str) -> None:
    for source in (SELF, SAMR, TAX, PLATFORM, PLATFORM_NATIONAL):
        s, data = FILINGS[type_]()
        decision = s.decide(s.event(type_, at("2025-06-20"), data, source=source))
        assert isinstance(decision, Accepted), (source, decision)
    for source in (OTHER_SUBJECT, SYSTEM_SOURCE, UNKNOWN):
        s, data = FILINGS[type_]()
        r = s.decide(s.event(type_, at("2025-06-20"), data, source=source))
        assert isinstance(r, Rejection) and r.code == "not-authorised", source
    s, data = FILINGS[type_]()
    r = s.decide(s.event(type_, at("2025-06-20"), data, source=OTHER_SUBJECT))
    assert isinstance(r, Rejection) and "only for itself" in r.message


# -- row 8: breach of an overdue conditional acceptance: the system and the agency -----------


def test_a_breach_by_the_deadline_job_or_the_agency_it_was_made_to() -> None:
    def breach(source: str) -> Any:
        s = Stream()
        commitment = _commitment(s, due="2025-03-20")
        return s.decide(
            s.event(
                "credit.commitment.breached",
                at("2025-03-25"),
                {"commitment": commitment, "kind": "unfulfilled", "agency": SAMR, **BASIS},
                source=source,
            )
        )

    for source in (SYSTEM_SOURCE, SAMR, SAMR_PROVINCE):
        assert isinstance(breach(source), Accepted), source
    for source in (TAX, PLATFORM, SELF):
        r = breach(source)
        assert isinstance(r, Rejection) and r.code == "not-authorised", source
        assert SAMR_NAME in r.message


# -- the unassigned types of the Clarifications ---------------------------------------------


def test_commitment_fulfilled_by_its_agency_withdrawn_also_by_the_subject() -> None:
    def close(type_: str, source: str) -> Any:
        s = Stream()
        commitment = _commitment(s)
        return s.decide(s.event(type_, at("2025-04-01"), {"commitment": commitment}, source=source))

    assert isinstance(close("credit.commitment.fulfilled", SAMR), Accepted)
    assert isinstance(close("credit.commitment.withdrawn", SAMR), Accepted)
    assert isinstance(close("credit.commitment.withdrawn", SELF), Accepted)
    for source in (SELF, TAX, PLATFORM):
        r = close("credit.commitment.fulfilled", source)
        assert isinstance(r, Rejection) and r.code == "not-authorised", source
    r = close("credit.commitment.withdrawn", TAX)
    assert isinstance(r, Rejection) and SAMR_NAME in r.message


def test_evaluations_by_the_schemes_agency_or_a_platform() -> None:
    def publish(scheme: str, source: str) -> Any:
        s = Stream()
        data = {"scheme": scheme, "grade": "A", "valid_until": "2026-12-31"}
        return s.decide(
            s.event("credit.evaluation.published", at("2025-04-01"), data, source=source)
        )

    assert isinstance(publish("tax", "tax/440000"), Accepted)
    assert isinstance(publish("tax", PLATFORM), Accepted)
    assert isinstance(publish("national-comprehensive", "ndrc/000000"), Accepted)
    assert isinstance(publish("some-sector-scheme", "mee/440300"), Accepted)
    for scheme, source in (("tax", SAMR), ("national-comprehensive", TAX), ("tax", SELF)):
        r = publish(scheme, source)
        assert isinstance(r, Rejection) and r.code == "not-authorised", (scheme, source)


def test_persons_linked_by_a_registration_authority_or_a_finding_agency() -> None:
    data = {"role": "legal-representative", "name": "张三", "id_number": "110101199003070011"}

    def link(source: str, finding_by: str | None = None) -> Any:
        s = Stream()
        if finding_by is not None:
            s.penalty("2025-02-10", source=finding_by)
        return s.decide(s.event("credit.person.linked", at("2025-03-03"), data, source=source))

    assert isinstance(link(SAMR), Accepted)
    assert isinstance(link("mca/440300"), Accepted)
    assert isinstance(link(TAX, finding_by=TAX), Accepted)
    for source in (TAX, PLATFORM, SELF):
        r = link(source, finding_by=SAMR)
        assert isinstance(r, Rejection) and r.code == "not-authorised", source


def test_spot_check_selections_are_the_systems() -> None:
    data = {"draw": "d1", "seed": 1, "tier": "high", "ratio": "0.30"}
    s = Stream()
    ok = s.decide(
        s.event("credit.inspection.selected", at("2025-03-03"), data, source=SYSTEM_SOURCE)
    )
    assert isinstance(ok, Accepted)
    r = s.decide(s.event("credit.inspection.selected", at("2025-03-03"), data, source=SAMR))
    assert isinstance(r, Rejection) and r.code == "not-authorised"


def test_every_event_type_has_an_authority_check() -> None:
    assert set(EVENT_TYPES) <= set(AUTHORITY)


# -- the configuration ----------------------------------------------------------------------


def test_the_region_hierarchy_and_its_exceptions() -> None:
    ag = rule_files.agencies()
    assert ag.contains("000000", "440305") and ag.contains("440000", "440305")
    assert ag.contains("440300", "440305") and not ag.contains("440305", "440300")
    assert ag.parent("429004") == "420000"  # 仙桃: provincially administered
    assert ag.parent("110105") == "110000" and ag.parent("460203") == "460200"
    assert not ag.contains("440300", "310000")
    assert ag.name("credit-platform/000000") == "credit-platform/000000（国家信用平台）"
    for region in ("360000", "120113", "460203", "211382", "440300", "510100", "420100"):
        assert region in ag.regions  # the seeds' and the demo's regions are named


def test_an_extra_file_adds_regions_and_kinds(tmp_path: Path) -> None:
    extra = tmp_path / "agencies.json"
    extra.write_text(
        '{"kind": "agencies", "regions": {"999901": "测试市"}, '
        '"kinds": {"forestry": {"name": "林业"}}, '
        '"parents": [{"prefix": "9999", "parent": "440000"}]}',
        encoding="utf-8",
    )
    ag = rule_files.agencies([extra])
    assert ag.name("forestry/999901") == "forestry/999901（测试市林业）"
    assert ag.contains("440000", "999901") and "samr" in ag.kinds


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"kind": "agencies", "regions": {"4403": "深圳"}}', "six-digit"),
        ('{"kind": "agencies", "kinds": {"Bad Kind": {"name": "x"}}}', "lower-case"),
        ('{"kind": "agencies", "colour": 1}', "colour"),
        ('{"kind": "agencies", "evaluation_schemes": {"x": ["nobody"]}}', "unknown kinds"),
        ('{"kind": "rules"}', "kind"),
        ("not json", "agencies.json"),
    ],
)
def test_a_malformed_file_is_refused_on_load(tmp_path: Path, text: str, words: str) -> None:
    extra = tmp_path / "agencies.json"
    extra.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=words):
        rule_files.agencies([extra])
