"""The trustworthy list (守信激励对象, 红名单): who qualifies, by a rule kept as data.

DOMAIN.md "Incentives": the rule (``commands/rules/incentives.json``, ``trustworthy``) —
a qualifying grade of one scheme (e.g. national comprehensive 优, market regulation A) in
each of that scheme's last ``years`` published evaluations, the latest still valid; no
negative record published (penalty, violation, listing, public measure, ban: the public
disclosure of that instant); no commitment breached in the last ``years`` years.

:func:`membership` reads one subject's timeline at an instant (pure, LIVE like the other
folds); the standing carries it (``trustworthy``) and lowers the spot-check ratio of a
member to the rule's. :func:`members` lists the members of a ledger: it scans the
evaluation records for subjects that ever had a qualifying grade and folds only those
(LIVE; not a materialised view — a ledger with very many graded subjects would want one).
A membership cites the records it rests on (``derived_from``: the evaluations), all of them
public, so a credit report can carry it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from commands.incentives import TrustworthyRule
from commands.services import RuleServices
from projections.disclosure import disclosure_of
from projections.timeline import (
    Entry,
    Timeline,
    day_after_start_us,
    instant_text,
    parse_day,
    valid_day,
)

__all__ = ["LIST_NAME", "NEGATIVE_KINDS", "members", "membership", "scheme_of"]

LIST_NAME = "trustworthy"
NEGATIVE_KINDS = frozenset({"penalty", "violation", "list", "measure", "ban"})
"""Disclosure item kinds that keep a subject off the list while published."""
_YEAR = re.compile(r"(.+?)-(\d{4})")


def scheme_of(name: str) -> str:
    """An evaluation's scheme without its year (``…-evaluation-2024`` → ``…-evaluation``)."""
    found = _YEAR.fullmatch(name)
    return found.group(1) if found else name


def _evaluations(timeline: Timeline, as_of_us: int) -> dict[str, list[Entry]]:
    by_scheme: dict[str, list[Entry]] = {}
    # of_type, not every entry: a long stream of findings has no evaluation, and a
    # standing's read asks twice (scanning 10,000 entries was ~20 % of a warm read).
    for entry in timeline.of_type("credit.evaluation.published"):
        if entry.revoked_by is not None or entry.effective_us > as_of_us:
            continue
        by_scheme.setdefault(scheme_of(str(entry.data.get("scheme", ""))), []).append(entry)
    for entries in by_scheme.values():
        entries.sort(key=lambda e: (e.time_us, e.seq))
    return by_scheme


def _qualifying_run(
    timeline: Timeline, as_of_us: int, rule: TrustworthyRule
) -> tuple[str, list[Entry]] | None:
    day = valid_day(as_of_us).isoformat()
    for scheme, entries in sorted(_evaluations(timeline, as_of_us).items()):
        grades = rule.grades.get(scheme)
        if grades is None or len(entries) < rule.years:
            continue
        run = entries[-rule.years :]
        if all(str(e.data.get("grade")) in grades for e in run):
            valid_until = run[-1].data.get("valid_until")
            if not isinstance(valid_until, str) or valid_until >= day:
                return scheme, run
    return None


def _negative_published(timeline: Timeline, as_of_us: int, rules: RuleServices) -> bool:
    items = disclosure_of(timeline, as_of_us, rules).items
    return any(i.get("published") and i.get("kind") in NEGATIVE_KINDS for i in items)


def _breached_recently(timeline: Timeline, as_of_us: int, years: int) -> bool:
    since = valid_day(as_of_us) - timedelta(days=365 * years)
    return any(
        e.type == "credit.commitment.breached"
        and e.revoked_by is None
        and e.effective_us <= as_of_us
        and e.day >= since
        for e in timeline.entries
    )


def membership(timeline: Timeline, as_of_us: int, rules: RuleServices) -> dict[str, Any] | None:
    """The subject's membership of the trustworthy list at ``as_of_us`` (None when it
    does not qualify): ``scheme``, ``grades`` of the qualifying run, ``since`` (the day
    of the run's last evaluation), ``valid_until``, ``spot_check_ratio`` (the rule's),
    ``derived_from`` (the evaluations, ``id`` and ``source``)."""
    rule = rules.incentives.trustworthy
    found = _qualifying_run(timeline, as_of_us, rule)
    if found is None:
        return None
    if _breached_recently(timeline, as_of_us, rule.years):
        return None
    if _negative_published(timeline, as_of_us, rules):
        return None
    scheme, run = found
    return {
        "list": LIST_NAME,
        "subject": timeline.subject,
        "subject_name": timeline.subject_name,
        "scheme": scheme,
        "grades": [str(e.data.get("grade")) for e in run],
        "since": run[-1].day.isoformat(),
        "valid_until": run[-1].data.get("valid_until"),
        "spot_check_ratio": str(rule.spot_check_ratio),
        "event_id": run[-1].id,
        "agency": run[-1].source,
        "document": run[-1].data.get("document"),
        "basis": f"{scheme}: {'、'.join(str(e.data.get('grade')) for e in run)}",
        "planned_end": run[-1].data.get("valid_until"),
        "derived_from": [{"id": e.id, "source": e.source} for e in run],
    }


def changes(timeline: Timeline, as_of_us: int, rules: RuleServices) -> list[int]:
    """The instants after which the membership may change by the calendar alone: the
    end of each scheme's latest grade (``valid_until``) and the day a breach leaves the
    rule's window. (A negative record's end of publication is a boundary of its own
    lifecycle, which the standing already watches.)"""
    rule = rules.incentives.trustworthy
    if _qualifying_run(timeline, as_of_us, rule) is None:
        return []  # only a new evaluation (an event, not the calendar) can make it qualify
    years = rule.years
    found: list[int] = []
    for entries in _evaluations(timeline, as_of_us).values():
        last = parse_day(entries[-1].data.get("valid_until"))
        if last is not None:
            found.append(day_after_start_us(last))
    for e in timeline.entries:
        if e.type == "credit.commitment.breached" and e.revoked_by is None:
            found.append(day_after_start_us(e.day + timedelta(days=365 * years)))
    return found


def candidates(rows: Iterable[tuple[str, str, dict[str, Any]]], rules: RuleServices) -> set[str]:
    """Subjects with at least one evaluation of a qualifying grade, from
    ``(subject, type, data)`` rows."""
    grades = rules.incentives.trustworthy.grades
    found: set[str] = set()
    for subject, type_, data in rows:
        if type_ != "credit.evaluation.published":
            continue
        allowed = grades.get(scheme_of(str(data.get("scheme", ""))))
        if allowed is not None and str(data.get("grade")) in allowed:
            found.add(subject)
    return found


def members(
    reads: Any, as_of_us: int | None = None, known_at_us: int | None = None
) -> dict[str, Any]:
    """The trustworthy list as of ``as_of_us`` (None: now) as known at ``known_at_us``,
    in the shape of the other lists (``list``, ``as_of``, ``known_at``, ``count``,
    ``members``). ``reads`` is a :class:`projections.reads.Reads`."""
    import orjson

    now = reads.clock()
    as_of = now if as_of_us is None else as_of_us
    rows: list[tuple[str, str, dict[str, Any]]] = []
    position = 1
    while True:  # rows in COLUMNS order: 0 notification_id, 3 topic, 4 state, 5 subject
        page = reads.recorder.select_notification_rows(
            position, 5000, topics=["credit.evaluation.published"]
        )
        if not page:
            break
        for row in page:
            if known_at_us is None or row[10] <= known_at_us:
                rows.append((row[5], row[3], orjson.loads(row[4])))
        position = page[-1][0] + 1
    found = []
    for subject in sorted(candidates(rows, reads.rules)):
        standing = reads.live.standing(subject, as_of, known_at_us)
        if standing.trustworthy is not None:
            found.append(standing.trustworthy)
    return {
        "list": LIST_NAME,
        "as_of": instant_text(as_of),
        "known_at": instant_text(known_at_us),
        "count": len(found),
        "members": found,
        "complete": True,
    }
