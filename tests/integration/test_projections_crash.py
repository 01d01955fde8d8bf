"""A projection runner SIGKILLed in the middle of a batch, and restarted, ends
with views identical to an uninterrupted run: a batch's rows and its tracking
commit together or not at all."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from projections.runner import ProjectionRunner
from tests.integration.projection_data import load_demo

ROOT = Path(__file__).resolve().parents[2]


def _worker(url: str, batch: int, pause_at: int | None = None) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tests.integration.projection_worker", url, str(batch)]
    if pause_at is not None:
        argv.append(str(pause_at))
    return subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _read_until(proc: subprocess.Popen[str], prefix: str, timeout: float = 120) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"worker ended early: {proc.stderr.read() if proc.stderr else ''}")
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no {prefix!r} within {timeout} s")


@pytest.mark.parametrize("store", ["postgres", "sqlite"])
def test_a_runner_killed_mid_batch_and_restarted_ends_like_an_uninterrupted_run(
    store: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(f"{store}_url")
    app = bootstrap(Settings(database_url=url))
    head = load_demo(app, 200)  # a few thousand records over 200 subjects
    assert head > 3000
    runner = ProjectionRunner(app.recorder, app.rules)  # type: ignore[arg-type]

    # 1. killed between writing a batch's rows and committing them
    proc = _worker(url, 250, pause_at=5)
    line = _read_until(proc, "IN-BATCH")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    in_flight = int(line.split()[1])
    positions = runner.positions()
    assert set(positions.values()) == {4 * 250}, positions  # four batches committed
    assert in_flight == 5 * 250

    # 2. restarted, and killed again at a random moment
    proc = _worker(url, 173)
    _read_until(proc, "COMMITTED")
    time.sleep(random.uniform(0.0, 0.5))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    reached = min(runner.positions().values())
    assert reached >= 4 * 250

    # 3. restarted to the end
    proc = _worker(url, 311)
    _read_until(proc, "DONE")
    assert proc.wait(timeout=60) == 0
    assert set(runner.positions().values()) == {head}
    after_crashes = runner.store.dump()

    # the same views from an uninterrupted run
    runner.rebuild()
    assert runner.store.dump() == after_crashes
    app.recorder.datastore.close()  # type: ignore[attr-defined]
