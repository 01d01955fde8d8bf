"""Latency of ``GET /v1/subjects/{code}/standing`` under load (a script, not a test).

    .venv/bin/python -m tests.e2e.bench_standing [--database-url URL] [--subjects 1200]
        [--threads 2] [--requests 2000]

Loads the demo into a fresh PostgreSQL schema (default: database ``ledger_test``
on 127.0.0.1), serves the app with uvicorn in a separate process on a free
loopback port, and has ``--threads`` client threads each send ``--requests``
requests (keep-alive, an agency token) for random demo subjects, after a warm-up.
Prints p50 / p90 / p99 / max in milliseconds and the throughput, as one JSON line.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import orjson
import psycopg

from api.tokens import TokenStore
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from tests.e2e.apphelpers import AGENCY, free_port, load_demo

SERVER = """
import sys, uvicorn
from entrypoints.wiring import build_app
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
settings = Settings(database_url=sys.argv[1], tokens_file=sys.argv[2])
uvicorn.run(build_app(settings, bootstrap), host="127.0.0.1", port=int(sys.argv[3]),
            log_level="warning", access_log=False)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/ledger_test")
    parser.add_argument("--subjects", type=int, default=1200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()

    schema = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{args.admin_url}?schema={schema}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-standing-"))
    proc = None
    try:
        started = time.perf_counter()
        ledger = bootstrap(Settings(database_url=url))
        events = load_demo(ledger, args.subjects)
        load_s = time.perf_counter() - started
        subjects = sorted({d.event["subject"] for d in events})
        token, _ = TokenStore(tmp / "tokens.json").add("agency", agency=AGENCY)
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, url, str(tmp / "tokens.json"), str(port)],
            env={
                **os.environ,
                "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
                "LEDGER_PERSON_SECRET_FILE": str(tmp / "person.key"),
                "LEDGER_SIGNING_KEY_FILE": str(tmp / "signing.key"),
            },
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            try:
                # ready = database reachable and the views caught up (the runner
                # thread folds the demo first)
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)

        headers = {"Authorization": f"Bearer {token}"}
        latencies: list[float] = []
        errors: list[int] = []
        lock = threading.Lock()

        def client(seed: int, count: int, record: bool) -> None:
            rng = random.Random(seed)
            mine: list[float] = []
            bad: list[int] = []
            with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                for _ in range(count):
                    code = rng.choice(subjects)
                    t0 = time.perf_counter()
                    r = http.get(f"/v1/subjects/{code}/standing")
                    mine.append((time.perf_counter() - t0) * 1000)
                    if r.status_code != 200:
                        bad.append(r.status_code)
            if record:
                with lock:
                    latencies.extend(mine)
                    errors.extend(bad)

        client(0, args.warmup, record=False)
        threads = [
            threading.Thread(target=client, args=(i + 1, args.requests, True))
            for i in range(args.threads)
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        ordered = sorted(latencies)

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

        ready = httpx.get(base + "/readyz").json()["checks"]
        result = {
            "store": "postgresql",
            "views_lag": ready.get("projections_lag"),
            "subjects": len(subjects),
            "events": len(events),
            "load_s": round(load_s, 1),
            "threads": args.threads,
            "requests": len(latencies),
            "errors": len(errors),
            "p50_ms": pct(0.50),
            "p90_ms": pct(0.90),
            "p99_ms": pct(0.99),
            "max_ms": round(ordered[-1], 2),
            "mean_ms": round(statistics.fmean(ordered), 2),
            "throughput_rps": round(len(latencies) / wall, 1),
        }
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
        return 0 if not errors else 1
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    sys.exit(main())
