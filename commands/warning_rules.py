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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from commands.agencies import Agencies
from commands.jurisdiction import region_contains
from commands.parsing import Day, Strict, Text, parse

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
        """Parse one `warning-rule-set` file object; `ValueError` names ``where`` and the field."""
        return parse(_RuleSetFile, obj, where).rule_set()


class _Title(Strict):
    zh: Text
    en: Text


class _RuleFile(Strict):
    """One rule: ``id``, ``detector``, ``title`` and exactly the detector's parameters."""

    model_config = ConfigDict(extra="allow")

    id: Text
    detector: Text
    title: _Title
    window_months: int | None = Field(None, ge=1)
    min_agencies: int | None = Field(None, ge=1)
    steps: int | None = Field(None, ge=1)
    grace_days: int | None = Field(None, ge=0)
    scales: tuple[Annotated[tuple[str, ...], Field(min_length=2)], ...] | None = None

    @model_validator(mode="after")
    def _detector_params(self) -> _RuleFile:
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}; known: {', '.join(DETECTORS)}")
        expected = DETECTORS[self.detector]
        if set(self.params()) != expected:
            raise ValueError(
                f"detector {self.detector!r} takes exactly: "
                f"{', '.join(sorted(expected)) or 'nothing'}"
            )
        return self

    def params(self) -> dict[str, Any]:
        given = (self.model_fields_set | set(self.model_extra or {})) - {"id", "detector", "title"}
        return {key: getattr(self, key) for key in given}

    def rule(self) -> WarningRule:
        return WarningRule(self.id, self.detector, self.title.zh, self.title.en, self.params())


class _RuleSetFile(Strict):
    kind: Literal["warning-rule-set"]
    id: Text
    version: Text
    title: _Title | None = None
    source: str = ""
    region: str = Field(pattern=r"^[0-9]{6}$")
    in_force_from: Day
    in_force_until: Day | None = None
    notes: tuple[str, ...] = ()
    rules: tuple[_RuleFile, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> _RuleSetFile:
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError("two rules with one id")
        return self

    def rule_set(self) -> WarningRuleSet:
        return WarningRuleSet(
            id=self.id,
            version=self.version,
            region=self.region,
            in_force_from=self.in_force_from,
            in_force_until=self.in_force_until,
            rules=tuple(r.rule() for r in self.rules),
            source=self.source,
        )


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
    def from_files(cls, files: Iterable[tuple[str, Mapping[str, Any]]]) -> WarningBook:
        """The rule sets of ``files`` (name, decoded object) in load order: the shipped
        ones, then a deployment's ``<rules_dir>/warnings/*.json``; a later one replaces
        one with the same id. `ValueError` names the file at fault."""
        by_id: dict[str, WarningRuleSet] = {}
        for name, obj in files:
            rule_set = WarningRuleSet.from_json(obj, name)
            by_id[rule_set.id] = rule_set
        return cls(by_id.values())

    def in_force(self, region: str, day: date, agencies: Agencies) -> WarningRuleSet | None:
        """The rule set for a subject of ``region`` on ``day``: of those in force
        that day whose region contains ``region``, the most specific one."""
        found = [
            r
            for r in self.rule_sets
            if r.covers(day) and region_contains(agencies, r.region, region)
        ]
        if not found:
            return None
        return max(found, key=lambda r: (len(r.region.rstrip("0")), r.in_force_from))

    def rule_ids(self) -> tuple[str, ...]:
        """Every rule id any rule set knows (for ``--rule`` validation)."""
        return tuple(sorted({rule.id for r in self.rule_sets for rule in r.rules}))
