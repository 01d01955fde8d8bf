"""Graded random spot checks (双随机、一公开): supervision tiers and the draw.

The draw is reproducible: given the population (subject code → tier), the
ratios and the seed, :func:`draw` takes ``random.Random(seed)`` and, for each
tier in sorted order of its name, samples ``ceil(n × ratio)`` of the tier's n
subjects sorted by code. Each drawn subject gets one ``credit.inspection.selected``
event (:func:`selection_events`, id ``<draw id>/<code>``) so an auditor can
replay the draw.

:func:`simple_tier` is the stand-in tier when no standing projection is at
hand: the subject's score under the default grade scheme from its findings
still within their maximum disclosure period (not revoked, withdrawn or
repaired), its breached commitments, active list designations and positive
registrations; grade A → low, B → medium, C → medium-high, D → high.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from commands.decide import SYSTEM_SOURCE
from commands.rulesets import NoRuleSet, period_for
from commands.services import RuleServices
from commands.state import EventFacts, SubjectState
from commands.workflows.common import cst_day, effective_data, followers
from commands.workflows.lists import active_designations
from events.envelope import Envelope, parse_event
from events.fields import RATIO_PATTERN

__all__ = ["GRADE_TIERS", "Draw", "draw", "selection_events", "simple_tier"]

GRADE_TIERS: dict[str, str] = {"A": "low", "B": "medium", "C": "medium-high", "D": "high"}
"""Market-regulation grade → supervision tier (the keys of the spot-check ratios)."""

RATIO = re.compile(RATIO_PATTERN)
_FAMILY = {"credit.penalty.decided": "penalty", "credit.violation.recorded": "violation"}


def _counts(state: SubjectState, finding: EventFacts, today: date, rules: RuleServices) -> bool:
    if finding.id in state.revoked or followers(state, finding.id, "credit.penalty.withdrawn"):
        return False
    for request in followers(state, finding.id, "credit.repair.requested"):
        for approval in followers(state, request.id, "credit.repair.approved"):
            if not followers(state, approval.id, "credit.repair.revoked"):
                return False
    data = effective_data(state, finding.id)
    family = _FAMILY.get(finding.type, "violation")
    severity = data.get("severity") if finding.type in _FAMILY else "general"
    sector = data.get("sector") if isinstance(data.get("sector"), str) else None
    decided = cst_day(finding.time_us)
    try:
        _, period = period_for(rules.rulebook, decided, family, str(severity), sector)
    except (NoRuleSet, ValueError):
        return True
    return today < period.ends_by(decided)


def simple_tier(state: SubjectState, as_of_us: int, rules: RuleServices) -> str:
    """The supervision tier of a subject at ``as_of_us`` (see the module docstring)."""
    scheme = rules.procedures.grade_scheme()
    today = cst_day(as_of_us)
    totals: dict[str, int] = {}
    for facts in state.events.values():
        if facts.time_us > as_of_us:
            continue
        key: str | None = None
        if facts.type in _FAMILY and _counts(state, facts, today, rules):
            key = f"{_FAMILY[facts.type]}.{effective_data(state, facts.id).get('severity')}"
        elif facts.type == "credit.commitment.breached" and _counts(state, facts, today, rules):
            key = "commitment.breached"
        elif facts.type == "credit.registration.submitted" and facts.id not in state.revoked:
            key = "registration.submitted"
        if key is not None and key in scheme.points:
            totals[key] = totals.get(key, 0) + scheme.points[key]
    for designation in active_designations(state):
        if designation.time_us <= as_of_us:
            name = effective_data(state, designation.data["proposal"]).get("list")
            key = f"list.{name}"
            if key in scheme.points:
                totals[key] = totals.get(key, 0) + scheme.points[key]
    score = scheme.start
    for key, points in totals.items():
        cap = scheme.cap(key)
        score += points if cap is None else max(-cap, min(cap, points))
    return GRADE_TIERS.get(scheme.grade_for(score), "medium")


@dataclass(frozen=True, slots=True)
class Draw:
    """The outcome of a draw: per tier, its population size and the drawn codes
    (sorted); ``unrated`` are the tiers of the population without a ratio."""

    seed: int
    ratios: Mapping[str, Decimal]
    population: Mapping[str, int]
    drawn: Mapping[str, tuple[str, ...]]
    unrated: Mapping[str, int]


def draw(population: Mapping[str, str], ratios: Mapping[str, Decimal], seed: int) -> Draw:
    """Draw ``ceil(n × ratio)`` subjects of each tier, reproducibly (module docstring)."""
    rng = random.Random(seed)
    sizes: dict[str, int] = {}
    drawn: dict[str, tuple[str, ...]] = {}
    for tier in sorted(ratios):
        members = sorted(code for code, t in population.items() if t == tier)
        k = min(len(members), math.ceil(Decimal(len(members)) * ratios[tier]))
        sizes[tier] = len(members)
        drawn[tier] = tuple(sorted(rng.sample(members, k)))
    unrated: dict[str, int] = {}
    for tier in population.values():
        if tier not in ratios:
            unrated[tier] = unrated.get(tier, 0) + 1
    return Draw(seed, dict(ratios), sizes, drawn, unrated)


def selection_events(
    result: Draw, draw_id: str, time: str, source: str = SYSTEM_SOURCE, scheme: str | None = None
) -> list[Envelope]:
    """One ``credit.inspection.selected`` per drawn subject, id ``<draw_id>/<code>``;
    ``time`` is the RFC 3339 valid time of the draw. Deterministic in its inputs."""
    events = []
    for tier, codes in result.drawn.items():
        for code in codes:
            data: dict[str, object] = {
                "draw": draw_id,
                "seed": result.seed,
                "tier": tier,
                "ratio": _ratio_text(result.ratios[tier]),
                "population": result.population[tier],
                "drawn": len(codes),
            }
            if scheme is not None:
                data["scheme"] = scheme
            events.append(
                parse_event(
                    {
                        "specversion": "1.0",
                        "id": f"{draw_id}/{code}",
                        "source": source,
                        "type": "credit.inspection.selected",
                        "subject": code,
                        "time": time,
                        "data": data,
                    }
                )
            )
    return events


def _ratio_text(ratio: Decimal) -> str:
    """A ratio as the schema's decimal string ("0.30" stays "0.30"; more than
    four decimals are cut to four)."""
    text = format(ratio, "f")
    if RATIO.match(text):
        return text
    return format(ratio.quantize(Decimal("0.0001")).normalize(), "f")
