"""A subject's supervision (risk) tier: the grade's own tier, raised by valid
evaluations the rule set names (national comprehensive 差, market regulation D),
and the evaluations themselves (the latest per scheme, valid through their
``valid_until``). The tier keys the spot-check ratios of ``Procedures``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from commands.rulesets import NoRuleSet
from commands.services import RuleServices
from commands.workflows.inspections import GRADE_TIERS
from projections.intervals import NextChange
from projections.lifecycles import day_text
from projections.timeline import Entry, Timeline, day_after_start_us, parse_day

__all__ = ["SUPERVISION_TIERS", "evaluations_at", "raised_tier"]


SUPERVISION_TIERS: dict[str, str] = dict(GRADE_TIERS)
"""Market-regulation grade → supervision (risk) tier, the keys of the spot-check ratios
(the same table ``commands.workflows.inspections`` draws spot checks with)."""


def evaluations_at(timeline: Timeline, as_of_us: int, edges: NextChange) -> list[dict[str, Any]]:
    """Per ``scheme``, its latest live evaluation in effect at ``as_of_us``: a newer
    grade replaces only the same scheme's (DOMAIN.md), each valid through its
    ``valid_until``; ordered by valid time (the last is the latest of all)."""
    latest: dict[str, Entry] = {}
    for e in timeline.of_type("credit.evaluation.published"):
        if e.revoked_by is not None or e.effective_us > as_of_us:
            continue
        scheme = str(e.data.get("scheme"))
        held = latest.get(scheme)
        if held is None or (e.time_us, e.seq) > (held.time_us, held.seq):
            latest[scheme] = e
    found: list[dict[str, Any]] = []
    for scheme, e in sorted(latest.items(), key=lambda kv: (kv[1].time_us, kv[1].seq)):
        valid_until = parse_day(e.data.get("valid_until"))
        edges.add_day_end(valid_until)
        period = e.data.get("period")
        found.append(
            {
                "event_id": e.id,
                "scheme": scheme,
                "period": period if isinstance(period, str) else None,
                "grade": e.data.get("grade"),
                "published": day_text(e.time_us),
                "valid_until": e.data.get("valid_until"),
                "valid": valid_until is not None and as_of_us < day_after_start_us(valid_until),
                "agency": e.source,
            }
        )
    return found


_TIER_ORDER = ("low", "medium", "medium-high", "high")


def raised_tier(
    tier: str | None, evaluations: list[dict[str, Any]], rules: RuleServices
) -> tuple[str | None, str | None]:
    """The supervision tier after the valid evaluations the rule set in force on
    their day names as raising it (national comprehensive 差, market regulation D),
    and the evaluation that raised it (None when none did)."""
    raised_by: str | None = None
    for e in evaluations:
        if not e["valid"]:
            continue
        try:
            rule_set = rules.rulebook.in_force(date.fromisoformat(e["published"]))
        except NoRuleSet:
            continue
        if rule_set.criteria is None:
            continue
        to = rule_set.criteria.raised_tier(str(e["scheme"]), str(e["grade"]))
        if to is None or to not in _TIER_ORDER:
            continue
        if (
            tier is None
            or tier not in _TIER_ORDER
            or _TIER_ORDER.index(to) > _TIER_ORDER.index(tier)
        ):
            tier, raised_by = to, e["event_id"]
    return tier, raised_by
