"""The generator: every subject's life, the spot checks and the positive side, sorted
by recorded time and turned into CloudEvents (:func:`generate`); the example subject
README names (:func:`example_subject`); the agencies the demo may emit
(:func:`agencies`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from commands.services import RuleServices
from demo.days import WorkingDays, _rfc3339
from demo.identities import _REGIONS, Subject, _subjects
from demo.lives import Life
from demo.positive import positive_side
from demo.spotchecks import spot_checks
from demo.story import Counters, Draft, Shared
from demo.templates import _DOC_PREFIX


@dataclass(frozen=True, slots=True)
class DemoEvent:
    """One demo event: the CloudEvent an agency submits and when the demo records it.

    ``event`` is a complete CloudEvents 1.0 structured-JSON object (``specversion``,
    ``id``, ``source``, ``type``, ``subject``, ``time`` with ``+08:00``,
    ``datacontenttype``, ``data``). ``recorded_us`` is the recording moment in
    microseconds UTC: ≥ the event's ``time`` and ≤ :data:`DEMO_NOW`.
    """

    event: dict[str, Any]
    recorded_us: int


def _first_event_names(events: Iterable[Draft], subject_of: dict[str, Subject]) -> None:
    """Put ``subject_name`` into each subject's first event (in recorded order)."""
    seen: set[str] = set()
    for ev in events:
        s = subject_of[ev.id]
        if s.code not in seen:
            seen.add(s.code)
            ev.data["subject_name"] = s.name


def generate(subjects: int = 1200, seed: int = 20261120, *, rules: RuleServices) -> list[DemoEvent]:
    """The demo data set: ``subjects`` subjects' events, sorted by ``recorded_us``.

    ``rules`` are the rule services the ledger that records the demo decides by
    (``entrypoints.rule_files.load_rules()`` for the packaged rules): the stories ask
    them for disclosure periods, deadlines, list terms, spot-check ratios and working
    days, so the demo follows the rules it is recorded under.

    Deterministic: the same arguments give identical output (only ``random.Random``
    instances derived from ``seed`` are used; no clock, no I/O). The defaults give
    about 1,200 subjects and more than 20,000 events covering every event type. See the
    package docstring for the guarantees.
    """
    if subjects < 1:
        raise ValueError("subjects must be at least 1")
    shared = Shared(Counters(), rules, WorkingDays(rules.calendar))
    pairs: list[tuple[Draft, Subject]] = []
    lives: list[tuple[Subject, list[Draft]]] = []
    for subject in _subjects(subjects, seed):
        events = Life(subject, shared).run()
        lives.append((subject, events))
        pairs.extend((ev, subject) for ev in events)
    pairs.extend(spot_checks(lives, seed, shared))
    pairs.extend(positive_side(lives, shared))
    pairs.sort(key=lambda p: p[0].r)
    subject_of = {ev.id: s for ev, s in pairs}
    _first_event_names((ev for ev, _ in pairs), subject_of)
    return [
        DemoEvent(
            {
                "specversion": "1.0",
                "id": ev.id,
                "source": ev.source,
                "type": ev.type,
                "subject": s.code,
                "time": _rfc3339(ev.t),
                "datacontenttype": "application/json",
                "data": ev.data,
            },
            ev.r,
        )
        for ev, s in pairs
    ]


def example_subject(events: Sequence[DemoEvent]) -> str:
    """The demo's example subject, the one README and ``ledger demo`` name: the
    subject whose history shows the most — most distinct event types, then most
    events, then the smallest code (deterministic for a given data set)."""
    types: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for d in events:
        code = d.event["subject"]
        types.setdefault(code, set()).add(d.event["type"])
        counts[code] = counts.get(code, 0) + 1
    return min(types, key=lambda code: (-len(types[code]), -counts[code], code))


def agencies() -> frozenset[str]:
    """Every agency ``source`` the demo may emit: each agency kind it uses, at each of its
    regions (the prefecture-level code its subjects carry)."""
    return frozenset(f"{kind}/{r.code}" for kind in _DOC_PREFIX for r in _REGIONS)
