"""The yearly graded random spot checks (双随机) of each region's market regulator.

Their ratios are the procedures' (``commands/rules/procedures.json``), asked of the
rule services; the draw is the ledger's own (:func:`commands.workflows.inspections.draw`),
so a replayed draw gives the same subjects.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from commands.agencies import SYSTEM_SOURCE
from commands.workflows.inspections import draw
from demo.days import _US, _us_at
from demo.identities import _REGIONS, Subject
from demo.story import SEVERITY_WEIGHT, Draft, Shared
from demo.templates import _FINDING_WEIGHT_TYPES

SCHEME = "henan-2021"
"""The spot-check scheme the demo's regulators draw by (Henan 2021 ratios)."""


def supervision_tier(events: Sequence[Draft], day: date) -> str:
    """A business's supervision tier on ``day`` from the weight of its findings in
    the two years before (minor 0, general 1, serious 3)."""
    weight = 0
    for ev in events:
        if ev.type in _FINDING_WEIGHT_TYPES and day - timedelta(days=730) <= ev.day < day:
            weight += SEVERITY_WEIGHT[ev.data.get("severity", "general")]
    return (
        "low"
        if weight == 0
        else "medium"
        if weight <= 1
        else "medium-high"
        if weight <= 3
        else "high"
    )


def spot_checks(
    lives: list[tuple[Subject, list[Draft]]], seed: int, shared: Shared
) -> list[tuple[Draft, Subject]]:
    """The yearly spot-check draws of each region's market regulator: on the first
    working day after 14 March of 2024–2026, the region's businesses by tier, drawn by
    :func:`commands.workflows.inspections.draw` at the ratios of the procedures'
    ``SCHEME`` spot-check scheme; one ``credit.inspection.selected`` per drawn subject
    from the system source."""
    ratios = shared.rules.procedures.spot_check_ratios(SCHEME)
    out: list[tuple[Draft, Subject]] = []
    for year in (2024, 2025, 2026):
        day = shared.days.add(date(year, 3, 14), 1)
        for region in _REGIONS:
            local = [
                (s, evs) for s, evs in lives if s.region is region and s.business and s.start <= day
            ]
            population = {s.code: supervision_tier(evs, day) for s, evs in local}
            draw_seed = (seed % 10**9) * 10_000 + year
            result = draw(population, ratios, draw_seed)
            draw_id = f"samr-{region.code}-spot-check-{year}"
            subject_of = {s.code: s for s, _ in local}
            rng = random.Random(draw_seed)
            for tier, codes in result.drawn.items():
                for code in codes:
                    t = _us_at(day, 10 * 3600)
                    ev = Draft(
                        f"{draw_id}/{code}",
                        SYSTEM_SOURCE,
                        "credit.inspection.selected",
                        t,
                        t + rng.randint(600, 7200) * _US + rng.randint(0, _US - 1),
                        {
                            "draw": draw_id,
                            "seed": draw_seed,
                            "tier": tier,
                            "ratio": str(ratios[tier]),
                            "population": result.population[tier],
                            "drawn": len(codes),
                            "scheme": SCHEME,
                            "agency": f"samr/{region.code}",
                        },
                    )
                    out.append((ev, subject_of[code]))
    return out
