"""The whole stack as processes, from the installed wheel (``make stack``'s launcher,
tests/ship/stack.py, with docker/Procfile under honcho): PostgreSQL, the Kafka-protocol
test broker, ``serve``, ``ingest`` ×2, ``project --follow``, ``feed``, ``tick``,
``checkpoint`` and ``verify --every``.

Events sent through Kafka show on a served page, in the disclosure feed topic, in both
ingesters' ``/metrics`` and in a recorded verify run (``serve``'s ``/metrics``); every
worker's heartbeat is fresh. Then one ``ingest`` is SIGKILLed (its restart held back):
the other takes over its partitions and records the next events, and nothing is lost or
recorded twice.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.ingest import synthetic_events
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from tests.integration.kafka_broker import TEST_CONSUMER_ENV, Broker, ledger_streams
from tests.ship.installed import ROOT, Installed, fetch, free_port, wait_http

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

EVENTS_TOPIC = "credit.events"
FEED_TOPIC = "credit.disclosure.changes"


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    log: Path
    directory: Path
    port: int
    broker: Broker
    database_url: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def pids(self, name: str) -> int:
        """honcho's pid of process ``name`` (e.g. ``ingest.1``)."""
        found = re.findall(rf"\| {re.escape(name)} started \(pid=(\d+)\)", self.output())
        assert found, f"{name} not started:\n{self.output()[-3000:]}"
        return int(found[-1])

    def metrics(self, port: int) -> dict[str, float]:
        status, _, body = fetch(f"http://127.0.0.1:{port}/metrics")
        assert status == 200, body[:300]
        return parse_metrics(body.decode())


def parse_metrics(text: str) -> dict[str, float]:
    """Sample line → value (the line's name and labels as the key)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def total(samples: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(
        v for k, v in samples.items()
        if k.split("{")[0] == name and all(w in k for w in wanted)
    )


def eventually(check: Callable[[], Any], timeout_s: float, what: str, stack: Stack) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise AssertionError(f"the stack stopped:\n{stack.output()[-4000:]}")
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout_s} s (last {last!r})\n{stack.output()[-4000:]}")


def _base_port() -> int:
    """A base port whose +100 and +101 (the ingesters' metrics) are free too."""
    for _ in range(50):
        port = free_port()
        if port + 101 < 65000 and all(_free(port + d) for d in (100, 101)):
            return port
    raise AssertionError("no free base port")


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def stack(installed: Installed, postgres_url: str, tmp_path: Path) -> Iterator[Stack]:
    port = _base_port()
    log = tmp_path / "stack.log"
    env = {
        **os.environ,
        **TEST_CONSUMER_ENV,
        "LEDGER_STACK_CHECKPOINT_S": "2",
        "LEDGER_STACK_VERIFY_S": "3",
        "LEDGER_STACK_RESTART_S": "600",  # a killed ingester stays down: the other must take over
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.ship.stack", "--port", str(port), "--bin",
             str(installed.bin), "--dir", str(tmp_path / "state"), "--database-url", postgres_url],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while "stack: ready" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        bootstrap_servers = re.search(r"Kafka (\S+);", log.read_text())
        assert bootstrap_servers, log.read_text()
        broker = Broker(bootstrap_servers.group(1), process, log)  # type: ignore[arg-type]
        stack = Stack(process, log, tmp_path / "state", port, broker, postgres_url)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", 60, process)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{stack.output()[-4000:]}") from None
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        _kill_leftovers(log, tmp_path / "state")


def _kill_leftovers(log: Path, directory: Path) -> None:
    """SIGKILL any service this stack's honcho started that is still alive (each runs
    in its own session). A pid is touched only while its environment still names this
    stack's directory, so a reused pid is never hit."""
    mark = f"LEDGER_STACK_DIR={directory}".encode()
    for pid in {int(p) for p in re.findall(r"started \(pid=(\d+)\)", log.read_text())}:
        try:
            if mark in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue


def _child(pid: int) -> int:
    """The single child of ``pid`` (the `ledger ingest` under its restart loop)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def test_the_whole_stack_records_publishes_verifies_and_survives_a_killed_ingester(
    stack: Stack, installed: Installed
) -> None:
    ingest_ports = (stack.port + 100, stack.port + 101)
    first = synthetic_events(60, subjects=12, run="stack1")
    stack.broker.produce_events(EVENTS_TOPIC, first)

    # In the ledger, through both ingesters (one consumer group, 6 partitions).
    def recorded() -> tuple[float, float]:
        return tuple(total(stack.metrics(p), "ledger_events_total", outcome="recorded") for p in ingest_ports)  # type: ignore[return-value]

    eventually(lambda: sum(recorded()) == len(first), 60, "60 events recorded by the ingesters", stack)
    before = recorded()
    assert all(n > 0 for n in before), f"one ingester got no partition: {before}"

    # On a served page (the views caught up).
    code = first[-1]["subject"]
    page = eventually(
        lambda: (lambda r: r if r[0] == 200 and b"FOOD-0203" in r[2] else None)(
            fetch(f"http://127.0.0.1:{stack.port}/subjects/{code}")
        ),
        30, "the subject page shows the violation", stack,
    )
    assert code.encode() in page[2]

    # In the disclosure feed topic, keyed by subject. Read again until every subject is
    # there: a read sees the partitions the broker's metadata names at that moment (a
    # refresh that failed once left some out, and their subjects "missing").
    subjects = {e["subject"] for e in first}
    eventually(
        lambda: {m.key.decode() for m in stack.broker.read_all(FEED_TOPIC, 12, timeout_s=10)}
        >= subjects,
        60, "every subject's disclosure change in the feed topic", stack,
    )

    # In a verify run recorded in the store (served on serve's /metrics).
    eventually(
        lambda: total(stack.metrics(stack.port), "ledger_verify_last_records") >= len(first)
        and total(stack.metrics(stack.port), "ledger_verify_total", outcome="ok") >= 1,
        30, "a verify run over the recorded events", stack,
    )
    assert total(stack.metrics(stack.port), "ledger_verify_total", outcome="failed") == 0

    # Every worker's loop is alive.
    for beat in sorted(stack.directory.glob("*.heartbeat")):
        check = subprocess.run(
            [installed.ledger, "healthcheck", "--max-age", "30"],
            env={**installed.env(), "LEDGER_HEARTBEAT_FILE": str(beat)},
            capture_output=True, text=True,
        )
        assert check.returncode == 0, f"{beat.name}: {check.stderr}"
    names = {b.name.split("-")[0].split(".")[0] for b in stack.directory.glob("*.heartbeat")}
    assert names == {"ingest", "project", "feed", "tick", "checkpoint", "verify"}

    # SIGKILL ingester 1; ingester 2 takes its partitions and records what follows.
    os.kill(_child(stack.pids("ingest.1")), signal.SIGKILL)
    second = synthetic_events(60, subjects=12, run="stack2")
    stack.broker.produce_events(EVENTS_TOPIC, second)
    eventually(
        lambda: total(stack.metrics(ingest_ports[1]), "ledger_events_total", outcome="recorded")
        == before[1] + len(second),
        60, "the surviving ingester records every new event", stack,
    )
    assert "ledger ingest exited" in stack.output()

    ledger = bootstrap(Settings(database_url=stack.database_url))
    streams = ledger_streams(ledger)  # no (source, id) twice, positions without gaps
    ids = {i for ids in streams.values() for i in ids}
    assert ids >= {e["id"] for e in first + second}
    assert ledger.size() == len(first) + len(second)
