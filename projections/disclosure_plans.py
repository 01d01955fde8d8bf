"""The disclosure items of a subject's records, before they are read at an instant.

:func:`plans_of` turns a timeline into one :class:`projections.disclosure_item.ItemPlan`
per disclosed record (memoised on the timeline), in seq order; what is disclosed and
for how long is told in ``projections.disclosure``. Per kind: findings (the
disclosure period of the rule set in force on the record's own date, by severity
and sector), list designations, market bans, public measures
(:data:`PUBLIC_MEASURES`), responsible persons (identity number masked; an
encrypted one kept under :data:`projections.disclosure_item.PROTECTED_KEY`),
registered positive information, licences with their changes, incentive measures,
and the withdrawal notice a withdrawn or revoked penalty decision leaves
(:data:`NOTICE_KIND`). Items showing corrected values carry the 已更正 mark
(:func:`corrected_mark`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from commands.calendar import CalendarUnknown
from commands.periods import add_months
from commands.rulesets import NoRuleSet, RuleSet
from commands.services import RuleServices
from events.personal import mask_id_number
from projections.disclosure_item import PROTECTED_KEY, ItemPlan
from projections.intervals import Interval, Lifecycle
from projections.lifecycles import (
    FINDING_FAMILIES,
    Lifecycles,
    RulesFor,
    finding_end_day,
    grounds,
    lifecycles,
    list_name,
    withdrawal,
)
from projections.public import ended_mark
from projections.timeline import Entry, Timeline, day_start_us
from projections.wording import what_text

__all__ = [
    "CORRECTED_MARK",
    "NOTICE_KIND",
    "PUBLIC_MEASURES",
    "corrected_mark",
    "plans_of",
]


PUBLIC_MEASURES = frozenset({"public-criticism"})
"""Measure codes whose application is itself public (通报批评)."""


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
        elif kind in _SHOWN:
            of_kind, shown = _SHOWN[kind]
            what = shown(entry, rules)
            if what is not None:
                plans.append(_shown_plan(entry, what, of_kind(facts)[seq], rules))
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
    return _plan(
        ended_by,
        NOTICE_KIND,
        lifecycle,
        what,
        details,
        rules,
        deadline=_NO_DEADLINE,
        marked=False,
        effective_us=max(ended_by.effective_us, at_us),
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
    marked: bool = True,
    effective_us: int | None = None,
) -> ItemPlan:
    """The plan of ``entry``: ``what`` it is (parts, :mod:`projections.wording`) and,
    when the rules do not publish it, why (``withheld``, parts too). ``marked``: the
    details carry the entry's marks (:func:`_marks`); ``effective_us`` (default the
    entry's) is when the item takes effect."""
    publishable = withheld is None
    publish_by, note = deadline if publishable and lifecycle.never is None else (None, None)
    if marked:
        details = {**details, **_marks(entry, lifecycle)}
    return ItemPlan(
        event_id=entry.id,
        seq=entry.seq,
        type=entry.type,
        kind=kind,
        act_day=entry.day,
        effective_us=entry.effective_us if effective_us is None else effective_us,
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


@dataclass(frozen=True, slots=True)
class _Shown:
    """What a record other than a finding shows: its item ``kind``, ``what`` it is (parts,
    :mod:`projections.wording`) and its ``details``. ``documented``: an agency's decision,
    whose details open with its agency, basis, document and date; ``due``: to be
    published within the deadline of the rule set in force on its day (else none
    applies)."""

    kind: str
    what: dict[str, Any]
    details: dict[str, Any]
    documented: bool = True
    due: bool = True


_NO_DEADLINE: tuple[date | None, str | None] = (
    None,
    "no publication deadline applies to this kind of record",
)


def _shown_plan(entry: Entry, shown: _Shown, lifecycle: Lifecycle, rules: RuleServices) -> ItemPlan:
    details = {**_documented(entry), **shown.details} if shown.documented else shown.details
    deadline = _deadline(entry, None, rules) if shown.due else _NO_DEADLINE
    return _plan(entry, shown.kind, lifecycle, shown.what, details, rules, deadline=deadline)


def _designation(entry: Entry, rules: RuleServices) -> _Shown:
    name = list_name(entry)
    proposal = entry.refs.get("proposal")
    planned = proposal.data.get("planned_end") if proposal is not None else None
    what = {"code": "list", "list": name, "planned_end": planned}
    return _Shown("list", what, {"list": name, "planned_end": planned})


def _ban(entry: Entry, rules: RuleServices) -> _Shown:
    until = entry.data.get("until")
    sector = entry.data.get("sector")
    what = {"code": "ban", "sector": sector, "permanent": not until}
    return _Shown("ban", what, {"sector": sector, "ban_until": until, "permanent": not until})


def _measure(entry: Entry, rules: RuleServices) -> _Shown | None:
    """A measure whose application is itself public (:data:`PUBLIC_MEASURES`); None for
    the others."""
    measure = entry.data.get("measure")
    if measure not in PUBLIC_MEASURES:
        return None
    details = {"measure": measure, "measure_until": entry.data.get("until")}
    return _Shown("measure", {"code": "measure", "measure": measure}, details)


def _person(entry: Entry, rules: RuleServices) -> _Shown:
    """A responsible person: the identity number masked (an encrypted one kept under
    :data:`PROTECTED_KEY` for whom may reveal it)."""
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
    what = {"code": "person", "role": role, "name": name}
    return _Shown("person", what, details, documented=False, due=False)


def _registration(entry: Entry, rules: RuleServices) -> _Shown:
    category = entry.data.get("category")
    description = entry.data.get("description")
    what = {"code": "registration", "category": category, "description": description}
    details = {"category": category, "description": description, "date": entry.day.isoformat()}
    return _Shown("registration", what, details, documented=False, due=False)


def _licence(entry: Entry, rules: RuleServices) -> _Shown:
    """A licence as its changes (``credit.license.changed``) left it."""
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
        "license_type": data.get("license_type"),
        "matter": data.get("matter"),
        "license_valid_until": data.get("valid_until"),
    }
    if changed:
        details["changed"], details["changed_by"] = changed, changed_by
    what = {
        "code": "license",
        "license_type": data.get("license_type"),
        "matter": data.get("matter"),
    }
    return _Shown("license", what, details)


def _incentive(entry: Entry, rules: RuleServices) -> _Shown:
    code = str(entry.data.get("measure"))
    details = {
        "measure": code,
        "measure_name": rules.incentives.name(code),
        "measure_until": entry.data.get("until"),
    }
    return _Shown("incentive", {"code": "incentive", "measure": code}, details, due=False)


_SHOWN: dict[
    str,
    tuple[
        Callable[[Lifecycles], Mapping[int, Lifecycle]],
        Callable[[Entry, RuleServices], _Shown | None],
    ],
] = {
    "credit.list.designated": (lambda facts: facts.designations, _designation),
    "credit.ban.imposed": (lambda facts: facts.bans, _ban),
    "credit.measure.applied": (lambda facts: facts.measures, _measure),
    "credit.person.linked": (lambda facts: facts.registrations, _person),
    "credit.registration.submitted": (lambda facts: facts.registrations, _registration),
    "credit.license.granted": (lambda facts: facts.licences, _licence),
    "credit.incentive.granted": (lambda facts: facts.incentives, _incentive),
}
"""Type → (its lifecycles among a timeline's, what a record of it shows) for every
disclosed type but the findings."""
