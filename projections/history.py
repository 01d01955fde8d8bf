"""The traceable history (可查可核可溯) of a subject: every record, both clocks, who,
on what basis, and what it changed.

``history(subject, records, as_of_us, known_at_us, rules)`` is pure. For each
record (``known_at`` limits what was recorded; ``as_of`` keeps the records in
effect by then, a correction or revocation counting from its target's time) it
gives the raw ledger keys of DESIGN.md ``history --json`` (``seq``, ``position``,
``id``, ``source``, ``type``, ``time``, ``recorded_us``, ``data``, ``hash``,
``prev``) plus:

* ``links``: what it points at and what later points at it, named by relation
  (``corrects``/``corrected by``, ``revokes``/``revoked by``, ``objection``/
  ``resolved``, ``withdraws``, ``repair`` …), each with the other record's id,
  seq and type; a correction lists the fields it changed (old → new value).
* ``changes``: the difference it made, at the moment it was recorded, to the
  standing (score, grade, lists, measures, bans, open items) and to the
  disclosure (items that appeared or changed), i.e. the views of the records
  before it and of the records up to it, both read at its recording time.
* ``authority: "unverified"`` and ``authority_reason`` (``code``, ``message``)
  on a record the authority rules (``commands.authority``) would refuse now: one
  recorded before those rules. It stays recorded and keeps its effect; the flag
  tells the reader, and ``ledger unverified`` lists every such record.

``History.text()`` is the same for a person: one block per record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from commands.authority import unverified
from commands.services import RuleServices
from events.catalogue import CATALOGUE, Relation
from events.instants import cst_text
from events.labels import label
from events.personal import mask_id_number
from events.reasons import Rejection
from events.recorded import RecordedEvent
from projections.disclosure_item import PROTECTED_KEY, ItemPlan, render
from projections.disclosure_plans import CORRECTED_MARK, plans_of
from projections.standing import Standing, standing_of
from projections.timeline import Entry, Timeline, instant_text

__all__ = ["History", "HistoryEntry", "history"]


def _relation(type_name: str) -> Relation | None:
    """How a record of ``type_name`` names what it points at, and is named back
    (its declaration, :mod:`events.catalogue`)."""
    declaration = CATALOGUE.get(type_name)
    return None if declaration is None else declaration.relation


@dataclass(frozen=True)
class HistoryEntry:
    """One record of the history with its links and the changes it made."""

    record: RecordedEvent
    effective_us: int
    links: tuple[dict[str, Any], ...]
    changes: dict[str, Any]
    corrected: dict[str, Any] | None = None
    """When later corrections apply to the record: ``mark`` 已更正, ``by`` (their
    ids) and ``data`` (the record's data with them applied; identity numbers
    masked). ``data`` itself stays what was recorded."""
    unverified: Rejection | None = None
    """Set when the authority rules would refuse this record now (module docstring)."""

    def to_json(self) -> dict[str, Any]:
        out = self.record.to_json()
        out.update(
            recorded_at=instant_text(self.record.recorded_us),
            effective_from=instant_text(self.effective_us),
            agency=self.record.source,
            basis=self.record.data.get("basis"),
            document=self.record.data.get("document"),
            links=list(self.links),
            changes=self.changes,
        )
        if self.corrected is not None:
            out["corrected"] = self.corrected
        if self.unverified is not None:
            out["authority"] = "unverified"
            out["authority_reason"] = {
                "code": str(self.unverified.code),
                "message": self.unverified.message,
            }
        return out


@dataclass(frozen=True)
class History:
    """A subject's traceable history (module docstring)."""

    subject: str
    as_of_us: int | None
    known_at_us: int | None
    entries: tuple[HistoryEntry, ...]
    subject_name: str | None = None

    def to_json(self) -> list[dict[str, Any]]:
        """DESIGN.md ``history --json``: one object per record in stream order."""
        return [e.to_json() for e in self.entries]

    def text(self) -> str:
        """The history for a person (an auditor can check each line)."""
        name = f" {self.subject_name}" if self.subject_name else ""
        lines = [
            f"{self.subject}{name} — 信用记录可查可核可溯 traceable history, "
            f"{len(self.entries)} records",
        ]
        clocks = []
        if self.as_of_us is not None:
            clocks.append(f"in effect as of {cst_text(self.as_of_us)} CST")
        if self.known_at_us is not None:
            clocks.append(f"as recorded by {cst_text(self.known_at_us)} CST")
        if clocks:
            lines.append("(" + ", ".join(clocks) + ")")
        for e in self.entries:
            lines.append("")
            lines.extend(_entry_text(e))
        return "\n".join(lines) + "\n"


def history(
    subject: str,
    records: Iterable[RecordedEvent],
    as_of_us: int | None,
    known_at_us: int | None,
    rules: RuleServices,
) -> History:
    """The history of ``subject`` from its records (seq order); see module docstring."""
    full = Timeline(subject, None, known_at_us)
    shown: list[tuple[RecordedEvent, int]] = []
    changes: dict[int, dict[str, Any]] = {}
    before_standing: Standing | None = None
    plans: list[ItemPlan] = []
    known: list[RecordedEvent] = []
    for record in records:
        if not full.knows(record):
            break
        known.append(record)
        at = max(record.recorded_us, record.time_us, full.max_time_us)
        if before_standing is not None and (
            before_standing.next_change_us is None or before_standing.next_change_us > at
        ):
            previous = before_standing
        else:
            previous = standing_of(full, at, rules)
        previous_items = _rendered(plans, at)
        entry = full.append(record)
        if entry is None:  # pragma: no cover - known records are always selected
            continue
        after = standing_of(full, at, rules)
        plans = plans_of(full, rules)
        after_items = _rendered(plans, at)
        changes[record.seq] = {
            "at": instant_text(at),
            "standing": _standing_diff(previous, after),
            "disclosure": _disclosure_diff(previous_items, after_items),
        }
        before_standing = after
        shown.append((record, entry.effective_us))
    flagged = unverified(subject, known, rules.agencies)
    entries = []
    for record, effective in shown:
        if as_of_us is not None and effective > as_of_us:
            continue
        node = full.get(record.id)
        own = node is not None and node.record is record
        links = _links(node) if own and node is not None else ()
        corrected = _corrected(node) if own and node is not None else None
        entries.append(
            HistoryEntry(
                record,
                effective,
                tuple(links),
                changes[record.seq],
                corrected,
                flagged.get(record.id),
            )
        )
    return History(subject, as_of_us, known_at_us, tuple(entries), full.subject_name)


def _rendered(plans: Iterable[ItemPlan], at: int) -> dict[int, dict[str, Any]]:
    out = {}
    for plan in plans:
        item = render(plan, at)
        if item is not None:
            out[plan.seq] = item
    return out


# -- links ---------------------------------------------------------------------------------


def _ref(relation: str, other: Entry) -> dict[str, Any]:
    return {"relation": relation, "event_id": other.id, "seq": other.seq, "type": other.type}


def _links(entry: Entry) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = []
    relation = _relation(entry.type)
    verb = None if relation is None else relation.forward.en
    for name, target in entry.refs.items():
        link = _ref(verb or name, target)
        link["field"] = name
        if entry.type == "credit.record.corrected":
            link["changed"] = _changed_fields(entry, target)
        if entry.type == "credit.objection.resolved":
            concerned = target.refs.get("target")
            if concerned is not None:
                link["concerning"] = concerned.id
        links.append(link)
    for other in entry.referrers:
        back = _relation(other.type)
        link = _ref(f"referred to by ({other.type})" if back is None else back.backward.en, other)
        if other.revoked_by is not None:
            link["revoked"] = True
        if other.type == "credit.objection.filed":
            resolution = other.referring("credit.objection.resolved", "objection")
            if resolution:
                link["outcome"] = resolution[0].data.get("outcome")
                link["resolved_by"] = resolution[0].id
            else:
                link["outcome"] = "pending"
        links.append(link)
    return links


def _changed_fields(correction: Entry, target: Entry) -> dict[str, list[Any]]:
    """Field → [value before this correction, value it sets]."""
    changes = correction.data.get("changes")
    if not isinstance(changes, dict):
        return {}
    before = dict(target.record.data)
    for earlier in target.corrections:
        if earlier is correction:
            break
        if earlier.revoked_by is None and isinstance(earlier.data.get("changes"), dict):
            before.update(earlier.data["changes"])
    out = {}
    for name, value in changes.items():
        old = before.get(name)
        if name == "id_number":
            old, value = _shown_id(old), _shown_id(value)
        out[name] = [old, value]
    return out


# -- diffs -----------------------------------------------------------------------------------


def _ids(items: Iterable[dict[str, Any]]) -> set[str]:
    return {str(i["event_id"]) for i in items}


def _standing_diff(before: Standing, after: Standing) -> dict[str, Any]:
    diff: dict[str, Any] = {}
    if before.score != after.score:
        diff["score"] = [before.score, after.score]
    if before.grade != after.grade:
        diff["grade"] = [before.grade, after.grade]
    for name in (
        "measures",
        "bans",
        "list_designations",
        "open_commitments",
        "open_rectifications",
        "pending_objections",
    ):
        old, new = _ids(getattr(before, name)), _ids(getattr(after, name))
        if old != new:
            diff[name] = {"added": sorted(new - old), "removed": sorted(old - new)}
    if set(before.lists) != set(after.lists):
        diff["lists"] = {
            "added": sorted(set(after.lists) - set(before.lists)),
            "removed": sorted(set(before.lists) - set(after.lists)),
        }
    if set(before.suspended) != set(after.suspended):
        diff["suspended"] = {
            "added": sorted(set(after.suspended) - set(before.suspended)),
            "removed": sorted(set(before.suspended) - set(after.suspended)),
        }
    old_eval = before.evaluation or {}
    new_eval = after.evaluation or {}
    if old_eval.get("event_id") != new_eval.get("event_id"):
        diff["evaluation"] = [old_eval.get("grade"), new_eval.get("grade")]
    return diff


_REASON_FORMS = ("reason", "reason_zh", "reason_parts")
"""The three forms of an item's reason (``projections.wording``): one change."""

_IMPLIED = (
    "published",
    *_REASON_FORMS,
    "periods",
    "from",
    "until",
    "publish_by",
    "publish_by_note",
    "late",
    PROTECTED_KEY,
)
"""Item keys a changed reason already explains."""


def _disclosure_diff(
    before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for seq, item in after.items():
        old = before.get(seq)
        if old is None:
            out.append(
                {
                    "event_id": item["event_id"],
                    "change": "added",
                    "published": item["published"],
                    "reason": item["reason"],
                }
            )
            continue
        if old == item:
            continue
        implied = (
            _IMPLIED
            if old["reason"] != item["reason"]
            else ("published", "periods", PROTECTED_KEY, *_REASON_FORMS)
        )
        fields = {
            k: [old.get(k), v] for k, v in item.items() if k not in implied and old.get(k) != v
        }
        out.append(
            {
                "event_id": item["event_id"],
                "change": "changed",
                "published": [old["published"], item["published"]],
                "reason": [old["reason"], item["reason"]],
                "fields": fields,
            }
        )
    for seq, item in before.items():
        if seq not in after:
            out.append({"event_id": item["event_id"], "change": "removed"})
    return out


def _corrected(entry: Entry) -> dict[str, Any] | None:
    """The ``corrected`` mark of a history entry (see :class:`HistoryEntry`)."""
    live = [c for c in entry.corrections if c.revoked_by is None]
    if not live:
        return None
    data = {k: (_shown_id(v) if k == "id_number" else v) for k, v in entry.data.items()}
    return {"mark": CORRECTED_MARK, "by": [c.id for c in live], "data": data}


def _shown_id(value: Any) -> str:
    """An identity number as the history shows it: masked, or "(encrypted)" when
    the ledger stores it encrypted (readers with the right role decrypt it from
    the raw ``data`` through ``ledger.sealing.reveal``)."""
    if isinstance(value, dict):
        return "(encrypted)"
    return mask_id_number(value)


# -- text ---------------------------------------------------------------------------------------


def _value(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = ",".join(value)
    elif value is None:
        text = "—"
    elif isinstance(value, dict | list):
        text = orjson.dumps(value).decode()
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def type_label(type_name: str, lang: str = "zh") -> str:
    """The label of an event type (``UnknownLabel`` for an undeclared one)."""
    return label("type", type_name, lang)


def _entry_text(e: HistoryEntry) -> list[str]:
    r = e.record
    title = f"{type_label(r.type)} {type_label(r.type, 'en')}"
    lines = [f"#{r.seq}  {title}  ({r.type})  id {r.id}"]
    valid = f"valid {cst_text(r.time_us)} CST"
    if e.effective_us != r.time_us:
        valid += f" (applies from {cst_text(e.effective_us)})"
    lines.append(f"    {valid} · recorded {cst_text(r.recorded_us)} CST · agency {r.source}")
    basis, document = r.data.get("basis"), r.data.get("document")
    if basis or document:
        lines.append(f"    basis {basis or '—'} · document {document or '—'}")
    shown = {
        k: (_shown_id(v) if k == "id_number" else v)
        for k, v in r.data.items()
        if k not in ("basis", "document")
    }
    if shown:
        lines.append("    " + "  ".join(f"{k}={_value(v)}" for k, v in shown.items()))
    if e.corrected is not None:
        was = {k: (_shown_id(v) if k == "id_number" else v) for k, v in r.data.items()}
        now = {k: v for k, v in e.corrected["data"].items() if k not in was or was[k] != v}
        lines.append(
            f"    {e.corrected['mark']} corrected by {', '.join(e.corrected['by'])}: "
            + "  ".join(f"{k}={_value(v)}" for k, v in now.items())
        )
    for link in e.links:
        text = f"{link['relation']} #{link['seq']} {link['event_id']}"
        if "changed" in link:
            text += (
                " ("
                + "; ".join(
                    f"{k}: {_value(v[0])} → {_value(v[1])}" for k, v in link["changed"].items()
                )
                + ")"
            )
        if "outcome" in link:
            text += f" — {link['outcome']}"
            if link.get("resolved_by"):
                text += f" by {link['resolved_by']}"
        if "concerning" in link:
            text += f" concerning {link['concerning']}"
        if link.get("revoked"):
            text += " [revoked]"
        lines.append(f"    ↳ {text}")
    if e.unverified is not None:
        lines.append(f"    ⚠ authority: unverified — {e.unverified.message}")
    lines.extend(f"    Δ {line}" for line in _changes_text(e.changes))
    lines.append(f"    chain: position {r.position}, hash {r.hash[:16]}…, prev {r.prev[:16]}…")
    return lines


def _changes_text(changes: dict[str, Any]) -> list[str]:
    out = []
    s = changes["standing"]
    if "score" in s:
        grade = f" (grade {s['grade'][0]} → {s['grade'][1]})" if "grade" in s else ""
        out.append(f"score {s['score'][0]} → {s['score'][1]}{grade}")
    for name, heading in (
        ("lists", "lists"),
        ("measures", "measures in force"),
        ("bans", "bans in force"),
        ("suspended", "measures suspended for"),
        ("open_commitments", "open commitments"),
        ("open_rectifications", "open rectifications"),
        ("pending_objections", "pending objections"),
    ):
        if name in s:
            parts = [f"+{x}" for x in s[name]["added"]] + [f"−{x}" for x in s[name]["removed"]]
            out.append(f"{heading}: {' '.join(parts)}")
    if "evaluation" in s:
        out.append(f"evaluation {_value(s['evaluation'][0])} → {_value(s['evaluation'][1])}")
    for item in changes["disclosure"]:
        if item["change"] == "added":
            out.append(f"disclosure +{item['event_id']}: {item['reason']}")
        elif item["change"] == "changed":
            if item["reason"][0] != item["reason"][1]:
                out.append(f"disclosure {item['event_id']}: {item['reason'][1]}")
            for name, (old, new) in item["fields"].items():
                out.append(f"disclosure {item['event_id']}: {name} {_value(old)} → {_value(new)}")
        else:
            out.append(f"disclosure −{item['event_id']}")
    if not out:
        out.append("no change to standing or disclosure")
    return out
