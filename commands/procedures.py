"""The procedures (程序): objection deadlines per region, the list notice window,
the spot-check ratios and the grade schemes, as versioned data.

They live in ``commands/rules/procedures.json`` (file kind ``"procedures"``); a
deployment's own ``procedures`` files, read after the package's, replace entries key
by key (a region, a spot-check scheme, a grade scheme, a default), a replaced region
inheriting what it does not set from ``default``. The loader is
``entrypoints.rule_files``; this module parses, merges and validates what it is handed
(`Procedures.from_files`) and answers questions about it. Nothing here reads a clock
or a file.

* `ObjectionProfile`: how a region handles an objection (异议) and in how many
  working days.
* `SpotCheckScheme`: the spot-check (双随机) ratio per risk grade.
* `GradeScheme`: points per kind of record, caps, and the grade a score reaches.
* `Procedures`: all of them, with typed access; an unknown region or scheme is a
  `ValueError`, never a silent fallback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field, model_validator

from commands.parsing import DecimalText, Strict, Text, parse
from commands.periods import Deadline, DeadlineEntry
from commands.rulesets import RulesFile

__all__ = ["GradeScheme", "ObjectionProfile", "Procedures", "SpotCheckScheme"]


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
    notice: DeadlineEntry


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
