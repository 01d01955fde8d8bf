"""``ledger spot-check``: the graded random spot check (双随机、一公开), recorded.

Every subject of the ledger gets its supervision tier as of the draw — from the
standing projection (``projections.standing``: grade → tier) when it is
installed, else from :func:`commands.workflows.inspections.simple_tier` — and
:func:`commands.workflows.inspections.draw` draws ``ceil(n × ratio)`` subjects
per tier with ``random.Random(seed)`` over the codes sorted, tiers in sorted
order. Each drawn subject gets a ``credit.inspection.selected`` event (id
``<draw id>/<code>``, source ``credit-ledger/system`` by default, valid at
00:00 CST of the draw day), so the draw is audited: rerunning with the same seed
on the same ledger state gives the same events (repeats), and anyone can replay
it from the recorded seed, ratios and tiers.

The draw reads every record once (position order), so it costs a full scan of
the ledger; spot checks are rare.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from commands.decide import SYSTEM_SOURCE
from commands.services import RuleServices
from commands.workflows.common import cst_day, rfc3339_day_start
from commands.workflows.inspections import Draw, draw, selection_events
from events.recorded import RecordedEvent
from ledger.app import Ledger, Outcome
from ledger.scans import records
from projections.standing import standing

__all__ = ["SpotCheck", "parse_ratios", "population", "spot_check"]

MAX_SEED = 2**53 - 1
TRUSTWORTHY_TIER = "trustworthy"
"""The tier of the trustworthy list's members in a draw: their ratio is the incentives
rule's ``spot_check_ratio`` (lower than any risk tier's), unless ``--ratios`` names one."""


def _tier_function() -> Callable[[str, list[RecordedEvent], int, RuleServices], str | None]:
    """The standing projection's tier (the trustworthy list's members their own tier)."""

    def projected(
        subject: str, events: list[RecordedEvent], as_of_us: int, rules: RuleServices
    ) -> str | None:
        found = standing(subject, events, as_of_us, None, rules)
        if found.trustworthy is not None and found.tier is not None:
            return TRUSTWORTHY_TIER  # checked at the rule set's lowered ratio (35号 §九)
        return found.tier

    return projected


def population(ledger: Ledger, as_of_us: int) -> dict[str, str]:
    """Every subject's supervision tier as of ``as_of_us`` (code → tier)."""
    if ledger.rules is None:
        raise ValueError("a spot check needs the rule services (grade scheme, ratios)")
    streams: dict[str, list[RecordedEvent]] = {}
    for record in records(ledger):
        streams.setdefault(record.subject, []).append(record)
    tier_of = _tier_function()
    tiers: dict[str, str] = {}
    for subject in sorted(streams):
        tier = tier_of(subject, streams[subject], as_of_us, ledger.rules)
        tiers[subject] = tier if tier is not None else "unrated"
    return tiers


def parse_ratios(text: str) -> dict[str, Decimal]:
    """``high=0.30,medium-high=0.10`` → {"high": Decimal("0.30"), …}; ``ValueError``
    names the bad part."""
    ratios: dict[str, Decimal] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        tier, sep, value = part.partition("=")
        if not sep or not tier.strip():
            raise ValueError(f"--ratios: {part!r} is not TIER=RATIO")
        try:
            ratio = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"--ratios: {value!r} is not a decimal number") from None
        if not Decimal(0) <= ratio <= Decimal(1):
            raise ValueError(f"--ratios: {tier} {value} is not between 0 and 1")
        ratios[tier.strip()] = ratio
    if not ratios:
        raise ValueError("--ratios: no TIER=RATIO given")
    return ratios


@dataclass
class SpotCheck:
    """A recorded draw: its id, the draw itself and the outcome of each event."""

    draw_id: str
    day: date
    result: Draw
    scheme: str
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        statuses = Counter(o.status for o in self.outcomes)
        return {
            "draw": self.draw_id,
            "day": self.day.isoformat(),
            "seed": self.result.seed,
            "scheme": self.scheme,
            "ratios": {t: str(r) for t, r in self.result.ratios.items()},
            "population": dict(self.result.population),
            "unrated": dict(self.result.unrated),
            "drawn": {t: list(codes) for t, codes in self.result.drawn.items()},
            "recorded": statuses["recorded"],
            "repeat": statuses["repeat"],
            "rejected": statuses["rejected"],
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        statuses = Counter(o.status for o in self.outcomes)
        per_tier = ", ".join(
            f"{t} {len(c)}/{self.result.population[t]}" for t, c in self.result.drawn.items()
        )
        return (
            f"spot check {self.draw_id}: drew {sum(len(c) for c in self.result.drawn.values())} "
            f"subjects ({per_tier}) → {statuses['recorded']} recorded, {statuses['repeat']} "
            f"already recorded, {statuses['rejected']} refused in {self.seconds:.2f} s"
        )


def spot_check(
    ledger: Ledger,
    seed: int,
    *,
    ratios: Mapping[str, Decimal] | None = None,
    draw_id: str | None = None,
    now_us: int | None = None,
    source: str = SYSTEM_SOURCE,
) -> SpotCheck:
    """Draw and record a spot check as of ``now_us`` (default: the ledger's clock).
    ``ratios`` default to the procedures' default spot-check scheme; ``draw_id``
    to ``spot-check-<day>-<seed>``."""
    if ledger.rules is None:
        raise ValueError("a spot check needs the rule services (grade scheme, ratios)")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"the seed must be an integer between 0 and {MAX_SEED}")
    started = time.perf_counter()
    now = ledger.clock() if now_us is None else now_us
    day = cst_day(now)
    scheme = "custom"
    if ratios is None:
        default = ledger.rules.procedures.spot_check_scheme()
        ratios, scheme = dict(default.ratios), default.id
    tiers = population(ledger, now)
    if TRUSTWORTHY_TIER in tiers.values():
        lowered = ledger.rules.incentives.trustworthy.spot_check_ratio
        ratios = {TRUSTWORTHY_TIER: lowered, **ratios}
    result = draw(tiers, ratios, seed)
    draw_id = draw_id or f"spot-check-{day.isoformat()}-{seed}"
    check = SpotCheck(draw_id, day, result, scheme)
    events = selection_events(result, draw_id, rfc3339_day_start(day), source, scheme)
    check.outcomes = list(ledger.submit(list(events), now_us=now, system=True))
    check.seconds = time.perf_counter() - started
    return check
