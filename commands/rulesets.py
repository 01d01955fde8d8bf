"""Disclosure and repair rule sets, and procedure deadlines, as versioned data.

The numbers of the credit rules (how long a penalty is public, when repair may be
asked for, how fast an objection is decided, how records weigh in a grade) change
by year and by region. They live in `commands/rules/*.json`, one file per rule
set plus `procedures.json`, and are read once at start-up; this module parses and
validates them and answers questions about them. Nothing here reads a clock: the
date a question is about always comes in as an argument.

* `RuleBook.in_force(on)` picks the disclosure rule set by the *valid* date of the
  decision (DOMAIN.md: a penalty decided on 2026-03-15 keeps Order 58's periods
  even if recorded in May). `RuleSet.period(family, severity, sector)` then gives
  the `DisclosurePeriod`; `period_for(rulebook, decided, family, severity, sector)`
  asks both at once, and is what every caller uses.
* `Procedures` holds the objection deadlines per region, the list notice window,
  the spot-check ratios and the grade schemes.
* `add_months` is the calendar-month arithmetic every period uses.

File kinds: each JSON file in a rules directory has `"kind"`:
`"disclosure-rule-set"` (read by `RuleBook`) or `"procedures"` (read by
`Procedures`). Files in the extra directories given to `load` replace the
packaged data with the same id (a rule set id; a region, scheme id for
procedures), which is how a deployment configures regional variants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field, model_validator

from commands.criteria import KIND_MEASURES, Criteria
from commands.parsing import Day, DecimalText, Strict, Text, parse

__all__ = [
    "FAMILIES",
    "SEVERITIES",
    "Deadline",
    "DisclosurePeriod",
    "GradeScheme",
    "MinorDefinition",
    "NoRuleSet",
    "NoticePeriod",
    "ObjectionProfile",
    "PeriodOverride",
    "Procedures",
    "RepairRule",
    "RuleBook",
    "RuleSet",
    "SpotCheckScheme",
    "add_months",
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


# -- calendar months -------------------------------------------------------------------


def add_months(d: date, months: int) -> date:
    """`d` plus `months` calendar months (negative allowed), clamped to the month's end.

    2026-01-31 + 1 → 2026-02-28; 2024-01-31 + 1 → 2024-02-29; 2026-03-31 − 1 →
    2026-02-28. Raises `ValueError` if the result is outside the years 1–9999.
    """
    if isinstance(months, bool) or not isinstance(months, int):
        raise TypeError(f"months must be an integer, not {months!r}")
    total = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(total, 12)
    month = month0 + 1
    if not 1 <= year <= 9999:
        raise ValueError(f"{d.isoformat()} + {months} months is outside the years 1–9999")
    last = 31 if month == 12 else (date(year, month + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


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
class DisclosurePeriod:
    """How a record is disclosed under one rule set.

    `publish` false means the record is normally not published at all (minor
    penalties from 2026-04-01); `max_months` then bounds an exceptional
    publication. Repair may be requested once `min_months` have passed since the
    decision; disclosure stops by itself after `max_months`.
    """

    publish: bool
    min_months: int
    max_months: int
    rule_set: str
    """The id of the rule set this comes from, e.g. "ndrc-order-36"."""
    rule_title: str
    """The rule set's title for people ("中文 / English")."""

    def repair_from(self, decided: date) -> date:
        """The first day repair may be requested for a record decided on `decided`."""
        return add_months(decided, self.min_months)

    def ends_by(self, decided: date) -> date:
        """The day disclosure ends by itself (the maximum period is over)."""
        return add_months(decided, self.max_months)


@dataclass(frozen=True)
class PeriodOverride:
    """A partial period for a sector: the fields that are not None replace the base."""

    publish: bool | None = None
    min_months: int | None = None
    max_months: int | None = None

    def apply(self, base: DisclosurePeriod) -> DisclosurePeriod:
        return replace(
            base,
            publish=base.publish if self.publish is None else self.publish,
            min_months=base.min_months if self.min_months is None else self.min_months,
            max_months=base.max_months if self.max_months is None else self.max_months,
        )


@dataclass(frozen=True)
class Deadline:
    """A deadline in working days (the start day not counted) and its legal source."""

    working_days: int
    source: str


@dataclass(frozen=True)
class NoticePeriod:
    """A period in months during which a notice stays public, and its source."""

    months: int
    source: str


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


class _Deadline(Strict):
    working_days: int = Field(ge=1)
    source: Text

    def deadline(self) -> Deadline:
        return Deadline(self.working_days, self.source)


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
    publication_deadline: _Deadline
    withdrawal_deadline: _Deadline
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


# -- procedures: objections, spot checks, grades ------------------------------------


@dataclass(frozen=True)
class ObjectionProfile:
    """How one region handles an objection (异议): deadlines in working days after
    the filing day, whether they may be extended, and whether the targeted
    record's measures are suspended while it is verified."""

    region: str
    flag_working_days: int
    decide_working_days: int
    extensions_allowed: bool
    suspend_measures_during_verification: bool
    source: str


@dataclass(frozen=True)
class SpotCheckScheme:
    """Spot-check (双随机) ratios by risk grade, as exact decimals in [0, 1]."""

    id: str
    source: str
    ratios: Mapping[str, Decimal]


@dataclass(frozen=True)
class GradeScheme:
    """A versioned points scheme: start at `start`, add `points[key]` per record
    (keys such as "penalty.serious", "list.focus", "commitment.breached",
    "registration.submitted"), bounding the total of a key by `caps[key]` in
    absolute value; the grade is the first of `grades` whose minimum the score
    reaches (the last one has no minimum)."""

    id: str
    title: str
    start: int
    grades: tuple[tuple[str, int | None], ...]
    points: Mapping[str, int]
    caps: Mapping[str, int]

    def grade_for(self, score: int) -> str:
        """The grade of `score`."""
        for grade, minimum in self.grades:
            if minimum is None or score >= minimum:
                return grade
        raise AssertionError("unreachable: the last grade has no minimum")

    def points_for(self, key: str) -> int:
        """The points one record of `key` adds (negative: a deduction). `KeyError`
        names the known keys if `key` has none."""
        try:
            return self.points[key]
        except KeyError:
            raise KeyError(
                f"grade scheme {self.id} has no points for {key!r}; "
                f"known: {', '.join(sorted(self.points))}"
            ) from None

    def cap(self, key: str) -> int | None:
        """The bound on the absolute total of `key`'s points, or None."""
        return self.caps.get(key)


class Procedures:
    """Objection deadlines per region, the list notice window, spot-check ratios
    and grade schemes.

    Build with `load` (or `from_json` for one file object); all values are
    validated at construction (`ValueError`). `list_notice` is the notice and
    objection window between a list proposal and its designation (working days
    after the proposal's day), or None when the procedures set none.
    """

    def __init__(
        self,
        version: str,
        objection: Mapping[str, ObjectionProfile],
        spot_checks: Mapping[str, SpotCheckScheme],
        default_spot_check: str,
        grade_schemes: Mapping[str, GradeScheme],
        default_grade_scheme: str,
        notes: tuple[str, ...] = (),
        list_notice: Deadline | None = None,
    ) -> None:
        if "default" not in objection:
            raise ValueError("procedures: objection region `default` is missing")
        if default_spot_check not in spot_checks:
            raise ValueError(
                f"procedures: default spot-check scheme {default_spot_check!r} is not defined"
            )
        if default_grade_scheme not in grade_schemes:
            raise ValueError(
                f"procedures: default grade scheme {default_grade_scheme!r} is not defined"
            )
        self.version = version
        self.notes = notes
        self.list_notice = list_notice
        self._objection = dict(objection)
        self._spot_checks = dict(spot_checks)
        self._default_spot_check = default_spot_check
        self._grade_schemes = dict(grade_schemes)
        self._default_grade_scheme = default_grade_scheme

    @classmethod
    def from_files(cls, files: Iterable[RulesFile]) -> Procedures:
        """The `procedures` files in load order (the package's, then a deployment's),
        merged key by key, later ones replacing earlier entries (a region, a spot-check
        scheme, a grade scheme, a default); a replaced region inherits from `default`.
        `ValueError` names the files and the defect."""
        names: list[str] = []
        merged = _ProceduresFile()
        for name, obj in files:
            names.append(name)
            merged = merged.merge(parse(_ProceduresFile, obj, name))
        if not names:
            raise ValueError("no procedures file found (commands/rules/procedures.json)")
        return merged.procedures(" + ".join(names))

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "procedures") -> Procedures:
        """Parse one complete `procedures` object (format: commands/rules/procedures.json)."""
        return parse(_ProceduresFile, obj, where).procedures(where)

    # -- typed access ----------------------------------------------------------------

    def regions(self) -> tuple[str, ...]:
        """The regions with an objection profile (including "default")."""
        return tuple(sorted(self._objection))

    def objection_profile(self, region: str | None = None) -> ObjectionProfile:
        """The profile of `region` (None → "default"). An unknown region is an error
        (`ValueError`), not a silent fallback: it is a configuration mistake."""
        key = "default" if region is None else region
        try:
            return self._objection[key]
        except KeyError:
            raise ValueError(
                f"no objection profile for region {region!r}; known: {', '.join(self.regions())}"
            ) from None

    def objection_deadlines(self, region: str | None = None) -> tuple[int, int]:
        """(flag within, decide within), both in working days after the filing day."""
        p = self.objection_profile(region)
        return (p.flag_working_days, p.decide_working_days)

    def spot_check_ratios(self, scheme: str | None = None) -> dict[str, Decimal]:
        """Risk grade → spot-check ratio (a fresh dict of exact decimals)."""
        key = self._default_spot_check if scheme is None else scheme
        try:
            return dict(self._spot_checks[key].ratios)
        except KeyError:
            raise ValueError(
                f"no spot-check scheme {scheme!r}; known: {', '.join(sorted(self._spot_checks))}"
            ) from None

    def spot_check_scheme(self, scheme: str | None = None) -> SpotCheckScheme:
        """The spot-check scheme `scheme` (None → the default). `ValueError` if unknown."""
        key = self._default_spot_check if scheme is None else scheme
        try:
            return self._spot_checks[key]
        except KeyError:
            raise ValueError(
                f"no spot-check scheme {scheme!r}; known: {', '.join(sorted(self._spot_checks))}"
            ) from None

    def grade_scheme(self, id: str | None = None) -> GradeScheme:
        """The grade scheme `id` (None → the default). `ValueError` if unknown."""
        key = self._default_grade_scheme if id is None else id
        try:
            return self._grade_schemes[key]
        except KeyError:
            raise ValueError(
                f"no grade scheme {id!r}; known: {', '.join(sorted(self._grade_schemes))}"
            ) from None


class _ObjectionRegion(Strict):
    """A region's objection profile; a region other than `default` may give only some
    fields (the rest come from `default`)."""

    flag_working_days: int | None = Field(None, ge=1)
    decide_working_days: int | None = Field(None, ge=1)
    extensions_allowed: bool | None = None
    suspend_measures_during_verification: bool | None = None
    source: Text | None = None


class _Objection(Strict):
    regions: dict[str, _ObjectionRegion] = Field(default_factory=dict)


class _SpotCheckScheme(Strict):
    source: Text
    ratios: dict[str, DecimalText] = Field(min_length=1)

    @model_validator(mode="after")
    def _ratios(self) -> _SpotCheckScheme:
        for grade, ratio in self.ratios.items():
            if not Decimal(0) <= ratio <= Decimal(1):
                raise ValueError(f"ratios.{grade}: {ratio} is not between 0 and 1")
        return self


class _SpotChecks(Strict):
    default: Text | None = None
    schemes: dict[str, _SpotCheckScheme] = Field(default_factory=dict)


class _Grade(Strict):
    grade: Text
    min: int | None


class _GradeScheme(Strict):
    title: Text
    start: int = Field(ge=0)
    grades: tuple[_Grade, ...] = Field(min_length=1)
    points: dict[str, int]
    caps: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> _GradeScheme:
        names = [g.grade for g in self.grades]
        if len(set(names)) != len(names):
            raise ValueError("grades: a grade is listed twice")
        if self.grades[-1].min is not None or any(g.min is None for g in self.grades[:-1]):
            raise ValueError("grades: only the last grade has no minimum (min null)")
        mins = [g.min for g in self.grades[:-1] if g.min is not None]
        if any(a <= b for a, b in pairwise(mins)):
            raise ValueError("grades: minimums must strictly decrease")
        for key, cap in self.caps.items():
            if cap < 1:
                raise ValueError(f"caps.{key}: {cap} is less than 1")
        stray = sorted(set(self.caps) - set(self.points))
        if stray:
            raise ValueError(f"caps: no points defined for {', '.join(stray)}")
        return self

    def scheme(self, gid: str) -> GradeScheme:
        return GradeScheme(
            id=gid,
            title=self.title,
            start=self.start,
            grades=tuple((g.grade, g.min) for g in self.grades),
            points=MappingProxyType(dict(self.points)),
            caps=MappingProxyType(dict(self.caps)),
        )


class _GradeSchemes(Strict):
    default: Text | None = None
    schemes: dict[str, _GradeScheme] = Field(default_factory=dict)


class _Lists(Strict):
    notice: _Deadline


class _ProceduresFile(Strict):
    """The file format of `procedures` (commands/rules/procedures.json); a deployment's
    file may give any part of it (:meth:`merge`)."""

    kind: Literal["procedures"] = "procedures"
    version: Text | None = None
    notes: tuple[Text, ...] = ()
    objection: _Objection = _Objection()
    lists: _Lists | None = None
    spot_check: _SpotChecks = _SpotChecks()
    grade_schemes: _GradeSchemes = _GradeSchemes()

    def merge(self, later: _ProceduresFile) -> _ProceduresFile:
        """This file with ``later`` folded over it, key by key (later wins)."""
        given = later.model_fields_set
        return _ProceduresFile(
            version=later.version if later.version is not None else self.version,
            notes=(*self.notes, *later.notes),
            objection=_Objection(regions={**self.objection.regions, **later.objection.regions}),
            lists=later.lists if "lists" in given else self.lists,
            spot_check=_SpotChecks(
                default=later.spot_check.default or self.spot_check.default,
                schemes={**self.spot_check.schemes, **later.spot_check.schemes},
            ),
            grade_schemes=_GradeSchemes(
                default=later.grade_schemes.default or self.grade_schemes.default,
                schemes={**self.grade_schemes.schemes, **later.grade_schemes.schemes},
            ),
        )

    def procedures(self, where: str) -> Procedures:
        """The complete procedures; `ValueError` (naming ``where``) for a missing part."""
        if self.version is None:
            raise ValueError(f"{where}: missing `version`")
        default = self.objection.regions.get("default")
        if default is None:
            raise ValueError(f"{where}: objection.regions.default is missing")
        missing = sorted(k for k, v in default.model_dump().items() if v is None)
        if missing:
            raise ValueError(
                f"{where}: objection.regions.default must set every field; "
                f"missing {', '.join(missing)}"
            )
        objection: dict[str, ObjectionProfile] = {}
        for region, raw in self.objection.regions.items():
            full = {**default.model_dump(), **raw.model_dump(exclude_none=True)}
            profile = ObjectionProfile(region=region, **full)
            if profile.flag_working_days > profile.decide_working_days:
                raise ValueError(
                    f"{where}: objection.regions.{region}: flag_working_days exceeds "
                    "decide_working_days"
                )
            objection[region] = profile
        if self.spot_check.default is None:
            raise ValueError(f"{where}: spot_check: missing `default`")
        if self.grade_schemes.default is None:
            raise ValueError(f"{where}: grade_schemes: missing `default`")
        return Procedures(
            version=self.version,
            objection=objection,
            spot_checks={
                sid: SpotCheckScheme(sid, raw.source, MappingProxyType(dict(raw.ratios)))
                for sid, raw in self.spot_check.schemes.items()
            },
            default_spot_check=self.spot_check.default,
            grade_schemes={gid: raw.scheme(gid) for gid, raw in self.grade_schemes.schemes.items()},
            default_grade_scheme=self.grade_schemes.default,
            notes=self.notes,
            list_notice=None if self.lists is None else self.lists.notice.deadline(),
        )
