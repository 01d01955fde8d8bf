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
removed from the list) appear in the explanation with 0 points and the reason.

``next_change_us`` is the first instant after ``as_of`` at which the standing
changes by the calendar alone (a measure's last day passing, a commitment falling
due …); until then, and without new records, the standing read later is the same
apart from ``as_of``. The materialised view uses it to know when a stored
standing has gone stale.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from commands.calendar import CalendarUnknown
from commands.procedures import GradeScheme
from commands.rulesets import NoRuleSet
from commands.services import RuleServices
from commands.workflows.criteria import unchecked_minor
from commands.workflows.inspections import GRADE_TIERS
from commands.workflows.objections import objection_region
from events.instants import CST, from_us
from events.recorded import RecordedEvent
from projections.intervals import Interval, Lifecycle, Reading, marks, read_at
from projections.lifecycles import (
    FINDING_FAMILIES,
    RulesFor,
    day_text,
    grounds,
    lifecycles,
    list_name,
)
from projections.timeline import Entry, Timeline, day_after_start_us, parse_day, select
from projections.wording import cause_parts, score_reason_text, score_what_text

__all__ = [
    "SUPERVISION_TIERS",
    "OpenItem",
    "Standing",
    "instant_text",
    "open_items",
    "standing",
    "standing_of",
]

SUPERVISION_TIERS: dict[str, str] = dict(GRADE_TIERS)
"""Market-regulation grade → supervision (risk) tier, the keys of the spot-check ratios
(the same table ``commands.workflows.inspections`` draws spot checks with)."""


def instant_text(us: int | None) -> str | None:
    """An instant as RFC 3339 in China Standard Time (None stays None)."""
    if us is None:
        return None
    return from_us(us).astimezone(CST).isoformat()


def ended_reason(lifecycle: Lifecycle, as_of_us: int) -> str:
    """Why a record is not in force at ``as_of_us``, in one line."""
    if lifecycle.never is not None:
        return f"never in force: {lifecycle.never}"
    ended = lifecycle.ended(as_of_us)
    if ended is not None:
        when, cause, event = ended
        by = f" ({event})" if event else ""
        return f"ended {day_text(when)}: {cause}{by}"
    return "not yet in force"


class Contribution:
    """What one record adds to the score (0 with the reason when nothing).

    Its reason in three forms, as a disclosure item's: ``reason`` (English, the
    line clients have always read), ``reason_zh`` and ``reason_parts`` (codes and
    parameters, :func:`projections.wording.score_reason_text`).

    Immutable; ``to_json()`` returns the same (read-only) dict every time.
    """

    __slots__ = ("_json", "event_id", "key", "points", "reason", "reason_zh", "seq", "type")

    def __init__(
        self,
        event_id: str,
        type: str,
        key: str,
        points: int,
        reason: str,
        seq: int,
        reason_zh: str | None = None,
        reason_parts: dict[str, Any] | None = None,
    ) -> None:
        self.event_id = event_id
        self.type = type
        self.key = key
        self.points = points
        self.reason = reason
        self.reason_zh = reason_zh or reason
        self.seq = seq
        self._json = {
            "event_id": event_id,
            "type": type,
            "key": key,
            "points": points,
            "reason": reason,
            "reason_zh": self.reason_zh,
            "reason_parts": reason_parts,
            "seq": seq,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Contribution) and self._json == other._json

    def __hash__(self) -> int:
        return hash((self.event_id, self.seq, self.points, self.reason))

    def __repr__(self) -> str:
        return f"Contribution({self._json!r})"

    def to_json(self) -> dict[str, Any]:
        return self._json


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


class _Boundaries:
    """The earliest calendar-driven change after ``as_of``."""

    def __init__(self, as_of_us: int) -> None:
        self.as_of_us = as_of_us
        self.first: int | None = None

    def add(self, us: int | None) -> None:
        if us is not None and us > self.as_of_us and (self.first is None or us < self.first):
            self.first = us

    def add_lifecycle(self, lifecycle: Lifecycle) -> None:
        for us in lifecycle.boundaries(self.as_of_us):
            self.add(us)

    def add_all(self, instants: Iterable[int]) -> None:
        for us in instants:
            self.add(us)

    def add_day_end(self, day: date | None) -> None:
        if day is not None:
            self.add(day_after_start_us(day))


def _points(scheme: GradeScheme, key: str) -> int | None:
    return scheme.points.get(key)


def standing_of(timeline: Timeline, as_of_us: int, rules: RuleServices) -> Standing:
    """The standing read from a timeline at ``as_of_us``. The timeline may hold
    records in effect later than ``as_of_us`` (a timeline of everything known):
    they are left out, and the result is the same as for a timeline selected at
    ``as_of_us``."""
    procedures = rules.procedures
    scheme = procedures.grade_scheme()
    subject = timeline.subject
    region = objection_region(subject, rules)
    profile = procedures.objection_profile(region)
    edges = _Boundaries(as_of_us)
    facts = lifecycles(timeline, rules)

    pending = _pending_objections(timeline, as_of_us)
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
    scored = _scored(timeline, rules)
    phases: dict[tuple[int, int], tuple[Reading, int | None, Contribution | None]] = (
        timeline.memo.setdefault(("standing-phases", id(rules)), {})
    )
    caps = scheme.caps
    for item in scored:
        entry = item.entry
        if entry.effective_us > as_of_us:
            continue
        if item.note:
            notes.append(item.note)
        phase_key = (item.seq, bisect_right(item.marks, as_of_us))
        found = phases.get(phase_key)
        if found is None:
            reading = read_at(timeline, item.seq, item.lifecycle, as_of_us)
            plain = (
                None if item.key in caps else _contribution(entry, item, reading, scheme, {}, {})
            )
            found = phases[phase_key] = (reading, reading.next, plain)
        reading, following, contribution = found
        if following is not None and (edges.first is None or following < edges.first):
            edges.first = following
        if item.list_name is not None and reading.current is not None:
            lists.add(item.list_name)
            designations.append(_designation_json(entry, item.list_name, as_of_us, edges))
        if contribution is None or entry.id in objections_on:
            contribution = _contribution(entry, item, reading, scheme, totals, objections_on)
        contributions.append(contribution)
    visible = bisect_right(_effective_times(timeline), as_of_us)

    score = scheme.start + sum(c.points for c in contributions)
    grade = scheme.grade_for(score)
    evaluations = _evaluations(timeline, as_of_us, edges)
    tier, raised_by = _raised_tier(SUPERVISION_TIERS.get(grade), evaluations, rules)
    ratio = procedures.spot_check_ratios().get(tier) if tier is not None else None
    from projections.trustworthy import changes, membership  # (it reads the disclosure)

    trustworthy = membership(timeline, as_of_us, rules)
    edges.add_all(changes(timeline, as_of_us, rules))
    if trustworthy is not None and ratio is not None:
        ratio = min(ratio, rules.incentives.trustworthy.spot_check_ratio)  # 35号 §九
    open_commitments = _open(timeline, "commitments", as_of_us, edges)
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
        open_rectifications=tuple(_open(timeline, "rectifications", as_of_us, edges)),
        pending_objections=tuple(
            _objection_json(o, region, rules, as_of_us, edges) for o in pending
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


@dataclass(frozen=True, slots=True)
class _Scored:
    """A record that may count in the score, with what does not depend on as_of."""

    entry: Entry
    key: str
    lifecycle: Lifecycle
    what: dict[str, Any]
    """What the record is, as parts (:func:`projections.wording.score_what_text`)."""
    describe: str
    describe_zh: str
    list_name: str | None = None
    note: str | None = None
    marks: tuple[int, ...] = ()
    """The lifecycle's marks (``projections.intervals.marks``)."""

    @property
    def seq(self) -> int:
        return self.entry.seq


def _finding_note(entry: Entry, rules_for: RulesFor) -> str | None:
    """Why a finding's rules cannot be told, or that its declared ``minor`` was not
    checked (the rule set in force gives no minor definition)."""
    if rules_for.problem:
        return f"{entry.id}: {rules_for.problem}"
    if entry.type == "credit.penalty.decided" and unchecked_minor(
        rules_for.rule_set, {"severity": rules_for.severity}
    ):
        rule_set = rules_for.rule_set.id if rules_for.rule_set is not None else "no rule set"
        return (
            f"{entry.id}: severity minor as declared, not checked: {rule_set} gives no "
            "definition of a minor penalty"
        )
    return None


def _scored(timeline: Timeline, rules: RuleServices) -> list[_Scored]:
    """The records that may count, in seq order (memoised on the timeline)."""
    memo_key = ("scored", id(rules))
    found = timeline.memo.get(memo_key)
    if found is not None:
        return list(found)
    facts = lifecycles(timeline, rules)
    out: list[_Scored] = []

    def scored(
        entry: Entry,
        key: str,
        lifecycle: Lifecycle,
        what: dict[str, Any],
        list_name: str | None = None,
        note: str | None = None,
    ) -> _Scored:
        return _Scored(
            entry,
            key,
            lifecycle,
            what,
            score_what_text(what, "en", rules),
            score_what_text(what, "zh", rules),
            list_name,
            note,
            marks(lifecycle),
        )

    for entry in timeline.entries:
        kind = entry.type
        seq = entry.seq
        if kind in FINDING_FAMILIES:
            rules_for = facts.rules_for[seq]
            out.append(
                scored(
                    entry,
                    f"{FINDING_FAMILIES[kind]}.{rules_for.severity}",
                    facts.findings[seq],
                    _finding_what(entry, rules_for),
                    note=_finding_note(entry, rules_for),
                )
            )
        elif kind == "credit.commitment.breached":
            what = {"code": "breach", "kind": entry.data.get("kind")}
            out.append(scored(entry, "commitment.breached", facts.breaches[seq], what))
        elif kind == "credit.list.designated":
            name = list_name(entry)
            what = {"code": "list", "list": name}
            out.append(scored(entry, f"list.{name}", facts.designations[seq], what, name))
        elif kind == "credit.registration.submitted":
            what = {"code": "registration", "category": entry.data.get("category")}
            out.append(scored(entry, "registration.submitted", facts.registrations[seq], what))
    timeline.memo[memo_key] = tuple(out)
    return out


def _effective_times(timeline: Timeline) -> list[int]:
    found = timeline.memo.get("effective_times")
    if found is None:
        found = sorted(e.effective_us for e in timeline.entries)
        timeline.memo["effective_times"] = found
    return list(found) if not isinstance(found, list) else found


def _finding_what(entry: Entry, rules_for: RulesFor) -> dict[str, Any]:
    """A finding as the parts of :func:`projections.wording.score_what_text`."""
    document = entry.data.get("document")
    return {
        "code": "finding",
        "severity": rules_for.severity,
        "family": "penalty" if entry.type == "credit.penalty.decided" else "violation",
        "sector": rules_for.sector or None,
        "agency": entry.source,
        "document": document if isinstance(document, str) else None,
    }


def _line(entry: Entry, item: _Scored, points: int, parts: dict[str, Any]) -> Contribution:
    """The contribution of ``item`` with its reason in English, Chinese and parts."""
    return Contribution(
        entry.id,
        entry.type,
        item.key,
        points,
        score_reason_text(parts, item.describe, "en"),
        entry.seq,
        score_reason_text(parts, item.describe_zh, "zh"),
        {**parts, "what": item.what},
    )


def _contribution(
    entry: Entry,
    item: _Scored,
    reading: Reading,
    scheme: GradeScheme,
    totals: dict[str, int],
    objections_on: dict[str, str],
) -> Contribution:
    key = item.key
    current = reading.current
    if current is None:
        parts: dict[str, Any]
        if item.lifecycle.never is not None:
            parts = {"code": "never", "cause": cause_parts(item.lifecycle.never)}
        elif reading.ended is not None:
            when, cause, event = reading.ended
            parts = {
                "code": "ended",
                "day": day_text(when),
                "cause": cause_parts(cause),
                "event": event or None,
            }
        else:
            parts = {"code": "not-yet"}
        return _line(entry, item, 0, parts)
    points = _points(scheme, key)
    if points is None:
        return _line(entry, item, 0, {"code": "no-key", "scheme": scheme.id, "key": key})
    until = None
    if current.end_us is not None:
        until = {"day": day_text(current.end_us), "cause": cause_parts(str(current.end_cause))}
    capped = None
    cap = scheme.cap(key)
    so_far = totals.get(key, 0)
    if cap is not None and abs(so_far + points) > cap:
        allowed = max(0, cap - abs(so_far))
        points = allowed if points > 0 else -allowed
        capped = {"key": key, "cap": cap}
    totals[key] = so_far + points
    parts = {
        "code": "counts",
        "until": until,
        "capped": capped,
        "objection": objections_on.get(entry.id),
    }
    return _line(entry, item, points, parts)


def _pending_objections(timeline: Timeline, as_of_us: int) -> list[Entry]:
    pending = []
    for objection in timeline.of_type("credit.objection.filed"):
        if objection.revoked_by is not None or objection.effective_us > as_of_us:
            continue
        if objection.referring("credit.objection.resolved", "objection", as_of_us):
            continue
        pending.append(objection)
    return pending


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
    edges: _Boundaries,
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


def _designation_json(entry: Entry, name: str, as_of_us: int, edges: _Boundaries) -> dict[str, Any]:
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


def _evaluations(timeline: Timeline, as_of_us: int, edges: _Boundaries) -> list[dict[str, Any]]:
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


def _raised_tier(
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


_COMMITMENT_ENDS = (
    "credit.commitment.fulfilled",
    "credit.commitment.breached",
    "credit.commitment.withdrawn",
)


@dataclass(frozen=True, slots=True)
class OpenItem:
    """A commitment or rectification order, with when it stops being open."""

    entry: Entry
    closed_us: int | None
    """When a closing record takes effect (None: never, as known)."""
    due_end_us: int | None
    """The first instant it is overdue (None: no due date)."""
    body: dict[str, Any]


_NEVER = 2**62


def open_items(timeline: Timeline, kind: str) -> list[OpenItem]:
    """Commitments or rectification orders with their closing instants (memoised)."""
    memo_key = ("open", kind)
    found = timeline.memo.get(memo_key)
    if found is not None:
        return list(found)
    out: list[OpenItem] = []
    if kind == "commitments":
        for entry in timeline.of_type("credit.commitment.made"):
            if entry.revoked_by is not None:
                continue
            closers = [
                c.effective_us for t in _COMMITMENT_ENDS for c in entry.referring(t, "commitment")
            ]
            due = parse_day(entry.data.get("due"))
            out.append(
                OpenItem(
                    entry,
                    min(closers) if closers else None,
                    None if due is None else day_after_start_us(due),
                    {
                        "event_id": entry.id,
                        "commitment_type": entry.data.get("commitment_type"),
                        "matter": entry.data.get("matter"),
                        "made": day_text(entry.time_us),
                        "due": entry.data.get("due"),
                    },
                )
            )
    else:
        for entry in timeline.of_type("credit.rectification.ordered"):
            if entry.revoked_by is not None:
                continue
            finding = entry.refs.get("finding")
            if finding is not None and finding.revoked_by is not None:
                continue
            closers = [
                c.effective_us
                for c in entry.referring("credit.rectification.completed", "rectification")
            ]
            if finding is not None:
                closers += [
                    w.effective_us for w in finding.referring("credit.penalty.withdrawn", "penalty")
                ]
            deadline = parse_day(entry.data.get("deadline"))
            out.append(
                OpenItem(
                    entry,
                    min(closers) if closers else None,
                    None if deadline is None else day_after_start_us(deadline),
                    {
                        "event_id": entry.id,
                        "finding": entry.data.get("finding"),
                        "ordered": day_text(entry.time_us),
                        "deadline": entry.data.get("deadline"),
                        "agency": entry.source,
                    },
                )
            )
    timeline.memo[memo_key] = tuple(out)
    return out


def _open(timeline: Timeline, kind: str, as_of_us: int, edges: _Boundaries) -> list[dict[str, Any]]:
    """The commitments or rectification orders open at ``as_of_us``, each with
    ``overdue``."""
    out = []
    for item in open_items(timeline, kind):
        if item.entry.effective_us > as_of_us:
            continue
        if item.closed_us is not None and item.closed_us <= as_of_us:
            continue
        edges.add(item.due_end_us)
        body = dict(item.body)
        body["overdue"] = item.due_end_us is not None and as_of_us >= item.due_end_us
        out.append(body)
    return out


def _objection_json(
    objection: Entry,
    region: str,
    rules: RuleServices,
    as_of_us: int,
    edges: _Boundaries,
) -> dict[str, Any]:
    profile = rules.procedures.objection_profile(region)
    filed = objection.day
    target = objection.refs.get("target")
    flag_by: date | None = None
    decide_by: date | None = None
    note: str | None = None
    try:
        flag_by = rules.calendar.add_working_days(filed, profile.flag_working_days)
        decide_by = rules.calendar.add_working_days(filed, profile.decide_working_days)
    except CalendarUnknown as exc:
        note = str(exc)
    edges.add_day_end(decide_by)
    return {
        "event_id": objection.id,
        "target": objection.data.get("target"),
        "target_type": target.type if target is not None else None,
        "grounds": objection.data.get("grounds"),
        "filed": filed.isoformat(),
        "region": region,
        "flag_by": flag_by.isoformat() if flag_by else None,
        "decide_by": decide_by.isoformat() if decide_by else None,
        "overdue": decide_by is not None and as_of_us >= day_after_start_us(decide_by),
        "extensions_allowed": profile.extensions_allowed,
        "deadline_note": note,
        "rule": profile.source,
    }
