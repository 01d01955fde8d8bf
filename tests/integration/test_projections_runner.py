"""The projection runner (ASYNC mode) on both stores: views maintained batch by
batch equal views rebuilt from scratch; views answer what the live folds answer;
list membership as of any date and as known at any moment; read-your-writes."""

from __future__ import annotations

import random
import threading
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrypoints import rule_files
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from events.envelope import parse_submission
from events.instants import parse_instant
from ledger.app import Ledger
from ledger.store.views import LIST_NAMES
from projections.live import LiveReads
from projections.reads import Reads
from projections.runner import ProjectionRunner
from tests.integration.projection_data import load_demo
from tests.integration.test_store import valid_sequences
from tests.unit.events.samples import STORY

NOW = parse_instant("2026-11-20T18:00:00+08:00")
"""The demo's "now": every demo record is recorded by then."""


def _close(app: Ledger) -> None:
    app.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_views_fed_batch_by_batch_equal_views_rebuilt_from_scratch(
    store: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(f"{store}_url")
    app = bootstrap(Settings(database_url=url))
    incremental = ProjectionRunner(app.recorder, app.rules)  # type: ignore[arg-type]

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(valid_sequences(), st.integers(1, 7), st.integers(1, 9))
    def check(events: list[dict[str, Any]], submit_batch: int, runner_batch: int) -> None:
        incremental.batch_size = runner_batch
        for i in range(0, len(events), submit_batch):
            chunk = events[i : i + submit_batch]
            outcomes = app.submit(parse_submission(orjson.dumps(chunk)), system=True)
            assert all(o.status != "rejected" for o in outcomes), [o.to_json() for o in outcomes]
            incremental.catch_up()
        fed = incremental.store.dump()
        rebuilt_runner = ProjectionRunner(app.recorder, app.rules, batch_size=1000)  # type: ignore[arg-type]
        rebuilt_runner.rebuild()
        assert rebuilt_runner.store.dump() == fed
        assert incremental.positions() == rebuilt_runner.positions()

    check()
    _close(app)


@pytest.fixture
def demo_ledger(store_url: str) -> Any:
    app = bootstrap(Settings(database_url=store_url))
    load_demo(app, 60)
    yield app
    _close(app)


def test_current_reads_from_the_views_equal_live_folds(demo_ledger: Ledger) -> None:
    app = demo_ledger
    runner = ProjectionRunner(app.recorder, app.rules, batch_size=97)  # type: ignore[arg-type]
    runner.catch_up()
    reads = Reads(app.recorder, app.rules, clock=lambda: NOW)  # type: ignore[arg-type]
    live = LiveReads(app.recorder, app.rules)  # type: ignore[arg-type]
    subjects = sorted({s for (s, *_) in runner.store.dump()["view_standing"]})
    assert len(subjects) == 60
    served: set[str] = set()
    for subject in subjects:
        body = reads.standing(subject)
        served.add(reads.served_by)
        assert body == live.standing(subject, NOW).to_json()
        body = reads.disclosure(subject)
        assert reads.served_by == "ASYNC"
        assert body == live.disclosure(subject, NOW).to_json()
    assert "ASYNC" in served


def test_list_members_as_of_any_date_and_known_at_any_moment(demo_ledger: Ledger) -> None:
    app = demo_ledger
    runner = ProjectionRunner(app.recorder, app.rules)  # type: ignore[arg-type]
    runner.catch_up()
    reads = Reads(app.recorder, app.rules, clock=lambda: NOW)  # type: ignore[arg-type]
    live = LiveReads(app.recorder, app.rules)  # type: ignore[arg-type]
    subjects = sorted({s for (s, *_) in runner.store.dump()["view_standing"]})
    rng = random.Random(5)
    start, end = parse_instant("2023-05-01"), NOW
    checked = 0
    for _ in range(12):
        as_of = rng.randint(start, end)
        known_at = rng.choice([None, rng.randint(as_of, end), rng.randint(start, end)])
        for name in LIST_NAMES:
            body = reads.list_members(name, as_of, known_at)
            assert body["complete"]
            got = sorted({m["subject"] for m in body["members"]})
            expected = []
            for subject in subjects:
                try:
                    s = live.standing(subject, as_of, known_at)
                except LookupError:
                    continue
                member = bool(s.bans) if name == "bans" else name in s.lists
                if member:
                    expected.append(subject)
            assert got == expected, (name, as_of, known_at)
            checked += len(got)
    assert checked > 0


def test_wait_gives_read_your_writes_and_rebuild_of_one_view(demo_ledger: Ledger) -> None:
    app = demo_ledger
    runner = ProjectionRunner(app.recorder, app.rules)  # type: ignore[arg-type]
    head = app.size()
    with pytest.raises(TimeoutError):
        runner.wait(head - 1, timeout=0.05)
    runner.catch_up()
    runner.wait(head - 1, timeout=0.05)
    before = runner.store.dump()
    summary = runner.rebuild(["lists"])
    assert summary.events == head and "events/s" in summary.line()
    assert runner.store.dump() == before
    assert set(runner.positions().values()) == {head}


def test_follow_keeps_the_views_current(store_url: str) -> None:
    """PostgreSQL: woken by LISTEN/NOTIFY through ``recorder.subscribe``; SQLite: polls."""
    app = bootstrap(Settings(database_url=store_url))
    runner = ProjectionRunner(app.recorder, app.rules)  # type: ignore[arg-type]
    stop = threading.Event()
    thread = threading.Thread(target=runner.follow, args=(stop,), kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        for round_ in range(3):
            events = [dict(e, id=f"{e['id']}-{round_}") for e in STORY[:4]]
            outcomes = app.submit(parse_submission(orjson.dumps(events)))
            positions = [o.record.position for o in outcomes if o.record is not None]
            assert len(positions) == 4
            runner.wait(max(positions), timeout=10)
        reads = Reads(app.recorder, app.rules, clock=lambda: NOW)  # type: ignore[arg-type]
        body = reads.disclosure("91440300708461136T")
        assert reads.served_by == "ASYNC" and body["items"]
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    _close(app)


def _event(id: str, type: str, time: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": id,
        "source": "samr/440300",
        "type": type,
        "subject": "91440300708461136T",
        "time": time,
        "data": data,
    }


def test_a_standing_gone_stale_by_the_calendar_is_folded_live_then_refreshed(
    ledger: Ledger,
) -> None:
    commitment = _event(
        "c-1",
        "credit.commitment.made",
        "2026-03-02T10:00:00+08:00",
        {"commitment_type": "approval-substitute", "matter": "补交材料", "due": "2026-03-31"},
    )
    (outcome,) = ledger.submit(
        parse_submission(orjson.dumps(commitment)),
        now_us=parse_instant("2026-03-02T11:00:00+08:00"),
    )
    assert outcome.status == "recorded", outcome.to_json()
    runner = ProjectionRunner(ledger.recorder, ledger.rules)  # type: ignore[arg-type]
    runner.catch_up()
    now = parse_instant("2026-03-20")
    reads = Reads(ledger.recorder, ledger.rules, clock=lambda: now)  # type: ignore[arg-type]
    body = reads.standing("91440300708461136T")
    assert reads.served_by == "ASYNC" and body["overdue_commitments"] == []
    assert body["next_change"] == "2026-04-01T00:00:00+08:00"
    now = parse_instant("2026-04-02")
    body = reads.standing("91440300708461136T")
    assert reads.served_by == "LIVE" and [c["event_id"] for c in body["overdue_commitments"]] == [
        "c-1"
    ]
    assert runner.refresh(now) == 1
    assert reads.standing("91440300708461136T") == body
    assert reads.served_by == "ASYNC"


def test_list_members_say_when_the_views_are_behind(ledger: Ledger) -> None:
    events = [e for e in STORY if e["time"] < "2024-03-02"]
    outcomes = ledger.submit(
        parse_submission(orjson.dumps(events)),
        now_us=parse_instant("2024-03-02T10:00:00+08:00"),
        system=True,
    )
    assert all(o.status == "recorded" for o in outcomes)
    runner = ProjectionRunner(ledger.recorder, ledger.rules)  # type: ignore[arg-type]
    runner.catch_up()
    later = [e for e in STORY if e["time"] >= "2024-03-02"]
    ledger.submit(
        parse_submission(orjson.dumps(later)), now_us=parse_instant("2025-01-01"), system=True
    )
    reads = Reads(ledger.recorder, ledger.rules, clock=lambda: parse_instant("2025-01-02"))  # type: ignore[arg-type]
    behind = reads.list_members("serious-dishonesty")
    assert behind["complete"] is False and behind["behind"] == len(later)
    then = reads.list_members(
        "serious-dishonesty",
        parse_instant("2024-03-02"),
        parse_instant("2024-03-02T12:00:00+08:00"),
    )
    assert then["complete"] is True and [m["subject"] for m in then["members"]] == [
        "91440300708461136T"
    ]
    runner.catch_up()
    assert reads.list_members("serious-dishonesty")["members"] == []
    assert reads.list_members("serious-dishonesty", parse_instant("2024-03-02"))["count"] == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_rebuild_in_small_pages_and_in_processes_equals_views_fed_record_by_record(
    postgres_url: str, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streams longer than a page are carried across pages; with two processes each
    folds ranges of stream ids and the parent writes all of it in one transaction."""
    import functools

    from entrypoints.bootstrap import open_recorder
    from projections import rebuild as rebuild_module

    app = bootstrap(Settings(database_url=postgres_url))
    try:
        load_demo(app, 60)
        fed = ProjectionRunner(app.recorder, app.rules, batch_size=97)  # type: ignore[arg-type]
        fed.catch_up()
        monkeypatch.setattr(rebuild_module, "PARALLEL_REBUILD_MIN", 0)
        rebuilt = ProjectionRunner(app.recorder, app.rules, rebuild_batch_size=7)  # type: ignore[arg-type]
        summary = rebuilt.rebuild(
            workers=workers,
            open_recorder=functools.partial(open_recorder, postgres_url, pool_size=1),
            open_rules=rule_files.load_rules,
        )
        assert summary.events == app.size()
        assert rebuilt.store.dump() == fed.store.dump()
        assert rebuilt.positions() == fed.positions()
    finally:
        _close(app)
