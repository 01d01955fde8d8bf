"""What each reader sees of the disclosure: the ONE place that filters public output.

DOMAIN.md "What the public sees" and its Clarifications "Public output":

* The public (anonymous API, public pages, the disclosure change feed, list
  outputs) sees a record only while it is published **now**: an item appears in
  an answer at any ``as_of`` / ``known_at`` only if it is published then AND
  published now. An ended record (repaired, expired, withdrawn, revoked, removed,
  lifted), a record never published (minor) and one not yet published are absent:
  no content, no id, no hint. The content of a shown item is the CURRENT one
  (corrections applied, marked 已更正); only its timing keys (``published``,
  ``from``, ``until``, ``reason``, ``periods``) are those of the instant asked.
* A withdrawn or revoked penalty decision leaves only its withdrawal notice (an
  item of kind ``withdrawal-notice``: agency, date, reason) for the rule set's
  notice period (``projections.disclosure_plans`` makes that item).
* The roles that see everything (:class:`Audience`): auditor and objection
  handler see every item; an agency sees every item it is the responsible
  agency of (the item's ``agency``); a subject sees all of its own. Those items
  are shown as the read computes them, marked with ``publication_ended``
  (:func:`ended_mark`) when their publication ended.
* The feed (:func:`feed_change`) carries a removal (the item's id only) for an
  item whose publication ended, and never the content of an item not published
  now.

Pure functions over the JSON bodies of ``projections.reads`` (``disclosure --json``
and list members), so every mode (ASYNC view rows, LIVE folds) is filtered the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EVERYTHING",
    "PUBLIC",
    "TIMING_KEYS",
    "Audience",
    "disclosure_for",
    "ended_mark",
    "ended_why",
    "feed_change",
    "members_for",
    "published_items",
    "record_for",
    "standing_for",
]

TIMING_KEYS = ("published", "from", "until", "reason", "periods")
"""Keys of a disclosure item that depend on the instant read (the rest is content)."""


@dataclass(frozen=True, slots=True)
class Audience:
    """Who reads. ``everything``: every item of every subject (auditor, objection
    handler, the operator's CLI); ``agency``: the items whose ``agency`` (the
    responsible agency) is this source; ``subject``: every item of this subject.
    Everything else is seen as the public sees it."""

    everything: bool = False
    agency: str | None = None
    subject: str | None = None

    def sees_all_of(self, subject: str | None, item: Mapping[str, Any]) -> bool:
        """Whether this reader sees ``item`` of ``subject`` even when it is not
        published now."""
        if self.everything:
            return True
        if self.subject is not None and subject == self.subject:
            return True
        return self.agency is not None and item.get("agency") == self.agency


PUBLIC = Audience()
"""The anonymous public."""
EVERYTHING = Audience(everything=True)
"""Auditors, objection handlers and the operator's command line."""


def published_items(items: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The published items of a disclosure, by ``event_id``."""
    return {str(i["event_id"]): i for i in items if i.get("published")}


def _shown(at: Mapping[str, Any], now: Mapping[str, Any]) -> dict[str, Any]:
    """The item's current content with the timing of the instant asked."""
    shown = dict(now)
    for key in TIMING_KEYS:
        if key in at:
            shown[key] = at[key]
        else:
            shown.pop(key, None)
    return shown


def disclosure_for(
    audience: Audience, at: Mapping[str, Any], now: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``disclosure --json`` body ``at`` (read at some ``as_of`` / ``known_at``)
    as ``audience`` may see it (module docstring). ``now`` is the body read now
    with everything known (None when ``at`` is that read)."""
    if audience.everything:
        return dict(at)
    subject = at.get("subject")
    current = published_items((now if now is not None else at).get("items", ()))
    items: list[dict[str, Any]] = []
    for item in at.get("items", ()):
        if audience.sees_all_of(subject, item):
            items.append(dict(item))
            continue
        shown_now = current.get(str(item["event_id"]))
        if shown_now is None or not item.get("published"):
            continue
        items.append(_shown(item, shown_now))
    return {**at, "items": items}


def standing_for(
    audience: Audience, standing: Mapping[str, Any], disclosure_now: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``standing --json`` body as ``audience`` may read it: after repair a record
    is no longer shared (停止共享, DOMAIN.md Clarifications "Public output") except with
    the responsible agency and the roles that see everything, so every explanation
    entry naming a record whose publication ended by repair is left out for anyone
    else. ``disclosure_now`` is the subject's disclosure read now with every item
    (``EVERYTHING``), whose ``publication_ended`` marks say which records were repaired.
    A repaired record counts 0 points, so the score and grade are unchanged."""
    if audience.everything:
        return dict(standing)
    subject = standing.get("subject")
    unshared = {
        str(item["event_id"])
        for item in disclosure_now.get("items", ())
        if (item.get("publication_ended") or {}).get("why") == "repaired"
        and not audience.sees_all_of(subject, item)
    }
    if not unshared:
        return dict(standing)
    explanation = [
        entry
        for entry in standing.get("explanation", ())
        if str(entry.get("event_id")) not in unshared
    ]
    return {**standing, "explanation": explanation}


def record_for(
    audience: Audience,
    subject: str,
    record: Mapping[str, Any],
    item: Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    """One record of ``subject`` as ``audience`` may read it (``GET
    /v1/records/{source}/{id}``): ``record`` is its ``history --json`` entry, ``item`` its disclosure item as
    :func:`disclosure_for` showed it to this audience (None when it showed none).
    The roles that see everything, the subject itself and the agency that recorded
    the record (its ``source``) or is responsible for it read the record itself
    (``record``) beside the item; anyone else reads only the published item, or
    nothing at all (None: the record's existence is not hinted at)."""
    recorder = {"agency": record.get("source")}
    if audience.sees_all_of(subject, recorder) or (
        item is not None and audience.sees_all_of(subject, item)
    ):
        return {"record": dict(record), "disclosure": dict(item) if item is not None else None}
    if item is None or not item.get("published"):
        return None
    return {"record": None, "disclosure": dict(item)}


def members_for(
    audience: Audience, at: Mapping[str, Any], now: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A list-members body ``at`` (some ``as_of`` / ``known_at``) as ``audience``
    sees it: the public sees a member only while that listing (its ``event_id``)
    is a member now, with its current content and the ``since`` of ``at``."""
    if audience.everything:
        return dict(at)
    current = {str(m["event_id"]): m for m in (now if now is not None else at).get("members", ())}
    members: list[dict[str, Any]] = []
    for member in at.get("members", ()):
        if audience.sees_all_of(member.get("subject"), member):
            members.append(dict(member))
            continue
        shown_now = current.get(str(member["event_id"]))
        if shown_now is None:
            continue
        members.append({**shown_now, "since": member.get("since", shown_now.get("since"))})
    return {**at, "members": members, "count": len(members)}


def feed_change(
    change: str, item: Mapping[str, Any], now: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any] | None:
    """What the public feed carries of one change (``published``, ``updated`` or
    ``ended``) of ``item``, given the items published now by ``event_id``
    (:func:`published_items`): an ``ended`` change is a removal with the id only;
    a change of an item not published now is not carried (None); otherwise the
    item with its current content."""
    event_id = str(item["event_id"])
    if change == "ended":
        return {"event_id": event_id, "published": False}
    shown_now = now.get(event_id)
    if shown_now is None:
        return None
    return _shown(item, shown_now)


# -- why publication ended --------------------------------------------------------------

_WHY_BY_PREFIX: tuple[tuple[str, str], ...] = (
    ("maximum period reached", "expired"),
    ("period over", "expired"),
    ("removed from the list (expired)", "expired"),
    ("removed from the list (repaired)", "repaired"),
    ("removed from the list (revoked)", "revoked"),
    ("removed", "removed"),
    ("the listing it rests on was removed", "removed"),
    ("decision withdrawn", "withdrawn"),
    ("the decision it rests on was withdrawn", "withdrawn"),
    ("repair", "repaired"),
    ("ban lifted", "lifted"),
    ("measure lifted", "lifted"),
    ("record revoked", "revoked"),
    ("the record it rests on", "revoked"),
    ("notice period over", "expired"),
    ("licence revoked", "revoked"),
    ("incentive ended", "lifted"),
)


def ended_why(cause: str) -> str:
    """The stable word for why publication ended, from a lifecycle's end cause
    (``projections.lifecycles``): ``repaired``, ``expired``, ``withdrawn``,
    ``revoked``, ``removed``, ``lifted`` (``ended`` when the cause is unknown)."""
    for prefix, why in _WHY_BY_PREFIX:
        if cause.startswith(prefix):
            return why
    return "ended"


def ended_mark(cause: str, on: str | None, by: str | None) -> dict[str, Any]:
    """The ``publication_ended`` mark of an item: why (:func:`ended_why`), on which
    day (``YYYY-MM-DD``), by which event id (None for an end by date) and the cause
    in words."""
    return {"why": ended_why(cause), "on": on, "by": by, "cause": cause}
