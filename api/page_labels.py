"""The pages' door to labels: what a person reads for each code a page shows.

:func:`page_label` is the ``label`` Jinja filter's body and what the pages' Python
(the timeline's picture, the statistics' chart labels) calls. The kinds of
:mod:`events.labels` and :meth:`commands.services.RuleServices.label` (``agency``,
``measure``, ``incentive``) go there; the few kinds only the pages show are answered
here from the registries that hold them (:data:`PAGE_KINDS`). A code with no label is
shown as it is, so the browser tests (no kebab-case code in visible text) name it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from commands.agencies import Agencies
from commands.rulesets import RuleBook
from events.labels import UnknownLabel, shown

__all__ = ["PAGE_KINDS", "page_label"]

_RECORD_KINDS = {
    "penalty": "行政处罚",
    "violation": "失信行为",
    "list": "名单",
    "ban": "市场禁入",
    "measure": "惩戒措施",
    "license": "行政许可",
    "incentive": "守信激励",
    "registration": "守信信息",
    "commitment": "信用承诺",
    "person": "责任人",
    "evaluation": "综合评价",
    "withdrawal-notice": "撤回说明",
}
_SCHEMES = {
    "public-credit-comprehensive-evaluation": "公共信用综合评价",
    "national-comprehensive": "全国公共信用综合评价",
    "market-regulation-credit-risk-classification": "市场监管信用风险分类",
    "market-regulation": "市场监管信用风险分类",
    "tax": "纳税信用等级评价",
    "customs": "海关企业信用等级",
}


@lru_cache(maxsize=1)
def _rule_titles() -> dict[str, str]:
    return {r.id: r.title_zh for r in RuleBook.load().rule_sets}


def _agencies() -> Agencies:
    return Agencies.packaged()


PAGE_KINDS: dict[str, Callable[[str], str | None]] = {
    "record-kind": _RECORD_KINDS.get,
    "scheme": _SCHEMES.get,
    "rule-set": lambda code: _rule_titles().get(code),
    "agency-kind": lambda code: k.name if (k := _agencies().kinds.get(code)) else None,
    "region": lambda code: _agencies().regions.get(code),
    "action": lambda code: shown("type", f"credit.{code}"),
}
"""Kinds only the pages show (Chinese): a record kind, an evaluation scheme, a rule set,
an agency kind, a region, a record kind and action (``penalty.decided``)."""


def page_label(rules: Any, kind: str, code: object, lang: str = "zh") -> str:
    """What a person reads for ``code`` of ``kind``: ``rules.label`` (the rule services,
    or :mod:`events.labels` without them), a page kind, or the code itself. ``None``
    gives ``""``; a list of codes is joined with 、."""
    if isinstance(code, list | tuple):
        return "、".join(page_label(rules, kind, c, lang) for c in code)
    if code is None or code == "":
        return ""
    text = str(code)
    if kind in PAGE_KINDS:
        return PAGE_KINDS[kind](text) or text
    try:
        return str(rules.label(kind, text, lang)) if rules is not None else shown(kind, text, lang)
    except UnknownLabel:
        return text
