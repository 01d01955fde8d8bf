"""The disclosure's reason lines as structured parts, and their words in Chinese or English.

A disclosure item says why it is (or is not) public in one line. The line is built
from parts — a code and its parameters — so that it can be read in either language
and by programs (``reason_parts`` of an item):

* what the record is (:func:`what_text`): ``{"code": "finding", "severity": "general",
  "family": "penalty", "sector": null, "rule_set": "ndrc-order-58", "min_months": 3,
  "max_months": 36}``, ``{"code": "list", "list": "focus", "planned_end": …}`` …;
* where its publication stands (:func:`reason_text`): ``published`` (with ``again``
  and ``ends``), ``ended``, ``withheld``, ``never`` or ``not-yet``;
* why publication started again or ended (:func:`cause_parts`): the lifecycles'
  causes (``projections.lifecycles``), parsed into a code and parameters.

A standing's explanation lines (why a record counts so many points, or none) are
built the same way (:func:`score_what_text`, :func:`score_reason_text`): the
``reason_parts`` of a contribution (``projections.score``) give what the record
is and whether and until when it counts.

The words are the ``phrase`` and ``cause`` labels of :mod:`events.labels` (one place
for every label); codes inside them (severity, sector, list, role, measure, agency)
are named through :meth:`commands.services.RuleServices.label`. The English line
is, word for word, the ``reason`` API clients have always read; Chinese is the line
people read by default (``reason_zh``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from commands.services import RuleServices
from events.labels import UnknownLabel, codes, label, shown

__all__ = [
    "cause_parts",
    "cause_text",
    "months_text",
    "phrase",
    "reason_text",
    "rule_text",
    "score_reason_text",
    "score_what_text",
    "what_text",
]

Parts = Mapping[str, Any]
"""A code (``code``) and its parameters."""

_MEMO_RULES = 4
"""Rule services whose texts are remembered at once (a process has one; tests a few)."""
_MEMO_SIZE = 65_536
"""Texts remembered per rule services; past it the memo starts again."""
_memos: dict[int, tuple[RuleServices | None, dict[tuple[Any, ...], str]]] = {}
_memos_lock = threading.Lock()


def _memo_of(rules: RuleServices | None) -> dict[tuple[Any, ...], str]:
    """The texts remembered for ``rules``. The memo holds ``rules`` itself, so the
    ``id`` it is found by cannot be another object's while it is kept."""
    found = _memos.get(id(rules))
    if found is not None and found[0] is rules:
        return found[1]
    with _memos_lock:
        while len(_memos) >= _MEMO_RULES:
            del _memos[next(iter(_memos))]
        memo: dict[tuple[Any, ...], str] = {}
        _memos[id(rules)] = (rules, memo)
        return memo


def _remembered(
    render: Callable[[Parts, str, RuleServices | None], str],
    parts: Parts,
    lang: str,
    rules: RuleServices | None,
) -> str:
    """``render(parts, lang, rules)``, remembered by the parts' items: what a record is
    repeats over the records of a ledger (a severity, a family, a sector, a rule set),
    and the folds ask for it in both languages for every record they evaluate. Parts
    with a value that cannot be hashed are rendered every time."""
    memo = _memo_of(rules)
    key = (render, lang, *parts.items())
    try:
        text = memo.get(key)
    except TypeError:
        return render(parts, lang, rules)
    if text is None:
        text = render(parts, lang, rules)
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = text
    return text


def phrase(code: str, lang: str, **params: Any) -> str:
    """The ``phrase`` label ``code`` in ``lang`` with its placeholders filled."""
    return label("phrase", code, lang).format(**params)


def months_text(months: int, lang: str = "en") -> str:
    """``3`` → ``3 months`` (3个月), ``12`` → ``1 year`` (1年), ``36`` → ``3 years``."""
    if months and months % 12 == 0:
        years = months // 12
        return phrase("year" if years == 1 else "years", lang, n=years)
    return phrase("month" if months == 1 else "months", lang, n=months)


def rule_text(rule_set: str, lang: str = "en", rules: RuleServices | None = None) -> str:
    """A short name of a rule set for people: ``ndrc-order-36`` → ``Order 36``
    (国家发展改革委令第36号); another id is named by its Chinese title when ``rules``
    has it, else shown as the id."""
    found = re.search(r"order-(\d+)$", rule_set)
    if found:
        return phrase("order", lang, number=found.group(1))
    if lang == "zh" and rules is not None:
        for one in rules.rulebook.rule_sets:
            if one.id == rule_set:
                return one.title_zh
    return rule_set


# -- causes ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _cause_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The English cause templates as patterns, the longest first (the most specific)."""
    out = []
    for code in codes("cause"):
        template = label("cause", code, "en")
        pattern = re.escape(template)
        for name in re.findall(r"\{(\w+)\}", template):
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>.+?)")
        out.append((re.compile(pattern + r"\Z", re.S), code, len(template)))
    out.sort(key=lambda p: -p[2])
    return tuple((p, c) for p, c, _ in out)


@lru_cache(maxsize=4096)
def _parse_cause(cause: str) -> tuple[tuple[str, str], ...]:
    for pattern, code in _cause_patterns():
        found = pattern.match(cause)
        if found:
            return (("code", code), *found.groupdict().items())
    return (("code", "text"), ("text", cause))


def cause_parts(cause: str) -> dict[str, str]:
    """A lifecycle's cause (``repair of ID approved``) as a code and its parameters
    (``{"code": "ground-repair-approved", "record": ID}``); ``{"code": "text",
    "text": cause}`` for a cause the labels do not know."""
    return dict(_parse_cause(cause))


def cause_text(cause: str | Parts, lang: str = "zh") -> str:
    """The words for a cause (its English text or its parts) in ``lang``; a removal
    reason inside (``removed from the list (expired)``) is named too."""
    parts = cause_parts(cause) if isinstance(cause, str) else cause
    code = str(parts["code"])
    if code == "text":
        return str(parts["text"])
    params = {k: v for k, v in parts.items() if k != "code"}
    if code == "removed-because" and lang == "zh":
        params["reason"] = shown("removal-reason", str(params["reason"]), lang)
    return label("cause", code, lang).format(**params)


# -- what the record is ------------------------------------------------------------------


def _name(rules: RuleServices | None, kind: str, code: Any, lang: str) -> str:
    if code is None:
        return ""
    try:
        return (
            rules.label(kind, str(code), lang)
            if rules is not None
            else label(kind, str(code), lang)
        )
    except UnknownLabel:
        return str(code)


_REPEATING_WHAT = frozenset(
    {"finding", "finding-withheld", "noun", "notice", "list", "ban", "measure", "incentive"}
)
"""The codes of :func:`what_text` whose parts repeat over records (no names, no free
text): their texts are remembered (:func:`_remembered`)."""


def what_text(parts: Parts, lang: str = "zh", rules: RuleServices | None = None) -> str:
    """What a disclosure item is, in ``lang`` (module docstring). In English, codes
    are shown as the ``reason`` always showed them (raw sector and measure codes,
    the agency's source)."""
    if parts.get("code") in _REPEATING_WHAT:
        return _remembered(_what_text, parts, lang, rules)
    return _what_text(parts, lang, rules)


def _what_text(parts: Parts, lang: str, rules: RuleServices | None) -> str:
    code = str(parts.get("code"))
    zh = lang == "zh"
    if code in ("finding", "finding-withheld"):
        sector = parts.get("sector")
        in_sector = ""
        if sector:
            in_sector = phrase(
                "in-sector", lang, sector=_name(rules, "sector", sector, lang) if zh else sector
            )
        common = {
            "severity": _name(rules, "severity", parts.get("severity"), lang),
            "noun": label("record-kind", str(parts.get("family")), lang),
            "in_sector": in_sector,
            "rule": rule_text(str(parts.get("rule_set")), lang, rules),
        }
        if code == "finding-withheld":
            return phrase(code, lang, **common)
        return phrase(
            code,
            lang,
            **common,
            min=months_text(int(parts["min_months"]), lang),
            max=months_text(int(parts["max_months"]), lang),
        )
    if code == "noun":
        return label("record-kind", str(parts.get("family")), lang)
    if code == "undetermined":
        return phrase(code, lang, problem=parts.get("problem"))
    if code == "notice":
        agency = parts.get("agency")
        return phrase(
            code,
            lang,
            agency=_name(rules, "agency", agency, lang) if zh else agency,
            what=phrase(f"notice-{parts.get('ended')}", lang),
        )
    if code == "list":
        name = parts.get("list")
        known = name in codes("list")
        text = (
            phrase("list", lang, name=name, label=label("list", str(name), "zh"))
            if known
            else phrase("list-unnamed", lang, name=name)
        )
        planned = parts.get("planned_end")
        return text + (phrase("planned-end", lang, day=planned) if planned else "")
    if code == "ban":
        sector = parts.get("sector")
        span = "" if not parts.get("permanent") else phrase("permanent", lang)
        return phrase(
            code, lang, sector=_name(rules, "sector", sector, lang) if zh else sector, span=span
        )
    if code == "measure":
        measure = parts.get("measure")
        return phrase(code, lang, measure=_name(rules, "measure", measure, lang) if zh else measure)
    if code == "person":
        role = parts.get("role")
        if zh:
            role_text = (
                _name(rules, "person-role", role, lang) if isinstance(role, str) else "责任人"
            )
        elif isinstance(role, str) and role in codes("person-role"):
            role_text = f"{label('person-role', role, 'zh')} {label('person-role', role, 'en')}"
        else:
            role_text = str(role) if isinstance(role, str) else "person"
        return phrase(code, lang, role=role_text, name=parts.get("name"))
    if code == "registration":
        return phrase(
            code, lang, category=parts.get("category"), description=parts.get("description")
        )
    if code == "license":
        return phrase(
            code, lang, license_type=parts.get("license_type"), matter=parts.get("matter")
        )
    if code == "incentive":
        measure = str(parts.get("measure"))
        name = rules.incentives.name(measure) if rules is not None else measure
        return phrase(code, lang, measure=name)
    return str(parts.get("text", ""))


# -- the reason line ---------------------------------------------------------------------


def reason_text(parts: Parts, what: str, lang: str = "zh") -> str:
    """The reason line of an item in ``lang`` from its parts (module docstring);
    ``what`` is :func:`what_text` of ``parts["what"]`` in ``lang`` (rendered once,
    when the item's plan is made)."""
    code = str(parts["code"])
    if code == "never":
        return phrase(code, lang, cause=cause_text(parts["cause"], lang))
    if code == "withheld":
        return phrase(code, lang, what=what)
    if code == "published":
        again = parts.get("again")
        again_text = (
            ""
            if not again
            else phrase("again", lang, day=again["day"], cause=cause_text(again["cause"], lang))
        )
        ends = parts.get("ends")
        return phrase(
            code,
            lang,
            again=again_text,
            what=what,
            ends=phrase("ends", lang, day=ends) if ends else "",
        )
    if code == "ended":
        return phrase(code, lang, day=parts["day"], cause=cause_text(parts["cause"], lang))
    return phrase("not-yet", lang, day=parts["day"])


# -- the score lines (a standing's explanation) -------------------------------------------


def score_what_text(parts: Parts, lang: str = "zh", rules: RuleServices | None = None) -> str:
    """What a scored record is, in ``lang``: ``finding`` (``severity``, ``family``,
    ``sector``, ``agency``, ``document``), ``breach`` (``kind``), ``list`` (``list``)
    or ``registration`` (``category``). In English, codes are shown as the
    explanation's ``reason`` always showed them (severity, sector, list and breach
    codes, the agency's source)."""
    code = parts.get("code")
    if code == "finding":
        # The document number is the record's own and ends the line: the rest repeats.
        document = parts.get("document")
        line = _remembered(_score_what_text, {**parts, "document": None}, lang, rules)
        return line + (("，" if lang == "zh" else ", ") + str(document) if document else "")
    if code in ("breach", "list", "registration"):
        return _remembered(_score_what_text, parts, lang, rules)
    return _score_what_text(parts, lang, rules)


def _score_what_text(parts: Parts, lang: str, rules: RuleServices | None) -> str:
    code = str(parts.get("code"))
    zh = lang == "zh"
    if code == "finding":
        sector = parts.get("sector")
        if zh:
            in_sector = (
                phrase("in-sector", lang, sector=_name(rules, "sector", sector, lang))
                if sector
                else ""
            )
        else:
            in_sector = f" ({sector})" if sector else ""
        return phrase(
            "score-finding",
            lang,
            severity=_name(rules, "severity", parts.get("severity"), lang)
            if zh
            else parts.get("severity"),
            noun=label("record-kind", str(parts.get("family")), lang),
            sector=in_sector,
            agency=_name(rules, "agency", parts.get("agency"), lang) if zh else parts.get("agency"),
            document="",  # added by score_what_text: the template ends with it
        )
    if code == "breach":
        kind = parts.get("kind")
        if zh:
            return phrase(
                "score-breach", lang, kind=_name(rules, "breach-kind", kind, lang)
            ).replace("（）", "")
        return phrase("score-breach", lang, kind=kind)
    if code == "list":
        name = parts.get("list")
        return phrase("score-list", lang, name=_name(rules, "list", name, lang) if zh else name)
    if code == "registration":
        return phrase("score-registration", lang, category=parts.get("category"))
    return str(parts.get("text", ""))


def score_reason_text(parts: Parts, what: str, lang: str = "zh") -> str:
    """A contribution's explanation line in ``lang`` from its ``reason_parts``;
    ``what`` is :func:`score_what_text` of ``parts["what"]`` in ``lang``. ``code``:
    ``counts`` (with ``until`` {day, cause}, ``capped`` {key, cap}, ``objection``),
    or why the record gives no points: ``never`` (``cause``), ``ended`` (``day``,
    ``cause``, ``event``), ``not-yet``, ``no-key`` (``scheme``, ``key``)."""
    code = str(parts["code"])
    if code == "counts":
        line = what
        until = parts.get("until")
        if until:
            line += phrase(
                "score-until", lang, day=until["day"], cause=cause_text(until["cause"], lang)
            )
        capped = parts.get("capped")
        if capped:
            line += phrase("score-capped", lang, key=capped["key"], cap=capped["cap"])
        if parts.get("objection"):
            line += phrase("score-objection", lang, objection=parts["objection"])
        return line
    if code == "never":
        why = phrase("score-never", lang, cause=cause_text(parts["cause"], lang))
    elif code == "ended":
        event = parts.get("event")
        why = phrase(
            "score-ended",
            lang,
            day=parts["day"],
            cause=cause_text(parts["cause"], lang),
            by=f" ({event})" if event else "",
        )
    elif code == "no-key":
        why = phrase("score-no-key", lang, scheme=parts.get("scheme"), key=parts.get("key"))
    else:
        why = phrase("score-not-yet", lang)
    return phrase("score-no-points", lang, what=what, why=why)
