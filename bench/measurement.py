"""One bench run's options and what it measured so far (:class:`Measurement`), and the small
tools every phase uses: timed reads, peak memory, optional modules called by what they name.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import resource
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from bench.composition import Factories
from bench.workloads import Scale, Workload

if TYPE_CHECKING:
    from bench.readers import AsOfReader

__all__ = [
    "DEFAULT_URL",
    "Measurement",
    "Options",
    "call_with",
    "maxrss_mib",
    "optional",
    "own_peak_mib",
    "timed_reads",
]

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ledger_bench"
"""Where the bench runs unless told otherwise (a database of its own)."""


@dataclass
class Options:
    """One bench run. ``writers`` processes submit single events concurrently."""

    scale: Scale
    database_url: str = DEFAULT_URL
    kafka: str | None = None
    output: Path | None = Path("bench-results.json")
    writers: int = 4
    batch_size: int = 1000
    page_size: int = 10_000
    seed: int = 20_261_120
    reader: AsOfReader | None = None
    factories: Factories | None = None
    """Builds every ``Ledger`` and recorder the bench measures (:mod:`bench.composition`;
    required by :func:`run`: the caller, ``ledger bench``, passes the composition root's)."""
    progress: bool | None = None
    """tqdm's ``disable``: None shows bars on a terminal only."""
    skip: frozenset[str] = frozenset()
    """Parts not measured (``naive``: at ``full`` the naive application alone would take
    most of an hour; its figures are then n/a)."""


@dataclass
class Measurement:
    """One run in progress: its options and workload, the figures (``values``; None with a
    ``notes`` entry when not measured), the timed ``phases`` and the ``counts`` kept beside
    the figures."""

    options: Options
    workload: Workload
    values: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)

    def na(self, key: str, why: str) -> None:
        self.values[key] = None
        self.notes[key] = f"n/a: {why}"

    @property
    def logs_progress(self) -> bool:
        """Progress as log lines on standard error: bars were left to tqdm's choice
        (``progress`` None) and standard error is not a terminal (a run redirected to a
        file, which would otherwise show nothing for the hour of ``--scale full``)."""
        return self.options.progress is None and not sys.stderr.isatty()

    def bar(self, total: int, desc: str, unit: str = "ev") -> tqdm[Any]:
        """A progress bar on a terminal; in a log, a line every :data:`LOG_EVERY_S`
        seconds at most (and at the start and the end)."""
        if self.logs_progress:
            return tqdm(
                total=total,
                desc=desc,
                unit=unit,
                file=_LogLines(sys.stderr),
                mininterval=LOG_EVERY_S,
                bar_format=LOG_FORMAT,
            )
        disable = None if self.options.progress is None else not self.options.progress
        return tqdm(total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr)

    def log(self, message: str) -> None:
        """One line on standard error, only when progress goes to a log."""
        if self.logs_progress:
            lines = _LogLines(sys.stderr)
            lines.write(message)
            lines.flush()

    @property
    def factories(self) -> Factories:
        if self.options.factories is None:
            raise ValueError("the bench needs Options.factories (ledger bench passes them)")
        return self.options.factories

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as phase ``name`` (seconds and peak RSS after it, kept in
        ``phases``; logged at its start and end when progress goes to a log)."""
        started = time.perf_counter()
        self.log(f"{name} …")
        try:
            yield
        finally:
            seconds = round(time.perf_counter() - started, 3)
            peak = round(maxrss_mib(resource.RUSAGE_SELF), 1)
            self.phases[name] = {"seconds": seconds, "maxrss_mib_after": peak}
            self.log(f"{name}: {seconds:,.0f} s (peak RSS {peak:,.0f} MiB)")


LOG_EVERY_S = 30.0
"""Seconds between two progress lines of one bar in a log."""
LOG_FORMAT = "{desc}: {n_fmt}/{total_fmt} {unit} ({percentage:.0f} %), {elapsed}, {rate_fmt}"


class _LogLines:
    """The file tqdm draws a bar on, for a log: each refresh becomes one line prefixed
    ``bench:`` (no carriage returns, no empty lines)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line:
            self.stream.write(f"bench: {line}\n")

    def flush(self) -> None:
        self.stream.flush()


def maxrss_mib(who: int) -> float:
    """Peak RSS of ``who`` (``resource.RUSAGE_SELF`` or ``RUSAGE_CHILDREN``), MiB."""
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def own_peak_mib() -> float:
    """This process's own peak RSS (``VmHWM``; ``ru_maxrss`` of a spawned process
    also counts the parent it was forked from before ``exec``)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return maxrss_mib(resource.RUSAGE_SELF)


def timed_reads(
    r: Measurement,
    subjects: Sequence[str],
    read: Callable[[str], object],
    tag: str,
    count: int | None = None,
) -> list[float]:
    """``count`` (default: the scale's ``reads``) timed reads spread over ``subjects``,
    after one untimed warm-up read of each."""
    for code in subjects:
        read(code)
    count = r.options.scale.reads if count is None else count
    ms = []
    with r.bar(count, f"read {tag}", "read") as bar:
        for k in range(count):
            code = subjects[k % len(subjects)]
            started = time.perf_counter()
            read(code)
            ms.append((time.perf_counter() - started) * 1000)
            bar.update(1)
    return ms


def call_with(fn: Callable[..., Any], available: dict[str, Any]) -> Any:
    """Call ``fn`` with the arguments it names among ``available`` (TypeError if it
    requires another)."""
    kwargs = {}
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in available:
            kwargs[name] = available[name]
        elif param.default is param.empty:
            raise TypeError(
                f"{fn.__module__}.{fn.__qualname__} needs {name!r}, which the bench cannot supply"
            )
    return fn(**kwargs)


def optional(module: str, names: Sequence[str]) -> Callable[..., Any] | None:
    """The first callable of ``names`` in ``module``; None if the module or every name is
    missing (a part the bench measures only where it is built)."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    for name in names:
        fn = getattr(mod, name, None)
        if callable(fn):
            return fn
    return None
