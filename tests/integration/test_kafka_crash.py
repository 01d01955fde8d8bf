"""The ingester killed (SIGKILL) at random moments and restarted: the ledger ends up
equal to that of an uninterrupted run — same events, no duplicates, no gaps."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench.ingest import synthetic_events
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from services.ingest import IngestConfig, Ingester
from tests.integration.kafka_broker import (
    TEST_CONSUMER,
    Broker,
    kafka_broker,  # noqa: F401  (the fixture)
    ledger_streams,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 20_000
KILLS = 5
FAST_REJOIN_ENV = {
    "LEDGER_KAFKA_MAX_POLL_INTERVAL_MS": "2000",
    "LEDGER_KAFKA_SESSION_TIMEOUT_MS": "2000",
    "LEDGER_KAFKA_HEARTBEAT_INTERVAL_MS": "400",
}
"""Shorter than the usual test timing: a SIGKILLed member holds its partitions until
its session expires, and each of the five restarts waits for that (~4 s, not ~11 s)."""


@pytest.fixture
def reference_url(postgres_base: str) -> Iterator[str]:
    """A second fresh schema, for the uninterrupted run."""
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = postgres_base  # postgresql://…/ledger_test
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{postgres_base}?schema={schema}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def wait_for(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def test_sigkilled_ingester_restarted_five_times_records_everything_once(
    kafka_broker: Broker,  # noqa: F811
    postgres_url: str,
    reference_url: str,
    tmp_path: Path,
) -> None:
    topic, dead = kafka_broker.fresh_topics(6)
    events = synthetic_events(EVENTS, subjects=1500)
    kafka_broker.produce_events(topic, events)
    group = f"crash-{uuid.uuid4().hex[:6]}"
    ledger = bootstrap(Settings(database_url=postgres_url))
    command = [
        sys.executable,
        "-m",
        "entrypoints.cli.ingest",
        "--database-url",
        postgres_url,
        "--bootstrap",
        kafka_broker.bootstrap,
        "--topic",
        topic,
        "--group",
        group,
        "--dead-letter-topic",
        dead,
        "--batch",
        "400",
    ]
    env = {**os.environ, **FAST_REJOIN_ENV, "LEDGER_LOG_LEVEL": "INFO"}
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    logs: list[Path] = []

    @contextlib.contextmanager
    def ingester_process() -> Iterator[subprocess.Popen[bytes]]:
        log = tmp_path / f"ingest-{len(logs)}.log"
        logs.append(log)
        with log.open("wb") as out:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    try:
        sizes = []
        for kill in range(KILLS):
            before = ledger.size()
            # Kill at a random point within this run's share of what is left, so that every
            # kill lands mid-ingestion however fast the machine ingests.
            share = max(1, (EVENTS - before) // (KILLS - kill + 1))
            target = before + rng.randint(1, share)
            with ingester_process() as proc:
                wait_for(
                    lambda t=target: ledger.size() >= t, 60, "the restarted ingester's progress"
                )
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            sizes.append(ledger.size())
        assert sizes[-1] < EVENTS, f"every kill must land mid-ingestion (sizes {sizes})"
        with ingester_process() as proc:
            wait_for(lambda: ledger.size() >= EVENTS, 90, "the last ingester to finish")
            time.sleep(0.5)  # let it commit its offsets and poll again
            proc.send_signal(signal.SIGTERM)  # graceful: finish, commit, leave the group
            assert proc.wait(timeout=30) == 0
        assert "ingest stopped" in logs[-1].read_text()
        crashed = ledger_streams(ledger)  # no duplicates, no gaps, seqs 1..n
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    replays = sum(log.read_text().count("below the tracked offset") for log in logs)
    print(f"\nseed {seed}: ledger sizes after each kill {sizes}; {replays} replayed batches")

    # The uninterrupted run, on the same topic with its own group and ledger.
    reference = bootstrap(Settings(database_url=reference_url))
    try:
        config = IngestConfig(
            bootstrap_servers=kafka_broker.bootstrap,
            topic=topic,
            group=f"{group}-reference",
            dead_letter_topic=dead,
            max_poll_records=2000,
            poll_timeout_ms=300,
            **TEST_CONSUMER,
        )
        ingester = Ingester(reference, config)
        deadline = time.monotonic() + 60
        try:
            ingester.run(until=lambda s: s.messages >= EVENTS or time.monotonic() > deadline)
        finally:
            ingester.close()
        uninterrupted = ledger_streams(reference)
    finally:
        reference.recorder.datastore.close()  # type: ignore[attr-defined]

    assert sum(len(ids) for ids in crashed.values()) == EVENTS
    assert {i for ids in crashed.values() for i in ids} == {e["id"] for e in events}
    assert crashed == uninterrupted, "each subject's stream is the same, in the same order"
