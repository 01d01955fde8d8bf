"""What the lifecycle scenarios share: building CloudEvents, submitting them,
and reading the subject back — from the ledger's records, and through the
projections (standing, disclosure) when they are installed."""

from __future__ import annotations

import itertools
from typing import Any

import orjson

from events.envelope import parse_submission
from ledger.app import Ledger, Outcome

BASIS = {"basis": "《中华人民共和国食品安全法》第一百二十四条", "document": "沪市监罚〔2025〕8号"}
_ids = itertools.count(1)


def at(day: str, clock: str = "10:00:00") -> str:
    return f"{day}T{clock}+08:00"


def event(
    type_: str, subject: str, time: str, data: dict[str, Any], source: str, id: str | None = None
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": id or f"sc-{next(_ids):05d}",
        "source": source,
        "type": type_,
        "subject": subject,
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
    }


def submit(ledger: Ledger, *events: dict[str, Any]) -> list[Outcome]:
    return ledger.submit(parse_submission(orjson.dumps(list(events))))


def recorded(ledger: Ledger, *events: dict[str, Any]) -> list[str]:
    """Submit; every event must be recorded. Returns their ids."""
    outcomes = submit(ledger, *events)
    assert [o.status for o in outcomes] == ["recorded"] * len(events), [
        o.to_json() for o in outcomes
    ]
    return [e["id"] for e in events]


def refused(ledger: Ledger, event_: dict[str, Any], code: str) -> Outcome:
    """Submit one event; it must be rejected with ``code`` and nothing written."""
    size = ledger.size()
    (outcome,) = submit(ledger, event_)
    assert (outcome.status, outcome.code) == ("rejected", code), outcome.to_json()
    assert ledger.size() == size
    return outcome


def types_and_ids(ledger: Ledger, subject: str) -> list[tuple[str, str]]:
    return [(r.type, r.id) for r in ledger.stream(subject)]


def penalty(
    subject: str, day: str, source: str, severity: str = "general", **extra: Any
) -> dict[str, Any]:
    return event(
        "credit.penalty.decided",
        subject,
        at(day),
        {
            "kinds": ["fine"],
            "amount": "50000.00",
            "procedure": "ordinary",
            "severity": severity,
            "sector": "food",
            **BASIS,
            **extra,
        },
        source,
    )


def views(
    ledger: Ledger, subject: str, as_of_us: int | None = None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(standing --json, disclosure --json) of the subject now (or at ``as_of_us``),
    or None when the projections are not installed."""
    try:
        from projections.disclosure import disclosure
        from projections.standing import standing
    except ImportError:  # pragma: no cover - projections not there yet
        return None
    assert ledger.rules is not None
    records = ledger.stream(subject)
    moment = ledger.clock() if as_of_us is None else as_of_us
    return (
        standing(subject, records, moment, None, ledger.rules).to_json(),
        disclosure(subject, records, moment, None, ledger.rules).to_json(),
    )


def item(disclosure_json: dict[str, Any], event_id: str) -> dict[str, Any] | None:
    """The disclosure item of an event, if any."""
    return next((i for i in disclosure_json["items"] if i["event_id"] == event_id), None)
