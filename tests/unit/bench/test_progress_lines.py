"""A bench run redirected to a log shows its progress as lines (``--scale full`` runs an hour)."""

from __future__ import annotations

import io

import pytest

from bench.measurement import Measurement, Options
from bench.workloads import SCALES, Workload


def _run(progress: bool | None) -> Measurement:
    return Measurement(Options(scale=SCALES["smoke"], progress=progress), Workload(SCALES["smoke"]))


def test_a_redirected_run_logs_each_phase_and_each_bar_as_plain_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = io.StringIO()  # not a terminal
    monkeypatch.setattr("sys.stderr", log)
    r = _run(None)
    with r.phase("limit"), r.bar(2_000, "limit COPY", "row") as bar:
        bar.update(1_000)
        bar.update(1_000)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[0] == "bench: limit …"
    assert lines[1].startswith("bench: limit COPY: 0/2000 row (0 %)")
    assert lines[-2].startswith("bench: limit COPY: 2000/2000 row (100 %)")
    assert lines[-1].startswith("bench: limit: 0 s (peak RSS ")
    assert all(line.startswith("bench: ") for line in lines)
    assert r.phases["limit"]["seconds"] >= 0


def test_bars_turned_off_log_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    r = _run(False)
    with r.phase("limit"), r.bar(10, "limit COPY", "row") as bar:
        bar.update(10)
    assert log.getvalue() == ""
