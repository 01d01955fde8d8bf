"""The public disclosure view (what 信用中国 shows), for any point in time.

``disclosure(subject, records, as_of_us, known_at_us, rules)`` is pure. Its
``to_json()`` is DESIGN.md's ``disclosure --json``: ``subject`` and ``items``,
each with ``event_id``, ``published``, ``from``, ``until``, ``publish_by``,
``late`` and a one-line ``reason``.

What is disclosed, and for how long (the numbers are data in ``commands/rules``):

* penalties and violation records: the disclosure period of the rule set in
  force on the record's OWN valid date (Order 58 before 2026-04-01, Order 36
  from then), by severity and sector; a period with ``publish: false`` (minor
  under Order 36) is not published. Ends: the maximum period (capped by the
  archive limit), ``credit.penalty.withdrawn``, an approved repair (a repair
  revocation publishes it again); a revoked record was never published.
* list designations while designated; market bans while in force; measures of a
  public kind (:data:`PUBLIC_MEASURES`) while in force (``projections.lifecycles``).
* responsible persons (``credit.person.linked``) with name and role; the
  identity number is always masked (:func:`mask_id_number`).
* voluntarily registered positive information.
* licences (行政许可) while valid, with the changes recorded since (``credit.license.changed``),
  published within the rule set's deadline (35号 §十五: 7 working days); incentive measures
  (守信激励) while in force.

``from`` is the act's date, ``until`` the first day it is no longer public (the
end of the current or last period); ``periods`` lists every period. ``publish_by``
is the act's date plus the rule set's publication deadline in working days (35号
§十五: 7), counted on the official calendar; null with ``publish_by_note`` when
the calendar of a year is not loaded or no rule set covers the date. ``late``:
recorded (in CST) after ``publish_by``.

Two steps, so the materialised view can store the first:
:func:`projections.disclosure_plans.plans_of` turns a timeline into
:class:`projections.disclosure_item.ItemPlan` (periods and texts; independent of
``as_of`` beyond the selection) and :func:`projections.disclosure_item.render`
reads a plan at an instant. This module reads them for a subject.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from commands.services import RuleServices
from events.recorded import RecordedEvent
from projections.disclosure_item import Reveal, public_items, render
from projections.disclosure_plans import plans_of
from projections.timeline import Timeline, instant_text, select

__all__ = ["Disclosure", "disclosure", "disclosure_of"]


@dataclass(frozen=True)
class Disclosure:
    """The disclosure of one subject at (``as_of_us``, ``known_at_us``)."""

    subject: str
    as_of_us: int
    known_at_us: int | None
    items: tuple[dict[str, Any], ...]
    subject_name: str | None = None

    @property
    def published(self) -> list[dict[str, Any]]:
        return [i for i in self.items if i["published"]]

    def to_json(self, reveal: Reveal | None = None) -> dict[str, Any]:
        """DESIGN.md ``disclosure --json`` (and more keys); identity numbers the
        ledger stores encrypted are shown through ``reveal`` (:func:`public_items`)."""
        return {
            "subject": self.subject,
            "subject_name": self.subject_name,
            "as_of": instant_text(self.as_of_us),
            "known_at": instant_text(self.known_at_us),
            "items": public_items(self.items, reveal),
        }


def disclosure(
    subject: str,
    records: Iterable[RecordedEvent],
    as_of_us: int,
    known_at_us: int | None,
    rules: RuleServices,
) -> Disclosure:
    """The disclosure of ``subject`` from its records (seq order) as of
    ``as_of_us`` with what was recorded by ``known_at_us`` (None: everything)."""
    return disclosure_of(select(subject, records, as_of_us, known_at_us), as_of_us, rules)


def disclosure_of(timeline: Timeline, as_of_us: int, rules: RuleServices) -> Disclosure:
    """The disclosure read from a timeline at ``as_of_us``. The timeline may hold
    records in effect later (a timeline of everything known): the result is the
    same as for a timeline selected at ``as_of_us``. Rendered items are memoised
    on the timeline per stretch of time in which they cannot change, so the
    items are shared between reads: treat them as read-only."""
    plans = plans_of(timeline, rules)
    memo_key = ("rendered", id(rules))
    cache: dict[tuple[int, int], dict[str, Any] | None] = timeline.memo.setdefault(memo_key, {})
    points: dict[int, tuple[int, ...]] = timeline.memo.setdefault(("breakpoints", id(rules)), {})
    items: list[dict[str, Any]] = []
    for plan in plans:
        if plan.effective_us > as_of_us:
            continue
        marks = points.get(plan.seq)
        if marks is None:
            marks = points[plan.seq] = plan.breakpoints()
        phase = (plan.seq, bisect_right(marks, as_of_us))
        if phase in cache:
            item = cache[phase]
        else:
            item = cache[phase] = render(plan, as_of_us)
        if item is not None:
            items.append(item)
    return Disclosure(
        subject=timeline.subject,
        as_of_us=as_of_us,
        known_at_us=timeline.known_at_us,
        items=tuple(items),
        subject_name=timeline.subject_name,
    )
