"""The bench's concurrent-writer cases beside the writer processes of ``bench.writer_processes``.

* **One busy subject**: a subject is given ``HOT_RECORDS`` records (bulk), then
  ``writers`` processes (default 8), each with its own ``Ledger``, submit single events
  to it at once: ms per event (p50/p99) and events/s. Every event extends the same
  stream, so each writer must bring that subject forward from what the others wrote.
* **HTTP**: the real ``ledger serve`` (uvicorn, a child process, without in-process
  projections) on the bench's PostgreSQL schema, and ``clients`` threads (default 8),
  each with its own keep-alive connection (``http.client``), POSTing single events
  (``/v1/events``, one agency token per source): ms per request (p50/p95/p99) and
  events/s, the figure compared with naive's all-writers rate.

Both write into the loaded ledger schema; the events are the workload's follow-ups
(``bench.workloads.followup``) with ids of their own.
"""

from __future__ import annotations

import contextlib
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from bench.report import percentile
from bench.workloads import Workload, followup, subject_code
from events.envelope import parse_submission
from ledger.app import Ledger

__all__ = [
    "HOT_RECORDS",
    "hot_subject_events",
    "measure_http",
    "post_singles",
    "record_http",
    "records_per_transaction",
    "serve",
]

HOT_RECORDS = 2_000
"""Records the busy subject holds before its writers start."""


def hot_subject_events(
    workload: Workload, ledger: Ledger, count: int, writers: int
) -> list[list[bytes]]:
    """Give a new subject ``HOT_RECORDS`` records through ``ledger`` (batches of 500);
    return ``writers`` shares of ``count`` single events on it (JSON)."""
    code = subject_code(workload.scale.subjects + 1, workload.seed)
    rng = random.Random(workload.seed + 2)
    load = [followup(rng, code, j, 21) for j in range(HOT_RECORDS)]
    for k in range(0, len(load), 500):
        outcomes = ledger.submit(parse_submission(orjson.dumps(load[k : k + 500])))
        if any(o.status != "recorded" for o in outcomes):
            raise AssertionError("the busy subject's records were not all recorded")
    events = [orjson.dumps(followup(rng, code, HOT_RECORDS + j, 22)) for j in range(count)]
    return [events[k::writers] for k in range(writers)]


@contextlib.contextmanager
def serve(url: str, tokens_file: Path, environment: Mapping[str, str]) -> Iterator[str]:
    """``ledger serve`` on ``url`` (a free local port, no in-process projections) until
    the block ends; yields its base URL once it answers ``/healthz``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(sys.executable).with_name("ledger")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "entrypoints.cli"]
    env = dict(
        environment,
        LEDGER_DATABASE_URL=url,
        LEDGER_TOKENS_FILE=str(tokens_file),
        LEDGER_LOG_LEVEL="warning",
    )
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--no-projections", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"ledger serve exited ({process.returncode}): {err[-2000:]}")
            if _healthy(port):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("ledger serve did not answer /healthz within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(port: int) -> bool:
    """Whether the serve on ``port`` answers ``GET /healthz`` with 200 (http.client:
    the bench needs no HTTP library beyond the standard one)."""
    connection = HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, HTTPException):
        return False
    finally:
        connection.close()


def _tokens(tokens_file: Path, sources: Sequence[str]) -> dict[str, str]:
    from api.tokens import TokenStore

    store = TokenStore(tokens_file)
    return {source: store.add("agency", agency=source)[0] for source in sorted(set(sources))}


def measure_http(
    url: str,
    events: Sequence[dict[str, Any]],
    environment: Mapping[str, str],
    clients: int = 8,
) -> dict[str, Any]:
    """POST ``events`` one per request from ``clients`` keep-alive clients (threads)
    to a ``ledger serve`` of ``url`` started with ``environment``: ``{"latencies": [s],
    "seconds", "statuses"}`` (:func:`post_singles`)."""
    with tempfile.TemporaryDirectory() as tmp:
        tokens_file = Path(tmp) / "tokens.json"
        tokens = _tokens(tokens_file, [e["source"] for e in events])
        with serve(url, tokens_file, environment) as base:
            return post_singles(base, events, tokens, clients)


def post_singles(
    base: str, events: Sequence[dict[str, Any]], tokens: Mapping[str, str], clients: int
) -> dict[str, Any]:
    """POST ``events`` to ``base``'s ``/v1/events``, one per request, from ``clients``
    threads, each with its own keep-alive connection (``http.client``: the clients share
    the machine with the serve and PostgreSQL, and httpx cost them ~2.3 ms of CPU a
    request against ~0.5 ms, more than the serve itself spent), started together; the
    bearer token of each event's source from ``tokens``. ``{"latencies": [s],
    "seconds", "statuses"}``; a RuntimeError naming the first failure if any request
    was not answered 2xx."""
    shares = [list(events[k::clients]) for k in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    parts = urlsplit(base)
    barrier = threading.Barrier(clients + 1)

    def client(k: int) -> None:
        http = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        try:
            http.request("GET", "/healthz")  # connect before the barrier
            http.getresponse().read()
            barrier.wait()
            for event in shares[k]:
                started = time.perf_counter()
                http.request(
                    "POST",
                    "/v1/events",
                    body=orjson.dumps(event),
                    headers={
                        "content-type": "application/json",
                        "authorization": f"Bearer {tokens[event['source']]}",
                    },
                )
                response = http.getresponse()
                body = response.read()
                latencies[k].append(time.perf_counter() - started)
                statuses[str(response.status)] += 1
                if response.status >= 300 and len(errors) < 3:
                    errors.append(body[:500].decode(errors="replace"))
        finally:
            http.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"HTTP submits failed ({dict(statuses)}): {errors[0]}")
    return {
        "latencies": [x for share in latencies for x in share],
        "seconds": seconds,
        "statuses": dict(statuses),
    }


def record_http(values: dict[str, float | None], found: dict[str, Any]) -> None:
    """The HTTP case's figures into ``values`` (ms, events/s)."""
    ms = [x * 1000 for x in found["latencies"]]
    for p in (50, 95, 99):
        values[f"ledger.http_single_ms_p{p}"] = percentile(ms, p)
    values["ledger.http_single_events_per_s"] = len(ms) / found["seconds"]


def records_per_transaction(ledger: Ledger, after: int) -> float:
    """Records per write transaction after position ``after`` (a transaction's records
    share their recording time): how much group commit shared."""
    recorder = ledger.recorder
    with recorder.store.read_transaction() as cursor:
        cursor.execute(
            f"SELECT count(*), count(DISTINCT recorded_us) FROM {recorder.events_table} "
            "WHERE notification_id > %s",
            (after,),
        )
        records, transactions = cursor.fetchone()
    return float(records / max(transactions, 1))
