"""What each record adds to a subject's score, and why.

The grade scheme of ``Procedures`` (its start, points per record key such as
``penalty.serious``, caps) applied to the records that may count: findings
(penalties and violation records), breached commitments, list designations and
registered positive information. :func:`scored_records` lists them once per
timeline (memoised; independent of ``as_of``); :func:`contribution_at` reads one at
an instant. Every point names the event that gives it; a record that no longer
counts (revoked, withdrawn, repaired, past its maximum period, removed from the
list) contributes 0 points with the reason, in English, Chinese and parts
(:mod:`projections.wording`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commands.procedures import GradeScheme
from commands.services import RuleServices
from commands.workflows.criteria import unchecked_minor
from projections.intervals import Lifecycle, Reading, marks
from projections.lifecycles import FINDING_FAMILIES, RulesFor, day_text, lifecycles, list_name
from projections.timeline import Entry, Timeline
from projections.wording import cause_parts, score_reason_text, score_what_text

__all__ = ["Contribution", "ScoredRecord", "contribution_at", "scored_records"]


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

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Contribution:
        """The contribution whose :meth:`to_json` is ``body`` (taken as it is)."""
        made = cls.__new__(cls)
        made.event_id = body["event_id"]
        made.type = body["type"]
        made.key = body["key"]
        made.points = body["points"]
        made.reason = body["reason"]
        made.reason_zh = body["reason_zh"]
        made.seq = body["seq"]
        made._json = body
        return made


@dataclass(frozen=True, slots=True)
class ScoredRecord:
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


def scored_records(timeline: Timeline, rules: RuleServices) -> tuple[ScoredRecord, ...]:
    """The records that may count, in seq order (memoised on the timeline: the same
    tuple until the timeline changes)."""
    memo_key = ("scored", id(rules))
    found: tuple[ScoredRecord, ...] | None = timeline.memo.get(memo_key)
    if found is not None:
        return found
    facts = lifecycles(timeline, rules)
    out: list[ScoredRecord] = []

    def scored(
        entry: Entry,
        key: str,
        lifecycle: Lifecycle,
        what: dict[str, Any],
        list_name: str | None = None,
        note: str | None = None,
    ) -> ScoredRecord:
        return ScoredRecord(
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
    found = timeline.memo[memo_key] = tuple(out)
    return found


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


def _line(entry: Entry, item: ScoredRecord, points: int, parts: dict[str, Any]) -> Contribution:
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


def contribution_at(
    entry: Entry,
    item: ScoredRecord,
    reading: Reading,
    scheme: GradeScheme,
    totals: dict[str, int],
    objections_on: dict[str, str],
) -> Contribution:
    """What ``item`` (``entry``) adds as ``reading`` finds it: 0 with the reason when
    not in force or when ``scheme`` has no points for its key; else its points,
    capped by the scheme's cap on the key given the running ``totals`` (updated),
    noting a pending objection on it (``objections_on``: target id → objection id)."""
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
    points = scheme.points.get(key)
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
