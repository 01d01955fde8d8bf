"""Early-warning rules (风险预判预警) as versioned data, per region.

A warning rule set is a JSON object of kind ``warning-rule-set`` in
``commands/rules/warnings/`` (shipped) or ``<rules_dir>/warnings/`` (a deployment's
own, replacing a shipped one with the same id): ``id``, ``version``, ``region``
(GB/T 2260, ``000000`` national), ``in_force_from`` / ``in_force_until`` and
``rules``, each naming a ``detector`` (what ``projections.warnings`` evaluates)
with its parameters. :meth:`WarningBook.in_force` picks, for a subject's region
and a day, the rule set of the most specific region in force that day.

Pure data: loading validates every key and number and raises ``ValueError``
naming the file; nothing here reads the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import pairwise
from pathlib import Path
from typing import Any

from commands.jurisdiction import region_contains

__all__ = ["DETECTORS", "KIND", "WarningBook", "WarningRule", "WarningRuleSet"]

KIND = "warning-rule-set"

DETECTORS: dict[str, frozenset[str]] = {
    "findings-by-agencies": frozenset({"window_months", "min_agencies"}),
    "finding-after-breach": frozenset({"window_months"}),
    "grade-fall": frozenset({"window_months", "steps", "scales"}),
    "rectification-overdue": frozenset({"grace_days"}),
    "sanction-elsewhere": frozenset(),
}
"""Detector → the parameters it takes (every one required)."""

_RULE_KEYS = {"id", "detector", "title"}
_SET_KEYS = {
    "kind",
    "id",
    "version",
    "title",
    "source",
    "region",
    "in_force_from",
    "in_force_until",
    "notes",
    "rules",
}


@dataclass(frozen=True)
class WarningRule:
    """One rule: its stable ``id``, the ``detector`` it runs, titles and parameters."""

    id: str
    detector: str
    title_zh: str
    title_en: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def months(self) -> int:
        """``window_months`` (12 when the detector takes none)."""
        return int(self.params.get("window_months", 12))

    def rank(self, grade: object) -> int | None:
        """The position of ``grade`` in its scale, best first (None: unknown)."""
        for scale in self.params.get("scales", ()):
            if grade in scale:
                return list(scale).index(grade)
        return None


@dataclass(frozen=True)
class WarningRuleSet:
    """A versioned, regional set of warning rules."""

    id: str
    version: str
    region: str
    in_force_from: date
    in_force_until: date | None
    rules: tuple[WarningRule, ...]
    source: str = ""

    @property
    def label(self) -> str:
        """``id@version``: what a warning names as the rules it was found by."""
        return f"{self.id}@{self.version}"

    def covers(self, day: date) -> bool:
        return self.in_force_from <= day and (
            self.in_force_until is None or day <= self.in_force_until
        )

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str) -> WarningRuleSet:
        unknown = set(obj) - _SET_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if obj.get("kind") != KIND:
            raise ValueError(f"{where}: `kind` must be {KIND!r}")
        region = _text(obj, "region", where)
        if len(region) != 6 or not region.isdigit():
            raise ValueError(f"{where}: region {region!r} is not a six-digit GB/T 2260 code")
        until = obj.get("in_force_until")
        rules_raw = obj.get("rules")
        if not isinstance(rules_raw, list) or not rules_raw:
            raise ValueError(f"{where}: `rules` must be a non-empty list")
        rules = tuple(_rule(r, f"{where}: rules[{i}]") for i, r in enumerate(rules_raw))
        ids = [r.id for r in rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{where}: two rules with one id")
        return cls(
            id=_text(obj, "id", where),
            version=_text(obj, "version", where),
            region=region,
            in_force_from=_day(obj.get("in_force_from"), f"{where}: in_force_from"),
            in_force_until=None if until is None else _day(until, f"{where}: in_force_until"),
            rules=rules,
            source=str(obj.get("source", "")),
        )


def _text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: `{key}` must be a non-empty string")
    return value


def _day(value: Any, where: str) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{where}: {value!r} is not a date written YYYY-MM-DD")


def _count(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}: {value!r} is not an integer of at least {minimum}")
    return value


def _rule(raw: Any, where: str) -> WarningRule:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected a JSON object")
    detector = _text(raw, "detector", where)
    if detector not in DETECTORS:
        raise ValueError(f"{where}: unknown detector {detector!r}; known: {', '.join(DETECTORS)}")
    expected = DETECTORS[detector]
    params = {k: v for k, v in raw.items() if k not in _RULE_KEYS}
    if set(params) != expected:
        raise ValueError(
            f"{where}: detector {detector!r} takes exactly: {', '.join(sorted(expected)) or 'nothing'}"
        )
    for key in ("window_months", "min_agencies", "steps"):
        if key in params:
            _count(params[key], f"{where}: {key}", 1)
    if "grace_days" in params:
        _count(params["grace_days"], f"{where}: grace_days", 0)
    if "scales" in params:
        scales = params["scales"]
        if not isinstance(scales, list) or not all(
            isinstance(s, list) and len(s) >= 2 and all(isinstance(g, str) for g in s)
            for s in scales
        ):
            raise ValueError(f"{where}: scales must be lists of two or more grades, best first")
        params["scales"] = tuple(tuple(s) for s in scales)
    title = raw.get("title")
    if not isinstance(title, Mapping) or not all(
        isinstance(title.get(lang), str) and title[lang] for lang in ("zh", "en")
    ):
        raise ValueError(f"{where}: title must give `zh` and `en`")
    return WarningRule(_text(raw, "id", where), detector, title["zh"], title["en"], params)


class WarningBook:
    """Every warning rule set; rule sets of one region must not overlap in time."""

    def __init__(self, rule_sets: Iterable[WarningRuleSet]) -> None:
        ordered = sorted(rule_sets, key=lambda r: (r.region, r.in_force_from))
        for a, b in pairwise(ordered):
            if a.region == b.region and (
                a.in_force_until is None or a.in_force_until >= b.in_force_from
            ):
                raise ValueError(
                    f"warning rule sets {a.id} and {b.id} of region {a.region} overlap"
                )
        self.rule_sets: tuple[WarningRuleSet, ...] = tuple(ordered)

    @classmethod
    def load(cls, directories: Iterable[Path | None] = ()) -> WarningBook:
        """The shipped rule sets plus those of ``<directory>/warnings/*.json`` of
        each directory given (a later one replaces one with the same id)."""
        by_id: dict[str, WarningRuleSet] = {}
        package = resources.files("commands") / "rules" / "warnings"
        entries: list[Traversable | Path] = sorted(
            (e for e in package.iterdir() if e.name.endswith(".json")), key=lambda e: e.name
        )
        for directory in directories:
            if directory is not None and (Path(directory) / "warnings").is_dir():
                entries += sorted((Path(directory) / "warnings").glob("*.json"))
        for entry in entries:
            try:
                obj = json.loads(entry.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise ValueError(f"{entry}: not valid UTF-8 JSON ({exc})") from exc
            if not isinstance(obj, Mapping):
                raise ValueError(f"{entry}: a rules file must hold one JSON object")
            rule_set = WarningRuleSet.from_json(obj, str(entry))
            by_id[rule_set.id] = rule_set
        return cls(by_id.values())

    def in_force(self, region: str, day: date) -> WarningRuleSet | None:
        """The rule set for a subject of ``region`` on ``day``: of those in force
        that day whose region contains ``region``, the most specific one."""
        found = [r for r in self.rule_sets if r.covers(day) and region_contains(r.region, region)]
        if not found:
            return None
        return max(found, key=lambda r: (len(r.region.rstrip("0")), r.in_force_from))

    def rule_ids(self) -> tuple[str, ...]:
        """Every rule id any rule set knows (for ``--rule`` validation)."""
        return tuple(sorted({rule.id for r in self.rule_sets for rule in r.rules}))
