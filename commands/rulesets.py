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
  the `DisclosurePeriod`.
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

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any

from commands.criteria import KIND_MEASURES, Criteria, parse_criteria

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


# -- small parsing helpers (errors name the file and the key) -----------------------


def _require(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise ValueError(f"{where}: missing `{key}`")
    return obj[key]


def _int(value: Any, where: str, minimum: int | None = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: {value!r} is not an integer")
    if minimum is not None and value < minimum:
        raise ValueError(f"{where}: {value} is less than {minimum}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where}: {value!r} is not true or false")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {value!r} is not a non-empty string")
    return value


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a JSON object")
    return value


def _date(value: Any, where: str) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"{where}: {value!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a date written YYYY-MM-DD") from None


def _decimal(value: Any, where: str) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f'{where}: {value!r} must be a decimal string such as "0.30"')
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{where}: {value!r} is not a decimal number") from None
    if not result.is_finite():
        raise ValueError(f"{where}: {value!r} is not a finite decimal number")
    return result


def _check_keys(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _check_on(on: object) -> date:
    if isinstance(on, datetime):
        raise TypeError(
            "pass the valid date as a date (the day in China Standard Time), not a datetime"
        )
    if not isinstance(on, date):
        raise TypeError(f"expected a datetime.date, not {type(on).__name__}")
    return on


def _read_json_files(
    directories: Iterable[Path], kind: str
) -> list[tuple[str, list[tuple[str, Mapping[str, Any]]]]]:
    """Every JSON object of `kind` in the package's rules folder, then in each
    directory given: a list of (origin, [(file name, object)]) in load order."""
    groups: list[tuple[str, list[tuple[str, Mapping[str, Any]]]]] = []
    package_dir = resources.files(__package__ or "commands") / "rules"
    entries: list[Traversable | Path] = []
    if package_dir.is_dir():
        entries = sorted(
            (e for e in package_dir.iterdir() if e.name.endswith(".json") and e.is_file()),
            key=lambda e: e.name,
        )
    groups.append(("the package's commands/rules", _read_kind(entries, kind)))
    for directory in directories:
        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(f"rules directory {directory} does not exist")
        groups.append((str(directory), _read_kind(sorted(directory.glob("*.json")), kind)))
    return groups


def _read_kind(
    entries: Iterable[Traversable | Path], kind: str
) -> list[tuple[str, Mapping[str, Any]]]:
    found: list[tuple[str, Mapping[str, Any]]] = []
    for entry in entries:
        name = str(entry)
        try:
            obj = json.loads(entry.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{name}: not valid UTF-8 JSON ({exc})") from exc
        if not isinstance(obj, Mapping):
            raise ValueError(f"{name}: a rules file must hold one JSON object")
        file_kind = obj.get("kind")
        if file_kind not in KINDS:
            raise ValueError(
                f"{name}: `kind` is {file_kind!r}; expected one of {', '.join(map(repr, KINDS))}"
            )
        if file_kind == kind:
            found.append((name, obj))
    return found


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
        obj = _obj(obj, where)
        _check_keys(
            obj,
            {
                "kind",
                "id",
                "title",
                "source",
                "in_force_from",
                "in_force_until",
                "notes",
                "publication_deadline",
                "withdrawal_deadline",
                "archive_after_months",
                "repair",
                "minor_definition",
                "criteria",
                "periods",
                "sector_overrides",
                "withdrawal_notice",
            },
            where,
        )
        rid = _str(_require(obj, "id", where), f"{where}: id")
        where = f"{where} ({rid})"
        title = _obj(_require(obj, "title", where), f"{where}: title")
        until_raw = _require(obj, "in_force_until", where)
        notes_raw = _require(obj, "notes", where)
        if not isinstance(notes_raw, list):
            raise ValueError(f"{where}: notes must be a list of strings")
        title_zh = _str(_require(title, "zh", f"{where}: title"), f"{where}: title.zh")
        title_en = _str(_require(title, "en", f"{where}: title"), f"{where}: title.en")
        rule_title = f"{title_zh} / {title_en}"

        periods: dict[str, Mapping[str, DisclosurePeriod]] = {}
        periods_raw = _obj(_require(obj, "periods", where), f"{where}: periods")
        _check_keys(periods_raw, set(FAMILIES), f"{where}: periods")
        for family, by_sev_raw in periods_raw.items():
            w = f"{where}: periods.{family}"
            by_sev_raw = _obj(by_sev_raw, w)
            _check_keys(by_sev_raw, set(SEVERITIES), w)
            by_sev: dict[str, DisclosurePeriod] = {}
            for severity, p_raw in by_sev_raw.items():
                pw = f"{w}.{severity}"
                p_raw = _obj(p_raw, pw)
                _check_keys(p_raw, {"publish", "min_months", "max_months"}, pw)
                by_sev[severity] = DisclosurePeriod(
                    publish=_bool(_require(p_raw, "publish", pw), f"{pw}.publish"),
                    min_months=_int(_require(p_raw, "min_months", pw), f"{pw}.min_months"),
                    max_months=_int(_require(p_raw, "max_months", pw), f"{pw}.max_months"),
                    rule_set=rid,
                    rule_title=rule_title,
                )
            periods[family] = MappingProxyType(by_sev)

        overrides: dict[str, PeriodOverride] = {}
        ov_raw = _obj(_require(obj, "sector_overrides", where), f"{where}: sector_overrides")
        for sector, o in ov_raw.items():
            ow = f"{where}: sector_overrides.{sector}"
            o = _obj(o, ow)
            _check_keys(o, {"publish", "min_months", "max_months"}, ow)
            if not o:
                raise ValueError(f"{ow}: empty override")
            overrides[_str(sector, ow)] = PeriodOverride(
                publish=None if "publish" not in o else _bool(o["publish"], f"{ow}.publish"),
                min_months=(
                    None if "min_months" not in o else _int(o["min_months"], f"{ow}.min_months")
                ),
                max_months=(
                    None if "max_months" not in o else _int(o["max_months"], f"{ow}.max_months")
                ),
            )

        repair_raw = _obj(_require(obj, "repair", where), f"{where}: repair")
        rw = f"{where}: repair"
        _check_keys(
            repair_raw,
            {"after_min_period", "requires_rectification", "requires_repair_commitment"},
            rw,
        )
        repair = RepairRule(
            after_min_period=_bool(
                _require(repair_raw, "after_min_period", rw), f"{rw}.after_min_period"
            ),
            requires_rectification=_bool(
                _require(repair_raw, "requires_rectification", rw),
                f"{rw}.requires_rectification",
            ),
            requires_repair_commitment=_bool(
                _require(repair_raw, "requires_repair_commitment", rw),
                f"{rw}.requires_repair_commitment",
            ),
        )

        minor: MinorDefinition | None = None
        if obj.get("minor_definition") is not None:
            mw = f"{where}: minor_definition"
            m = _obj(obj["minor_definition"], mw)
            _check_keys(
                m,
                {
                    "procedure",
                    "kinds",
                    "fine_max_person",
                    "fine_max_organisation",
                    "person_code_prefixes",
                    "source",
                },
                mw,
            )
            prefixes = m.get("person_code_prefixes", [])
            if not isinstance(prefixes, list) or not all(
                isinstance(p, str) and p for p in prefixes
            ):
                raise ValueError(f"{mw}.person_code_prefixes: expected a list of code prefixes")
            kinds = _require(m, "kinds", mw)
            if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
                raise ValueError(f"{mw}.kinds: expected a list of strings")
            minor = MinorDefinition(
                procedure=_str(_require(m, "procedure", mw), f"{mw}.procedure"),
                kinds=frozenset(kinds),
                fine_max_person=_decimal(
                    _require(m, "fine_max_person", mw), f"{mw}.fine_max_person"
                ),
                fine_max_organisation=_decimal(
                    _require(m, "fine_max_organisation", mw), f"{mw}.fine_max_organisation"
                ),
                source=_str(_require(m, "source", mw), f"{mw}.source"),
                person_code_prefixes=tuple(prefixes),
            )

        return cls(
            id=rid,
            title_zh=title_zh,
            title_en=title_en,
            source=_str(_require(obj, "source", where), f"{where}: source"),
            in_force_from=_date(_require(obj, "in_force_from", where), f"{where}: in_force_from"),
            in_force_until=(
                None if until_raw is None else _date(until_raw, f"{where}: in_force_until")
            ),
            notes=tuple(_str(n, f"{where}: notes") for n in notes_raw),
            publication_deadline=_deadline(
                _require(obj, "publication_deadline", where), f"{where}: publication_deadline"
            ),
            withdrawal_deadline=_deadline(
                _require(obj, "withdrawal_deadline", where), f"{where}: withdrawal_deadline"
            ),
            archive_after_months=_int(
                _require(obj, "archive_after_months", where),
                f"{where}: archive_after_months",
                minimum=1,
            ),
            repair=repair,
            periods=MappingProxyType(periods),
            sector_overrides=MappingProxyType(overrides),
            minor_definition=minor,
            criteria=(
                None if obj.get("criteria") is None else parse_criteria(obj["criteria"], where)
            ),
            withdrawal_notice=_notice(obj.get("withdrawal_notice"), f"{where}: withdrawal_notice"),
        )


def _notice(value: Any, where: str) -> NoticePeriod | None:
    if value is None:
        return None
    d = _obj(value, where)
    _check_keys(d, {"months", "source"}, where)
    return NoticePeriod(
        months=_int(_require(d, "months", where), f"{where}.months", 1),
        source=_str(_require(d, "source", where), f"{where}.source"),
    )


def _deadline(value: Any, where: str) -> Deadline:
    d = _obj(value, where)
    _check_keys(d, {"working_days", "source"}, where)
    return Deadline(
        working_days=_int(_require(d, "working_days", where), f"{where}.working_days", 1),
        source=_str(_require(d, "source", where), f"{where}.source"),
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
    def load(cls, directories: Iterable[Path] = ()) -> RuleBook:
        """The rule sets of the package's `commands/rules/` plus those of each directory
        given. A rule set in a later directory replaces an earlier one with the same
        id; two with one id in the same directory are an error. Raises
        `FileNotFoundError` for a missing directory and `ValueError` (naming the
        file) for a malformed file or overlapping rule sets."""
        by_id: dict[str, RuleSet] = {}
        for origin, files in _read_json_files(directories, KIND_RULE_SET):
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
    def load(cls, directories: Iterable[Path] = ()) -> Procedures:
        """The package's `commands/rules/procedures.json` merged with every
        `procedures` file in the directories given, later ones replacing earlier
        entries key by key (a region, a spot-check scheme, a grade scheme, a
        default). Raises `FileNotFoundError`/`ValueError` like `RuleBook.load`."""
        merged: dict[str, Any] = {
            "kind": KIND_PROCEDURES,
            "version": None,
            "notes": [],
            "objection": {"regions": {}},
            "lists": None,
            "spot_check": {"default": None, "schemes": {}},
            "grade_schemes": {"default": None, "schemes": {}},
        }
        names: list[str] = []
        for _origin, files in _read_json_files(directories, KIND_PROCEDURES):
            for name, obj in files:
                names.append(name)
                _merge_procedures(merged, obj, name)
        if not names:
            raise ValueError("no procedures file found (commands/rules/procedures.json)")
        return cls.from_json(merged, where=" + ".join(names))

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "procedures") -> Procedures:
        """Parse one complete `procedures` object (format: commands/rules/procedures.json)."""
        obj = _obj(obj, where)
        _check_keys(
            obj,
            {"kind", "version", "notes", "objection", "lists", "spot_check", "grade_schemes"},
            where,
        )
        version = _str(_require(obj, "version", where), f"{where}: version")
        notes_raw = obj.get("notes", [])
        if not isinstance(notes_raw, list):
            raise ValueError(f"{where}: notes must be a list of strings")

        regions_raw = _obj(
            _require(
                _obj(_require(obj, "objection", where), f"{where}: objection"),
                "regions",
                f"{where}: objection",
            ),
            f"{where}: objection.regions",
        )
        if "default" not in regions_raw:
            raise ValueError(f"{where}: objection.regions.default is missing")
        fields_ = {
            "flag_working_days",
            "decide_working_days",
            "extensions_allowed",
            "suspend_measures_during_verification",
            "source",
        }
        default_raw = _obj(regions_raw["default"], f"{where}: objection.regions.default")
        missing = sorted(fields_ - set(default_raw))
        if missing:
            raise ValueError(
                f"{where}: objection.regions.default must set every field; "
                f"missing {', '.join(missing)}"
            )
        objection: dict[str, ObjectionProfile] = {}
        for region, raw in regions_raw.items():
            rw = f"{where}: objection.regions.{region}"
            raw = _obj(raw, rw)
            _check_keys(raw, fields_, rw)
            full = {**default_raw, **raw}
            profile = ObjectionProfile(
                region=region,
                flag_working_days=_int(full["flag_working_days"], f"{rw}.flag_working_days", 1),
                decide_working_days=_int(
                    full["decide_working_days"], f"{rw}.decide_working_days", 1
                ),
                extensions_allowed=_bool(full["extensions_allowed"], f"{rw}.extensions_allowed"),
                suspend_measures_during_verification=_bool(
                    full["suspend_measures_during_verification"],
                    f"{rw}.suspend_measures_during_verification",
                ),
                source=_str(full["source"], f"{rw}.source"),
            )
            if profile.flag_working_days > profile.decide_working_days:
                raise ValueError(f"{rw}: flag_working_days exceeds decide_working_days")
            objection[region] = profile

        sc = _obj(_require(obj, "spot_check", where), f"{where}: spot_check")
        _check_keys(sc, {"default", "schemes"}, f"{where}: spot_check")
        spot_checks: dict[str, SpotCheckScheme] = {}
        for sid, raw in _obj(
            _require(sc, "schemes", where), f"{where}: spot_check.schemes"
        ).items():
            sw = f"{where}: spot_check.schemes.{sid}"
            raw = _obj(raw, sw)
            _check_keys(raw, {"source", "ratios"}, sw)
            ratios: dict[str, Decimal] = {}
            for grade, value in _obj(_require(raw, "ratios", sw), f"{sw}.ratios").items():
                ratio = _decimal(value, f"{sw}.ratios.{grade}")
                if not Decimal(0) <= ratio <= Decimal(1):
                    raise ValueError(f"{sw}.ratios.{grade}: {value} is not between 0 and 1")
                ratios[grade] = ratio
            if not ratios:
                raise ValueError(f"{sw}.ratios: empty")
            spot_checks[sid] = SpotCheckScheme(
                id=sid,
                source=_str(_require(raw, "source", sw), f"{sw}.source"),
                ratios=MappingProxyType(ratios),
            )

        gs = _obj(_require(obj, "grade_schemes", where), f"{where}: grade_schemes")
        _check_keys(gs, {"default", "schemes"}, f"{where}: grade_schemes")
        schemes: dict[str, GradeScheme] = {}
        for gid, raw in _obj(
            _require(gs, "schemes", where), f"{where}: grade_schemes.schemes"
        ).items():
            schemes[gid] = _grade_scheme(gid, raw, f"{where}: grade_schemes.schemes.{gid}")

        return cls(
            version=version,
            objection=objection,
            spot_checks=spot_checks,
            default_spot_check=_str(_require(sc, "default", where), f"{where}: spot_check.default"),
            grade_schemes=schemes,
            default_grade_scheme=_str(
                _require(gs, "default", where), f"{where}: grade_schemes.default"
            ),
            notes=tuple(_str(n, f"{where}: notes") for n in notes_raw),
            list_notice=_list_notice(obj.get("lists"), f"{where}: lists"),
        )

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


def _list_notice(raw: Any, where: str) -> Deadline | None:
    """`lists.notice`: {"working_days": n ≥ 1, "source": "…"}; absent or null → None."""
    if raw is None:
        return None
    raw = _obj(raw, where)
    _check_keys(raw, {"notice"}, where)
    return _deadline(_require(raw, "notice", where), f"{where}.notice")


def _grade_scheme(gid: str, raw: Any, where: str) -> GradeScheme:
    raw = _obj(raw, where)
    _check_keys(raw, {"title", "start", "grades", "points", "caps"}, where)
    grades_raw = _require(raw, "grades", where)
    if not isinstance(grades_raw, list) or not grades_raw:
        raise ValueError(f"{where}.grades: expected a non-empty list")
    grades: list[tuple[str, int | None]] = []
    for i, g in enumerate(grades_raw):
        gw = f"{where}.grades[{i}]"
        g = _obj(g, gw)
        _check_keys(g, {"grade", "min"}, gw)
        minimum = _require(g, "min", gw)
        grades.append(
            (
                _str(_require(g, "grade", gw), f"{gw}.grade"),
                None if minimum is None else _int(minimum, f"{gw}.min", minimum=None),
            )
        )
    names = [g for g, _ in grades]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}.grades: a grade is listed twice")
    if grades[-1][1] is not None or any(m is None for _, m in grades[:-1]):
        raise ValueError(f"{where}.grades: only the last grade has no minimum (min null)")
    mins = [m for _, m in grades[:-1] if m is not None]
    if any(a <= b for a, b in pairwise(mins)):
        raise ValueError(f"{where}.grades: minimums must strictly decrease")
    points = {
        k: _int(v, f"{where}.points.{k}", minimum=None)
        for k, v in _obj(_require(raw, "points", where), f"{where}.points").items()
    }
    caps = {
        k: _int(v, f"{where}.caps.{k}", minimum=1)
        for k, v in _obj(raw.get("caps", {}), f"{where}.caps").items()
    }
    stray = sorted(set(caps) - set(points))
    if stray:
        raise ValueError(f"{where}.caps: no points defined for {', '.join(stray)}")
    return GradeScheme(
        id=gid,
        title=_str(_require(raw, "title", where), f"{where}.title"),
        start=_int(_require(raw, "start", where), f"{where}.start"),
        grades=tuple(grades),
        points=MappingProxyType(points),
        caps=MappingProxyType(caps),
    )


def _merge_procedures(merged: dict[str, Any], obj: Mapping[str, Any], where: str) -> None:
    """Fold one procedures file into `merged`, key by key (later wins)."""
    _check_keys(
        obj,
        {"kind", "version", "notes", "objection", "lists", "spot_check", "grade_schemes"},
        where,
    )
    if "version" in obj:
        merged["version"] = obj["version"]
    notes = obj.get("notes", [])
    if not isinstance(notes, list):
        raise ValueError(f"{where}: notes must be a list of strings")
    merged["notes"].extend(notes)
    if "objection" in obj:
        objection = _obj(obj["objection"], f"{where}: objection")
        _check_keys(objection, {"regions"}, f"{where}: objection")
        merged["objection"]["regions"].update(
            _obj(objection.get("regions", {}), f"{where}: objection.regions")
        )
    if "lists" in obj:
        merged["lists"] = obj["lists"]
    for key in ("spot_check", "grade_schemes"):
        if key in obj:
            part = _obj(obj[key], f"{where}: {key}")
            _check_keys(part, {"default", "schemes"}, f"{where}: {key}")
            if "default" in part:
                merged[key]["default"] = part["default"]
            merged[key]["schemes"].update(_obj(part.get("schemes", {}), f"{where}: {key}.schemes"))
