"""The bench's figures, targets, table and environment record.

A figure is one measured number (or ``None`` with a note saying why it is n/a).
Each :class:`FigureSpec` names the figure it is compared with as its *limit* (a raw
PostgreSQL rate measured in the same run) and as its *naive* counterpart (the plain
``eventsourcing`` application, same run), and the targets it must meet.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import math
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg

__all__ = [
    "FIGURES",
    "FigureSpec",
    "Target",
    "environment",
    "evaluate",
    "percentile",
    "render_table",
    "summary_line",
]

Better = Literal["higher", "lower"]


@dataclass(frozen=True, slots=True)
class Target:
    """``kind``: ``limit`` (value/limit ≥ ``value``), ``naive`` (at least ``value`` times
    better than the naive figure), ``max`` (value ≤ ``value``), ``min`` (value ≥ ``value``)."""

    kind: Literal["limit", "naive", "max", "min"]
    value: float

    def text(self, spec: FigureSpec) -> str:
        if self.kind == "limit":
            return f"≥ {self.value:g}× {_SHORT.get(spec.limit or '', spec.limit)}"
        if self.kind == "naive":
            return f"≥ {self.value:g}× naive"
        if self.kind == "max":
            return f"≤ {self.value:,g} {spec.unit}"
        return f"≥ {self.value:,g} {spec.unit}"


@dataclass(frozen=True, slots=True)
class FigureSpec:
    key: str
    label: str
    unit: str
    better: Better = "higher"
    limit: str | None = None
    naive: str | None = None
    targets: tuple[Target, ...] = field(default=())


_NAIVE3 = Target("naive", 3.0)
COPY = "limit.copy_1000_rows_per_s"
READ = "limit.notification_read_rows_per_s"

_SHORT = {COPY: "COPY-1000", READ: "raw read"}

FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(COPY, "LIMIT raw COPY, batches of 1,000", "rows/s"),
    FigureSpec(READ, "LIMIT raw notification read (binary)", "rows/s"),
    FigureSpec("naive.bulk_append_events_per_s", "naive bulk append", "ev/s", limit=COPY),
    FigureSpec("naive.single_event_ms_p50", "naive single event p50", "ms", "lower"),
    FigureSpec("naive.single_event_ms_p95", "naive single event p95", "ms", "lower"),
    FigureSpec("naive.single_event_ms_p99", "naive single event p99", "ms", "lower"),
    FigureSpec("naive.single_events_per_s", "naive single events, all writers", "ev/s"),
    FigureSpec("naive.get_1k_ms_p50", "naive get() 1,000 events p50", "ms", "lower"),
    FigureSpec("naive.get_1k_ms_p99", "naive get() 1,000 events p99", "ms", "lower"),
    FigureSpec("naive.get_10k_ms_p50", "naive get() 10,000 events p50", "ms", "lower"),
    FigureSpec("naive.get_10k_ms_p99", "naive get() 10,000 events p99", "ms", "lower"),
    FigureSpec(
        "ledger.bulk_submit_events_per_s",
        "LEDGER bulk submit (parse+submit, 1,000/batch)",
        "ev/s",
        limit=COPY,
        naive="naive.bulk_append_events_per_s",
        targets=(Target("limit", 0.3),),
    ),
    FigureSpec(
        "ledger.single_submit_ms_p50",
        "LEDGER single submit p50",
        "ms",
        "lower",
        naive="naive.single_event_ms_p50",
        targets=(_NAIVE3,),
    ),
    FigureSpec(
        "ledger.single_submit_ms_p95",
        "LEDGER single submit p95",
        "ms",
        "lower",
        naive="naive.single_event_ms_p95",
        targets=(_NAIVE3,),
    ),
    FigureSpec(
        "ledger.single_submit_ms_p99",
        "LEDGER single submit p99",
        "ms",
        "lower",
        naive="naive.single_event_ms_p99",
        targets=(_NAIVE3,),
    ),
    FigureSpec(
        "ledger.single_submits_per_s",
        "LEDGER single submits, all writers",
        "ev/s",
        naive="naive.single_events_per_s",
        targets=(_NAIVE3,),
    ),
    FigureSpec(
        "ledger.hot_subject_ms_p50",
        "LEDGER 8 writer processes, one 2,000-record subject, p50",
        "ms",
        "lower",
        targets=(Target("max", 100.0),),
    ),
    FigureSpec(
        "ledger.hot_subject_ms_p99",
        "LEDGER 8 writer processes, one 2,000-record subject, p99",
        "ms",
        "lower",
    ),
    FigureSpec(
        "ledger.hot_subject_events_per_s",
        "LEDGER 8 writer processes, one 2,000-record subject",
        "ev/s",
    ),
    FigureSpec(
        "ledger.http_single_events_per_s",
        "LEDGER HTTP single events, 8 keep-alive clients, one serve",
        "ev/s",
        naive="naive.single_events_per_s",
        targets=(_NAIVE3,),
    ),
    FigureSpec("ledger.http_single_ms_p50", "LEDGER HTTP single event p50", "ms", "lower"),
    FigureSpec("ledger.http_single_ms_p95", "LEDGER HTTP single event p95", "ms", "lower"),
    FigureSpec(
        "ledger.http_single_ms_p99",
        "LEDGER HTTP single event p99",
        "ms",
        "lower",
        targets=(Target("max", 100.0),),
    ),
    FigureSpec(
        "ledger.asof_read_1k_ms_p50",
        "LEDGER as-of read 1,000 events p50",
        "ms",
        "lower",
        naive="naive.get_1k_ms_p50",
        targets=(_NAIVE3,),
    ),
    FigureSpec(
        "ledger.asof_read_1k_ms_p99",
        "LEDGER as-of read 1,000 events p99",
        "ms",
        "lower",
        naive="naive.get_1k_ms_p99",
        targets=(Target("max", 10.0), _NAIVE3),
    ),
    FigureSpec(
        "ledger.asof_read_10k_ms_p50",
        "LEDGER as-of read 10,000 events p50",
        "ms",
        "lower",
        naive="naive.get_10k_ms_p50",
        targets=(_NAIVE3,),
    ),
    FigureSpec(
        "ledger.asof_read_10k_ms_p99",
        "LEDGER as-of read 10,000 events p99",
        "ms",
        "lower",
        naive="naive.get_10k_ms_p99",
        targets=(Target("max", 30.0), _NAIVE3),
    ),
    FigureSpec(
        "ledger.asof_read_1k_cold_ms_p50",
        "  cold (nothing cached in the process) 1,000 p50",
        "ms",
        "lower",
    ),
    FigureSpec(
        "ledger.asof_read_10k_cold_ms_p50",
        "  cold (nothing cached in the process) 10,000 p50",
        "ms",
        "lower",
        targets=(Target("max", 50.0),),
    ),
    FigureSpec(
        "ledger.rebuild_events_per_s",
        "LEDGER full projection rebuild",
        "ev/s",
        limit=READ,
        targets=(Target("limit", 0.2),),
    ),
    FigureSpec(
        "ledger.verify_records_per_s",
        "LEDGER full audit verify",
        "rec/s",
        limit=READ,
        targets=(Target("limit", 0.6),),
    ),
    FigureSpec(
        "ledger.kafka_ingest_events_per_s",
        "LEDGER Kafka ingest (1st batch → last commit)",
        "ev/s",
        limit=COPY,
        targets=(Target("limit", 0.25),),
    ),
    FigureSpec(
        "ledger.kafka_end_to_end_events_per_s",
        "  Kafka end to end (1st send → last commit)",
        "ev/s",
        limit=COPY,
    ),
    FigureSpec(
        "ledger.disk_bytes_per_event",
        "LEDGER bytes on disk per event (records, Merkle, views, indexes)",
        "B",
        "lower",
    ),
    FigureSpec("memory.peak_rss_mb", "peak RSS, bench process", "MiB", "lower"),
    FigureSpec("memory.peak_rss_children_mb", "peak RSS, largest writer process", "MiB", "lower"),
)
"""Every figure the bench reports, in table order (the JSON has every key)."""


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (0 < p ≤ 100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def evaluate(values: dict[str, float | None], notes: dict[str, str]) -> dict[str, Any]:
    """Every figure with its ratios and targets: ``{key: {label, value, unit, note,
    ratio_to_limit, times_better_than_naive, targets: [{target, met}], status}}``;
    ``status`` is ``met``, ``missed``, ``n/a`` (figure or comparison not measured) or
    ``-`` (no target)."""
    out: dict[str, Any] = {}
    for spec in FIGURES:
        value = values.get(spec.key)
        limit = values.get(spec.limit) if spec.limit else None
        naive = values.get(spec.naive) if spec.naive else None
        ratio = value / limit if value is not None and limit else None
        better: float | None = None
        if value is not None and naive:
            better = (
                value / naive if spec.better == "higher" else (naive / value if value else None)
            )
        checks = []
        for target in spec.targets:
            met: bool | None
            if value is None:
                met = None
            elif target.kind == "limit":
                met = None if ratio is None else ratio >= target.value
            elif target.kind == "naive":
                met = None if better is None else better >= target.value
            elif target.kind == "max":
                met = value <= target.value
            else:
                met = value >= target.value
            checks.append({"target": target.text(spec), "met": met})
        if not checks:
            status = "-"
        elif any(c["met"] is False for c in checks):
            status = "missed"
        elif all(c["met"] is True for c in checks):
            status = "met"
        else:
            status = "n/a"
        out[spec.key] = {
            "label": spec.label,
            "value": value,
            "unit": spec.unit,
            "note": notes.get(spec.key),
            "ratio_to_limit": ratio,
            "limit": spec.limit,
            "times_better_than_naive": better,
            "naive": spec.naive,
            "targets": checks,
            "status": status,
        }
    return out


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value:,.2f} ms"
    return f"{value:,.0f} {unit}"


def render_table(figures: dict[str, Any]) -> str:
    """The figures as a plain-text table for people (a figure not measured shows
    ``n/a`` and, in the status column, why)."""
    header = ("figure", "value", "×limit", "×naive", "target", "status")
    rows = [header]
    for f in figures.values():
        status = f["status"]
        if f["value"] is None and f["note"]:
            status = f["note"]
        rows.append(
            (
                f["label"],
                _num(f["value"], f["unit"]),
                "" if f["ratio_to_limit"] is None else f"{f['ratio_to_limit']:.3f}",
                ""
                if f["times_better_than_naive"] is None
                else f"{f['times_better_than_naive']:.2f}",
                "; ".join(t["target"] for t in f["targets"]),
                status,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for n, r in enumerate(rows):
        cells = [
            r[0].ljust(widths[0]),
            r[1].rjust(widths[1]),
            r[2].rjust(widths[2]),
            r[3].rjust(widths[3]),
            r[4].ljust(widths[4]),
            r[5],
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths[:5]) + "  " + "-" * 6)
    return "\n".join(lines)


def summary_line(result: dict[str, Any]) -> str:
    """The one-line summary with figures (DESIGN.md: every long command ends with one)."""
    f = result["figures"]

    def v(key: str, fmt: str) -> str:
        value = f[key]["value"]
        return "n/a" if value is None else format(value, fmt)

    statuses = [x["status"] for x in f.values() if x["status"] != "-"]
    ledger_bulk = f["ledger.bulk_submit_events_per_s"]
    ratio = ledger_bulk["ratio_to_limit"]
    return (
        f"bench {result['scale']['name']}: {result['scale']['events']:,} events, "
        f"{result['scale']['subjects']:,} subjects; ledger bulk {v('ledger.bulk_submit_events_per_s', ',.0f')} ev/s"
        f" ({'n/a' if ratio is None else f'{ratio:.2f}'}× COPY {v(COPY, ',.0f')} rows/s), "
        f"single p99 {v('ledger.single_submit_ms_p99', '.1f')} ms, as-of p99 "
        f"{v('ledger.asof_read_1k_ms_p99', '.1f')}/{v('ledger.asof_read_10k_ms_p99', '.1f')} ms; "
        f"targets {statuses.count('met')} met, {statuses.count('missed')} missed, "
        f"{statuses.count('n/a')} n/a; {result['seconds']:.0f} s"
    )


# -- environment -----------------------------------------------------------------------

LIBRARIES = (
    "eventsourcing",
    "psycopg",
    "psycopg-binary",
    "psycopg-pool",
    "orjson",
    "pydantic",
    "tqdm",
    "kafka-python",
)
PG_SETTINGS = (
    "fsync",
    "synchronous_commit",
    "shared_buffers",
    "wal_level",
    "full_page_writes",
    "max_wal_size",
    "checkpoint_timeout",
    "wal_buffers",
    "work_mem",
    "max_connections",
)


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return None


def _git() -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": bool(dirty)}


def environment(conninfo: str) -> dict[str, Any]:
    """The machine, Python, libraries and PostgreSQL (version and settings)."""
    libraries: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            libraries[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            libraries[name] = None
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT version(), current_setting('server_version')").fetchone()
        assert row is not None
        settings = {}
        for name in PG_SETTINGS:
            value = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
            settings[name] = None if value is None else value[0]
    try:
        affinity: int | None = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        affinity = None
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "memory_bytes": _memory_bytes(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "libraries": libraries,
        "postgres": {"version": row[0], "server_version": row[1], "settings": settings},
        "git": _git(),
    }
