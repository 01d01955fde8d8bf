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
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from commands.rulesets import KIND_INCENTIVES, _read_json_files

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
    def load(cls, directories: Iterable[Path] = ()) -> Incentives:
        """The packaged file merged with every ``incentives`` file in ``directories``.

        Raises:
            ValueError: a file is malformed (the message names it).
        """
        merged: dict[str, Any] = {}
        for _origin, files in _read_json_files(directories, KIND_INCENTIVES):
            for name, obj in files:
                for key, value in obj.items():
                    merged[key] = value
                merged.setdefault("where", name)
        if not merged:
            raise ValueError("no incentives file found (commands/rules/incentives.json)")
        return cls.from_json(merged)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Incentives:
        where = obj.get("where", "incentives")
        try:
            measures = {
                str(m["code"]): IncentiveMeasure(
                    str(m["code"]),
                    str(m["name"]),
                    str(m["basis"]),
                    None if m.get("name_en") is None else str(m["name_en"]),
                )
                for m in obj["measures"]
            }
            rule = obj["trustworthy"]
            ratio = Decimal(str(rule["spot_check_ratio"]))
            years = int(rule["years"])
            grades = {str(k): frozenset(str(g) for g in v) for k, v in rule["grades"].items()}
        except (KeyError, TypeError, InvalidOperation, ValueError) as exc:
            raise ValueError(f"{where}: not an incentives file: {exc!r}") from exc
        if not (Decimal(0) <= ratio <= Decimal(1)) or years < 1 or not grades:
            raise ValueError(f"{where}: trustworthy: ratio in [0, 1], years ≥ 1, some grades")
        return cls(
            measures,
            TrustworthyRule(grades, years, ratio, str(rule.get("source", ""))),
            str(obj.get("version", "")),
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
