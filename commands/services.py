"""The rule services a decision or a projection may consult, loaded once.

The composition root builds one ``RuleServices`` at start-up
(``entrypoints.rule_files.rule_services`` from the settings' directories, or
``load_rules()`` for the packaged data alone) and hands it to the ledger, the
projections and the API; ``commands`` itself never reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.agencies import Agencies
from commands.calendar import WorkingCalendar
from commands.criteria import MeasuresList
from commands.incentives import Incentives
from commands.procedures import Procedures
from commands.rulesets import RuleBook
from commands.warning_rules import WarningBook
from events.labels import label


@dataclass(frozen=True, slots=True)
class RuleServices:
    """The working-day calendar, the disclosure rule book, the regional procedures
    and the measures list (惩戒措施清单), who may record what (agency kinds,
    platforms, regions), and the incentives list with the trustworthy rule."""

    calendar: WorkingCalendar
    rulebook: RuleBook
    procedures: Procedures
    measures: MeasuresList
    agencies: Agencies
    incentives: Incentives
    warnings: WarningBook

    def label(self, kind: str, code: str, lang: str = "zh") -> str:
        """What a person reads for ``code`` (:func:`events.labels.label`), with the
        registries' names for the kinds they hold: ``agency`` (a ``source``:
        深圳市市场监管), ``measure`` (惩戒措施清单), ``incentive`` (守信激励措施),
        ``rule-set`` (the rule book's titles), ``agency-kind`` and ``region`` (the agency
        registry),
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
        if kind == "rule-set":
            try:
                rule_set = self.rulebook.get(code)
            except KeyError:
                return code
            return rule_set.title_en if lang == "en" else rule_set.title_zh
        if kind == "agency-kind":
            found = self.agencies.kinds.get(code)
            if found is None:
                return code
            return (found.name_en or code) if lang == "en" else found.name
        if kind == "region":
            names = self.agencies.regions_en if lang == "en" else self.agencies.regions
            return names.get(code, code)
        return label(kind, code, lang)
