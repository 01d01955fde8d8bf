"""The people's names of the codes the pages show: the ``label`` Jinja filter.

``{{ code|label("penalty") }}`` is the Chinese label of ``code`` of that kind (event
types, penalty kinds, severities, lists, measures, roles, agencies, evaluation schemes,
commitment types); a code with no label is shown as it is, so the browser tests (no
kebab-case code in any page's visible text) name what is still unlabelled.

This is the pages' single door to labels. Until the one catalogue of labels
(``events/labels.py``: ``label(kind, code, lang)``) exists, it reads the maps that
exist today (the history's event-type labels, the disclosure's list and role labels,
the report's penalty kinds and schemes, the measures list and the agency registry);
pointing :func:`label` at that catalogue changes no template.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from commands.agencies import Agencies
from commands.criteria import MeasuresList
from commands.rulesets import RuleBook
from projections.disclosure import LIST_LABELS, ROLE_LABELS
from projections.history import TYPE_LABELS
from projections.report import _COMMITMENT_TYPES, _PENALTY_KINDS, _SCHEME_NAMES, agency_name

__all__ = ["KINDS", "label", "labels_of"]


def _zh(text: str) -> str:
    """``信用承诺 commitment made`` → ``信用承诺`` (the maps hold both languages)."""
    return text.split(" ", 1)[0]


_SEVERITY = {"minor": "轻微", "general": "一般", "serious": "严重"}
_LISTS = {**LIST_LABELS, "bans": "市场和行业禁入", "trustworthy": "守信激励对象名单"}
_ROLES = {  # a responsible person's role, and a token's
    **{code: _zh(text) for code, text in ROLE_LABELS.items()},
    "agency": "认定部门",
    "auditor": "审计人员",
    "objection-handler": "异议处理人员",
    "public": "社会公众",
    "subject": "市场主体",
}
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
_ACTIONS = {  # a record kind and action (the statistics' ``kind.action``) by its event type
    t.removeprefix("credit."): text for t, text in TYPE_LABELS.items()
}


@lru_cache(maxsize=1)
def _measures() -> MeasuresList:
    return MeasuresList.load()


@lru_cache(maxsize=1)
def _rule_titles() -> dict[str, str]:
    return {r.id: r.title_zh for r in RuleBook.load().rule_sets}


class _Registry:
    """What :func:`projections.report.agency_name` reads: the packaged agency registry."""

    agencies = Agencies.packaged()


def _static(table: dict[str, str]) -> Any:
    return lambda code: table.get(code)


KINDS: dict[str, Any] = {
    "type": lambda code: _zh(TYPE_LABELS[code]) if code in TYPE_LABELS else None,
    "action": lambda code: _zh(_ACTIONS[code]) if code in _ACTIONS else None,
    "record_kind": _static(_RECORD_KINDS),
    "penalty": _static(_PENALTY_KINDS),
    "severity": _static(_SEVERITY),
    "list": _static(_LISTS),
    "role": _static(_ROLES),
    "measure": lambda code: m.name if (m := _measures().get(code)) is not None else None,
    "scheme": _static(_SCHEME_NAMES),
    "rule_set": lambda code: _rule_titles().get(code),
    "commitment": _static(_COMMITMENT_TYPES),
    # no labels yet outside the catalogue: shown as codes (the browser tests name them)
    "behaviour": _static({}),
    "sector": _static({}),
    "category": _static({}),
    "agency_kind": lambda code: k.name if (k := _Registry.agencies.kinds.get(code)) else None,
    "region": lambda code: _Registry.agencies.regions.get(code),
    "agency": lambda code: n if (n := agency_name(code, _Registry)) != code else None,
}
"""Label kind → code → label or None."""


def label(code: object, kind: str, lang: str = "zh") -> str:
    """The label of ``code`` of ``kind`` (``lang``: ``zh``; English labels arrive with the
    catalogue), or ``code`` itself when there is none. ``None`` and ``""`` give ``""``."""
    if code is None or code == "":
        return ""
    text = str(code)
    found = KINDS[kind](text)
    return str(found) if found else text


def labels_of(kind: str, codes: list[str]) -> dict[str, str]:
    """``{code: label}`` for the page's scripts (charts label their axes with it)."""
    return {c: label(c, kind) for c in codes}
