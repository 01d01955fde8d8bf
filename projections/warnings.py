"""Early warnings (风险预判预警): which subjects are heading for trouble, and why.

``warnings_of(timeline, as_of_us, rules, book)`` is pure: it reads one subject's
timeline (everything the ledger had recorded by ``known_at``, see
``projections.timeline``) at ``as_of`` with the warning rule set in force that day
for the subject's region (``commands.warning_rules``), and returns one
:class:`RiskWarning` per rule that holds. Each names

* its rule and the rule set (``id@version``) it was found by;
* its evidence: the CloudEvents ids of the records it rests on;
* since when it holds: the first instant of the unbroken stretch, up to
  ``as_of``, during which the rule held (read at each instant with what had
  taken effect by then, the same timeline: so a warning "since" a day is what a
  read ``as_of`` that day would also have shown, as known at ``known_at``);
* the sectors (agency kinds) and regions it concerns: an agency sees a warning
  when its own sector is among them (a credit platform: any sector) and its
  region contains one of them (:meth:`RiskWarning.seen_by`).

Detectors (the ``detector`` of a rule; their parameters are the rule's data):

``findings-by-agencies``
    findings (penalty, violation; not revoked, not withdrawn) of at least
    ``min_agencies`` distinct agencies within the last ``window_months``.
``finding-after-breach``
    a breached commitment followed, within ``window_months``, by a finding; the
    warning lasts ``window_months`` from that finding.
``grade-fall``
    the current grade of an evaluation scheme stands ``steps`` or more below a
    grade of the same scheme published within ``window_months`` before it; the
    warning lasts ``window_months`` from the fallen grade.
``rectification-overdue``
    a rectification order open more than ``grace_days`` after its deadline.
``sanction-elsewhere``
    a measure or ban in force imposed by an agency of another sector or region
    than another agency that has records of the subject, or than the subject's
    own registration region (跨行业跨区域).

:func:`ledger_warnings` runs them over every subject of a ledger (one scan of the
store, stream by stream).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from commands.agencies import Agencies
from commands.jurisdiction import region_contains, sector_and_region
from commands.periods import add_months
from commands.services import RuleServices
from commands.warning_rules import WarningBook, WarningRule
from events.labels import UnknownLabel, shown
from ledger.store.views import ViewStore
from projections.intervals import marks
from projections.lifecycles import FINDING_FAMILIES, lifecycles, withdrawal
from projections.open_items import open_items
from projections.scan import subject_streams
from projections.timeline import Entry, Timeline, day_start_us, instant_text, valid_day

__all__ = ["Hit", "RiskWarning", "ledger_warnings", "warnings_of"]

_DAY_US = 86_400_000_000


@dataclass(frozen=True, slots=True)
class Hit:
    """What a detector found at one instant: evidence (record ids), the sources
    (agencies) it concerns, and a line for a person: ``detail`` (English, the line
    clients have always read) and ``detail_zh`` (Chinese, agencies and schemes by
    their names, no record ids: the evidence links name them)."""

    evidence: tuple[str, ...]
    sources: tuple[str, ...]
    detail: str
    detail_zh: str = ""


@dataclass(frozen=True)
class RiskWarning:
    """One warning about one subject (module docstring)."""

    subject: str
    subject_name: str | None
    rule: WarningRule
    rule_set: str
    since_us: int
    hit: Hit
    sectors: tuple[str, ...]
    regions: tuple[str, ...]

    def seen_by(self, agency: str, agencies: Agencies) -> bool:
        """Whether agency source ``agency`` (``KIND/REGION``) sees this warning."""
        found = sector_and_region(agencies, agency)
        if found is None:
            return False
        kind, region = found
        if kind != agencies.platform_kind and kind not in self.sectors:
            return False
        return any(region_contains(agencies, region, r) for r in self.regions)

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "subject_name": self.subject_name,
            "rule": self.rule.id,
            "rule_set": self.rule_set,
            "title": self.rule.title_zh,
            "title_en": self.rule.title_en,
            "since": instant_text(self.since_us),
            "evidence": list(self.hit.evidence),
            "detail": self.hit.detail,
            "detail_zh": self.hit.detail_zh or self.hit.detail,
            "sectors": list(self.sectors),
            "regions": list(self.regions),
        }


# -- what the detectors read ---------------------------------------------------------------


def _agency_names(rules: RuleServices, sources: Iterable[str]) -> str:
    """Agencies by their names (an unknown source as it is), joined with 、."""
    names = []
    for source in sources:
        try:
            names.append(rules.label("agency", source))
        except UnknownLabel:
            names.append(source)
    return "、".join(names)


def _window_end(entry: Entry, months: int) -> int:
    """The first instant ``entry`` no longer lies within a window of ``months``."""
    return max(day_start_us(add_months(entry.day, months)), entry.time_us + 1)


@dataclass(frozen=True, slots=True)
class _Findings:
    """A timeline's findings (not revoked) in time order, with when each leaves a
    window of some months and when it was withdrawn (memoised per timeline)."""

    entries: list[Entry]
    times: list[int]
    ends: list[int]
    """Window ends: non-decreasing, as the times are."""
    withdrawn: list[int | None]


def _all_findings(timeline: Timeline, months: int) -> _Findings:
    key = ("warning-findings", months)
    found = timeline.memo.get(key)
    if isinstance(found, _Findings):
        return found
    entries = sorted(
        (e for kind in FINDING_FAMILIES for e in timeline.of_type(kind) if e.revoked_by is None),
        key=lambda e: (e.time_us, e.seq),
    )
    withdrawn: list[int | None] = []
    for e in entries:
        w = withdrawal(e) if e.type == "credit.penalty.decided" else None
        withdrawn.append(None if w is None else w.effective_us)
    result = _Findings(
        entries,
        [e.time_us for e in entries],
        [_window_end(e, months) for e in entries],
        withdrawn,
    )
    timeline.memo[key] = result
    return result


def _recent(timeline: Timeline, months: int, t: int) -> Iterator[Entry]:
    """Findings in force at ``t`` (in effect, not withdrawn) within the last
    ``months`` (time order)."""
    f = _all_findings(timeline, months)
    for i in range(bisect_right(f.ends, t), bisect_right(f.times, t)):
        gone = f.withdrawn[i]
        if gone is None or gone > t:
            yield f.entries[i]


def _findings(timeline: Timeline, t: int) -> list[Entry]:
    """Findings in effect by ``t``, not revoked, not withdrawn by ``t`` (time order)."""
    f = _all_findings(timeline, 12)
    return [
        f.entries[i]
        for i in range(bisect_right(f.times, t))
        if (gone := f.withdrawn[i]) is None or gone > t
    ]


def _finding_marks(timeline: Timeline, months: int) -> list[int]:
    out: list[int] = []
    for kind in FINDING_FAMILIES:
        for e in timeline.of_type(kind):
            out += [e.effective_us, _window_end(e, months)]
            w = withdrawal(e) if kind == "credit.penalty.decided" else None
            if w is not None:
                out.append(w.effective_us)
    return out


def _ids(entries: Iterable[Entry]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(e.id for e in entries))


# -- detectors ----------------------------------------------------------------------------------


def _multi_agency_holds(timeline: Timeline, rule: WarningRule, t: int, rules: RuleServices) -> bool:
    """Whether :func:`_multi_agency` finds something (stops at the agencies needed)."""
    needed = int(rule.params["min_agencies"])
    seen: set[str] = set()
    for f in _recent(timeline, rule.months(), t):
        seen.add(f.source)
        if len(seen) >= needed:
            return True
    return False


def _multi_agency(timeline: Timeline, rule: WarningRule, t: int, rules: RuleServices) -> Hit | None:
    months = rule.months()
    recent = list(_recent(timeline, months, t))
    agencies = sorted({f.source for f in recent})
    if len(agencies) < int(rule.params["min_agencies"]):
        return None
    return Hit(
        _ids(recent),
        tuple(agencies),
        f"{len(recent)} findings by {len(agencies)} agencies within {months} months: "
        + ", ".join(agencies),
        f"{months}个月内{len(agencies)}个部门共{len(recent)}项失信认定或处罚："
        + _agency_names(rules, agencies),
    )


def _multi_agency_marks(timeline: Timeline, rule: WarningRule, rules: RuleServices) -> list[int]:
    return _finding_marks(timeline, rule.months())


def _breaches(timeline: Timeline, t: int) -> list[Entry]:
    return [
        b
        for b in timeline.of_type("credit.commitment.breached")
        if b.revoked_by is None and b.effective_us <= t
    ]


def _after_breach(timeline: Timeline, rule: WarningRule, t: int, rules: RuleServices) -> Hit | None:
    months = rule.months()
    evidence: list[Entry] = []
    sources: set[str] = set()
    for breach in _breaches(timeline, t):
        for finding in _findings(timeline, t):
            if breach.time_us < finding.time_us < _window_end(breach, months) and t < _window_end(
                finding, months
            ):
                commitment = breach.refs.get("commitment")
                evidence += [e for e in (commitment, breach, finding) if e is not None]
                sources.update(e.source for e in (breach, finding))
    if not evidence:
        return None
    return Hit(
        _ids(evidence),
        tuple(sorted(sources)),
        "a finding after a breached commitment: " + ", ".join(_ids(evidence)),
        f"违背信用承诺后又被认定失信或处罚（{_agency_names(rules, sorted(sources))}）",
    )


def _after_breach_marks(timeline: Timeline, rule: WarningRule, rules: RuleServices) -> list[int]:
    return _finding_marks(timeline, rule.months()) + [
        b.effective_us for b in timeline.of_type("credit.commitment.breached")
    ]


_YEAR_SUFFIX = re.compile(r"[-_ ]?\(?(19|20|21)\d\d\)?$")


def scheme_family(scheme: object) -> str:
    """An evaluation scheme without a trailing year (``…-2025`` → ``…``)."""
    return _YEAR_SUFFIX.sub("", scheme) if isinstance(scheme, str) else ""


def _grade_fall(timeline: Timeline, rule: WarningRule, t: int, rules: RuleServices) -> Hit | None:
    months = rule.months()
    steps = int(rule.params["steps"])
    families: dict[str, list[Entry]] = {}
    for e in timeline.of_type("credit.evaluation.published"):
        if e.revoked_by is None and e.effective_us <= t:
            families.setdefault(scheme_family(e.data.get("scheme")), []).append(e)
    evidence: list[Entry] = []
    sources: set[str] = set()
    lines: list[str] = []
    lines_zh: list[str] = []
    for family, published in sorted(families.items()):
        current = max(published, key=lambda e: (e.time_us, e.seq))
        now_rank = rule.rank(current.data.get("grade"))
        if now_rank is None or t >= _window_end(current, months):
            continue
        since = day_start_us(add_months(current.day, -months))
        earlier = [
            e
            for e in published
            if e is not current
            and since <= e.time_us <= current.time_us
            and (rank := rule.rank(e.data.get("grade"))) is not None
            and now_rank - rank >= steps
        ]
        if not earlier:
            continue
        best = min(earlier, key=lambda e: (rule.rank(e.data.get("grade")), e.time_us))
        evidence += [best, current]
        sources.update((best.source, current.source))
        fall = f"{best.data.get('grade')} → {current.data.get('grade')}"
        lines.append(f"{family}: {fall}")
        lines_zh.append(f"{shown('scheme', family)}：{fall}")
    if not evidence:
        return None
    return Hit(_ids(evidence), tuple(sorted(sources)), "; ".join(lines), "；".join(lines_zh))


def _grade_fall_marks(timeline: Timeline, rule: WarningRule, rules: RuleServices) -> list[int]:
    out: list[int] = []
    for e in timeline.of_type("credit.evaluation.published"):
        out += [e.effective_us, _window_end(e, rule.months())]
    return out


def _overdue(timeline: Timeline, rule: WarningRule, t: int, rules: RuleServices) -> Hit | None:
    grace = int(rule.params["grace_days"]) * _DAY_US
    evidence: list[Entry] = []
    lines: list[str] = []
    days: list[str] = []
    for item in open_items(timeline, "rectifications"):
        entry = item.entry
        if (
            entry is None
            or entry.effective_us > t
            or (item.closed_us is not None and item.closed_us <= t)
        ):
            continue
        if item.due_end_us is None or t < item.due_end_us + grace:
            continue
        finding = entry.refs.get("finding")
        evidence += [e for e in (entry, finding) if e is not None]
        lines.append(f"{entry.id} due {entry.data.get('deadline')}")
        days.append(str(entry.data.get("deadline")))
    if not evidence:
        return None
    return Hit(
        _ids(evidence),
        tuple(sorted({e.source for e in evidence})),
        "rectification overdue: " + ", ".join(lines),
        "整改逾期未完成：" + "、".join(f"{day}到期" for day in days),
    )


def _overdue_marks(timeline: Timeline, rule: WarningRule, rules: RuleServices) -> list[int]:
    grace = int(rule.params["grace_days"]) * _DAY_US
    out: list[int] = []
    for item in open_items(timeline, "rectifications"):
        out.append(item.effective_us)
        if item.closed_us is not None:
            out.append(item.closed_us)
        if item.due_end_us is not None:
            out.append(item.due_end_us + grace)
    return out


def _first_by_agency(timeline: Timeline, t: int, agencies: Agencies) -> dict[str, Entry]:
    """Each agency's first record of the subject in effect by ``t``."""
    first: dict[str, Entry] = {}
    for e in timeline.entries:
        if (
            e.revoked_by is None
            and e.effective_us <= t
            and sector_and_region(agencies, e.source)
            and (e.source not in first or e.effective_us < first[e.source].effective_us)
        ):
            first[e.source] = e
    return first


def _sanctions(timeline: Timeline, rules: RuleServices) -> list[tuple[Entry, Any]]:
    facts = lifecycles(timeline, rules)
    by_seq = {e.seq: e for e in timeline.entries}
    found = {**facts.measures, **facts.bans}
    return [(by_seq[seq], found[seq]) for seq in sorted(found)]


def _elsewhere(timeline: Timeline, rule: WarningRule, t: int, rules: RuleServices) -> Hit | None:
    home = timeline.subject[2:8]
    agencies = rules.agencies
    others = _first_by_agency(timeline, t, agencies)
    evidence: list[Entry] = []
    sources: set[str] = set()
    lines: list[str] = []
    lines_zh: list[str] = []
    for sanction, lifecycle in _sanctions(timeline, rules):
        imposed_by = sector_and_region(agencies, sanction.source)
        if imposed_by is None or sanction.effective_us > t or lifecycle.at(t) is None:
            continue
        kind, region = imposed_by
        elsewhere = [
            e
            for source, e in sorted(others.items())
            if source != sanction.source
            and (sr := sector_and_region(agencies, source)) is not None
            and sr[0] != agencies.platform_kind
            and (sr[0] != kind or not region_contains(agencies, region, sr[1]))
        ]
        away = not region_contains(agencies, region, home)
        if not elsewhere and not away:
            continue
        evidence += [sanction, *elsewhere]
        sources.update(e.source for e in (sanction, *elsewhere))
        where = [e.source for e in elsewhere] + ([f"home region {home}"] if away else [])
        lines.append(f"{sanction.id} by {sanction.source}, known to " + ", ".join(where))
        known = _agency_names(rules, [e.source for e in elsewhere])
        lines_zh.append(
            f"{_agency_names(rules, [sanction.source])}采取的惩戒"
            + (f"，{known}亦有记录" if known else "")
            + ("，实施地不在主体注册地" if away else "")
        )
    if not evidence:
        return None
    return Hit(_ids(evidence), tuple(sorted(sources)), "; ".join(lines), "；".join(lines_zh))


def _elsewhere_marks(timeline: Timeline, rule: WarningRule, rules: RuleServices) -> list[int]:
    out = [e.effective_us for e in timeline.entries]
    for _, lifecycle in _sanctions(timeline, rules):
        out += marks(lifecycle)
    return out


Detector = Callable[[Timeline, WarningRule, int, RuleServices], Hit | None]
Marks = Callable[[Timeline, WarningRule, RuleServices], list[int]]

Holds = Callable[[Timeline, WarningRule, int, RuleServices], bool]


def _found(detect: Detector) -> Holds:
    def holds(timeline: Timeline, rule: WarningRule, t: int, rules: RuleServices) -> bool:
        return detect(timeline, rule, t, rules) is not None

    return holds


DETECTORS: dict[str, tuple[Detector, Marks, Holds]] = {
    "findings-by-agencies": (_multi_agency, _multi_agency_marks, _multi_agency_holds),
    "finding-after-breach": (_after_breach, _after_breach_marks, _found(_after_breach)),
    "grade-fall": (_grade_fall, _grade_fall_marks, _found(_grade_fall)),
    "rectification-overdue": (_overdue, _overdue_marks, _found(_overdue)),
    "sanction-elsewhere": (_elsewhere, _elsewhere_marks, _found(_elsewhere)),
}
"""Detector name → (what it finds at an instant, every instant where that may change,
whether it finds anything: the cheap question :func:`_since` asks at each mark)."""


def _since(
    timeline: Timeline,
    rule: WarningRule,
    t: int,
    rules: RuleServices,
    holds: Holds,
    points: Marks,
) -> int:
    """The start of the unbroken stretch up to ``t`` during which the rule held
    (the answer is constant between two of the rule's marks)."""
    instants = sorted({m for m in points(timeline, rule, rules) if m <= t}, reverse=True)
    since = t
    for m in instants:
        since = m
        if not holds(timeline, rule, m - 1, rules):
            break
    return since


def warnings_of(
    timeline: Timeline,
    as_of_us: int,
    rules: RuleServices,
    book: WarningBook,
    rule_id: str | None = None,
) -> list[RiskWarning]:
    """The warnings of the timeline's subject at ``as_of_us`` (module docstring);
    ``rule_id`` keeps one rule only."""
    home = timeline.subject[2:8]
    rule_set = book.in_force(home, valid_day(as_of_us), rules.agencies)
    if rule_set is None or not timeline.entries:
        return []
    out: list[RiskWarning] = []
    for rule in rule_set.rules:
        if rule_id is not None and rule.id != rule_id:
            continue
        detect, points, holds = DETECTORS[rule.detector]
        hit = detect(timeline, rule, as_of_us, rules)
        if hit is None:
            continue
        concerned = [
            sr for s in hit.sources if (sr := sector_and_region(rules.agencies, s)) is not None
        ]
        out.append(
            RiskWarning(
                subject=timeline.subject,
                subject_name=timeline.subject_name,
                rule=rule,
                rule_set=rule_set.label,
                since_us=_since(timeline, rule, as_of_us, rules, holds, points),
                hit=hit,
                sectors=tuple(sorted({k for k, _ in concerned})),
                regions=tuple(sorted({home, *(r for _, r in concerned)})),
            )
        )
    return out


# -- over a whole ledger ----------------------------------------------------------------------


def ledger_warnings(
    store: ViewStore,
    rules: RuleServices,
    book: WarningBook,
    as_of_us: int,
    known_at_us: int | None = None,
    rule_id: str | None = None,
) -> list[RiskWarning]:
    """Every warning of every subject of the ledger at ``as_of_us`` as known at
    ``known_at_us`` (None: everything recorded), ordered by rule, since, subject."""
    upto = store.recorder.max_notification_id() or 0
    out: list[RiskWarning] = []
    for records in subject_streams(store, upto):
        timeline = Timeline(records[0].subject, None, known_at_us).extend(records)
        out += warnings_of(timeline, as_of_us, rules, book, rule_id)
    out.sort(key=lambda w: (w.rule.id, w.since_us, w.subject))
    return out


def warnings_body(
    found: list[RiskWarning], as_of_us: int, known_at_us: int | None
) -> dict[str, Any]:
    """The ``warnings --json`` body (and ``GET /v1/warnings``)."""
    return {
        "as_of": instant_text(as_of_us),
        "known_at": instant_text(known_at_us),
        "count": len(found),
        "rule_sets": sorted({w.rule_set for w in found}),
        "warnings": [w.to_json() for w in found],
    }


def warnings_text(body: dict[str, Any]) -> str:
    """The warnings for a person, one block per warning."""
    lines = [
        f"warnings as of {body['as_of']} (known at {body['known_at'] or 'now'}): {body['count']}"
    ]
    for w in body["warnings"]:
        lines.append(
            f"- {w['subject']} {w['subject_name'] or ''}  [{w['rule']}] {w['title']}\n"
            f"    since {w['since']}; evidence: {', '.join(w['evidence'])}\n    {w['detail']}"
        )
    return "\n".join(lines) + "\n"
