"""The disclosure's reason lines: parts, English as always, Chinese by default."""

from __future__ import annotations

import re

import pytest

from entrypoints.rule_files import load_rules
from events.labels import codes, label
from projections.wording import (
    cause_parts,
    cause_text,
    reason_text,
    score_what_text,
    what_text,
)

RULES = load_rules()


@pytest.mark.parametrize(
    "cause",
    [
        "decided",
        "repair revoked",
        "repair of 0190-abc approved",
        "removed from the list (expired)",
        "record revoked by e-9: 复议撤销",
        "record revoked by e-9",
        "the record it rests on (e-1) was revoked by e-2",
        "the decision it rests on was withdrawn",
        "something the labels do not know",
    ],
)
def test_a_cause_reads_back_word_for_word_in_english(cause: str) -> None:
    assert cause_text(cause_parts(cause), "en") == cause


def test_causes_in_chinese() -> None:
    assert cause_parts("repair of X approved") == {"code": "ground-repair-approved", "record": "X"}
    assert cause_text("repair of X approved") == "X 的信用修复已通过"
    assert cause_text("removed from the list (expired)") == "移出名单（期满移出）"
    assert cause_text("record revoked by e-9: 复议撤销") == "记录已被 e-9 撤销：复议撤销"


def test_every_chinese_placeholder_is_one_the_english_line_is_given() -> None:
    for kind in ("cause", "phrase"):
        for code in codes(kind):
            zh, en = label(kind, code, "zh"), label(kind, code, "en")
            assert set(re.findall(r"\{(\w+)\}", zh)) <= set(re.findall(r"\{(\w+)\}", en)), code


FINDING = {
    "code": "finding",
    "severity": "general",
    "family": "penalty",
    "sector": None,
    "rule_set": "ndrc-order-36",
    "min_months": 3,
    "max_months": 12,
}


def test_published_finding_in_both_languages() -> None:
    parts = {"code": "published", "again": None, "ends": "2027-04-02"}
    en = reason_text(parts, what_text(FINDING, "en", RULES), "en")
    zh = reason_text(parts, what_text(FINDING, "zh", RULES), "zh")
    assert en == "published: general penalty, Order 36, 3 months–1 year, ends by 2027-04-02"
    assert (
        zh == "公示中：一般行政处罚，国家发展改革委令第36号，公示3个月至1年，2027-04-02起不再公示"
    )


def test_codes_inside_a_line_are_named_in_chinese() -> None:
    ban = {"code": "ban", "sector": "food", "permanent": True}
    assert what_text(ban, "zh", RULES) == "市场和行业禁入（食品），终身禁入"
    assert what_text(ban, "en", RULES) == "market ban (市场和行业禁入) from food, permanent"
    measure = {"code": "measure", "measure": "public-criticism"}
    assert what_text(measure, "zh", RULES) == "惩戒措施：通报批评、公开曝光"
    person = {"code": "person", "role": "legal-representative", "name": "张三"}
    assert what_text(person, "zh", RULES) == "责任人，法定代表人：张三"
    assert what_text(person, "en", RULES) == (
        "responsible person, 法定代表人 legal representative: 张三"
    )
    notice = {"code": "notice", "agency": "samr/440300", "ended": "withdrawn"}
    assert what_text(notice, "zh", RULES) == "撤回公示说明：深圳市市场监管的一项行政处罚决定已撤回"
    listed = {"code": "list", "list": "focus", "planned_end": "2027-01-01"}
    assert what_text(listed, "en", RULES) == "focus list (重点关注名单), planned end 2027-01-01"
    assert what_text(listed, "zh", RULES) == "列入重点关注名单，计划移出日期 2027-01-01"


def test_remembered_texts_are_told_apart_by_rule_services_and_document() -> None:
    # The texts of repeating parts are remembered; another rule services' names
    # (here none: the agency is shown as its source) and each record's own document
    # number must still come out as if rendered afresh, asked in any order.
    notice = {"code": "notice", "agency": "samr/440300", "ended": "withdrawn"}
    for _ in range(2):
        assert (
            what_text(notice, "zh", RULES) == "撤回公示说明：深圳市市场监管的一项行政处罚决定已撤回"
        )
        assert what_text(notice, "zh", None) == "撤回公示说明：samr/440300的一项行政处罚决定已撤回"
    finding = {
        "code": "finding",
        "severity": "serious",
        "family": "penalty",
        "sector": "food",
        "agency": "samr/440300",
        "document": "深市监罚〔2025〕1号",
    }
    for _ in range(2):
        assert score_what_text(finding, "en", RULES) == (
            "serious penalty (food) by samr/440300, 深市监罚〔2025〕1号"
        )
        assert score_what_text({**finding, "document": "2号"}, "zh", RULES) == (
            "严重行政处罚（食品领域），深圳市市场监管，2号"
        )
        assert score_what_text({**finding, "document": None}, "en", RULES) == (
            "serious penalty (food) by samr/440300"
        )
