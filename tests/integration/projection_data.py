"""Loading data sets into a ledger for the projection tests."""

from __future__ import annotations

from typing import Any

import orjson

import demo
from entrypoints.rule_files import load_rules
from events.envelope import parse_submission
from events.instants import cst_text
from ledger.app import Ledger


def load_demo(ledger: Ledger, subjects: int, seed: int = 20261120, batch: int = 500) -> int:
    """Record the demo data set the way ``ledger demo`` does: batches of events
    recorded on the same day (China time), each batch at its last recording
    instant. Returns how many were recorded; any rejection fails."""
    rules = ledger.rules if ledger.rules is not None else load_rules()
    generated = demo.generate(subjects=subjects, seed=seed, rules=rules)
    recorded = 0
    chunk: list[Any] = []
    day = None

    def flush() -> None:
        nonlocal recorded
        items = parse_submission(orjson.dumps([d.event for d in chunk]))
        outcomes = ledger.submit(items, now_us=max(d.recorded_us for d in chunk), system=True)
        bad = [o.to_json() for o in outcomes if o.status == "rejected"]
        assert not bad, bad[:3]
        recorded += sum(o.status == "recorded" for o in outcomes)

    for d in generated:
        this_day = cst_text(d.recorded_us)[:10]
        if chunk and (this_day != day or len(chunk) >= batch):
            flush()
            chunk = []
        day = this_day
        chunk.append(d)
    if chunk:
        flush()
    return recorded
