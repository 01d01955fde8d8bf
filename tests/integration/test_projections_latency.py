"""LIVE as-of read latency on PostgreSQL for one subject with 1,000 and 10,000
records (the figures are printed; run with ``-s`` to see them).

Warm reads (the subject's fold cached in the process, one indexed query to check
the stream head), cold reads (first read in a process) and reads ``known_at`` a past
moment (a prefix fold, then cached) are timed and printed. The speed targets (p99 ≤ 10 ms
at 1,000 records, ≤ 30 ms at 10,000) are the benchmark's (``ledger bench``: the as-of rows),
not asserted here: a timed assert fails on a busy machine and proves nothing on a quiet one.
What is asserted is what the cache must never change: every warm answer equals the answer
of a fresh fold with nothing cached.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from projections.live import LiveReads
from tests.integration.streams import record_stream

SUBJECT = "91440300708461136T"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


def _time(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


@pytest.mark.parametrize("records", [1_000, 10_000])
def test_live_as_of_reads_on_postgres(postgres_url: str, records: int) -> None:
    app = bootstrap(Settings(database_url=postgres_url))
    last = record_stream(app, SUBJECT, records)
    assert app.size() == records
    live = LiveReads(app.recorder, app.rules)  # type: ignore[arg-type]
    records_ = app.stream(SUBJECT)
    first = records_[0].time_us
    first_recorded = records_[0].recorded_us
    low = first - 86_400_000_000
    high = last + 400 * 86_400_000_000
    rng = random.Random(1)

    started = time.perf_counter()
    live.standing(SUBJECT, high)
    cold = (time.perf_counter() - started) * 1000

    standing_ms = _time(lambda: live.standing(SUBJECT, rng.randint(low, high)).to_json(), 200)
    disclosure_ms = _time(lambda: live.disclosure(SUBJECT, rng.randint(low, high)).to_json(), 200)
    known = [rng.randint(first_recorded, last) for _ in range(3)]
    past_ms = _time(
        lambda: live.standing(SUBJECT, rng.choice(known), rng.choice(known)).to_json(), 60
    )
    report = {
        "records": records,
        "cold_first_read_ms": round(cold, 1),
        "standing_p50_p99_ms": [round(x, 2) for x in _percentiles(standing_ms)],
        "disclosure_p50_p99_ms": [round(x, 2) for x in _percentiles(disclosure_ms)],
        "known_at_past_p50_p99_ms": [round(x, 2) for x in _percentiles(past_ms)],
    }
    print("\nLIVE read latency (PostgreSQL):", report)
    for as_of, known_at in [(rng.randint(low, high), rng.choice([None, *known])) for _ in range(5)]:
        fresh = LiveReads(app.recorder, app.rules)  # type: ignore[arg-type]
        assert live.standing(SUBJECT, as_of, known_at).to_json() == (
            fresh.standing(SUBJECT, as_of, known_at).to_json()
        )
        assert live.disclosure(SUBJECT, as_of, known_at).to_json() == (
            fresh.disclosure(SUBJECT, as_of, known_at).to_json()
        )
    app.recorder.datastore.close()  # type: ignore[attr-defined]
