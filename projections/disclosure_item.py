"""One item of the public disclosure: its plan, and how it reads at an instant.

An :class:`ItemPlan` (``projections.disclosure_plans`` makes them) holds what does
not depend on ``as_of``: when the record is in force, whether the rules publish it,
its texts and its publication deadline; the materialised view stores it as JSON
(:meth:`ItemPlan.to_json`). :func:`render` reads a plan at an instant: the
``disclosure --json`` item (``published``, ``from``, ``until``, ``periods``,
``publish_by``, ``late``, the reason in three forms). :func:`public_items` gives
items as the public gets them (identity numbers masked, never in clear).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.intervals import Cut, Interval, Lifecycle
from projections.lifecycles import day_text
from projections.public import ended_mark
from projections.timeline import valid_day
from projections.wording import cause_parts, reason_text

__all__ = [
    "PROTECTED_KEY",
    "ItemPlan",
    "Reveal",
    "astuple_cut",
    "astuple_interval",
    "public_items",
    "render",
]


@dataclass(frozen=True, slots=True)
class ItemPlan:
    """One disclosure item before it is read at an instant.

    ``lifecycle`` says when it is in force (its ``never`` when it never was);
    ``publishable`` false means the rules do not publish it at all (``withheld``
    says why). ``describe`` is the text after "published: ". ``effective_us``
    is when the record takes effect: a read at an earlier instant leaves the
    item out. ``what`` is what the record is as parts (:mod:`projections.wording`;
    for an item not publishable, why it is withheld), ``describe_zh`` and
    ``withheld_zh`` its words in Chinese (``describe``/``withheld`` in English).
    """

    event_id: str
    seq: int
    type: str
    kind: str
    act_day: date
    effective_us: int
    recorded_us: int
    lifecycle: Lifecycle
    publishable: bool
    withheld: str | None
    describe: str
    publish_by: date | None
    publish_by_note: str | None
    details: dict[str, Any]
    what: dict[str, Any] | None = None
    describe_zh: str | None = None
    withheld_zh: str | None = None

    @property
    def late(self) -> bool:
        return self.publish_by is not None and valid_day(self.recorded_us) > self.publish_by

    def breakpoints(self) -> tuple[int, ...]:
        """The instants at which :func:`render` may change its answer: between
        two of them (and without new records) the rendered item is the same."""
        points = {self.effective_us}
        for iv in self.lifecycle.base:
            points.add(iv.start_us)
            if iv.end_us is not None:
                points.add(iv.end_us)
        for cut in self.lifecycle.cuts:
            points.add(cut.start_us)
            if cut.end_us is not None:
                points.add(cut.end_us)
        return tuple(sorted(points))

    def public_intervals(self) -> list[Interval]:
        """When it is public, with every known end applied (all of valid time)."""
        if not self.publishable or self.lifecycle.never is not None:
            return []
        return self.lifecycle.final()

    def to_json(self) -> dict[str, Any]:
        """A JSON form :meth:`from_json` reads back (what the view stores)."""
        life = self.lifecycle
        return {
            "event_id": self.event_id,
            "seq": self.seq,
            "type": self.type,
            "kind": self.kind,
            "act_day": self.act_day.isoformat(),
            "effective_us": self.effective_us,
            "recorded_us": self.recorded_us,
            "base": [list(astuple_interval(iv)) for iv in life.base],
            "cuts": [list(astuple_cut(c)) for c in life.cuts],
            "never": life.never,
            "publishable": self.publishable,
            "withheld": self.withheld,
            "describe": self.describe,
            "publish_by": None if self.publish_by is None else self.publish_by.isoformat(),
            "publish_by_note": self.publish_by_note,
            "details": self.details,
            "what": self.what,
            "describe_zh": self.describe_zh,
            "withheld_zh": self.withheld_zh,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ItemPlan:
        return cls(
            event_id=obj["event_id"],
            seq=obj["seq"],
            type=obj["type"],
            kind=obj["kind"],
            act_day=date.fromisoformat(obj["act_day"]),
            effective_us=obj["effective_us"],
            recorded_us=obj["recorded_us"],
            lifecycle=Lifecycle(
                tuple(Interval(*iv) for iv in obj["base"]),
                tuple(Cut(*c) for c in obj["cuts"]),
                obj["never"],
            ),
            publishable=obj["publishable"],
            withheld=obj["withheld"],
            describe=obj["describe"],
            publish_by=None if obj["publish_by"] is None else date.fromisoformat(obj["publish_by"]),
            publish_by_note=obj["publish_by_note"],
            details=obj["details"],
            what=obj.get("what"),
            describe_zh=obj.get("describe_zh"),
            withheld_zh=obj.get("withheld_zh"),
        )


def astuple_interval(iv: Interval) -> tuple[Any, ...]:
    return (iv.start_us, iv.end_us, iv.start_cause, iv.end_cause, iv.end_event, iv.start_event)


def astuple_cut(cut: Cut) -> tuple[Any, ...]:
    return (cut.start_us, cut.end_us, cut.cause, cut.event, cut.restore_cause, cut.restore_event)


_FIRST_CAUSES = frozenset(
    {
        "decided",
        "designated",
        "imposed",
        "applied",
        "linked",
        "registered",
        "withdrawal notice",
        "granted",
    }
)


def render(plan: ItemPlan, as_of_us: int) -> dict[str, Any] | None:
    """The item as the public sees it at ``as_of_us`` (module docstring); None
    when the record is not yet in effect then. Its reason in three forms:
    ``reason`` (English, the line clients have always read), ``reason_zh`` and
    ``reason_parts`` (codes and parameters, :mod:`projections.wording`)."""
    if plan.effective_us > as_of_us:
        return None
    life = plan.lifecycle
    published = False
    mark: dict[str, Any] | None = None
    start: date | None = None
    until: date | None = None
    periods: list[list[str | None]] = []
    what = plan.what or {"code": "text", "text": plan.describe}
    parts: dict[str, Any]
    if life.never is not None:
        parts = {"code": "never", "cause": cause_parts(life.never)}
    elif not plan.publishable:
        what = plan.what or {"code": "text", "text": plan.withheld}
        parts = {"code": "withheld"}
    else:
        start = plan.act_day
        known = life.intervals_at(as_of_us)
        periods = [
            [day_text(iv.start_us), None if iv.end_us is None else day_text(iv.end_us)]
            for iv in known
        ]
        current = next((iv for iv in known if iv.contains(as_of_us)), None)
        if current is not None:
            published = True
            until = None if current.end_us is None else valid_day(current.end_us)
            again = None
            if current.start_cause not in _FIRST_CAUSES:
                again = {
                    "day": day_text(current.start_us),
                    "cause": cause_parts(current.start_cause),
                }
            ends = None if until is None else until.isoformat()
            parts = {"code": "published", "again": again, "ends": ends}
        else:
            ended = life.ended(as_of_us)
            if ended is not None:
                until = valid_day(ended[0])
                parts = {"code": "ended", "day": until.isoformat(), "cause": cause_parts(ended[1])}
                mark = ended_mark(ended[1], until.isoformat(), ended[2])
            else:
                parts = {"code": "not-yet", "day": plan.act_day.isoformat()}
    english = plan.withheld if parts["code"] == "withheld" else plan.describe
    chinese = plan.withheld_zh if parts["code"] == "withheld" else plan.describe_zh
    reason = reason_text(parts, str(english), "en")
    reason_zh = reason_text(parts, chinese or str(english), "zh")
    return {
        "event_id": plan.event_id,
        "type": plan.type,
        "kind": plan.kind,
        "published": published,
        "from": None if start is None else start.isoformat(),
        "until": None if until is None else until.isoformat(),
        "publish_by": None if plan.publish_by is None else plan.publish_by.isoformat(),
        "publish_by_note": plan.publish_by_note,
        "late": plan.late,
        "reason": reason,
        "reason_zh": reason_zh,
        "reason_parts": {**parts, "what": what},
        "periods": periods,
        **plan.details,
        **({} if mark is None else {"publication_ended": mark}),
    }


PROTECTED_KEY = "id_number_protected"
"""Where a person item keeps an identity number the ledger stores encrypted
(``ledger.sealing``): never part of the public JSON (:func:`public_items`)."""

Reveal = Callable[[Any], str | None]
"""Turns a stored (encrypted) identity number into what the public may see: its
masked form, or "erased" (``ledger.sealing.reveal`` for the public role)."""


def public_items(
    items: Iterable[dict[str, Any]], reveal: Reveal | None = None
) -> list[dict[str, Any]]:
    """``items`` as the public gets them: a person's identity number masked (an
    encrypted one through ``reveal``, or null without it), never in clear and
    never its ciphertext. Other items are passed through (shared, read-only)."""
    out = []
    for item in items:
        if PROTECTED_KEY in item:
            item = dict(item)
            protected = item.pop(PROTECTED_KEY)
            item["id_number"] = reveal(protected) if reveal is not None else None
        out.append(item)
    return out
