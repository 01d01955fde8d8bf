"""The incentives list (守信激励措施清单) and the trustworthy-list rule, as data.

``commands/rules/incentives.json`` (kind ``incentives``), merged key by key with any
file of that kind in ``LEDGER_RULES_DIR``: the incentive measures (code, Chinese name,
legal basis) an agency may grant (``credit.incentive.granted`` names a code), and the rule
that decides who is on the trustworthy list (``projections.trustworthy``): qualifying grades
per evaluation scheme, the number of consecutive periods, and the lowered spot-check ratio
of a trustworthy subject (35号 §九).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from commands.parsing import DecimalText, Strict, Text, parse
from commands.rulesets import KIND_INCENTIVES

__all__ = ["KIND_INCENTIVES", "IncentiveMeasure", "Incentives", "TrustworthyRule"]


@dataclass(frozen=True, slots=True)
class IncentiveMeasure:
    """One entry of the incentives list."""

    code: str
    name: str
    basis: str
    name_en: str | None = None
    """The English name (English pages and texts; the code when absent)."""


@dataclass(frozen=True, slots=True)
class TrustworthyRule:
    """Who is on the trustworthy list: a qualifying grade (``grades``: scheme → grades) in
    each of the last ``years`` published periods of that scheme, no published negative
    record, no commitment breached within ``years`` years; ``spot_check_ratio`` is the
    lowered 双随机 ratio of a member."""

    grades: Mapping[str, frozenset[str]]
    years: int
    spot_check_ratio: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class Incentives:
    """The incentives list and the trustworthy rule (module docstring)."""

    measures: Mapping[str, IncentiveMeasure]
    trustworthy: TrustworthyRule
    version: str

    @classmethod
    def from_files(cls, files: Iterable[tuple[str, Mapping[str, Any]]]) -> Incentives:
        """The ``incentives`` files (name, decoded object) in load order — the packaged
        one, then a deployment's — merged top-level key by key (later wins).

        Raises:
            ValueError: no file, or a malformed one (the message names it).
        """
        merged: dict[str, Any] = {}
        names: list[str] = []
        for name, obj in files:
            merged.update(obj)
            names.append(name)
        if not names:
            raise ValueError("no incentives file found (commands/rules/incentives.json)")
        return cls.from_json(merged, " + ".join(names))

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "incentives") -> Incentives:
        """Parse one complete ``incentives`` object; `ValueError` names ``where``."""
        parsed = parse(_IncentivesFile, obj, where)
        rule = parsed.trustworthy
        return cls(
            {
                m.code: IncentiveMeasure(m.code, m.name, m.basis, m.name_en)
                for m in parsed.measures
            },
            TrustworthyRule(
                {k: frozenset(v) for k, v in rule.grades.items()},
                rule.years,
                rule.spot_check_ratio,
                rule.source,
            ),
            parsed.version,
        )

    def name(self, code: str, lang: str = "zh") -> str:
        """The name of a measure code in ``lang`` (``zh`` or ``en``); the code itself
        when unknown (or without an English name)."""
        found = self.measures.get(code)
        if found is None:
            return code
        if lang == "en":
            return found.name_en or code
        return found.name


class _Measure(Strict):
    code: Text
    name: Text
    basis: Text
    name_en: Text | None = None


class _Trustworthy(Strict):
    grades: dict[str, tuple[str, ...]] = Field(min_length=1)
    years: int = Field(ge=1)
    spot_check_ratio: DecimalText
    source: str = ""

    @model_validator(mode="after")
    def _ratio(self) -> _Trustworthy:
        if not Decimal(0) <= self.spot_check_ratio <= Decimal(1):
            raise ValueError(f"spot_check_ratio: {self.spot_check_ratio} is not between 0 and 1")
        return self


class _IncentivesFile(Strict):
    kind: Literal["incentives"] = "incentives"
    version: str = ""
    notes: tuple[str, ...] = ()
    measures: tuple[_Measure, ...]
    trustworthy: _Trustworthy
