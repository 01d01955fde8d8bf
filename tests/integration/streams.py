"""A deterministic, valid, realistic stream of many events for one subject (for
latency measurements and the runner's crash test).

``long_stream(subject, n, seed)`` returns ``n`` CloudEvents (dicts) in valid
order together with the recording instant of each: decisions a few hours to a
few days apart from 2023-05-04 on, each recorded an hour later, a correction
now and then recorded weeks late. Every reference names an earlier, unrevoked
event of the right type.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import orjson

from events.instants import CST, to_us

START = datetime(2023, 5, 4, 9, 0, tzinfo=CST)
BASIS = "《中华人民共和国行政处罚法》第二十八条"


def cloud_event(
    event_id: str, source: str, kind: str, subject: str, time: str, data: dict[str, Any]
) -> dict[str, Any]:
    """One CloudEvent of the submission format (JSON data), as a dict."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": kind,
        "subject": subject,
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
    }


def record_stream(ledger: Any, subject: str, n: int, seed: int = 7) -> int:
    """Record ``n`` events of :func:`long_stream` for ``subject`` (skipping any the
    workflow rules refuse, and drawing more); returns the last recording instant."""
    from events.envelope import parse_submission

    recorded = 0
    last = 0
    pool = long_stream(subject, n + n // 3 + 50, seed)
    for start in range(0, len(pool), 500):
        if recorded >= n:
            break
        chunk = pool[start : start + min(500, n - recorded)]
        outcomes = ledger.submit(
            parse_submission(orjson.dumps([e for e, _ in chunk])), now_us=max(r for _, r in chunk)
        )
        recorded += sum(o.status == "recorded" for o in outcomes)
        last = max(r for _, r in chunk)
    assert recorded == n, f"only {recorded} of {n} recorded"
    return last


def long_stream(
    subject: str, n: int, seed: int = 7, *, start: datetime = START, step_minutes: int = 90
) -> list[tuple[dict[str, Any], int]]:
    """``n`` (event, recorded_us) pairs for ``subject``; see module docstring."""
    rng = random.Random(seed)
    out: list[tuple[dict[str, Any], int]] = []
    findings: list[str] = []
    commitments: list[str] = []
    measures: list[str] = []
    objections: list[str] = []
    rectifications: list[str] = []
    sources = ["samr/440300", "tax/440300", "mee/440300"]
    source_of: dict[str, str] = {}
    moment = start
    span = timedelta(minutes=step_minutes)
    # Keep every decision at least a day before 2026-11-20 (the demo's "now").
    while len(out) < n:
        i = len(out)
        moment += span
        source = rng.choice(sources)
        event_id = f"{subject[-6:]}-{seed}-{i:06d}"
        roll = rng.random()
        kind: str
        data: dict[str, Any]
        if roll < 0.18 or not findings:
            severity = rng.choice(["minor", "general", "general", "serious"])
            if rng.random() < 0.5:
                kind = "credit.penalty.decided"
                data = {
                    "kinds": ["fine"],
                    # a minor fine within Order 36's limit for an organisation
                    "amount": f"{min(rng.randint(1, 900) * 100, 3000 if severity == 'minor' else 10**9)}.00",
                    "procedure": "simplified" if severity == "minor" else "ordinary",
                    "severity": severity,
                    "sector": rng.choice(["food", "work-safety", "drugs"]),
                    "basis": BASIS,
                    "document": f"罚〔{moment.year}〕{i}号",
                }
            else:
                kind = "credit.violation.recorded"
                data = {
                    "behaviour": f"B-{rng.randint(100, 999)}",
                    "severity": severity,
                    "sector": "food",
                    "basis": BASIS,
                    "document": f"认〔{moment.year}〕{i}号",
                }
            findings.append(event_id)
            source_of[event_id] = source
        elif roll < 0.30:
            kind, data = (
                "credit.commitment.made",
                {
                    "commitment_type": rng.choice(["voluntary", "approval-substitute"]),
                    "matter": "承诺书",
                    "due": (moment + timedelta(days=rng.randint(5, 60))).date().isoformat()
                    if rng.random() < 0.3
                    else None,
                },
            )
            commitments.append(event_id)
        elif roll < 0.38 and commitments:
            target = commitments.pop(rng.randrange(len(commitments)))
            source = source_of[target]  # the agency the commitment was made to
            kind, data = "credit.commitment.fulfilled", {"commitment": target}
        elif roll < 0.46:
            kind, data = (
                "credit.registration.submitted",
                {
                    "category": "certificate",
                    "description": f"证书 {i}",
                },
            )
        elif roll < 0.54:
            finding = rng.choice(findings)
            source = source_of[finding]
            kind, data = (
                "credit.rectification.ordered",
                {
                    "finding": finding,
                    "deadline": (moment + timedelta(days=30)).date().isoformat(),
                },
            )
            rectifications.append(event_id)
        elif roll < 0.60 and rectifications:
            target = rectifications.pop(0)
            source = source_of[target]  # completed by the agency that ordered it
            kind, data = "credit.rectification.completed", {"rectification": target}
        elif roll < 0.68:
            kind, data = (
                "credit.measure.applied",
                {
                    "measure": rng.choice(["enhanced-supervision", "public-criticism"]),
                    "finding": rng.choice(findings),
                    "until": (moment + timedelta(days=rng.randint(30, 700))).date().isoformat(),
                    "basis": "国办发〔2019〕35号 第十二条",
                    "document": f"措〔{moment.year}〕{i}号",
                },
            )
            measures.append(event_id)
        elif roll < 0.72 and measures:
            target = measures.pop(0)
            source = source_of[target]  # lifted by the agency that applied it
            kind, data = "credit.measure.lifted", {"application": target}
        elif roll < 0.76 and not objections:
            objected = rng.choice(findings)
            kind, data = (
                "credit.objection.filed",
                {"target": objected, "grounds": "认定有误"},
            )
            objections.append(event_id)
            source_of[event_id] = source_of[objected]
        elif roll < 0.80 and objections:
            target = objections.pop(0)
            source = source_of[target]  # resolved by the objected record's agency
            kind, data = (
                "credit.objection.resolved",
                {"objection": target, "outcome": "rejected", "reasons": "经核实"},
            )
        elif roll < 0.91:
            target = rng.choice(findings)
            source = source_of[target]
            kind, data = (
                "credit.record.corrected",
                {"target": target, "changes": {"document": f"更正〔{moment.year}〕{i}号"}},
            )
        elif roll < 0.95:
            kind, data = (
                "credit.evaluation.published",
                {
                    "scheme": "公共信用综合评价",
                    "grade": rng.choice(["优", "良", "中"]),
                    "valid_until": (moment + timedelta(days=365)).date().isoformat(),
                },
            )
        else:
            kind, data = (
                "credit.person.linked",
                {
                    "role": "principal",
                    "name": "李四",
                    "id_number": "44030119800101123X",
                },
            )
        source_of.setdefault(event_id, source)
        event = cloud_event(event_id, source, kind, subject, moment.isoformat(), data)
        recorded = to_us(moment) + 3_600_000_000
        if kind == "credit.record.corrected" and rng.random() < 0.3:
            recorded += 20 * 86_400_000_000
        out.append((event, recorded))
    # Recording order must be non-decreasing: late corrections are recorded when
    # they arrive, which is why their recorded instant is the max seen so far.
    fixed: list[tuple[dict[str, Any], int]] = []
    high = 0
    for event, recorded in out:
        high = max(high, recorded)
        fixed.append((event, high))
    return fixed
