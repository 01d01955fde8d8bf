"""A subject's credit standing at a point in (both) time(s): grade, score and why.

``standing(subject, records, as_of_us, known_at_us, rules)`` is pure: it selects
the records (``projections.timeline``), computes each record's lifecycle
(``projections.lifecycles``) and reads them at ``as_of``. The result's
``to_json()`` is DESIGN.md's ``standing --json`` shape (``subject``, ``grade``,
``score``, ``explanation``, ``measures``, ``lists``, ``suspended``) plus the
open items: evaluation, bans, commitments, rectifications, objections, the
supervision tier and its spot-check ratio.

Score: the grade scheme of ``Procedures`` (its start, points per record key such
as ``penalty.serious``, caps). Every point names the event that gives it; records
that no longer count (revoked, withdrawn, repaired, past their maximum period,
removed from the list) appear in the explanation with 0 points and the reason
(``projections.score``). The open items come from ``projections.open_items``, the
supervision tier and the evaluations from ``projections.supervision``.

``next_change_us`` is the first instant after ``as_of`` at which the standing
changes by the calendar alone (a measure's last day passing, a commitment falling
due …); until then, and without new records, the standing read later is the same
apart from ``as_of``. The materialised view uses it to know when a stored
standing has gone stale.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from commands.services import RuleServices
from commands.workflows.objections import objection_region
from events.recorded import RecordedEvent
from projections.intervals import Interval, Lifecycle, NextChange, Reading, read_at
from projections.lifecycles import day_text, grounds, lifecycles
from projections.open_items import objection_json, open_at, pending_objections
from projections.score import Contribution, ScoredRecord, contribution_at, scored_records
from projections.supervision import SUPERVISION_TIERS, evaluations_at, raised_tier
from projections.timeline import (
    Entry,
    Timeline,
    day_after_start_us,
    instant_text,
    parse_day,
    select,
)
from projections.trustworthy import changes, membership

__all__ = ["ScoreLine", "Standing", "score_line", "score_lines", "standing", "standing_of"]

ScoreLine = tuple[
    str, str | None, int | None, Contribution | None, ScoredRecord | None, Reading | None
]
"""One scored record read at an instant: its event id, its note, the next instant its
reading changes by the calendar, its contribution (None: worked out with the running
totals), and the scored record with its reading (None when the line was stored)."""


@dataclass(frozen=True)
class Standing:
    """A subject's standing at (``as_of_us``, ``known_at_us``); see module docstring."""

    subject: str
    as_of_us: int
    known_at_us: int | None
    scheme: str
    start: int
    score: int
    grade: str
    explanation: tuple[Contribution, ...]
    measures: tuple[dict[str, Any], ...]
    lists: tuple[str, ...]
    list_designations: tuple[dict[str, Any], ...]
    suspended: tuple[str, ...]
    evaluation: dict[str, Any] | None
    """The latest evaluation of any scheme (kept for readers of one grade)."""
    evaluations: tuple[dict[str, Any], ...]
    """Per scheme, its latest evaluation (valid or not), by scheme name."""
    tier_raised_by: str | None
    """The valid evaluation that raised ``tier`` above the grade's own (rule set criteria)."""
    bans: tuple[dict[str, Any], ...]
    open_commitments: tuple[dict[str, Any], ...]
    overdue_commitments: tuple[dict[str, Any], ...]
    open_rectifications: tuple[dict[str, Any], ...]
    pending_objections: tuple[dict[str, Any], ...]
    region: str
    objection_profile: str
    tier: str | None
    spot_check_ratio: str | None
    records: int
    subject_name: str | None = None
    next_change_us: int | None = None
    notes: tuple[str, ...] = field(default=())
    trustworthy: dict[str, Any] | None = None
    """Membership of the trustworthy list (``projections.trustworthy``), or None."""

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md ``standing --json`` (and more keys)."""
        return {
            "subject": self.subject,
            "subject_name": self.subject_name,
            "as_of": instant_text(self.as_of_us),
            "known_at": instant_text(self.known_at_us),
            "grade": self.grade,
            "score": self.score,
            "scheme": self.scheme,
            "start": self.start,
            "explanation": [c.to_json() for c in self.explanation],
            "measures": list(self.measures),
            "lists": list(self.lists),
            "list_designations": list(self.list_designations),
            "suspended": list(self.suspended),
            "evaluation": self.evaluation,
            "evaluations": list(self.evaluations),
            "tier_raised_by": self.tier_raised_by,
            "bans": list(self.bans),
            "open_commitments": list(self.open_commitments),
            "overdue_commitments": list(self.overdue_commitments),
            "open_rectifications": list(self.open_rectifications),
            "pending_objections": list(self.pending_objections),
            "region": self.region,
            "objection_profile": self.objection_profile,
            "tier": self.tier,
            "spot_check_ratio": self.spot_check_ratio,
            "records": self.records,
            "next_change": instant_text(self.next_change_us),
            "notes": list(self.notes),
            "trustworthy": self.trustworthy,
        }


def standing(
    subject: str,
    records: Iterable[RecordedEvent],
    as_of_us: int,
    known_at_us: int | None,
    rules: RuleServices,
) -> Standing:
    """The standing of ``subject`` from its records (seq order) as of ``as_of_us``
    (valid time) with what was recorded by ``known_at_us`` (None: everything)."""
    return standing_of(select(subject, records, as_of_us, known_at_us), as_of_us, rules)


def standing_of(
    timeline: Timeline,
    as_of_us: int,
    rules: RuleServices,
    lines: Sequence[ScoreLine] | None = None,
) -> Standing:
    """The standing read from a timeline at ``as_of_us``. The timeline may hold
    records in effect later than ``as_of_us`` (a timeline of everything known):
    they are left out, and the result is the same as for a timeline selected at
    ``as_of_us``.

    ``lines``: the score lines at ``as_of_us`` (:func:`score_lines`) when they come
    from elsewhere than the timeline (a read snapshot, ``projections.read_snapshot``:
    then without ``item`` and ``reading``, so for records of no capped key, no list
    and no pending objection, which its writer checks)."""
    procedures = rules.procedures
    scheme = procedures.grade_scheme()
    subject = timeline.subject
    region = objection_region(subject, rules)
    profile = procedures.objection_profile(region)
    edges = NextChange(as_of_us)
    facts = lifecycles(timeline, rules)

    pending = pending_objections(timeline, as_of_us)
    objections_on: dict[str, str] = {}
    for objection in pending:
        target = objection.refs.get("target")
        if target is not None:
            objections_on.setdefault(target.id, objection.id)
    suspended_targets = objections_on if profile.suspend_measures_during_verification else {}

    contributions: list[Contribution] = []
    totals: dict[str, int] = {}
    designations: list[dict[str, Any]] = []
    lists: set[str] = set()
    notes: list[str] = []
    caps = scheme.caps
    if lines is None:
        lines = score_lines(timeline, as_of_us, rules)
    for event_id, note, following, contribution, item, reading in lines:
        if note:
            notes.append(note)
        if following is not None and (edges.first is None or following < edges.first):
            edges.first = following
        if item is not None and reading is not None:
            if item.list_name is not None and reading.current is not None:
                lists.add(item.list_name)
                designations.append(_designation_json(item.entry, item.list_name, as_of_us, edges))
            if item.key in caps or event_id in objections_on:
                contribution = contribution_at(
                    item.entry, item, reading, scheme, totals, objections_on
                )
        if contribution is None:
            raise ValueError(f"no score line for {event_id} at {as_of_us}")
        contributions.append(contribution)
    visible = bisect_right(_effective_times(timeline), as_of_us)

    score = scheme.start + sum(c.points for c in contributions)
    grade = scheme.grade_for(score)
    evaluations = evaluations_at(timeline, as_of_us, edges)
    tier, raised_by = raised_tier(SUPERVISION_TIERS.get(grade), evaluations, rules)
    ratio = procedures.spot_check_ratios().get(tier) if tier is not None else None
    trustworthy = membership(timeline, as_of_us, rules)
    edges.add_all(changes(timeline, as_of_us, rules))
    if trustworthy is not None and ratio is not None:
        ratio = min(ratio, rules.incentives.trustworthy.spot_check_ratio)  # 35号 §九
    open_commitments = open_at(timeline, "commitments", as_of_us, edges)
    return Standing(
        subject=subject,
        as_of_us=as_of_us,
        known_at_us=timeline.known_at_us,
        scheme=scheme.id,
        start=scheme.start,
        score=score,
        grade=grade,
        explanation=tuple(contributions),
        measures=tuple(
            _sanctions(
                timeline,
                "credit.measure.applied",
                facts.measures,
                as_of_us,
                suspended_targets,
                edges,
                _measure_json,
            )
        ),
        lists=tuple(sorted(lists)),
        list_designations=tuple(designations),
        suspended=tuple(sorted(suspended_targets)),
        evaluation=evaluations[-1] if evaluations else None,
        evaluations=tuple(sorted(evaluations, key=lambda e: str(e["scheme"]))),
        tier_raised_by=raised_by,
        bans=tuple(
            _sanctions(
                timeline,
                "credit.ban.imposed",
                facts.bans,
                as_of_us,
                suspended_targets,
                edges,
                _ban_json,
            )
        ),
        open_commitments=tuple(open_commitments),
        overdue_commitments=tuple(c for c in open_commitments if c["overdue"]),
        open_rectifications=tuple(open_at(timeline, "rectifications", as_of_us, edges)),
        pending_objections=tuple(
            objection_json(o, region, rules, as_of_us, edges) for o in pending
        ),
        region=subject[2:8],
        objection_profile=region,
        tier=tier,
        spot_check_ratio=None if ratio is None else str(ratio),
        records=visible,
        subject_name=timeline.subject_name,
        next_change_us=edges.first,
        notes=tuple(notes),
        trustworthy=trustworthy,
    )


def score_lines(timeline: Timeline, as_of_us: int, rules: RuleServices) -> list[ScoreLine]:
    """The score line of every scored record in effect at ``as_of_us``, seq order
    (:func:`score_line`)."""
    # score_line's body with its memo looked up once: a warm read of a long stream
    # reads every scored record's line, and this loop is most of its time.
    phases = _phases(timeline, rules)
    out: list[ScoreLine] = []
    for item in scored_records(timeline, rules):
        entry = item.entry
        if entry.effective_us > as_of_us:
            continue
        found = phases.get((entry.seq, bisect_right(item.marks, as_of_us)))
        if found is None:
            out.append(score_line(timeline, item, as_of_us, rules))
        else:
            out.append((entry.id, item.note, found[1], found[2], item, found[0]))
    return out


_Phase = tuple[Reading, int | None, Contribution | None]
"""A scored record's reading in one stretch, when its line next changes, and its plain
contribution then (:func:`score_line`)."""


def _phases(timeline: Timeline, rules: RuleServices) -> dict[tuple[int, int], _Phase]:
    found: dict[tuple[int, int], _Phase] = timeline.memo.setdefault(
        ("standing-phases", id(rules)), {}
    )
    return found


def score_line(
    timeline: Timeline, item: ScoredRecord, as_of_us: int, rules: RuleServices
) -> ScoreLine:
    """``item`` read at ``as_of_us``: its reading, memoised per stretch between two of
    its lifecycle's marks (``projections.intervals.read_at``), and its contribution when
    no running total or objection changes it (None for a capped key)."""
    phases = _phases(timeline, rules)
    phase_key = (item.seq, bisect_right(item.marks, as_of_us))
    found = phases.get(phase_key)
    if found is None:
        scheme = rules.procedures.grade_scheme()
        reading = read_at(timeline, item.seq, item.lifecycle, as_of_us)
        plain = (
            None
            if item.key in scheme.caps
            else contribution_at(item.entry, item, reading, scheme, {}, {})
        )
        found = phases[phase_key] = (reading, reading.next, plain)
    reading, following, contribution = found
    return (item.entry.id, item.note, following, contribution, item, reading)


def _effective_times(timeline: Timeline) -> Sequence[int]:
    """Every entry's effective time, sorted (memoised; a read snapshot sets it)."""
    found: Sequence[int] | None = timeline.memo.get("effective_times")
    if found is None:
        found = sorted(e.effective_us for e in timeline.entries)
        timeline.memo["effective_times"] = found
    return found


def _suspension(entry: Entry, suspended: dict[str, str]) -> str | None:
    if entry.id in suspended:
        return suspended[entry.id]
    for ground in grounds(entry):
        if ground.id in suspended:
            return suspended[ground.id]
    return None


def _measure_json(entry: Entry, current: Interval) -> dict[str, Any]:
    return {
        "event_id": entry.id,
        "measure": entry.data.get("measure"),
        "finding": entry.data.get("finding"),
        "since": day_text(current.start_us),
        "until": entry.data.get("until"),
        "agency": entry.source,
    }


def _ban_json(entry: Entry, current: Interval) -> dict[str, Any]:
    until = entry.data.get("until")
    return {
        "event_id": entry.id,
        "sector": entry.data.get("sector"),
        "finding": entry.data.get("finding"),
        "since": day_text(current.start_us),
        "until": until,
        "permanent": until is None,
        "agency": entry.source,
    }


def _sanctions(
    timeline: Timeline,
    type_name: str,
    by_seq: dict[int, Lifecycle],
    as_of_us: int,
    suspended: dict[str, str],
    edges: NextChange,
    describe: Callable[[Entry, Interval], dict[str, Any]],
) -> list[dict[str, Any]]:
    out = []
    for entry in timeline.of_type(type_name):
        if entry.effective_us > as_of_us:
            continue
        reading = read_at(timeline, entry.seq, by_seq[entry.seq], as_of_us)
        edges.add(reading.next)
        current = reading.current
        if current is None:
            continue
        by = _suspension(entry, suspended)
        item = describe(entry, current)
        item["suspended"] = by is not None
        item["suspended_by"] = by
        out.append(item)
    return out


def _designation_json(entry: Entry, name: str, as_of_us: int, edges: NextChange) -> dict[str, Any]:
    proposal = entry.refs.get("proposal")
    planned = proposal.data.get("planned_end") if proposal is not None else None
    planned_day = parse_day(planned)
    edges.add_day_end(planned_day)
    return {
        "list": name,
        "event_id": entry.id,
        "proposal": proposal.id if proposal is not None else None,
        "finding": proposal.data.get("finding") if proposal is not None else None,
        "since": day_text(entry.time_us),
        "planned_end": planned,
        "past_planned_end": planned_day is not None and as_of_us >= day_after_start_us(planned_day),
    }
