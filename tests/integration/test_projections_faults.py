"""Fault containment of the projection runner, on both stores: a subject whose fold
raises is marked failed (table, metric, /readyz, a JSON log line with subject and
event id) and every other subject's views stay current; ``ledger rebuild --subject``
retries it."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api.access_log import AccessLog
from api.app import create_app
from api.tokens import TokenStore
from entrypoints.bootstrap import bootstrap
from entrypoints.cli import main
from entrypoints.settings import Settings
from events.envelope import parse_submission
from events.instants import parse_instant
from ledger import logs
from ledger.app import Ledger
from projections import folds as folds_module
from projections.faults import SubjectFoldFailed
from projections.live import LiveReads
from projections.reads import Reads
from projections.runner import ProjectionRunner
from tests.integration.projection_data import load_demo

NOW = parse_instant("2026-11-25T18:00:00+08:00")


@pytest.fixture
def demo(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(tmp_path / "person.key"))
    app = bootstrap(Settings(database_url=store_url))
    load_demo(app, 12)
    yield app
    app.recorder.datastore.close()  # type: ignore[attr-defined]


def _subjects(app: Ledger) -> list[str]:
    runner = ProjectionRunner(app.recorder, app.rules)  # type: ignore[arg-type]
    with runner.store.read_cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT subject FROM {app.recorder.events_table}")  # type: ignore[attr-defined]
        return sorted(r[0] for r in cursor.fetchall())


def _fault_for(victim: str, monkeypatch: pytest.MonkeyPatch, module: Any = folds_module) -> None:
    """``module``'s standing fold (the runner's folds' by default) raises for ``victim``, as a
    far-future date once made it do."""
    real = module.standing_of

    def faulty(timeline: Any, at: int, rules: Any) -> Any:
        if timeline.subject == victim:
            raise OverflowError("date value out of range")
        return real(timeline, at, rules)

    monkeypatch.setattr(module, "standing_of", faulty)


def _unconditional_commitment(app: Ledger, subject: str) -> Any:
    """One of ``subject``'s recorded commitments without a due date, or None."""
    return next(
        (
            r
            for r in app.stream(subject)
            if r.type == "credit.commitment.made" and r.data.get("due") is None
        ),
        None,
    )


def _another_commitment(app: Ledger, subject: str, ident: str) -> dict[str, Any]:
    """A copy of one of ``subject``'s recorded commitments (same source), made later."""
    record = _unconditional_commitment(app, subject)
    assert record is not None, f"{subject} made no unconditional commitment"
    return {
        "specversion": "1.0",
        "id": ident,
        "source": record.source,
        "type": record.type,
        "subject": subject,
        "time": "2026-11-21T10:00:00+08:00",
        "data": copy.deepcopy(record.data),
    }


def _current_everywhere_but(app: Ledger, runner: ProjectionRunner, victim: str) -> None:
    """Every other subject's views cover its last record and equal the live folds."""
    reads = Reads(app.recorder, app.rules, clock=lambda: NOW, store=runner.store)  # type: ignore[arg-type]
    live = LiveReads(app.recorder, app.rules)  # type: ignore[arg-type]
    standing = {row[0]: row for row in runner.store.dump()["view_standing"]}
    for subject in _subjects(app):
        if subject == victim:
            continue
        assert standing[subject][1] == app.stream(subject)[-1].seq, subject
        assert reads.standing(subject) == live.standing(subject, NOW).to_json()
        assert reads.disclosure(subject) == live.disclosure(subject, NOW).to_json()
        assert reads.served_by == "ASYNC"


def test_a_failing_subject_is_marked_and_the_others_stay_current(
    demo: Ledger,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = demo
    subjects = _subjects(app)
    committed = [s for s in subjects if _unconditional_commitment(app, s) is not None]
    victim, other = committed[0], committed[1]
    _fault_for(victim, monkeypatch)
    runner = ProjectionRunner(app.recorder, app.rules, batch_size=50)  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR, logger="projections.runner"):
        runner.catch_up()  # does not raise
    head = app.size()
    assert set(runner.positions().values()) == {head}  # tracking advanced past the fault
    count, failed = runner.store.failed_subjects()
    assert count == 1 and failed[0].subject == victim
    victim_ids = {r.id for r in app.stream(victim)}
    assert failed[0].event_id in victim_ids
    assert "OverflowError: date value out of range" in failed[0].error
    line = orjson.loads(logs.JsonFormatter().format(caplog.records[0]))
    assert (line["subject"], line["event_id"]) == (victim, failed[0].event_id)
    assert line["level"] == "ERROR" and "rebuild --subject" in line["msg"]
    _current_everywhere_but(app, runner, victim)

    # New records: the other subject's views follow them, the victim stays skipped.
    for event in (
        _another_commitment(app, other, "fault-test-other"),
        _another_commitment(app, victim, "fault-test-victim"),
    ):
        (outcome,) = app.submit(parse_submission(orjson.dumps(event)))
        assert outcome.status == "recorded", outcome.to_json()
    runner.catch_up()
    assert set(runner.positions().values()) == {app.size()}
    _current_everywhere_but(app, runner, victim)
    assert runner.store.failed_among(subjects) == {victim}

    # Its reads are never served from its stale rows.
    reads = Reads(app.recorder, app.rules, clock=lambda: NOW, store=runner.store)  # type: ignore[arg-type]
    live = LiveReads(app.recorder, app.rules)  # type: ignore[arg-type]
    assert reads.disclosure(victim) == live.disclosure(victim, NOW).to_json()
    assert reads.served_by == "LIVE"
    assert reads.standing(victim) == live.standing(victim, NOW).to_json()
    assert reads.served_by == "LIVE"
    assert reads.list_members("bans")["failed_subjects"] == 1

    # /readyz names it, /metrics counts it.
    api = create_app(
        app,
        tokens=TokenStore(tmp_path / "tokens.json"),
        access_log=AccessLog(tmp_path / "access-log.jsonl", app.clock),
    )
    client = TestClient(api)
    ready = client.get("/readyz").json()
    assert ready["checks"]["failed_subjects"]["count"] == 1
    (shown,) = ready["checks"]["failed_subjects"]["subjects"]
    assert (shown["subject"], shown["event_id"]) == (victim, failed[0].event_id)
    assert "ledger_projection_failed_subjects 1.0" in client.get("/metrics").text

    # When even the live fold raises, its reads are a 503 problem, not a 500.
    from projections import live as live_module

    real_live = live_module.standing_of
    _fault_for(victim, monkeypatch, live_module)
    api_client = TestClient(api, raise_server_exceptions=False)
    answer = api_client.get(
        f"/v1/subjects/{victim}/standing",
        headers={
            "Authorization": f"Bearer {TokenStore(tmp_path / 'tokens.json').add('auditor')[0]}"
        },
    )
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "unavailable"
    assert f"ledger rebuild --subject {victim}" in answer.json()["detail"]
    caplog.clear()
    assert main(["--database-url", store_url, "standing", victim]) == 1
    said = capsys.readouterr().err
    assert said.strip().endswith(f"retries them with `ledger rebuild --subject {victim}`")
    assert "Traceback" not in said
    monkeypatch.setattr(live_module, "standing_of", real_live)

    # A retry that still fails keeps the mark and says why (exit 1, no traceback).
    code = main(["--database-url", store_url, "rebuild", "--subject", victim])
    assert code == 1
    assert runner.store.failed_among([victim]) == {victim}
    with pytest.raises(SubjectFoldFailed, match="date value out of range"):
        runner.rebuild_subject(victim)

    # Once the fault is gone, `ledger rebuild --subject` folds it and clears the mark:
    # its rows are then those a full rebuild writes.
    monkeypatch.undo()
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(tmp_path / "person.key"))
    assert main(["--database-url", store_url, "rebuild", "--subject", victim]) == 0
    assert runner.store.failed_subjects() == (0, [])
    retried = runner.store.dump()
    runner.rebuild()
    assert runner.store.dump() == retried
    assert ready_count(client) == 0


def ready_count(client: TestClient) -> int:
    count: int = client.get("/readyz").json()["checks"]["failed_subjects"]["count"]
    return count


def test_a_failing_subject_in_a_full_rebuild_is_marked_not_fatal(
    demo: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = demo
    victim = _subjects(app)[0]
    _fault_for(victim, monkeypatch)
    runner = ProjectionRunner(app.recorder, app.rules)  # type: ignore[arg-type]
    summary = runner.rebuild()
    assert summary.events == app.size()
    assert runner.store.failed_among(_subjects(app)) == {victim}
    standing = {row[0] for row in runner.store.dump()["view_standing"]}
    assert victim not in standing and len(standing) == len(_subjects(app)) - 1
    monkeypatch.undo()
    runner.rebuild()  # a full rebuild forgets the marks and folds every subject
    assert runner.store.failed_subjects() == (0, [])


def test_rebuild_of_an_unknown_subject_is_a_clear_error(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(tmp_path / "person.key"))
    assert main(["--database-url", store_url, "rebuild", "--subject", "91440300708461136T"]) == 1
    err = capsys.readouterr().err
    assert "no records of subject 91440300708461136T" in err and "Traceback" not in err


def test_a_failing_refresh_marks_only_that_subject(
    demo: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calendar refresh of stale standings contains a fold that raises too."""
    app = demo
    runner = ProjectionRunner(app.recorder, app.rules)  # type: ignore[arg-type]
    runner.catch_up()
    later = parse_instant("2199-12-31")
    stale = runner.store.stale_standings(later, 10_000)
    assert len(stale) >= 2
    victim = stale[0]
    _fault_for(victim, monkeypatch)
    assert runner.refresh(later) == len(stale) - 1
    assert runner.store.failed_among(_subjects(app)) == {victim}
    assert victim not in runner.store.stale_standings(later, 10_000)  # not retried in a loop
