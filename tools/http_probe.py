#!/usr/bin/env python3
"""Manual measurement of the bench's HTTP row (issue 21) alone: ``ledger serve`` as
``bench.concurrency.serve`` starts it, ``--clients`` keep-alive clients POSTing single
events with the bench's own ``bench.concurrency.post_singles``, and per timed round:
p50/p95/p99, events/s, the serve process's own CPU per request (``/proc/PID/stat``
utime+stime over the timed round only: start-up and the warm-up round are not
counted), the clients' CPU per request, and the events per write transaction (group
commit). Not part of the test suite.

Usage::

    .venv/bin/python tools/http_probe.py [--url URL] [--events 400] [--clients 8]
        [--rounds 2] [--code DIR ...] [--profile OUT.json] [--attach CMD]

Each ``--code`` is a source tree the serve runs from (``PYTHONPATH``; e.g. a
``git archive`` of another commit): the variants are run interleaved (A, B, A, B, …),
each round a fresh serve on the same schema (``httpprobe``, dropped at the end) with
events of their own. ``--profile`` records the timed round of the first variant's
first round with py-spy (speedscope format); ``--attach`` runs any command then, with
``{pid}`` the serve's (``perf stat -p {pid}``; absolute paths: the probe runs in a
temporary directory).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench.concurrency import (  # noqa: E402
    _tokens,
    post_singles,
    records_per_transaction,
    serve,
)
from bench.database import ensure_database, fresh_schema  # noqa: E402
from bench.report import percentile  # noqa: E402
from bench.workloads import SCALES, Workload  # noqa: E402
from entrypoints.cli.bench import factories  # noqa: E402
from entrypoints.settings import Settings  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def _serve_pid() -> int:
    """The ``ledger serve`` child of this process."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == me and b"serve" in (entry / "cmdline").read_bytes():
                return int(entry.name)
    raise RuntimeError("no ledger serve child found")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _per_transaction(url: str, after: int) -> float:
    """:func:`bench.concurrency.records_per_transaction` on a ledger of its own."""
    ledger = factories().ledger(url)
    try:
        return records_per_transaction(ledger, after)
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def _size(url: str) -> int:
    ledger = factories().ledger(url)
    try:
        return ledger.size()
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@contextlib.contextmanager
def _attached(pid: int, command: str | None) -> Iterator[None]:
    """``command`` (``{pid}`` replaced by the serve's) running, under ``nice -n 19``,
    while the block runs; stopped with SIGINT at its end (py-spy, perf)."""
    if command is None:
        yield
        return
    process = subprocess.Popen(
        ["nice", "-n", "19", *command.format(pid=pid).split()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if "py-spy" in command else None,
    )
    time.sleep(1.0)
    try:
        yield
    finally:
        process.send_signal(2)
        process.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/ledger_http")
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=80)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--code", action="append", default=[])
    parser.add_argument("--profile", help="py-spy speedscope file of the first timed round")
    parser.add_argument(
        "--attach", help="a command run during the first timed round ({pid}: the serve's)"
    )
    parser.add_argument("--schema", default="httpprobe")
    args = parser.parse_args()
    workload = Workload(SCALES["smoke"])
    variants = args.code or [str(ROOT)]
    ensure_database(args.url)
    print(f"load before: {os.getloadavg()}")
    seed = 100
    with fresh_schema(args.url, args.schema) as url, tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # serve's default key files land here
        for round_ in range(args.rounds):
            for n, code in enumerate(variants):
                seed += 2
                warm = workload.followups(args.warmup, seed=seed)
                timed = workload.followups(args.events, seed=seed + 1)
                tokens_file = Path(tmp) / f"tokens-{seed}.json"
                tokens = _tokens(tokens_file, [e["source"] for e in warm + timed])
                env = dict(Settings().child_environment, PYTHONPATH=code)
                with serve(url, tokens_file, env) as base:
                    pid = _serve_pid()
                    post_singles(base, warm, tokens, args.clients)
                    start = _size(url)
                    attach = args.attach
                    if args.profile:
                        spy = ROOT / ".venv" / "bin" / "py-spy"
                        attach = (
                            f"{spy} record --pid {{pid}} --format speedscope "
                            f"-o {args.profile} --rate 100 --threads"
                        )
                    with _attached(pid, attach if round_ == 0 and n == 0 else None):
                        cpu, own = _cpu_s(pid), time.process_time()
                        found = post_singles(base, timed, tokens, args.clients)
                        cpu, own = _cpu_s(pid) - cpu, time.process_time() - own
                group = _per_transaction(url, start)
                ms = [x * 1000 for x in found["latencies"]]
                figures = " ".join(f"p{p} {percentile(ms, p):6.1f}" for p in (50, 95, 99))
                print(
                    f"round {round_} {Path(code).name:10} n={len(ms)} {figures} ms  "
                    f"{len(ms) / found['seconds']:6.1f} ev/s  serve "
                    f"{cpu / len(ms) * 1000:5.2f} ms CPU/req (clients {own / len(ms) * 1000:4.2f})  "
                    f"{group:4.2f} ev/txn  "
                    f"{found['statuses']}  "
                    f"load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
