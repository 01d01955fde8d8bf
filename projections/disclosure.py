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

Two steps, so the materialised view can store the first: :func:`plans_of` turns
a timeline into :class:`ItemPlan` (periods and texts; independent of ``as_of``
beyond the selection) and :func:`render` reads a plan at an instant.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from commands.calendar import CalendarUnknown
from commands.periods import add_months
from commands.rulesets import NoRuleSet, RuleSet
from commands.services import RuleServices
from events.personal import mask_id_number
from events.recorded import RecordedEvent
from projections.intervals import Cut, Interval, Lifecycle
from projections.lifecycles import (
    FINDING_FAMILIES,
    RulesFor,
    day_text,
    finding_end_day,
    grounds,
    lifecycles,
    list_name,
    withdrawal,
)
from projections.public import ended_mark
from projections.standing import instant_text
from projections.timeline import Entry, Timeline, day_start_us, select, valid_day
from projections.wording import cause_parts, months_text, reason_text, rule_text, what_text

__all__ = [
    "CORRECTED_MARK",
    "NOTICE_KIND",
    "PUBLIC_MEASURES",
    "Disclosure",
    "ItemPlan",
    "corrected_mark",
    "disclosure",
    "disclosure_of",
    "mask_id_number",
    "months_text",
    "plans_of",
    "public_items",
    "render",
    "rule_label",
]

PUBLIC_MEASURES = frozenset({"public-criticism"})
"""Measure codes whose application is itself public (通报批评)."""


def rule_label(rule_set: RuleSet, lang: str = "en") -> str:
    """A short name for people: ``ndrc-order-36`` → ``Order 36`` (国家发展改革委令第36号)."""
    return rule_text(rule_set.id, lang)


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


# -- plans ---------------------------------------------------------------------------------


def plans_of(timeline: Timeline, rules: RuleServices) -> list[ItemPlan]:
    """Every disclosure item of the timeline, in seq order (memoised on the
    timeline until it changes)."""
    key = ("disclosure", id(rules))
    found = timeline.memo.get(key)
    if found is not None:
        return list(found)
    facts = lifecycles(timeline, rules)
    plans: list[ItemPlan] = []
    for entry in timeline.entries:
        kind = entry.type
        seq = entry.seq
        if kind in FINDING_FAMILIES:
            plans.append(_finding_plan(entry, facts.rules_for[seq], facts.findings[seq], rules))
        elif kind == "credit.list.designated":
            plans.append(_designation_plan(entry, facts.designations[seq], rules))
        elif kind == "credit.ban.imposed":
            plans.append(_ban_plan(entry, facts.bans[seq], rules))
        elif kind == "credit.measure.applied" and entry.data.get("measure") in PUBLIC_MEASURES:
            plans.append(_measure_plan(entry, facts.measures[seq], rules))
        elif kind == "credit.person.linked":
            plans.append(_person_plan(entry, facts.registrations[seq], rules))
        elif kind == "credit.registration.submitted":
            plans.append(_registration_plan(entry, facts.registrations[seq], rules))
        elif kind == "credit.license.granted":
            plans.append(_licence_plan(entry, facts.licences[seq], rules))
        elif kind == "credit.incentive.granted":
            plans.append(_incentive_plan(entry, facts.incentives[seq], rules))
        if kind == "credit.penalty.decided":
            notice = _notice_plan(entry, plans[-1], facts.rules_for[seq], rules)
            if notice is not None:
                plans.append(notice)
    plans.sort(key=lambda p: p.seq)
    timeline.memo[key] = tuple(plans)
    return plans


CORRECTED_MARK = "已更正"
"""The mark of an item whose values were corrected (``credit.record.corrected``)."""


def corrected_mark(entry: Entry) -> dict[str, Any]:
    """``{"corrected": {mark 已更正, on, by, fields}}`` when live corrections apply
    to ``entry`` (its ``data`` shows the corrected values), else ``{}``."""
    live = [c for c in entry.corrections if c.revoked_by is None]
    if not live:
        return {}
    fields: set[str] = set()
    for correction in live:
        changes = correction.data.get("changes")
        if isinstance(changes, dict):
            fields.update(str(k) for k in changes)
    return {
        "corrected": {
            "mark": CORRECTED_MARK,
            "on": live[-1].day.isoformat(),
            "by": live[-1].id,
            "fields": sorted(fields),
        }
    }


def _marks(entry: Entry, lifecycle: Lifecycle) -> dict[str, Any]:
    """``corrected`` (the item shows corrected values: the mark, the day of the
    latest correction, the fields changed) and, for a record that never was in
    force, ``publication_ended`` (revoked: when and by which event)."""
    out = corrected_mark(entry)
    if lifecycle.never is not None:
        revocation = entry.revoked_by
        cause = "record revoked"
        if revocation is None:
            for ground in grounds(entry):
                if ground.revoked_by is not None:
                    revocation = ground.revoked_by
                    cause = f"the record it rests on ({ground.id}) was revoked"
                    break
        if revocation is not None:
            out["publication_ended"] = ended_mark(cause, revocation.day.isoformat(), revocation.id)
    return out


NOTICE_KIND = "withdrawal-notice"
"""The item kind of the notice a withdrawn or revoked penalty decision leaves."""


def _notice_plan(
    penalty: Entry, plan: ItemPlan, rules_for: RulesFor, rules: RuleServices
) -> ItemPlan | None:
    """The public notice of a penalty decision withdrawn (``credit.penalty.withdrawn``)
    or revoked (``credit.record.revoked``) while it was published (行政处罚法 Art. 48):
    the issuing agency, the day and the reason of the withdrawal — never the
    decision's content or document number — public from the withdrawal for the
    notice period of the rule set in force on that day (none: no notice)."""
    ended_by = penalty.revoked_by or withdrawal(penalty)
    if ended_by is None or rules_for.rule_set is None or rules_for.period is None:
        return None
    if not rules_for.period.publish:
        return None  # never published: nothing to withdraw from publication
    at_us = ended_by.time_us
    if penalty.revoked_by is None:
        others = tuple(c for c in plan.lifecycle.cuts if c.event != ended_by.id)
        was_public = any(
            iv.contains(at_us - 1) for iv in Lifecycle(plan.lifecycle.base, others).final()
        )
    else:
        end_day = finding_end_day(penalty, rules_for)
        natural = Interval(
            penalty.time_us, None if end_day is None else day_start_us(end_day), "decided"
        )
        was_public = natural.contains(at_us - 1)
    if not was_public:
        return None
    try:
        notice = rules.rulebook.in_force(ended_by.day).withdrawal_notice
    except NoRuleSet:
        notice = rules_for.rule_set.withdrawal_notice
    if notice is None:
        return None
    ends = day_start_us(add_months(ended_by.day, notice.months))
    reason = ended_by.data.get("reason")
    details = {
        "agency": penalty.source,
        "date": ended_by.day.isoformat(),
        "withdrawal_reason": reason if isinstance(reason, str) else None,
        "notice_until": add_months(ended_by.day, notice.months).isoformat(),
        "notice_source": notice.source,
    }
    what = {
        "code": "notice",
        "agency": penalty.source,
        "ended": "revoked" if penalty.revoked_by is not None else "withdrawn",
    }
    lifecycle = Lifecycle(
        (Interval(at_us, max(ends, at_us + 1), "withdrawal notice", "notice period over"),)
    )
    return ItemPlan(
        event_id=ended_by.id,
        seq=ended_by.seq,
        type=ended_by.type,
        kind=NOTICE_KIND,
        act_day=ended_by.day,
        effective_us=max(ended_by.effective_us, at_us),
        recorded_us=ended_by.recorded_us,
        lifecycle=lifecycle,
        publishable=True,
        withheld=None,
        describe=what_text(what, "en", rules),
        publish_by=None,
        publish_by_note=_NO_DEADLINE[1],
        details=details,
        what=what,
        describe_zh=what_text(what, "zh", rules),
    )


def _deadline(
    entry: Entry, rule_set: RuleSet | None, rules: RuleServices
) -> tuple[date | None, str | None]:
    if rule_set is None:
        try:
            rule_set = rules.rulebook.in_force(entry.day)
        except NoRuleSet as exc:
            return None, str(exc)
    try:
        return (
            rules.calendar.add_working_days(entry.day, rule_set.publication_deadline.working_days),
            None,
        )
    except CalendarUnknown as exc:
        return None, str(exc)


def _documented(entry: Entry) -> dict[str, Any]:
    return {
        "agency": entry.source,
        "basis": entry.data.get("basis"),
        "document": entry.data.get("document"),
        "date": entry.day.isoformat(),
    }


def _plan(
    entry: Entry,
    kind: str,
    lifecycle: Lifecycle,
    what: dict[str, Any],
    details: dict[str, Any],
    rules: RuleServices,
    *,
    withheld: dict[str, Any] | None = None,
    deadline: tuple[date | None, str | None] = (None, None),
) -> ItemPlan:
    """The plan of ``entry``: ``what`` it is (parts, :mod:`projections.wording`) and,
    when the rules do not publish it, why (``withheld``, parts too)."""
    publishable = withheld is None
    publish_by, note = deadline if publishable and lifecycle.never is None else (None, None)
    details = {**details, **_marks(entry, lifecycle)}
    return ItemPlan(
        event_id=entry.id,
        seq=entry.seq,
        type=entry.type,
        kind=kind,
        act_day=entry.day,
        effective_us=entry.effective_us,
        recorded_us=entry.recorded_us,
        lifecycle=lifecycle,
        publishable=publishable,
        withheld=None if withheld is None else what_text(withheld, "en", rules),
        describe=what_text(what, "en", rules),
        publish_by=publish_by,
        publish_by_note=note,
        details=details,
        what=what if withheld is None else withheld,
        describe_zh=what_text(what, "zh", rules),
        withheld_zh=None if withheld is None else what_text(withheld, "zh", rules),
    )


def _finding_plan(
    entry: Entry, rules_for: RulesFor, lifecycle: Lifecycle, rules: RuleServices
) -> ItemPlan:
    family = FINDING_FAMILIES[entry.type]
    noun = {"code": "noun", "family": family}
    details = {
        **_documented(entry),
        "severity": rules_for.severity,
        "sector": rules_for.sector,
    }
    if family == "penalty":
        details["kinds"] = entry.data.get("kinds")
        details["amount"] = entry.data.get("amount")
    else:
        details["behaviour"] = entry.data.get("behaviour")
    if rules_for.rule_set is None or rules_for.period is None:
        return _plan(
            entry,
            family,
            lifecycle,
            noun,
            details,
            rules,
            withheld={"code": "undetermined", "problem": rules_for.problem},
        )
    period = rules_for.period
    sector = rules_for.sector
    what: dict[str, Any] = {
        "code": "finding",
        "severity": rules_for.severity,
        "family": family,
        "sector": sector if sector and sector in rules_for.rule_set.sector_overrides else None,
        "rule_set": rules_for.rule_set.id,
    }
    details["rule_set"] = rules_for.rule_set.id
    details["repair_from"] = period.repair_from(entry.day).isoformat()
    if not period.publish:
        withheld = {**what, "code": "finding-withheld"}
        return _plan(entry, family, lifecycle, noun, details, rules, withheld=withheld)
    what.update(min_months=period.min_months, max_months=period.max_months)
    return _plan(
        entry,
        family,
        lifecycle,
        what,
        details,
        rules,
        deadline=_deadline(entry, rules_for.rule_set, rules),
    )


def _designation_plan(entry: Entry, lifecycle: Lifecycle, rules: RuleServices) -> ItemPlan:
    name = list_name(entry)
    proposal = entry.refs.get("proposal")
    planned = proposal.data.get("planned_end") if proposal is not None else None
    details = {**_documented(entry), "list": name, "planned_end": planned}
    return _plan(
        entry,
        "list",
        lifecycle,
        {"code": "list", "list": name, "planned_end": planned},
        details,
        rules,
        deadline=_deadline(entry, None, rules),
    )


def _ban_plan(entry: Entry, lifecycle: Lifecycle, rules: RuleServices) -> ItemPlan:
    until = entry.data.get("until")
    sector = entry.data.get("sector")
    details = {**_documented(entry), "sector": sector, "ban_until": until, "permanent": not until}
    return _plan(
        entry,
        "ban",
        lifecycle,
        {"code": "ban", "sector": sector, "permanent": not until},
        details,
        rules,
        deadline=_deadline(entry, None, rules),
    )


def _measure_plan(entry: Entry, lifecycle: Lifecycle, rules: RuleServices) -> ItemPlan:
    measure = entry.data.get("measure")
    until = entry.data.get("until")
    details = {**_documented(entry), "measure": measure, "measure_until": until}
    return _plan(
        entry,
        "measure",
        lifecycle,
        {"code": "measure", "measure": measure},
        details,
        rules,
        deadline=_deadline(entry, None, rules),
    )


_NO_DEADLINE: tuple[date | None, str | None] = (
    None,
    "no publication deadline applies to this kind of record",
)


def _person_plan(entry: Entry, lifecycle: Lifecycle, rules: RuleServices) -> ItemPlan:
    role = entry.data.get("role")
    name = entry.data.get("name")
    raw = entry.data.get("id_number")
    details: dict[str, Any] = {
        "role": role,
        "name": name,
        "id_number": mask_id_number(raw) if isinstance(raw, str) else None,
        "date": entry.day.isoformat(),
    }
    if isinstance(raw, dict):
        details[PROTECTED_KEY] = raw
    return _plan(
        entry,
        "person",
        lifecycle,
        {"code": "person", "role": role, "name": name},
        details,
        rules,
        deadline=_NO_DEADLINE,
    )


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


def _registration_plan(entry: Entry, lifecycle: Lifecycle, rules: RuleServices) -> ItemPlan:
    category = entry.data.get("category")
    description = entry.data.get("description")
    details = {"category": category, "description": description, "date": entry.day.isoformat()}
    return _plan(
        entry,
        "registration",
        lifecycle,
        {"code": "registration", "category": category, "description": description},
        details,
        rules,
        deadline=_NO_DEADLINE,
    )


def _licence_plan(entry: Entry, lifecycle: Lifecycle, rules: RuleServices) -> ItemPlan:
    data = dict(entry.data)
    changed: list[str] = []
    changed_by: list[str] = []
    for change in entry.referring("credit.license.changed", "license"):
        changes = change.data.get("changes")
        if isinstance(changes, dict):
            data.update(changes)
            changed.append(change.day.isoformat())
            changed_by.append(change.id)
    details = {
        **_documented(entry),
        "license_type": data.get("license_type"),
        "matter": data.get("matter"),
        "license_valid_until": data.get("valid_until"),
    }
    if changed:
        details["changed"], details["changed_by"] = changed, changed_by
    return _plan(
        entry,
        "license",
        lifecycle,
        {"code": "license", "license_type": data.get("license_type"), "matter": data.get("matter")},
        details,
        rules,
        deadline=_deadline(entry, None, rules),
    )


def _incentive_plan(entry: Entry, lifecycle: Lifecycle, rules: RuleServices) -> ItemPlan:
    code = str(entry.data.get("measure"))
    details = {
        "agency": entry.source,
        "basis": entry.data.get("basis"),
        "document": entry.data.get("document"),
        "date": entry.day.isoformat(),
        "measure": code,
        "measure_name": rules.incentives.name(code),
        "measure_until": entry.data.get("until"),
    }
    return _plan(
        entry,
        "incentive",
        lifecycle,
        {"code": "incentive", "measure": code},
        details,
        rules,
        deadline=_NO_DEADLINE,
    )
