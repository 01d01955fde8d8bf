"""Decision-state snapshots: a writer with a cold cache decides on a long stream from
the snapshot and the records after it, exactly as from the whole stream, and a
snapshot the ledger no longer backs is ignored (both stores)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from bench.ingest import synthetic_events
from commands.state import SubjectState
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from events.codes import subject_stream_id
from events.envelope import parse_submission
from ledger import snapshots
from ledger.app import Ledger, fold
from ledger.audit.verify import verify_store

EVENTS = snapshots.SNAPSHOT_EVERY * 2 + 150


def _fresh(store_url: str, tmp_path: Path) -> Ledger:
    return bootstrap(Settings(database_url=store_url, person_secret_file=tmp_path / "person.key"))


def _submit(ledger: Ledger, events: list[dict[str, Any]]) -> list[Any]:
    return ledger.submit(parse_submission(orjson.dumps(events)))


def _stored_version(ledger: Ledger, subject: str) -> int | None:
    key = subject_stream_id(subject)
    with ledger.recorder.read() as session:
        raw = session.snapshots([key]).get(key)
    if raw is None:
        return None
    state = snapshots.decode(raw)
    return None if state is None else state.version


def test_a_cold_writer_continues_a_long_stream_from_its_snapshot(
    ledger: Ledger, store_url: str, tmp_path: Path
) -> None:
    events = synthetic_events(EVENTS + 1, subjects=1, run="snap")
    subject = events[0]["subject"]
    for start in range(0, EVENTS, 100):
        assert {o.status for o in _submit(ledger, events[start : min(start + 100, EVENTS)])} == {
            "recorded"
        }
    # crossed 500 and 1,000: the newest snapshot is the state after the batch that crossed 1,000
    assert _stored_version(ledger, subject) == 1_000

    cold = _fresh(store_url, tmp_path)
    try:
        key = subject_stream_id(subject)
        with cold.recorder.read() as session:
            loaded = cold._load({key: subject}, session)[key]
        assert loaded == fold(subject, cold.stream(subject))  # snapshot + tail == full replay

        [outcome] = _submit(cold, [events[EVENTS]])
        assert outcome.status == "recorded"
        assert outcome.record.seq == EVENTS + 1
        assert outcome.record.prev == cold.stream(subject)[EVENTS - 1].hash
        assert verify_store(cold.recorder).ok
    finally:
        cold.recorder.datastore.close()  # type: ignore[attr-defined]


def test_a_snapshot_the_ledger_does_not_back_is_ignored(
    ledger: Ledger, store_url: str, tmp_path: Path
) -> None:
    events = synthetic_events(60, subjects=1, run="ghost")
    subject = events[0]["subject"]
    _submit(ledger, events[:50])
    key = subject_stream_id(subject)
    real = fold(subject, ledger.stream(subject))
    # A snapshot claiming records the ledger does not hold (e.g. kept from a newer
    # store than a restored backup): its seq has no record with its hash.
    ghost = SubjectState(subject, version=real.version + 5, head="ab" * 32, events=real.events)
    ledger.recorder.put_snapshots(
        [(key, ghost.version, bytes.fromhex(ghost.head), snapshots.encode(ghost))]
    )
    with ledger.recorder.read() as session:
        assert session.snapshots([key]) == {}

    cold = _fresh(store_url, tmp_path)
    try:
        outcomes = _submit(cold, events[50:])
        assert [o.record.seq for o in outcomes] == list(range(51, 61))
    finally:
        cold.recorder.datastore.close()  # type: ignore[attr-defined]


def test_snapshot_encoding_round_trips_a_folded_state(ledger: Ledger) -> None:
    events = synthetic_events(40, subjects=1, run="codec")
    _submit(ledger, events)
    subject = events[0]["subject"]
    state = fold(subject, ledger.stream(subject))
    assert snapshots.decode(snapshots.encode(state)) == state
    assert snapshots.decode(orjson.dumps({"format": 0})) is None
