"""The pages' door to labels: what a person reads for each code a page shows.

:func:`page_label` is the ``label`` Jinja filter's body and what the pages' Python
(the timeline's picture, the statistics' chart labels) calls. The kinds of
:mod:`events.labels` and :meth:`commands.services.RuleServices.label` (``agency``,
``measure``, ``incentive``, ``rule-set``, ``agency-kind``, ``region``) go there; the one
kind only the pages show is answered here (:data:`PAGE_KINDS`). A code with no label is
shown as it is, so the browser tests (no kebab-case code in visible text) name it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from events.labels import UnknownLabel, shown

__all__ = ["PAGE_KINDS", "page_label"]

PAGE_KINDS: dict[str, Callable[[str, str], str]] = {
    "action": lambda code, lang: shown("type", f"credit.{code}", lang),
}
"""Kinds only the pages show: a record kind and action (``penalty.decided``) as the
event type's label."""


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
        return PAGE_KINDS[kind](text, lang)
    try:
        return str(rules.label(kind, text, lang)) if rules is not None else shown(kind, text, lang)
    except UnknownLabel:
        return text
