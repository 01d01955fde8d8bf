"""A subject's stream in memory, for testing the workflow rules without a store.

``Stream.add(type, time, data, …)`` builds a CloudEvent, parses it, decides it on
the stream's fold with the packaged rule services and, when accepted, evolves
the fold with it and its derived events. It returns the decision, so a test
reads ``s.ok(...)`` (must be accepted; returns the id) or ``s.refused(...)``
(must be rejected; returns the rejection).
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from commands.decide import Accepted, Context, Decision, decide
from commands.services import RuleServices
from commands.state import SubjectState
from entrypoints import rule_files
from events.envelope import Envelope, parse_event
from events.reasons import Rejection
from events.recorded import RecordedEvent
from ledger.app import ref_fields

RULES = rule_files.load_rules()
NOW_US = 1_795_000_000_000_000  # 2026-11-18, after every time used in the tests
SHANGHAI = "91310000MA1FL8L96X"
ZHEJIANG = "91330100MA2CXXXX1F"
SHENZHEN = "91440300708461136T"
AGENCY = "samr/440300"
BASIS = {"basis": "《测试条例》第一条", "document": "测〔2025〕1号"}


def at(day: str, clock: str = "10:00:00") -> str:
    """An RFC 3339 time on ``day`` in China Standard Time."""
    return f"{day}T{clock}+08:00"


class Stream:
    """One subject's fold plus the events recorded so far."""

    def __init__(
        self, subject: str = SHENZHEN, rules: RuleServices | None = RULES, now_us: int = NOW_US
    ) -> None:
        self.state = SubjectState(subject)
        self.rules = rules
        self.now_us = now_us
        self.recorded: list[Envelope] = []
        self._ids = itertools.count(1)

    def event(
        self,
        type_: str,
        time: str,
        data: dict[str, Any],
        *,
        source: str = AGENCY,
        id: str | None = None,
    ) -> Envelope:
        return parse_event(
            {
                "specversion": "1.0",
                "id": id or f"e{next(self._ids)}",
                "source": source,
                "type": type_,
                "subject": self.state.subject,
                "time": time,
                "data": data,
            }
        )

    def decide(self, envelope: Envelope) -> Decision:
        return decide(self.state, envelope, Context(self.now_us, self.rules))

    def add(self, type_: str, time: str, data: dict[str, Any], **kw: Any) -> Decision:
        return self.submit(self.event(type_, time, data, **kw))

    def submit(self, envelope: Envelope) -> Decision:
        """Decide an already built envelope; evolve the fold when accepted."""
        decision = self.decide(envelope)
        if isinstance(decision, Accepted):
            for accepted in (decision.event, *decision.derived):
                self._evolve(accepted)
        return decision

    def ok(self, type_: str, time: str, data: dict[str, Any], **kw: Any) -> str:
        decision = self.add(type_, time, data, **kw)
        assert isinstance(decision, Accepted), decision
        return decision.event.id

    def refused(self, type_: str, time: str, data: dict[str, Any], **kw: Any) -> Rejection:
        decision = self.add(type_, time, data, **kw)
        assert isinstance(decision, Rejection), f"{type_} was accepted"
        return decision

    def _evolve(self, envelope: Envelope) -> None:
        self.recorded.append(envelope)
        self.state.evolve(
            RecordedEvent(
                originator_id=uuid.uuid4(),
                originator_version=self.state.version + 1,
                subject=envelope.subject,
                id=envelope.id,
                source=envelope.source,
                type=envelope.type,
                time=envelope.time,
                time_us=envelope.time_us,
                recorded_us=NOW_US,
                data=envelope.data,
                schema_version=envelope.schema_version,
                position=len(self.recorded) - 1,
                hash="0" * 64,
                prev=self.state.head,
            ),
            ref_fields(envelope.type),
        )

    # -- common events ---------------------------------------------------------------------

    def penalty(self, day: str, severity: str = "general", sector: str = "food", **kw: Any) -> str:
        procedure = "simplified" if severity == "minor" else "ordinary"
        kinds = ["warning"] if severity == "minor" else ["fine"]
        amount = None if severity == "minor" else "50000.00"
        return self.ok(
            "credit.penalty.decided",
            at(day),
            {
                "kinds": kinds,
                "amount": amount,
                "procedure": procedure,
                "severity": severity,
                "sector": sector,
                **BASIS,
            },
            **kw,
        )

    def repair_commitment(self, day: str) -> str:
        return self.ok(
            "credit.commitment.made",
            at(day, "09:00:00"),
            {"commitment_type": "repair", "matter": "信用修复承诺", "due": None},
        )

    def proposal(
        self,
        day: str,
        finding: str,
        name: str = "serious-dishonesty",
        end: str | None = "2026-06-30",
    ) -> str:
        return self.ok(
            "credit.list.proposed",
            at(day),
            {"list": name, "finding": finding, "planned_end": end, **BASIS},
            source="ndrc/440300",
        )
