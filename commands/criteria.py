"""The criteria that guard the serious acts, as data (DOMAIN.md "Criteria that
guard the serious acts" and its Clarifications).

Two kinds of configuration, both parsed by :mod:`commands.parsing` models at start-up (a defect
is a ``ValueError`` naming the file and the field):

* :class:`Criteria` — the ``criteria`` object of a disclosure rule set
  (``commands/rules/ndrc-order-*.json``), so it is versioned like the rest of
  the rule set by the valid time of the event it judges: which findings a list
  may rest on and how long a listing may be planned (per list and region), the
  legal bases that allow an open-ended listing or a permanent ban, the repair
  methods required and allowed per kind of record, and the evaluation grades
  that raise the supervision tier.
* :class:`MeasuresList` — the published measures list (惩戒措施清单), one file
  of kind ``measures-list`` (``commands/rules/measures.json``): code, Chinese
  name, category, legal basis, whether the measure extends to responsible
  persons. A file in an extra rules directory replaces entries code by code.

Nothing here reads a clock or decides anything: :mod:`commands.workflows.criteria`
holds the decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from commands.parsing import Strict, parse

__all__ = [
    "CATEGORIES",
    "KIND_MEASURES",
    "RECORD_KINDS",
    "BanCriteria",
    "Criteria",
    "ListCriteria",
    "Measure",
    "MeasuresList",
    "RepairMethods",
    "TierRaise",
    "parse_criteria",
]

KIND_MEASURES = "measures-list"

CATEGORIES: dict[str, str] = {
    "administrative": "行政性",
    "market": "市场性",
    "industry": "行业性",
    "social": "社会性",
}
"""The categories of the measures list (惩戒措施的类别) and their Chinese names."""

Method = Literal["commitment", "rectification", "verification", "training", "report", "charity"]
METHODS: tuple[Method, ...] = (
    "commitment",
    "rectification",
    "verification",
    "training",
    "report",
    "charity",
)
"""The repair methods of ``credit.repair.requested`` (DOMAIN.md)."""

RECORD_KINDS = ("penalty", "violation", "breach", "list")
"""The kinds of record a repair may target: a penalty, a violation record, a
breached commitment, a list designation."""

TIERS = ("low", "medium", "medium-high", "high")
"""Supervision tiers, lowest first (the keys of the spot-check ratios)."""


class ListCriteria(Strict):
    """What one list (``serious-dishonesty``, ``focus``) may rest on and how long.

    ``severities``: the finding severities it may rest on; ``behaviours``:
    behaviour codes that ground it whatever their severity (a court's
    失信被执行人 finding). ``max_months``: the latest ``planned_end`` counted
    from the day the proposal's notice window closes; ``regions`` overrides it
    per GB/T 2260 region prefix (2, 4 or 6 digits of the subject code's
    positions 3–8; the longest matching prefix wins). ``open_ended_bases``: the
    legal bases (matched as text inside the proposal's ``basis``) that allow
    ``planned_end: null``."""

    severities: tuple[Literal["minor", "general", "serious"], ...] = Field(min_length=1)
    behaviours: tuple[str, ...] = ()
    max_months: int = Field(ge=1)
    regions: dict[str, int] = Field(default_factory=dict)
    open_ended_bases: tuple[str, ...] = ()
    source: str

    @model_validator(mode="after")
    def _regions(self) -> ListCriteria:
        for prefix, months in self.regions.items():
            if not (prefix.isdigit() and len(prefix) in (2, 4, 6)):
                raise ValueError(f"regions: {prefix!r} is not a 2-, 4- or 6-digit region prefix")
            if months < 1:
                raise ValueError(f"regions.{prefix}: {months} months is less than 1")
        return self

    def max_months_for(self, subject: str) -> int:
        """The bound in months for a subject (its region is code positions 3–8)."""
        region = subject[2:8]
        best: tuple[int, int] | None = None
        for prefix, months in self.regions.items():
            if region.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), months)
        return self.max_months if best is None else best[1]


class BanCriteria(Strict):
    """``permanent_bases``: the legal bases (matched as text inside the ban's
    ``basis``) that allow a permanent ban (``until: null``)."""

    permanent_bases: tuple[str, ...] = ()
    source: str


class RepairMethods(Strict):
    """The repair methods for one kind of record: every ``required`` one must be
    in the request; a request may name only ``allowed`` ones (the required ones
    are always allowed)."""

    required: tuple[Method, ...] = ()
    allowed: tuple[Method, ...] = METHODS

    def permitted(self) -> frozenset[str]:
        return frozenset(self.required) | frozenset(self.allowed)


class TierRaise(Strict):
    """A valid grade of ``scheme`` among ``grades`` raises the supervision tier to
    at least ``tier``."""

    scheme: str
    grades: tuple[str, ...] = Field(min_length=1)
    tier: Literal["low", "medium", "medium-high", "high"]
    source: str


class Criteria(Strict):
    """The ``criteria`` object of a disclosure rule set (see the module docstring)."""

    lists: dict[Literal["serious-dishonesty", "focus"], ListCriteria]
    bans: BanCriteria
    repair_methods: dict[Literal["penalty", "violation", "breach", "list"], RepairMethods]
    repair_methods_source: str
    evaluation_tiers: tuple[TierRaise, ...] = ()
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _complete(self) -> Criteria:
        missing = [name for name in ("serious-dishonesty", "focus") if name not in self.lists]
        missing += [f"repair_methods.{k}" for k in RECORD_KINDS if k not in self.repair_methods]
        if missing:
            raise ValueError(f"missing: {', '.join(missing)}")
        return self

    def methods_for(self, kind: str) -> RepairMethods:
        """The repair methods of a record kind (one of :data:`RECORD_KINDS`)."""
        return self.repair_methods[kind]  # type: ignore[index]

    def raised_tier(self, scheme: str, grade: str) -> str | None:
        """The tier a valid ``grade`` of ``scheme`` raises the subject to, or None."""
        raised = [t.tier for t in self.evaluation_tiers if t.scheme == scheme and grade in t.grades]
        return max(raised, key=TIERS.index) if raised else None


def parse_criteria(raw: Any, where: str) -> Criteria:
    """Parse a rule set's ``criteria`` object; ``ValueError`` names ``where`` and the field."""
    return parse(Criteria, raw, f"{where}: criteria")


# -- the measures list ---------------------------------------------------------------


class Measure(Strict):
    """One entry of the measures list (惩戒措施清单)."""

    code: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    """The Chinese name."""
    name_en: str | None = Field(None, min_length=1)
    """The English name (English pages and texts; the code when absent)."""
    category: Literal["administrative", "market", "industry", "social"]
    basis: str = Field(min_length=1)
    extends_to_persons: bool

    @property
    def category_zh(self) -> str:
        return CATEGORIES[self.category]

    def to_json(self) -> dict[str, Any]:
        return {**self.model_dump(), "category_zh": self.category_zh}


class _MeasuresFile(Strict):
    kind: Literal["measures-list"]
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    source: str = Field(min_length=1)
    notes: tuple[str, ...] = ()
    measures: tuple[Measure, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> _MeasuresFile:
        codes = [m.code for m in self.measures]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"codes listed twice: {', '.join(twice)}")
        return self


class MeasuresList:
    """The measures list: code → :class:`Measure`. Build with :meth:`load`."""

    def __init__(self, version: str, measures: Iterable[Measure]) -> None:
        self.version = version
        self._by_code: dict[str, Measure] = {m.code: m for m in measures}

    @classmethod
    def from_files(cls, files: Iterable[tuple[str, Mapping[str, Any]]]) -> MeasuresList:
        """The ``measures-list`` files (name, decoded object) in load order — the
        package's ``commands/rules/measures.json``, then a deployment's — later entries
        replacing earlier ones with the same code. ``ValueError`` names the file and the
        field at fault."""
        merged: dict[str, Measure] = {}
        version = ""
        for name, obj in files:
            parsed = parse(_MeasuresFile, obj, name)
            version = parsed.version
            merged.update((m.code, m) for m in parsed.measures)
        return cls(version, merged.values())

    def get(self, code: str) -> Measure | None:
        """The entry of ``code``, or None when the list has no such measure."""
        return self._by_code.get(code)

    def codes(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_code))

    def extends_to_persons(self, code: str) -> bool:
        """Whether the measure ``code`` extends to responsible persons (unknown: no)."""
        measure = self._by_code.get(code)
        return measure is not None and measure.extends_to_persons
