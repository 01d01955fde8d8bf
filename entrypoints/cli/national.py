"""``ledger national``: the national view service.

Consumes the regions' feed and checkpoint topics (one consumer group) into the national
store, and serves ``/v1/national/…`` and ``/metrics`` (uvicorn;
:mod:`federation.national.metrics`) from the same process until SIGTERM/SIGINT; ``--once``
consumes until caught up, prints a summary and exits (scripts, tests).

Where things are: ``--config FILE`` (the regions; :mod:`federation.national.config`);
the store is ``--database-url``, else the file's ``database_url``, else
``LEDGER_NATIONAL_DATABASE_URL``, else ``sqlite:///./national.db`` (never the regional
ledger's ``LEDGER_DATABASE_URL``: the national store is a database of its own); Kafka is
``--bootstrap``, else the file's ``bootstrap``, else ``LEDGER_KAFKA_BOOTSTRAP``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from entrypoints.bootstrap import ConfigurationError, open_recorder
from entrypoints.cli.ingest import stop_on_signals
from entrypoints.settings import Settings
from federation.national.config import RegionsFileError, load_config
from federation.national.consumer import ConsumerStats, NationalConsumer
from federation.national.metrics import NationalMetrics
from federation.national.store import NationalStore

__all__ = ["DEFAULT_DATABASE_URL", "cmd_national", "register"]

log = logging.getLogger("federation.national")

DEFAULT_DATABASE_URL = "sqlite:///./national.db"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="the regions file (TOML or JSON)")
    p.add_argument("--database-url", help="the national store (see `ledger national -h`)")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default LEDGER_KAFKA_BOOTSTRAP)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8100, help="TCP port (8100)")
    p.add_argument(
        "--once",
        action="store_true",
        help="consume until caught up (idle for --idle seconds), print a summary, exit; no HTTP",
    )
    p.add_argument("--idle", type=float, default=3.0, help="--once: seconds without messages")


def cmd_national(args: argparse.Namespace, settings: Settings) -> int:
    """Run the national service (module docstring); exit 0 after a clean stop, 1 when an
    error stopped the consumer, 2 for bad configuration (raised)."""
    try:
        config = load_config(args.config)
    except RegionsFileError as e:
        raise ConfigurationError(str(e)) from e
    bootstrap = args.bootstrap or config.bootstrap or settings.kafka_bootstrap
    if not bootstrap:
        raise ConfigurationError(
            "no Kafka bootstrap servers: --bootstrap, bootstrap in the regions file, or "
            "LEDGER_KAFKA_BOOTSTRAP"
        )
    url = (
        args.database_url
        or config.database_url
        or settings.national_database_url
        or DEFAULT_DATABASE_URL
    )
    store = NationalStore.open(open_recorder(url))
    metrics = NationalMetrics(config)
    consumer = NationalConsumer(
        store,
        config,
        bootstrap=bootstrap,
        metrics=metrics,
        max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
    )
    log.info(
        "national view of %d regions (%s) from %s into %s",
        len(config.regions),
        ", ".join(r.origin for r in config.regions),
        bootstrap,
        url.split("@")[-1],
    )
    started = time.perf_counter()
    try:
        if args.once:
            with stop_on_signals() as stop:
                stats = consumer.run(stop, until=_idle_for(args.idle))
            status = 0
        else:
            stats, status = _serve(consumer, store, config, metrics, args)
    finally:
        consumer.close()
        store.close()
    print(
        f"national stopped: {stats.messages} messages in {stats.batches} batches: "
        f"{stats.applied} changes applied ({stats.changes} read), {stats.checkpoints} "
        f"checkpoints, {stats.refused} refused, {stats.skipped} already tracked; "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    for refusal in stats.refusals:
        print(f"  refused: {refusal}", file=sys.stderr)
    return status


def _idle_for(seconds: float) -> Callable[[ConsumerStats], bool]:
    """``until`` for :meth:`NationalConsumer.run`: true once no batch came for
    ``seconds`` (counted from the first batch, or from the start when none came)."""
    started = time.monotonic()

    def idle(stats: ConsumerStats) -> bool:
        last = stats.last_batch_at or started
        return time.monotonic() - last > seconds

    return idle


def _serve(
    consumer: NationalConsumer,
    store: NationalStore,
    config: Any,
    metrics: NationalMetrics,
    args: argparse.Namespace,
) -> tuple[ConsumerStats, int]:
    """The consumer on a thread, uvicorn on this one (``/v1/national`` and ``/metrics``);
    uvicorn's signal handling stops both. Returns the consumer's totals and the exit
    status."""
    import uvicorn

    from federation.national.app import build_national_app

    stop = threading.Event()
    outcome: dict[str, Any] = {"stats": ConsumerStats(), "status": 0}

    def consume() -> None:
        try:
            outcome["stats"] = consumer.run(stop)
        except Exception:
            log.exception("the national consumer stopped on an error; a restart resumes")
            outcome["status"] = 1
            os.kill(os.getpid(), 15)  # stop serving a view that no longer follows

    thread = threading.Thread(target=consume, name="national-consumer", daemon=True)
    thread.start()
    try:
        uvicorn.run(build_national_app(store, config, metrics), host=args.host, port=args.port)
    finally:
        stop.set()
        thread.join(timeout=30)
    return outcome["stats"], int(outcome["status"])


def register(subparsers: Any, bootstrap: Callable[..., Any]) -> None:
    """Add ``national`` to the ``ledger`` command line (``bootstrap`` is unused: the
    national service has no ledger of its own)."""
    p = subparsers.add_parser(
        "national",
        help="the national view: consume the regions' feeds and checkpoints, serve /v1/national",
    )
    add_arguments(p)
    p.set_defaults(handler=cmd_national)
