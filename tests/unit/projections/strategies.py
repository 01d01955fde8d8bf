"""Random but valid histories of one subject, as recorded events, for the pure
projection tests: references point at earlier records of the right type dated
no later than the referring record (the ledger refuses ``reference-dated-later``), both
clocks vary (valid times jump back and forth, some records arrive months late,
several share a recording instant), corrections change what the folds read
(severity, sector, until, deadline …) and revocations hit any kind of record.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from events.instants import CST, to_us
from events.recorded import RecordedEvent

SUBJECT = "91310000MA1FL0EXXB"
SUBJECTS = ("91310000MA1FL0EXXB", "91330100MA27XL0A3M", "91440300708461136T")
START = datetime(2023, 3, 1, 9, 0, tzinfo=CST)
DAY_US = 86_400_000_000
STREAM = uuid.UUID(int=7)

SEVERITIES = ("minor", "general", "serious")
SECTORS = ("food", "work-safety", "fire-safety", "special-equipment")
FINDINGS = ("credit.penalty.decided", "credit.violation.recorded", "credit.commitment.breached")


def _day(us: int, plus_days: int) -> str:
    moment = datetime.fromtimestamp(us / 1e6, CST) + timedelta(days=plus_days)
    return moment.date().isoformat()


def _finding_data(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    severity = draw(st.sampled_from(SEVERITIES))
    sector = draw(st.sampled_from(SECTORS))
    if kind == "credit.penalty.decided":
        return {
            "kinds": ["fine"],
            "amount": "500.00",
            "procedure": "simplified" if severity == "minor" else "ordinary",
            "severity": severity,
            "sector": sector,
            "basis": "b",
            "document": "d",
        }
    return {"behaviour": "B-1", "severity": severity, "sector": sector, "basis": "b", "document": "d"}


@st.composite
def histories(draw: st.DrawFn, subject: str | None = None, max_size: int = 40) -> list[RecordedEvent]:
    """One subject's stream (see module docstring)."""
    code = subject or draw(st.sampled_from(SUBJECTS))
    n = draw(st.integers(1, max_size))
    clock = to_us(START)
    recorded = clock
    out: list[RecordedEvent] = []
    by_type: dict[str, list[str]] = {}
    revoked: set[str] = set()
    valid: dict[str, int] = {}
    time_us = clock

    def pick(*types: str) -> str | None:
        """A live record of one of ``types`` dated no later than the one being drawn."""
        options = [
            i for t in types for i in by_type.get(t, []) if i not in revoked and valid[i] <= time_us
        ]
        return draw(st.sampled_from(options)) if options else None

    for i in range(n):
        clock += draw(st.integers(0, 40)) * DAY_US + draw(st.integers(0, 23)) * 3_600_000_000
        time_us = clock - draw(st.sampled_from([0, 0, 0, 5, 60])) * DAY_US
        kind = draw(
            st.sampled_from(
                [
                    "credit.penalty.decided",
                    "credit.violation.recorded",
                    "credit.penalty.withdrawn",
                    "credit.repair.requested",
                    "credit.repair.approved",
                    "credit.repair.revoked",
                    "credit.list.proposed",
                    "credit.list.designated",
                    "credit.list.removed",
                    "credit.measure.applied",
                    "credit.measure.lifted",
                    "credit.ban.imposed",
                    "credit.ban.lifted",
                    "credit.objection.filed",
                    "credit.objection.resolved",
                    "credit.commitment.made",
                    "credit.commitment.fulfilled",
                    "credit.commitment.breached",
                    "credit.rectification.ordered",
                    "credit.rectification.completed",
                    "credit.record.corrected",
                    "credit.record.revoked",
                    "credit.registration.submitted",
                    "credit.evaluation.published",
                    "credit.person.linked",
                ]
            )
        )
        data: dict[str, Any] | None = None
        if kind in ("credit.penalty.decided", "credit.violation.recorded"):
            data = _finding_data(draw, kind)
        elif kind == "credit.penalty.withdrawn":
            if target := pick("credit.penalty.decided"):
                data = {"penalty": target, "reason": "r"}
        elif kind == "credit.repair.requested":
            if target := pick(*FINDINGS, "credit.list.designated"):
                data = {"target": target, "methods": ["commitment"]}
        elif kind == "credit.repair.approved":
            if target := pick("credit.repair.requested"):
                data = {"request": target, "reasons": "r"}
        elif kind == "credit.repair.revoked":
            if target := pick("credit.repair.approved"):
                data = {"approval": target, "reason": "r"}
        elif kind == "credit.list.proposed":
            if target := pick(*FINDINGS):
                planned = draw(st.sampled_from([None, 90, 400]))
                data = {
                    "list": draw(st.sampled_from(["serious-dishonesty", "focus"])),
                    "finding": target,
                    "planned_end": None if planned is None else _day(time_us, planned),
                    "basis": "b",
                    "document": "d",
                }
        elif kind == "credit.list.designated":
            if target := pick("credit.list.proposed"):
                data = {"proposal": target, "basis": "b", "document": "d"}
        elif kind == "credit.list.removed":
            if target := pick("credit.list.designated"):
                data = {"designation": target, "reason": "expired"}
        elif kind in ("credit.measure.applied", "credit.ban.imposed"):
            if target := pick(*FINDINGS, "credit.list.designated"):
                until = draw(st.sampled_from([None, 30, 200]))
                data = {
                    "finding": target,
                    "until": None if until is None else _day(time_us, until),
                    "basis": "b",
                    "document": "d",
                }
                if kind == "credit.measure.applied":
                    data["measure"] = draw(st.sampled_from(["public-criticism", "bidding-restriction"]))
                else:
                    data["sector"] = "food"
        elif kind == "credit.measure.lifted":
            if target := pick("credit.measure.applied"):
                data = {"application": target}
        elif kind == "credit.ban.lifted":
            if target := pick("credit.ban.imposed"):
                data = {"ban": target}
        elif kind == "credit.objection.filed":
            if target := pick(*FINDINGS, "credit.measure.applied", "credit.list.designated"):
                data = {"target": target, "grounds": "g"}
        elif kind == "credit.objection.resolved":
            if target := pick("credit.objection.filed"):
                data = {
                    "objection": target,
                    "outcome": draw(st.sampled_from(["upheld", "rejected"])),
                    "reasons": "r",
                }
        elif kind == "credit.commitment.made":
            due = draw(st.sampled_from([None, 10, 60]))
            data = {
                "commitment_type": "voluntary",
                "matter": "m",
                "due": None if due is None else _day(time_us, due),
            }
        elif kind in (
            "credit.commitment.fulfilled",
            "credit.commitment.breached",
            "credit.commitment.withdrawn",
        ):
            if target := pick("credit.commitment.made"):
                data = {"commitment": target}
                if kind == "credit.commitment.breached":
                    data["kind"] = "false"
        elif kind == "credit.rectification.ordered":
            if target := pick(*FINDINGS):
                data = {"finding": target, "deadline": _day(time_us, 30)}
        elif kind == "credit.rectification.completed":
            if target := pick("credit.rectification.ordered"):
                data = {"rectification": target}
        elif kind == "credit.record.corrected":
            if target := pick(
                *FINDINGS, "credit.measure.applied", "credit.ban.imposed", "credit.commitment.made"
            ):
                changes = draw(
                    st.sampled_from(
                        [
                            {"severity": draw(st.sampled_from(SEVERITIES))},
                            {"sector": draw(st.sampled_from(SECTORS))},
                            {"until": _day(time_us, 3)},
                            {"due": None},
                            {"document": "corrected"},
                        ]
                    )
                )
                data = {"target": target, "changes": changes}
        elif kind == "credit.record.revoked":
            every = [t for t in by_type if t != "credit.record.revoked"]
            if every and (target := pick(*every)):
                data = {"target": target, "reason": "wrong"}
                revoked.add(target)
        elif kind == "credit.registration.submitted":
            data = {"category": "certificate", "description": "ISO"}
        elif kind == "credit.evaluation.published":
            data = {"scheme": "s", "grade": "良", "valid_until": _day(time_us, 200)}
        elif kind == "credit.person.linked":
            data = {"role": "principal", "name": "王五", "id_number": "44030119800101123X"}
        if data is None:
            kind = "credit.registration.submitted"
            data = {"category": "charity", "description": "x"}
        event_id = f"e{i}"
        late = draw(st.sampled_from([0, 0, 0, 0, 1, 90]))
        recorded = max(recorded, time_us + late * DAY_US)
        out.append(
            RecordedEvent(
                originator_id=STREAM,
                originator_version=i + 1,
                subject=code,
                id=event_id,
                source="samr/310000",
                type=kind,
                time=datetime.fromtimestamp(time_us / 1e6, CST).isoformat(),
                time_us=time_us,
                recorded_us=recorded,
                data=data,
                schema_version=1,
                position=i,
                hash="0" * 64,
                prev="0" * 64,
            )
        )
        by_type.setdefault(kind, []).append(event_id)
        valid[event_id] = time_us
    return out


def instants(records: list[RecordedEvent]) -> st.SearchStrategy[int]:
    """Instants around and inside a history's span (both clocks)."""
    low = min(r.time_us for r in records) - 30 * DAY_US
    high = max(r.recorded_us for r in records) + 800 * DAY_US
    return st.integers(low, high)
