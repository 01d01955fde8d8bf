"""Disclosure rule sets, as versioned data, and the rule book that picks one by date.

The numbers of the disclosure rules (how long a penalty or violation is public,
when repair may be asked for, how fast a decision is published or withdrawn,
what counts as a minor penalty) change by year and by region. They live in
``commands/rules/*.json``, one file per rule set (file kind
``"disclosure-rule-set"``), read once at start-up by ``entrypoints.rule_files``; this
module parses and validates what it is handed and answers questions about it. Nothing
here reads a clock or a file: the date a question is about always comes in as an
argument.

* `RuleBook.in_force(on)` picks the disclosure rule set by the *valid* date of the
  decision (DOMAIN.md: a penalty decided on 2026-03-15 keeps Order 58's periods
  even if recorded in May). `RuleSet.period(family, severity, sector)` then gives
  the `DisclosurePeriod`; `period_for(rulebook, decided, family, severity, sector)`
  asks both at once, and is what every caller uses.
* A deployment's own rule set files, read after the package's, replace a rule set
  with the same id (`RuleBook.from_files`), which is how regional variants are
  configured.
* `KINDS` names every kind of rules file; the periods and deadlines themselves are
  :mod:`commands.periods`, the objection deadlines, spot checks and grade schemes
  :mod:`commands.procedures`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field, model_validator

from commands.criteria import KIND_MEASURES, Criteria
from commands.parsing import Day, DecimalText, Strict, Text, parse
from commands.periods import (
    Deadline,
    DeadlineEntry,
    DisclosurePeriod,
    NoticePeriod,
    PeriodOverride,
)

__all__ = [
    "FAMILIES",
    "KINDS",
    "SEVERITIES",
    "MinorDefinition",
    "NoRuleSet",
    "RepairRule",
    "RuleBook",
    "RuleSet",
    "RulesFile",
    "period_for",
]

FAMILIES: tuple[str, ...] = ("penalty", "violation")
"""Record type families that have disclosure periods (`credit.penalty.decided`,
`credit.violation.recorded`)."""

SEVERITIES: tuple[str, ...] = ("minor", "general", "serious")

KIND_RULE_SET = "disclosure-rule-set"
KIND_PROCEDURES = "procedures"
KIND_INCENTIVES = "incentives"
KINDS: tuple[str, ...] = (KIND_RULE_SET, KIND_PROCEDURES, KIND_MEASURES, KIND_INCENTIVES)
"""Every kind of rules file; each loader reads its own and skips the others."""


def _check_on(on: object) -> date:
    if isinstance(on, datetime):
        raise TypeError(
            "pass the valid date as a date (the day in China Standard Time), not a datetime"
        )
    if not isinstance(on, date):
        raise TypeError(f"expected a datetime.date, not {type(on).__name__}")
    return on


RulesFile = tuple[str, Mapping[str, Any]]
"""(file name, its decoded JSON object): what the loader (``entrypoints.rule_files``)
hands in, the name used in error messages."""


# -- disclosure rule sets --------------------------------------------------------------


@dataclass(frozen=True)
class RepairRule:
    """When repair may be requested and what it needs.

    `requires_rectification`: a rectification ordered for the finding must be
    completed first (no rectification ordered → nothing to complete).
    `requires_repair_commitment`: a repair commitment (信用修复型承诺) is needed.
    """

    after_min_period: bool
    requires_rectification: bool
    requires_repair_commitment: bool


@dataclass(frozen=True)
class MinorDefinition:
    """What counts as a minor penalty (行政处罚法 Art. 51): the procedure, the only
    penalty kinds allowed, the fine limits for a person and an organisation, and
    the code prefixes of subjects fined as persons (个体工商户: ``92``)."""

    procedure: str
    kinds: frozenset[str]
    fine_max_person: Decimal
    fine_max_organisation: Decimal
    source: str
    person_code_prefixes: tuple[str, ...] = ()

    def fine_max(self, subject: str) -> tuple[Decimal, str]:
        """The fine limit for ``subject`` and whom it is the limit for."""
        if subject.startswith(self.person_code_prefixes):
            return self.fine_max_person, "person (个体工商户)"
        return self.fine_max_organisation, "organisation"


@dataclass(frozen=True)
class RuleSet:
    """One disclosure rule set, in force from `in_force_from` through `in_force_until`
    (inclusive; None = open-ended). Build with `from_json`; `__post_init__`
    validates (every family × severity present, 0 ≤ min ≤ max for every sector
    override too) and raises `ValueError`."""

    id: str
    title_zh: str
    title_en: str
    source: str
    in_force_from: date
    in_force_until: date | None
    notes: tuple[str, ...]
    publication_deadline: Deadline
    """Publish the act online within this many working days (35号 §十五)."""
    withdrawal_deadline: Deadline
    """Withdraw a revoked penalty from publication within this (行政处罚法 Art. 48)."""
    archive_after_months: int
    """Negative information is public at most this long, then archived (regional)."""
    repair: RepairRule
    periods: Mapping[str, Mapping[str, DisclosurePeriod]]
    """family → severity → the base period (no sector override)."""
    sector_overrides: Mapping[str, PeriodOverride]
    minor_definition: MinorDefinition | None = None
    criteria: Criteria | None = None
    """The criteria of the serious acts (:mod:`commands.criteria`); None: not checked."""
    withdrawal_notice: NoticePeriod | None = None
    """How long the public sees the notice of a withdrawn or revoked penalty decision
    (行政处罚法 Art. 48: agency, date, reason; never the decision's content). None:
    no notice (the decision simply leaves public output)."""
    _table: Mapping[tuple[str, str, str], DisclosurePeriod] = field(
        default_factory=lambda: MappingProxyType({}), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        where = f"rule set {self.id}"
        if self.in_force_until is not None and self.in_force_until < self.in_force_from:
            raise ValueError(f"{where}: in_force_until is before in_force_from")
        table: dict[tuple[str, str, str], DisclosurePeriod] = {}
        for family in FAMILIES:
            if family not in self.periods:
                raise ValueError(f"{where}: periods.{family} is missing")
            for severity in SEVERITIES:
                if severity not in self.periods[family]:
                    raise ValueError(f"{where}: periods.{family}.{severity} is missing")
                base = self.periods[family][severity]
                _check_period(base, f"{where}: periods.{family}.{severity}")
                for sector, override in self.sector_overrides.items():
                    p = override.apply(base)
                    _check_period(p, f"{where}: sector_overrides.{sector} on {family}.{severity}")
                    table[(family, severity, sector)] = p
        object.__setattr__(self, "_table", MappingProxyType(table))

    @property
    def title(self) -> str:
        """The title for people: "中文 / English"."""
        return f"{self.title_zh} / {self.title_en}"

    def covers(self, on: date) -> bool:
        """Whether a decision taking effect on `on` falls under this rule set."""
        return self.in_force_from <= on and (
            self.in_force_until is None or on <= self.in_force_until
        )

    def period(self, family: str, severity: str, sector: str | None = None) -> DisclosurePeriod:
        """The disclosure period of a record of `family` ("penalty", "violation") and
        `severity` ("minor", "general", "serious") in `sector` (a sector without an
        override, or None, gets the base period). Raises `ValueError` for an unknown
        family or severity."""
        if sector is not None:
            hit = self._table.get((family, severity, sector))
            if hit is not None:
                return hit
        by_severity = self.periods.get(family)
        if by_severity is None:
            raise ValueError(
                f"no disclosure periods for record family {family!r}; known: {', '.join(FAMILIES)}"
            )
        base = by_severity.get(severity)
        if base is None:
            raise ValueError(f"unknown severity {severity!r}; known: {', '.join(SEVERITIES)}")
        return base

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "rule set") -> RuleSet:
        """Parse one `disclosure-rule-set` file object; `ValueError` names the defect."""
        rid = obj.get("id") if isinstance(obj, Mapping) else None
        if isinstance(rid, str) and rid:
            where = f"{where} ({rid})"
        return parse(_RuleSetFile, obj, where).rule_set()


class _Title(Strict):
    zh: Text
    en: Text


class _Notice(Strict):
    months: int = Field(ge=1)
    source: Text


class _Period(Strict):
    publish: bool
    min_months: int
    max_months: int


class _Override(Strict):
    publish: bool | None = None
    min_months: int | None = None
    max_months: int | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> _Override:
        if not self.model_fields_set:
            raise ValueError("empty override")
        return self


class _Repair(Strict):
    after_min_period: bool
    requires_rectification: bool
    requires_repair_commitment: bool


class _Minor(Strict):
    procedure: Text
    kinds: tuple[str, ...]
    fine_max_person: DecimalText
    fine_max_organisation: DecimalText
    person_code_prefixes: tuple[Text, ...] = ()
    source: Text


class _RuleSetFile(Strict):
    """The file format of a disclosure rule set (``commands/rules/ndrc-order-*.json``)."""

    kind: Literal["disclosure-rule-set"] = "disclosure-rule-set"
    id: Text
    title: _Title
    source: Text
    in_force_from: Day
    in_force_until: Day | None
    notes: tuple[Text, ...]
    publication_deadline: DeadlineEntry
    withdrawal_deadline: DeadlineEntry
    archive_after_months: int = Field(ge=1)
    repair: _Repair
    minor_definition: _Minor | None = None
    criteria: Criteria | None = None
    periods: dict[
        Literal["penalty", "violation"], dict[Literal["minor", "general", "serious"], _Period]
    ]
    sector_overrides: dict[Text, _Override]
    withdrawal_notice: _Notice | None = None

    def rule_set(self) -> RuleSet:
        """The domain object (which checks every period is present and min ≤ max)."""
        rule_title = f"{self.title.zh} / {self.title.en}"
        periods: dict[str, Mapping[str, DisclosurePeriod]] = {
            family: MappingProxyType(
                {
                    severity: DisclosurePeriod(
                        p.publish, p.min_months, p.max_months, self.id, rule_title
                    )
                    for severity, p in by_severity.items()
                }
            )
            for family, by_severity in self.periods.items()
        }
        m = self.minor_definition
        return RuleSet(
            id=self.id,
            title_zh=self.title.zh,
            title_en=self.title.en,
            source=self.source,
            in_force_from=self.in_force_from,
            in_force_until=self.in_force_until,
            notes=self.notes,
            publication_deadline=self.publication_deadline.deadline(),
            withdrawal_deadline=self.withdrawal_deadline.deadline(),
            archive_after_months=self.archive_after_months,
            repair=RepairRule(**self.repair.model_dump()),
            periods=MappingProxyType(periods),
            sector_overrides=MappingProxyType(
                {
                    sector: PeriodOverride(o.publish, o.min_months, o.max_months)
                    for sector, o in self.sector_overrides.items()
                }
            ),
            minor_definition=None
            if m is None
            else MinorDefinition(
                procedure=m.procedure,
                kinds=frozenset(m.kinds),
                fine_max_person=m.fine_max_person,
                fine_max_organisation=m.fine_max_organisation,
                source=m.source,
                person_code_prefixes=m.person_code_prefixes,
            ),
            criteria=self.criteria,
            withdrawal_notice=None
            if self.withdrawal_notice is None
            else NoticePeriod(self.withdrawal_notice.months, self.withdrawal_notice.source),
        )


def _check_period(p: DisclosurePeriod, where: str) -> None:
    if p.min_months < 0 or p.max_months < 0:
        raise ValueError(f"{where}: months must not be negative")
    if p.min_months > p.max_months:
        raise ValueError(
            f"{where}: min_months {p.min_months} is greater than max_months {p.max_months}"
        )


class NoRuleSet(Exception):
    """No loaded disclosure rule set covers the date `on`.

    The message names the date and the periods the loaded rule sets do cover.
    """

    def __init__(self, on: date, covered: str) -> None:
        self.on: date = on
        super().__init__(
            f"no disclosure rule set is in force on {on.isoformat()}: the loaded rule sets "
            f"cover {covered}; a record decided then cannot be given disclosure periods "
            "until the rule set of its time is added to the rules data (commands/rules/)"
        )


class RuleBook:
    """All disclosure rule sets, which must not overlap in time (gaps are allowed).

    Raises `ValueError` at construction for two rule sets with one id or
    overlapping periods of force.
    """

    def __init__(self, rule_sets: Iterable[RuleSet]) -> None:
        ordered = sorted(rule_sets, key=lambda r: r.in_force_from)
        ids: set[str] = set()
        for r in ordered:
            if r.id in ids:
                raise ValueError(f"two rule sets with the id {r.id!r}")
            ids.add(r.id)
        for a, b in pairwise(ordered):
            if a.in_force_until is None or a.in_force_until >= b.in_force_from:
                raise ValueError(
                    f"rule sets {a.id} ({_span(a)}) and {b.id} ({_span(b)}) overlap; "
                    "each date must be governed by one rule set"
                )
        self._rule_sets: tuple[RuleSet, ...] = tuple(ordered)
        self._by_id: dict[str, RuleSet] = {r.id: r for r in ordered}

    @classmethod
    def from_files(cls, groups: Iterable[tuple[str, Iterable[RulesFile]]]) -> RuleBook:
        """The rule sets of ``groups``: (origin, its `disclosure-rule-set` files), the
        package's first, then each deployment directory. A rule set in a later group
        replaces an earlier one with the same id; two with one id in one group are an
        error. Raises `ValueError` (naming the file) for a malformed file or overlapping
        rule sets."""
        by_id: dict[str, RuleSet] = {}
        for origin, files in groups:
            here: set[str] = set()
            for name, obj in files:
                rule_set = RuleSet.from_json(obj, where=name)
                if rule_set.id in here:
                    raise ValueError(f"{origin}: two files define rule set {rule_set.id!r}")
                here.add(rule_set.id)
                by_id[rule_set.id] = rule_set
        return cls(by_id.values())

    @property
    def rule_sets(self) -> tuple[RuleSet, ...]:
        """The rule sets, oldest first."""
        return self._rule_sets

    def get(self, rule_set_id: str) -> RuleSet:
        """The rule set with this id; `KeyError` if none."""
        try:
            return self._by_id[rule_set_id]
        except KeyError:
            raise KeyError(f"no rule set {rule_set_id!r}") from None

    def in_force(self, on: date) -> RuleSet:
        """The rule set governing a decision whose valid date is `on` (the day of the
        event's `time` in China Standard Time). Raises `NoRuleSet` if none covers it,
        `TypeError` for a datetime."""
        _check_on(on)
        for r in self._rule_sets:
            if r.covers(on):
                return r
        covered = ", ".join(f"{_span(r)} ({r.id})" for r in self._rule_sets) or "nothing"
        raise NoRuleSet(on, covered)


def period_for(
    rulebook: RuleBook, decided: date, family: str, severity: str, sector: str | None
) -> tuple[RuleSet, DisclosurePeriod]:
    """The rule set in force on ``decided`` (the finding's valid day) and the disclosure
    period it gives a ``family`` record of ``severity`` in ``sector``: the one question
    "which period applies to these facts", asked by the decisions (repair, inspection
    tiers) and the projections (lifecycles, disclosure) alike.

    Raises `NoRuleSet` when no rule set covers ``decided`` and `ValueError` for an
    unknown family or severity."""
    rule_set = rulebook.in_force(decided)
    return rule_set, rule_set.period(family, severity, sector)


def _span(r: RuleSet) -> str:
    until = "open-ended" if r.in_force_until is None else r.in_force_until.isoformat()
    return f"{r.in_force_from.isoformat()} – {until}"
