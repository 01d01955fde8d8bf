"""What the auditor's timeline draws: the subject's records as coloured ticks on a date
axis (one colour per group of event types, each in the legend), its score and grade over
time, and its list, ban and disclosure periods as bars.

:func:`picture` builds the data the page embeds (``timeline.html``) for
``static/timeline.js`` (the slider, its year axis and the next / previous event buttons)
and ``static/timeline_chart.js`` (the chart, drawn by the vendored ECharts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from api.page_labels import page_label
from projections.course import CoursePoint

__all__ = ["ROWS", "TICK_GROUPS", "course_days", "picture", "tick_group"]

TICK_GROUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("finding", "处罚与失信行为", "#c8161d", ("penalty", "violation")),
    ("sanction", "名单、禁入与惩戒", "#7f1d1d", ("list", "ban", "measure")),
    ("correction", "更正与撤销", "#d97706", ("record",)),
    ("objection", "异议", "#7c3aed", ("objection",)),
    ("repair", "信用修复", "#059669", ("repair",)),
    (
        "positive",
        "承诺、许可与守信",
        "#0b4ea2",
        ("commitment", "license", "incentive", "registration", "evaluation"),
    ),
    ("other", "其他记录", "#6b7785", ()),
)
"""(id, Chinese name, colour, the record kinds of its event types); ``other`` takes the rest."""

_GROUP_OF_KIND = {kind: gid for gid, _, _, kinds in TICK_GROUPS for kind in kinds}
_COLOUR = {gid: colour for gid, _, colour, _ in TICK_GROUPS}

ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("lists", "名单", ("list",)),
    ("bans", "禁入与惩戒", ("ban", "measure")),
    ("disclosure", "公示", ("penalty", "violation", "license", "incentive", "registration")),
)
"""The chart's bar rows: (id, Chinese name, the disclosure item kinds drawn in it)."""


def tick_group(event_type: str) -> str:
    """The group (:data:`TICK_GROUPS`) of an event type: ``credit.repair.approved`` → repair."""
    parts = event_type.split(".")
    return _GROUP_OF_KIND.get(parts[1] if len(parts) > 2 else "", "other")


def _item_label(rules: Any, item: Mapping[str, Any]) -> str:
    kind = item.get("kind")
    if kind == "list":
        return page_label(rules, "list", item.get("list"))
    if kind == "measure":
        return page_label(rules, "measure", item.get("measure"))
    return page_label(rules, "type", item.get("type"))


def picture(
    rules: Any,
    start: date,
    end: date,
    marks: Sequence[Mapping[str, str]],
    course: Sequence[CoursePoint],
    items: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The chart's data (labels from ``rules``, the rule services): ``course`` as ``[day, score, grade]``; per row of :data:`ROWS`
    the periods of ``items`` (disclosure items, every audience) as ``[from, until, label]``
    (an open period runs to ``end``); ``years``: 1 January of each year on the axis;
    ``marks`` with their group. Days are ISO dates."""
    rows = []
    for rid, name, kinds in ROWS:
        bars = [
            [first, last or end.isoformat(), _item_label(rules, item)]
            for item in items
            if item.get("kind") in kinds
            for first, last in item.get("periods") or ()
            if first
        ]
        rows.append({"id": rid, "name": name, "bars": bars})
    years = [date(y, 1, 1).isoformat() for y in range(start.year + 1, end.year + 1)]
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "course": [[p.day.isoformat(), p.score, p.grade] for p in course],
        "rows": rows,
        "years": years,
        "marks": [
            {**m, "group": tick_group(m["type"]), "colour": _COLOUR[tick_group(m["type"])]}
            for m in marks
        ],
        "groups": [{"id": g, "name": n, "colour": c} for g, n, c, _ in TICK_GROUPS],
    }


def course_days(
    marks: Sequence[Mapping[str, str]], items: Sequence[Mapping[str, Any]], end: date
) -> set[date]:
    """The days the score can change on: each record's day, the day after each period
    ends, and ``end``."""
    days = {date.fromisoformat(m["day"]) for m in marks} | {end}
    for item in items:
        for _, last in item.get("periods") or ():
            if last:
                after = date.fromisoformat(last) + timedelta(days=1)
                if after <= end:
                    days.add(after)
    return days
