"""Responsible persons (法定代表人, 主要负责人, 实际控制人) and what extends to them.

Seed 000 §十二: for a subject on the serious-dishonesty list (失信联合惩戒对象名单)
its legal representative or principal and its actual controller are disciplined
too, and the conduct enters their personal credit record; §十一: market and
industry bans apply to the subject "及其相关责任人". So, for one person:

* a ``serious-dishonesty`` designation extends to them (a ``focus`` listing
  does not);
* a measure extends to them when the measures list (惩戒措施清单,
  :class:`commands.criteria.MeasuresList`) says it extends to responsible
  persons, whatever finding or designation it rests on;
* a ban extends to them;

when the person held a role at the subject at some moment while the sanction
was in force, up to ``as_of``. A person holds a role from their
``credit.person.linked`` until another person is linked to the same role at the
same subject.

A person is named by their *person key id* (``ledger.sealing``): a stored
``credit.person.linked`` carries ``data.id_number = {"enc": …, "key": <id>}``.
Pure: the caller hands in the decision states of the subjects to look at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from commands.criteria import MeasuresList
from commands.state import EventFacts, SubjectState
from commands.workflows.common import cst_day, effective_data, followers

__all__ = [
    "Extension",
    "Tenure",
    "extensions_for_person",
    "person_key_of",
    "subject_persons",
    "tenures",
]

LINKED = "credit.person.linked"


def person_key_of(data: dict[str, Any]) -> str | None:
    """The person key id of a stored ``credit.person.linked``'s data, or None
    when its ``id_number`` is not protected."""
    value = data.get("id_number")
    if isinstance(value, dict) and isinstance(value.get("key"), str):
        return value["key"]
    return None


@dataclass(frozen=True, slots=True)
class Tenure:
    """A person in a role at a subject from ``start_us`` until ``end_us`` (None: still)."""

    subject: str
    person: str
    role: str
    link: str
    start_us: int
    end_us: int | None


def tenures(state: SubjectState) -> list[Tenure]:
    """Every protected person link of the subject as a tenure, in valid-time order
    (a link's person and role as corrected)."""
    links = sorted(
        (f for f in state.events.values() if f.type == LINKED and f.id not in state.revoked),
        key=lambda f: (f.time_us, f.seq),
    )
    current = [effective_data(state, link.id) for link in links]  # corrections applied
    found: list[Tenure] = []
    for i, link in enumerate(links):
        person = person_key_of(current[i])
        if person is None:
            continue
        role = str(current[i].get("role"))
        end = next(
            (
                links[j].time_us
                for j in range(i + 1, len(links))
                if current[j].get("role") == role and person_key_of(current[j]) != person
            ),
            None,
        )
        found.append(Tenure(state.subject, person, role, link.id, link.time_us, end))
    return found


@dataclass(frozen=True, slots=True)
class Extension:
    """A sanction of a subject that extends to a person (see the module docstring)."""

    subject: str
    role: str
    kind: str
    """``designation``, ``measure`` or ``ban``."""
    event: str
    what: str
    """The list name, the measure code or the banned sector."""
    since_us: int
    until: date | None
    """The sanction's last day when it has one (a ban's ``until``)."""


def _in_force(state: SubjectState, sanction: EventFacts, as_of_us: int) -> tuple[bool, date | None]:
    """Whether a designation, measure or ban is in force at ``as_of_us``."""
    if sanction.id in state.revoked or sanction.time_us > as_of_us:
        return False, None
    ends = {
        "credit.list.designated": ("credit.list.removed",),
        "credit.measure.applied": ("credit.measure.lifted",),
        "credit.ban.imposed": ("credit.ban.lifted",),
    }[sanction.type]
    if any(e.time_us <= as_of_us for e in followers(state, sanction.id, *ends)):
        return False, None
    for request in followers(state, sanction.id, "credit.repair.requested"):
        for approval in followers(state, request.id, "credit.repair.approved"):
            revoked = [
                r
                for r in followers(state, approval.id, "credit.repair.revoked")
                if r.time_us <= as_of_us
            ]
            if approval.time_us <= as_of_us and not revoked:
                return False, None
    raw = effective_data(state, sanction.id).get("until")
    until = date.fromisoformat(raw) if isinstance(raw, str) else None
    if until is not None and cst_day(as_of_us) > until:
        return False, until
    return True, until


def _sanctions(
    state: SubjectState, measures: MeasuresList
) -> Iterable[tuple[EventFacts, str, str]]:
    """(sanction, kind, what) for the designations, measures and bans that
    extend to responsible persons."""
    for facts in sorted(state.events.values(), key=lambda f: f.seq):
        if facts.type == "credit.list.designated":
            proposal = effective_data(state, facts.data["proposal"])
            if proposal.get("list") == "serious-dishonesty":
                yield facts, "designation", "serious-dishonesty"
        elif facts.type == "credit.measure.applied":
            code = str(effective_data(state, facts.id).get("measure"))
            if measures.extends_to_persons(code):
                yield facts, "measure", code
        elif facts.type == "credit.ban.imposed":
            yield facts, "ban", str(facts.data.get("sector"))


def extensions_for_person(
    person: str,
    states: Iterable[SubjectState],
    as_of_us: int,
    measures: MeasuresList,
) -> list[Extension]:
    """The sanctions in force at ``as_of_us`` that extend to the person with key
    id ``person``, over the given subjects (those the person is linked to; others
    contribute nothing), ordered by subject and time. ``measures`` is the
    measures list that says which measures extend (``RuleServices.measures``)."""
    found: list[Extension] = []
    for state in states:
        mine = [t for t in tenures(state) if t.person == person and t.start_us <= as_of_us]
        if not mine:
            continue
        for sanction, kind, what in _sanctions(state, measures):
            active, until = _in_force(state, sanction, as_of_us)
            if not active:
                continue
            for tenure in mine:
                if tenure.end_us is None or tenure.end_us > sanction.time_us:
                    found.append(
                        Extension(
                            state.subject,
                            tenure.role,
                            kind,
                            sanction.id,
                            what,
                            max(sanction.time_us, tenure.start_us),
                            until,
                        )
                    )
                    break
    found.sort(key=lambda e: (e.subject, e.since_us, e.event))
    return found


def _day(us: int | None) -> str | None:
    return None if us is None else cst_day(us).isoformat()


def subject_persons(state: SubjectState, as_of_us: int, measures: MeasuresList) -> dict[str, Any]:
    """For auditors: the responsible persons linked to one subject up to
    ``as_of_us`` (key id, name, role, tenure; never the identity number), what of
    the subject's sanctions in force extends to each, and every measure in force
    with its list entry (category, basis, whether it extends) and the persons it
    reaches. JSON-ready."""
    held = [t for t in tenures(state) if t.start_us <= as_of_us]
    persons: list[dict[str, Any]] = []
    reached: dict[str, set[str]] = {}
    for tenure in held:
        link = state.events[tenure.link]
        extends = [
            e
            for e in extensions_for_person(tenure.person, [state], as_of_us, measures)
            if e.role == tenure.role
        ]
        for e in extends:
            reached.setdefault(e.event, set()).add(tenure.person)
        persons.append(
            {
                "person": tenure.person,
                "name": link.data.get("name"),
                "role": tenure.role,
                "link": tenure.link,
                "since": _day(tenure.start_us),
                "until": _day(tenure.end_us),
                "extends": [
                    {
                        "kind": e.kind,
                        "event_id": e.event,
                        "what": e.what,
                        "since": _day(e.since_us),
                        "until": None if e.until is None else e.until.isoformat(),
                    }
                    for e in extends
                ],
            }
        )
    in_force: list[dict[str, Any]] = []
    for facts in sorted(state.events.values(), key=lambda f: f.seq):
        if facts.type != "credit.measure.applied":
            continue
        active, until = _in_force(state, facts, as_of_us)
        if not active:
            continue
        code = str(effective_data(state, facts.id).get("measure"))
        entry = measures.get(code)
        in_force.append(
            {
                "event_id": facts.id,
                "measure": code,
                "name": entry.name if entry else None,
                "category": entry.category if entry else None,
                "category_zh": entry.category_zh if entry else None,
                "basis": entry.basis if entry else None,
                "extends_to_persons": entry is not None and entry.extends_to_persons,
                "until": None if until is None else until.isoformat(),
                "persons": sorted(reached.get(facts.id, ())),
            }
        )
    return {
        "subject": state.subject,
        "as_of": _day(as_of_us),
        "measures_list": measures.version,
        "persons": persons,
        "measures": in_force,
    }
