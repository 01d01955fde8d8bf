"""The liveness heartbeat of the long-running workers (ingest, project, feed, tick,
checkpoint, verify): a file whose modification time the worker's own loop refreshes.

The container health check (``ledger healthcheck --max-age S``) fails when the file is
older than ``S`` seconds, i.e. when the loop stopped going round — a worker that is
stuck, not merely one whose process exists. The loop calls :func:`beat` on every turn
(at most one file write per :data:`INTERVAL_S`); a background thread never does, so a
stuck loop cannot be hidden. Off unless ``LEDGER_HEARTBEAT_FILE`` is set
(:func:`configure`, called once by the command line at start-up).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

__all__ = ["INTERVAL_S", "age_s", "beat", "configure", "wait"]

INTERVAL_S = 5.0
"""Least time between two writes of the file."""

_path: Path | None = None
_last = float("-inf")


def configure(path: Path | None) -> None:
    """Refresh ``path`` from now on (``None``: no heartbeat); writes it at once."""
    global _path, _last
    _path = path
    _last = float("-inf")
    beat()


def beat() -> None:
    """The loop went round: refresh the file if the last write is older than
    :data:`INTERVAL_S` (a no-op without a configured file)."""
    global _last
    if _path is None:
        return
    now = time.monotonic()
    if now - _last < INTERVAL_S:
        return
    _last = now
    _path.parent.mkdir(parents=True, exist_ok=True)
    _path.touch()
    os.utime(_path)


def wait(stop: threading.Event, seconds: float) -> bool:
    """``stop.wait(seconds)`` that keeps beating while it waits (a periodic job idle
    between runs is alive); returns whether ``stop`` was set."""
    deadline = time.monotonic() + seconds
    while True:
        beat()
        left = deadline - time.monotonic()
        if left <= 0:
            return stop.is_set()
        if stop.wait(min(left, INTERVAL_S)):
            return True


def age_s(path: Path) -> float | None:
    """Seconds since ``path`` was last refreshed; ``None`` if it does not exist."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except FileNotFoundError:
        return None
