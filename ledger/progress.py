"""Progress bars of the long commands, drawn on standard error only when it is a
terminal (tqdm's ``disable=None``): never in logs, pipes or tests.

* :func:`bar` — the one way a command opens a bar;
* :func:`bytes_growing` — a bar over a number of bytes some other process is
  producing or consuming (``pg_dump`` writing a dump, ``pg_restore`` reading one), read
  by a watcher thread while the work runs;
* :class:`CatchUp` — the ingester's lag observer that shows it catching up with its
  partitions, then gets out of the way.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

__all__ = ["CatchUp", "bar", "bytes_growing", "file_size", "process_read_bytes"]

POLL_S = 0.25


def bar(total: float | None, desc: str, *, unit: str = "ev", unit_scale: bool = False) -> tqdm:
    """A progress bar on standard error, shown only on a terminal."""
    return tqdm(
        total=total, desc=desc, unit=unit, unit_scale=unit_scale, disable=None, file=sys.stderr
    )


@contextlib.contextmanager
def bytes_growing(desc: str, read: Callable[[], int | None], total: int | None = None) -> Iterator[None]:
    """While the block runs, a bar of ``read()`` bytes (out of ``total`` if known), polled
    every :data:`POLL_S` by a daemon thread; ``read`` returning None is ignored. Nothing
    is polled when the bar is not shown."""
    shown = bar(total, desc, unit="B", unit_scale=True)
    if shown.disable:
        shown.close()
        yield
        return
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(POLL_S):
            n = read()
            if n is not None:
                shown.n = min(n, total) if total else n
                shown.refresh()

    thread = threading.Thread(target=watch, name=f"progress-{desc}", daemon=True)
    thread.start()
    try:
        yield
        if total:
            shown.n = total
    finally:
        stop.set()
        thread.join()
        shown.close()


def file_size(path: Path) -> Callable[[], int | None]:
    """``read`` for :func:`bytes_growing`: the size of ``path`` (None while missing)."""

    def read() -> int | None:
        try:
            return path.stat().st_size
        except OSError:
            return None

    return read


def process_read_bytes(pid: Callable[[], int | None]) -> Callable[[], int | None]:
    """``read`` for :func:`bytes_growing`: bytes process ``pid()`` has read so far
    (Linux ``/proc/PID/io`` ``rchar``; None where that is not available)."""

    def read() -> int | None:
        current = pid()
        if current is None:
            return None
        try:
            for line in Path(f"/proc/{current}/io").read_text().splitlines():
                if line.startswith("rchar:"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            return None
        return None

    return read


class CatchUp:
    """The ingester's lag observer (``Ingester(metrics=…)``) while it catches up: a
    bar of messages recorded out of the backlog its batches reveal, closed once every
    partition it has seen is at its high watermark. Lag figures are passed on to
    ``metrics`` (a ``LedgerMetrics`` or None) unchanged."""

    def __init__(self, metrics: Any | None = None, desc: str = "ingest catching up") -> None:
        self.metrics = metrics
        self.lags: dict[int, int] = {}
        self.caught_up = False
        self._bar: tqdm | None = bar(None, desc, unit="msg")
        self._remaining: int | None = None

    def set_ingest_lag(self, partition: int, messages: int) -> None:
        if self.metrics is not None:
            self.metrics.set_ingest_lag(partition, messages)
        self.lags[partition] = max(messages, 0)
        if self._bar is None:
            return
        remaining = sum(self.lags.values())
        done = max((self._remaining or 0) - remaining, 0) if self._remaining is not None else 0
        self._remaining = remaining
        self._bar.total = self._bar.n + done + remaining
        self._bar.update(done)
        if remaining == 0:
            self.caught_up = True
            self._bar.close()
            self._bar = None

    def __getattr__(self, name: str) -> Any:
        """Everything else is the wrapped metrics' (if any)."""
        metrics = self.__dict__.get("metrics")
        if metrics is None:
            raise AttributeError(name)
        return getattr(metrics, name)
