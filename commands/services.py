"""The rule services a decision or a projection may consult, loaded once.

The composition root (``entrypoints.bootstrap``) builds one ``RuleServices`` from
settings at start-up and hands it to the ledger, the projections and the API;
nothing else reads rule or calendar files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from commands.agencies import Agencies
from commands.calendar import WorkingCalendar
from commands.criteria import MeasuresList
from commands.incentives import Incentives
from commands.rulesets import Procedures, RuleBook
from events.labels import label


@dataclass(frozen=True, slots=True)
class RuleServices:
    """The working-day calendar, the disclosure rule book, the regional procedures
    and the measures list (惩戒措施清单), who may record what (agency kinds,
    platforms, regions), and the incentives list with the trustworthy rule."""

    calendar: WorkingCalendar
    rulebook: RuleBook
    procedures: Procedures
    measures: MeasuresList = field(default_factory=MeasuresList.load)
    agencies: Agencies = field(default_factory=Agencies.packaged)
    incentives: Incentives = field(default_factory=Incentives.load)

    @classmethod
    def load(
        cls,
        calendar_dir: Path | None = None,
        rules_dir: Path | None = None,
        agencies_file: Path | None = None,
    ) -> RuleServices:
        """The packaged calendars, rule sets and agencies, plus the optional extras."""
        calendars = [calendar_dir] if calendar_dir else []
        rules = [rules_dir] if rules_dir else []
        return cls(
            calendar=WorkingCalendar.load(calendars),
            rulebook=RuleBook.load(rules),
            procedures=Procedures.load(rules),
            measures=MeasuresList.load(rules),
            agencies=Agencies.load([agencies_file]) if agencies_file else Agencies.packaged(),
            incentives=Incentives.load(rules),
        )

    def label(self, kind: str, code: str, lang: str = "zh") -> str:
        """What a person reads for ``code`` (:func:`events.labels.label`), with the
        registries' names for the kinds they hold: ``agency`` (a ``source``:
        深圳市市场监管), ``measure`` (惩戒措施清单) and ``incentive`` (守信激励措施),
        each in Chinese (``name``) and English (``name_en``, ``regions_en``); an
        unknown agency or measure, or one without an English name, is shown as its
        code. ``UnknownLabel`` for any other unknown kind or code."""
        if kind == "agency":
            return self.agencies.title(code, lang)
        if kind == "measure":
            measure = self.measures.get(code)
            if measure is None:
                return code
            return (measure.name_en or code) if lang == "en" else measure.name
        if kind == "incentive":
            return self.incentives.name(code, lang)
        return label(kind, code, lang)
