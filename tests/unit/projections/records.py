"""Build recorded events by hand for the pure projection tests."""

from __future__ import annotations

import uuid
from typing import Any

from events.instants import parse_instant
from events.recorded import RecordedEvent

SUBJECT = "91440300708461136T"
DOC = {"basis": "《中华人民共和国安全生产法》第九十九条", "document": "深应急罚〔2026〕1号"}


class Stream:
    """A subject's stream under construction: ``add`` appends the next record.

    ``time`` and ``recorded`` are RFC 3339 instants or dates (a date: the end of
    that day in China Standard Time); ``recorded`` defaults to one hour after
    ``time``.
    """

    def __init__(self, subject: str = SUBJECT) -> None:
        self.subject = subject
        self.records: list[RecordedEvent] = []

    def add(
        self,
        type_name: str,
        time: str,
        data: dict[str, Any],
        *,
        recorded: str | None = None,
        id: str | None = None,
        source: str = "samr/440300",
    ) -> str:
        seq = len(self.records) + 1
        time_us = parse_instant(time)
        recorded_us = parse_instant(recorded) if recorded else time_us + 3_600_000_000
        if self.records:
            recorded_us = max(recorded_us, self.records[-1].recorded_us)
        event_id = id or f"r{seq}"
        self.records.append(
            RecordedEvent(
                originator_id=uuid.UUID(int=1),
                originator_version=seq,
                subject=self.subject,
                id=event_id,
                source=source,
                type=type_name,
                time=time,
                time_us=time_us,
                recorded_us=recorded_us,
                data=data,
                schema_version=1,
                position=seq - 1,
                hash="0" * 64,
                prev="0" * 64,
            )
        )
        return event_id

    def penalty(
        self,
        time: str,
        severity: str = "general",
        sector: str = "food",
        **options: Any,
    ) -> str:
        return self.add(
            "credit.penalty.decided",
            time,
            {
                "kinds": ["fine"],
                "amount": "150000.00" if severity != "minor" else "200.00",
                "procedure": "simplified" if severity == "minor" else "ordinary",
                "severity": severity,
                "sector": sector,
                **DOC,
            },
            **options,
        )
