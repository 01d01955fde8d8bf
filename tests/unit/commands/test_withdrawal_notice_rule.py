"""The notice period of a withdrawn penalty decision is rule-set data
(``withdrawal_notice``; 行政处罚法 Art. 48 names no period)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from commands.rulesets import RuleSet
from entrypoints import rule_files

RULES = Path(__file__).resolve().parents[3] / "commands" / "rules"


def shipped(name: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads((RULES / f"{name}.json").read_text(encoding="utf-8"))
    return obj


def test_the_shipped_rule_sets_keep_a_notice_three_months() -> None:
    book = rule_files.rule_book()
    for day in (date(2025, 6, 1), date(2026, 6, 1)):
        notice = book.in_force(day).withdrawal_notice
        assert notice is not None and notice.months == 3 and "第四十八条" in notice.source


def test_without_the_key_there_is_no_notice() -> None:
    obj = shipped("ndrc-order-36")
    del obj["withdrawal_notice"]
    assert RuleSet.from_json(obj).withdrawal_notice is None


@pytest.mark.parametrize(
    ("notice", "message"),
    [
        ({"months": 0, "source": "x"}, "months"),
        ({"months": "3", "source": "x"}, "months"),
        ({"months": 3}, "source"),
        ({"months": 3, "source": "x", "days": 2}, "days"),
    ],
)
def test_a_malformed_notice_is_refused(notice: dict[str, Any], message: str) -> None:
    obj = shipped("ndrc-order-36")
    obj["withdrawal_notice"] = notice
    with pytest.raises(ValueError, match=message):
        RuleSet.from_json(obj)
