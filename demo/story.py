"""The story base: what every subject's story is made of.

:class:`Draft` is an event as a story drafts it (valid and recorded time in
microseconds UTC); :class:`Finding` is what a story remembers about a finding while it
unfolds; :class:`Counters` numbers ids and documents across all subjects;
:class:`Shared` is what every story of one :func:`demo.generate` run shares (the
counters, the rule services, the working days); :class:`Story` is the plumbing.

Contract of :meth:`Story.emit`: an event is appended only if its time and recorded time
can both lie on or before :data:`demo.days.DEMO_NOW` and after every dependency's (on
both clocks); otherwise nothing is appended and None is returned, and a None dependency
means the prerequisite never happened, so neither does the event.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from commands.services import RuleServices
from commands.workflows.objections import objection_region
from demo.days import (
    _NOW_US,
    _US,
    DEMO_START,
    WorkingDays,
    _day_of,
    _us_at,
)
from demo.identities import Subject, _person_name, id_number_check
from demo.templates import _FINDING_WEIGHT_TYPES

SEVERITY_WEIGHT = {"minor": 0, "general": 1, "serious": 3}
"""How a finding weighs in grades and supervision tiers: minor 0, general 1, serious 3."""


@dataclass(slots=True)
class Draft:
    """An event as a story drafts it, before it becomes a CloudEvent."""

    id: str
    source: str
    type: str
    t: int
    """Valid time, microseconds UTC (whole seconds)."""
    r: int
    """Recorded time, microseconds UTC."""
    data: dict[str, Any]

    @property
    def day(self) -> date:
        return _day_of(self.t)


@dataclass(slots=True)
class Finding:
    """What the story remembers about a finding while it unfolds."""

    ev: Draft
    severities: set[str]
    sector: str | None
    rect_order: Draft | None = None
    rect_done: Draft | None = None
    closed: bool = False
    """Revoked or withdrawn: nothing may refer to it any more."""
    measures: list[Draft] = field(default_factory=list)
    family: str | None = None
    """The rule book's record family its disclosure period is measured by ("penalty" or
    "violation"); None: derived from the event's type (a designation names its
    finding's)."""


class Counters:
    """Id and document-number counters shared by all subjects (deterministic order)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, int], int] = {}
        self.docs: dict[tuple[str, int], int] = {}

    def next_id(self, source: str, year: int) -> str:
        n = self.ids.get((source, year), 0) + 1
        self.ids[(source, year)] = n
        return f"{source.replace('/', '-')}-{year}-{n:06d}"

    def next_doc(self, key: str, year: int, rng: random.Random) -> int:
        n = self.docs.get((key, year), rng.randint(0, 40)) + rng.randint(1, 6)
        self.docs[(key, year)] = n
        return n


@dataclass(frozen=True, slots=True)
class Shared:
    """What all stories of one generation share: the id and document counters (one
    deterministic sequence), the rule services the stories ask for periods, deadlines
    and ratios, and the working days of the rule services' calendar."""

    counters: Counters
    rules: RuleServices
    days: WorkingDays


class Story:
    """The plumbing of one subject's story: draws moments on working days in office
    hours, appends events to ``self.events`` (:meth:`emit`), numbers documents and
    links persons. The story families (:mod:`demo.findings`, :mod:`demo.repair`,
    :mod:`demo.commitments`, :mod:`demo.listings`) build on it and
    :class:`demo.lives.Life` tells the whole life.

    ``rng`` is the story's own random stream (from ``subject.story_seed``): a story
    draws nothing from anywhere else, so the data set is deterministic.
    """

    def __init__(self, subject: Subject, shared: Shared) -> None:
        self.s = subject
        self.rng = random.Random(subject.story_seed)
        self.shared = shared
        self.rules = shared.rules
        self.counters = shared.counters
        self.events: list[Draft] = []
        self.dependents: dict[str, list[Draft]] = {}
        """Per id, the events emitted with it as a dependency (a revocation or a
        withdrawal must follow all of them on both clocks)."""
        self.marks: list[tuple[date, int]] = []
        """(day, weight) of each finding: minor 0, general 1, serious 3."""

    # -- plumbing --------------------------------------------------------------------

    def src(self, agency: str) -> str:
        return f"{agency}/{self.s.region.code}"

    def office(self, day: date) -> int:
        """A moment in office hours (09:00–17:30, lunch skipped) on ``day``."""
        minute = self.rng.randint(0, 450)
        minute += 90 if minute >= 180 else 0  # 12:00–13:30 off
        return _us_at(day, 9 * 3600 + minute * 60 + self.rng.randint(0, 59))

    def between(self, lo: date, hi: date) -> int | None:
        """A working-day office moment in [lo, hi], or None if there is none."""
        days = self.shared.days.ordinals
        i = bisect.bisect_left(days, lo.toordinal())
        j = bisect.bisect_right(days, hi.toordinal())
        if i >= j:
            return None
        return self.office(date.fromordinal(days[self.rng.randrange(i, j)]))

    def days_after(self, base: Draft | int, lo: int, hi: int) -> int | None:
        """A working-day office moment lo..hi calendar days after ``base`` (lo ≥ 1)."""
        day = _day_of(base.t if isinstance(base, Draft) else base)
        return self.between(day + timedelta(days=lo), day + timedelta(days=hi))

    def wd_after(self, base: Draft | int, lo: int, hi: int) -> int:
        """An office moment on the lo-th..hi-th working day after ``base`` (lo ≥ 1)."""
        day = _day_of(base.t if isinstance(base, Draft) else base)
        return self.office(self.shared.days.add(day, self.rng.randint(lo, hi)))

    def objection_decided(self, filed: Draft | None) -> int | None:
        """An office moment on one of the working days within which the subject's region
        must decide an objection filed by ``filed`` (the procedures' objection profile,
        :func:`commands.workflows.objections.objection_region`); None without a filing."""
        if filed is None:
            return None
        _, decide = self.rules.procedures.objection_deadlines(
            objection_region(self.s.code, self.rules)
        )
        return self.wd_after(filed, 1, decide)

    def objection(
        self,
        target: Draft,
        at: int | None,
        grounds: str,
        decider: str,
        upheld_chance: float,
        upheld_reasons: str,
        rejected_reasons: str | tuple[str, ...],
    ) -> tuple[Draft | None, Draft | None, bool]:
        """An objection against ``target`` filed through the credit platform at ``at`` and
        decided by ``decider`` within the region's deadline (:meth:`objection_decided`):
        upheld with the chance ``upheld_chance`` and ``upheld_reasons``, else rejected with
        ``rejected_reasons`` (a tuple: one of them). Returns the filing, the resolution
        (None if it would lie after DEMO_NOW) and whether it was upheld; ``(None, None,
        False)`` when nothing was filed (no random draw is made then)."""
        filed = self.emit(
            "credit.objection.filed",
            "credit-platform",
            at,
            {"target": target.id, "grounds": grounds},
            [target],
        )
        if filed is None:
            return None, None, False
        upheld = self.rng.random() < upheld_chance
        decided = self.objection_decided(filed)
        if upheld:
            reasons = upheld_reasons
        elif isinstance(rejected_reasons, str):
            reasons = rejected_reasons
        else:
            reasons = self.rng.choice(rejected_reasons)
        resolved = self.emit(
            "credit.objection.resolved",
            decider,
            decided,
            {
                "objection": filed.id,
                "outcome": "upheld" if upheld else "rejected",
                "reasons": reasons,
            },
            [filed],
        )
        return filed, resolved, upheld

    def delay_s(self) -> int:
        """Seconds between a decision and its recording: mostly hours, sometimes days,
        now and then weeks (late reporting)."""
        x = self.rng.random()
        if x < 0.55:
            return self.rng.randint(600, 8 * 3600)
        if x < 0.86:
            return self.rng.randint(8 * 3600, 3 * 86_400)
        if x < 0.96:
            return self.rng.randint(3 * 86_400, 7 * 86_400)
        return self.rng.randint(14 * 86_400, 50 * 86_400)

    def emit(
        self,
        type_: str,
        agency: str,
        t: int | None,
        data: dict[str, Any],
        deps: Sequence[Draft | None] = (),
        delay_s: int | None = None,
    ) -> Draft | None:
        """Append an event unless it would lie after DEMO_NOW (then None).

        ``deps`` are the events this one must follow (its references and the
        obligations it rests on): its time is pushed after theirs if needed and its
        recorded time after their recorded times. A None dependency means the
        prerequisite never happened, so neither does this event.
        """
        if t is None or any(d is None for d in deps):
            return None
        real = [d for d in deps if d is not None]
        for d in real:
            if t <= d.t:
                t = d.t + self.rng.randint(300, 3600) * _US
        if t > _NOW_US:
            return None
        r = t + (self.delay_s() if delay_s is None else delay_s) * _US
        r += self.rng.randint(0, _US - 1)
        floor = max((d.r for d in real), default=t) + self.rng.randint(1, 1800) * _US
        r = max(r, floor)
        if r > _NOW_US:
            lo = max(t, floor)
            if lo > _NOW_US:
                return None
            r = self.rng.randint(lo, _NOW_US)
        source = self.src(agency)
        ev = Draft(self.counters.next_id(source, _day_of(t).year), source, type_, t, r, data)
        self.events.append(ev)
        if type_ in _FINDING_WEIGHT_TYPES:
            weight = SEVERITY_WEIGHT[data.get("severity", "general")]
            self.marks.append((_day_of(t), weight))
        for d in real:
            self.dependents.setdefault(d.id, []).append(ev)
        return ev

    def after_all(self, ev: Draft) -> list[Draft]:
        """The events emitted so far that depend on ``ev``."""
        return self.dependents.get(ev.id, [])

    def doc(self, kind: str, t: int) -> str:
        """A document number (文书号) of the kind's pattern for the decision at ``t``."""
        year = _day_of(t).year
        reg = self.s.region
        n = self.counters.next_doc(f"{reg.code}/{kind}", year, self.rng)
        if kind == "court":
            district = self.s.district[0]
            return f"（{year}）{reg.province}{district[2:]}执{n}号"
        return f"{reg.abbr}{kind}〔{year}〕{n}号"

    # -- identities and times ----------------------------------------------------------

    def person(
        self, t: int | None, agency: str, role: str, deps: Sequence[Draft | None] = ()
    ) -> Draft | None:
        """A responsible person (role) linked by ``agency`` at ``t``: a name and a valid
        resident identity number born 1960–2000 in one of the region's districts."""
        rng = self.rng
        district = rng.choice(self.s.region.districts)[0]
        born = date(1960, 1, 1) + timedelta(
            days=rng.randint(0, (date(2000, 12, 31) - date(1960, 1, 1)).days)
        )
        first17 = f"{district}{born:%Y%m%d}{rng.randint(0, 999):03d}"
        return self.emit(
            "credit.person.linked",
            agency,
            t,
            {
                "role": role,
                "name": _person_name(rng),
                "id_number": first17 + id_number_check(first17),
            },
            deps,
        )

    def finding_time(self, lo: date | None = None, hi: date | None = None) -> int | None:
        """A working-day office moment for a decision: from ten days after the later of
        ``lo`` (default the subject's start) and the demo's first day, to ``hi``
        (default three days before the demo's "now"); None if that span is empty."""
        lo = max(lo or self.s.start, DEMO_START) + timedelta(days=10)
        hi = hi or _day_of(_NOW_US) - timedelta(days=3)
        return self.between(lo, hi) if lo <= hi else None

    def weight(self, lo: date, hi: date) -> int:
        """The weight of the findings decided in [lo, hi]."""
        return sum(w for d, w in self.marks if lo <= d <= hi)
