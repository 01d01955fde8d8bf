#!/usr/bin/env python3
"""Manual measurement of ``ledger verify`` (not part of the test suite).

Usage::

    .venv/bin/python tools/audit_bench.py build URL [--records 1000000] [--subjects 100000]
    .venv/bin/python tools/audit_bench.py verify URL [--workers N]

``build`` appends ``--records`` cheap events (``credit.registration.submitted``) over
``--subjects`` subjects through ``Ledger.submit`` in batches of 5,000 (the real append
path: decisions, chain, Merkle nodes), issuing a checkpoint half-way and at the end, and
prints how long it took. It continues from what the store already holds, so an interrupted
build can be resumed. ``verify`` runs :func:`ledger.audit.verify.verify_store` (``--workers`` processes) and prints
records/s.

Example: ``tools/audit_bench.py build
'postgresql://postgres@127.0.0.1:5432/ledger_bench?schema=audit1m'``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from entrypoints.bootstrap import bootstrap  # noqa: E402
from entrypoints.settings import Settings  # noqa: E402
from events.codes import ALPHABET, complete_subject_code  # noqa: E402
from events.envelope import parse_submission  # noqa: E402

BATCH = 5_000
KEY_FILE = Path(tempfile.gettempdir()) / "audit-bench-signing.key"


def subject(i: int) -> str:
    n = (i * 2_654_435_761) % 31**8
    body = []
    for _ in range(8):
        n, d = divmod(n, 31)
        body.append(ALPHABET[d])
    return complete_subject_code("91440300" + "".join(reversed(body)))


def event(k: int, subjects: list[str]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"bench-{k:09d}",
        "source": "samr/440300",
        "type": "credit.registration.submitted",
        "subject": subjects[k % len(subjects)],
        "time": f"2024-{1 + k % 12:02d}-{1 + k % 28:02d}T09:00:00+08:00",
        "datacontenttype": "application/json",
        "data": {"category": "certificate", "description": f"ISO 9001 证书 {k}"},
    }


def build(url: str, records: int, n_subjects: int, checkpoints: bool) -> None:
    ledger = bootstrap(Settings(database_url=url, cache_subjects=min(n_subjects, 200_000)))
    if checkpoints:
        from ledger.audit.checkpoints import issue_checkpoint
        from ledger.audit.keys import load_or_create_key

        key = load_or_create_key(KEY_FILE)
    subjects = [subject(i) for i in range(n_subjects)]
    start = ledger.size()
    started = time.perf_counter()
    half_done = start >= records // 2 or not checkpoints
    for k0 in range(start, records, BATCH):
        batch = [event(k, subjects) for k in range(k0, min(records, k0 + BATCH))]
        outcomes = ledger.submit(parse_submission(orjson.dumps(batch)))
        bad = [o for o in outcomes if o.status != "recorded"]
        if bad:
            raise SystemExit(f"not recorded: {bad[0].to_json()}")
        done = k0 + len(batch)
        if not half_done and done >= records // 2:
            issue_checkpoint(ledger.recorder, key, "bench", time.time_ns() // 1000)
            half_done = True
        if done % 100_000 < BATCH:
            rate = (done - start) / (time.perf_counter() - started)
            print(f"{done:,} records ({rate:,.0f} records/s)", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    print(f"built {records - start:,} records in {elapsed:.0f} s")
    if checkpoints:
        t0 = time.perf_counter()
        cp = issue_checkpoint(ledger.recorder, key, "bench", time.time_ns() // 1000)
        print(f"checkpoint size {cp.size:,} issued in {time.perf_counter() - t0:.1f} s")


def verify(url: str, workers: int) -> None:
    import functools
    import os

    from entrypoints.bootstrap import open_recorder
    from ledger.audit.keys import load_or_create_key
    from ledger.audit.verify import verify_store

    ledger = bootstrap(Settings(database_url=url))
    key = load_or_create_key(KEY_FILE)
    from cryptography.hazmat.primitives import serialization

    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    t0 = time.perf_counter()
    c0 = time.process_time()
    report = verify_store(
        ledger.recorder,
        public_key=public,
        workers=workers,
        open_recorder=functools.partial(open_recorder, url, pool_size=1),
    )
    elapsed = time.perf_counter() - t0
    print(report.summary())
    print(
        f"{report.records:,} records in {elapsed:.1f} s: {report.records / elapsed:,.0f} "
        f"records/s with {report.workers} worker(s); this process's CPU "
        f"{time.process_time() - c0:.1f} s; load average {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("url")
    b.add_argument("--records", type=int, default=1_000_000)
    b.add_argument("--subjects", type=int, default=100_000)
    b.add_argument("--no-checkpoints", action="store_true", help="issue no checkpoints")
    v = sub.add_parser("verify")
    v.add_argument("url")
    v.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.cmd == "build":
        build(args.url, args.records, args.subjects, not args.no_checkpoints)
    else:
        verify(args.url, args.workers)


if __name__ == "__main__":
    main()
