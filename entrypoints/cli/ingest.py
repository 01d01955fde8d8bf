"""``ledger ingest``: the command line of the Kafka consumer (:mod:`services.ingest`).

The ingester's configuration comes from the settings object (:func:`ingest_config`,
``LEDGER_KAFKA_*``) and the command's options; its logs go through
:mod:`ledger.logs` (``LEDGER_LOG_FORMAT`` / ``LEDGER_LOG_LEVEL``, configured by the
``ledger`` command for its long-running services). Exit status: 0 after a clean
shutdown (SIGTERM/SIGINT), 1 when an error stopped it, 2 for bad configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from types import FrameType
from typing import Any

from kafka.errors import KafkaError

from entrypoints.bootstrap import ConfigurationError
from entrypoints.cli.standalone import run_standalone
from entrypoints.settings import Settings
from ledger.app import Ledger
from ledger.progress import CatchUp
from services.ingest import DEFAULT_DEAD_LETTER_TOPIC, IngestConfig, Ingester, crc32c_accelerated

__all__ = ["add_arguments", "ingest_config", "main", "register", "serve_metrics", "stop_on_signals"]

log = logging.getLogger("services.ingest")


def ingest_config(settings: Settings, **overrides: Any) -> IngestConfig:
    """The configuration from ``Settings`` (``kafka_bootstrap``, ``kafka_topic``,
    ``kafka_group``) plus the ingest knobs (``kafka_dead_letter_topic``,
    ``kafka_max_poll_records``, ``kafka_max_poll_interval_ms``,
    ``kafka_session_timeout_ms``, ``kafka_heartbeat_interval_ms``,
    ``kafka_auto_offset_reset``); ``overrides`` (not None) win.

    Raises ``ConfigurationError`` when no bootstrap server is configured.
    """
    bootstrap = overrides.pop("bootstrap_servers", None) or settings.kafka_bootstrap
    if not bootstrap:
        raise ConfigurationError(
            "LEDGER_KAFKA_BOOTSTRAP is not set: ingestion needs the Kafka bootstrap servers"
        )
    reset = settings.kafka_auto_offset_reset.lower()
    if reset not in ("earliest", "latest"):
        raise ConfigurationError(
            f"LEDGER_KAFKA_AUTO_OFFSET_RESET must be earliest or latest, got {reset!r}"
        )
    config = IngestConfig(
        bootstrap_servers=bootstrap,
        topic=settings.kafka_topic,
        group=settings.kafka_group,
        dead_letter_topic=settings.kafka_dead_letter_topic,
        from_beginning=reset == "earliest",
        max_poll_records=settings.kafka_max_poll_records,
        max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
    )
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while the context is open (main thread only);
    the previous handlers are restored on exit."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("%s received: finishing the current batch", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ledger ingest``."""
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default LEDGER_KAFKA_BOOTSTRAP)")
    p.add_argument("--topic", help="topic to consume (default LEDGER_KAFKA_TOPIC, credit.events)")
    p.add_argument("--group", help="consumer group (default LEDGER_KAFKA_GROUP, credit-ledger)")
    p.add_argument(
        "--dead-letter-topic",
        help=f"where rejected messages go (default LEDGER_KAFKA_DEAD_LETTER_TOPIC, "
        f"{DEFAULT_DEAD_LETTER_TOPIC})",
    )
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--from-beginning",
        dest="from_beginning",
        action="store_const",
        const=True,
        help="a new group starts at the earliest offset (the default)",
    )
    start.add_argument(
        "--from-end",
        dest="from_beginning",
        action="store_const",
        const=False,
        help="a new group starts at the latest offset (skips what is already on the topic)",
    )
    p.add_argument(
        "--batch",
        type=int,
        dest="max_poll_records",
        help="messages per poll and transaction, at most (default 2000)",
    )


def cmd_ingest(args: argparse.Namespace, settings: Settings, make: Callable[..., Ledger]) -> int:
    """Run the ingester until SIGTERM/SIGINT: exit status 0 after a clean shutdown, 1
    when an error stopped it (logged; a supervisor restarts it)."""
    config = ingest_config(
        settings,
        bootstrap_servers=args.bootstrap,
        topic=args.topic,
        group=args.group,
        dead_letter_topic=args.dead_letter_topic,
        from_beginning=args.from_beginning,
        max_poll_records=args.max_poll_records,
    )
    ledger = make(settings)
    log.info(
        "ingesting %s (group %s) from %s into %s; dead letters to %s; crc32c %s",
        config.topic,
        config.group,
        config.bootstrap_servers,
        settings.database_url.split("@")[-1],
        config.dead_letter_topic,
        "C extension" if crc32c_accelerated() else "pure Python",
    )
    started = time.perf_counter()
    with stop_on_signals() as stop:
        try:
            metrics = serve_metrics(ledger, settings)
            if sys.stderr.isatty():  # a person watching: show the catching up
                metrics = CatchUp(metrics)
            ingester = Ingester(ledger, config, metrics=metrics)
        except KafkaError as e:
            log.error("cannot use Kafka at %s: %r", config.bootstrap_servers, e)
            return 1
        try:
            stats = ingester.run(stop)
        except Exception:
            log.exception(
                "ingestion stopped by an error; every batch committed so far is in the "
                "ledger, and a restart resumes from its tracking"
            )
            return 1
        finally:
            ingester.close()
    elapsed = time.perf_counter() - started
    rate = stats.messages / stats.busy_seconds if stats.busy_seconds > 0 else 0.0
    print(
        f"ingest stopped: {stats.messages} messages in {stats.batches} batches: "
        f"{stats.recorded} recorded, {stats.repeat} repeat, {stats.rejected} rejected, "
        f"{stats.skipped} already tracked; {elapsed:.1f} s running, "
        f"{rate:,.0f} events/s while busy",
        file=sys.stderr,
    )
    return 0


def serve_metrics(ledger: Ledger, settings: Settings) -> Any | None:
    """With ``LEDGER_METRICS_PORT``, a ``LedgerMetrics`` observing ``ledger``, served at
    ``http://0.0.0.0:PORT/metrics`` from a background thread; else None."""
    if not settings.metrics_port:
        return None
    from prometheus_client import start_http_server

    from ledger.metrics import LedgerMetrics

    known = ledger.rules.agencies.known_source if ledger.rules is not None else None
    metrics = LedgerMetrics(known_agency=known)
    ledger.observer = metrics.observe_submit
    start_http_server(settings.metrics_port, registry=metrics.registry)
    log.info("metrics on http://0.0.0.0:%d/metrics", settings.metrics_port)
    return metrics


def register(subparsers: Any, bootstrap: Callable[..., Ledger]) -> None:
    """Add ``ingest`` to the ``ledger`` command line. ``bootstrap(settings) -> Ledger``
    is the composition root the command builds its ledger with."""
    p = subparsers.add_parser(
        "ingest", help="consume CloudEvents from Kafka into the ledger (until SIGTERM)"
    )
    add_arguments(p)
    p.set_defaults(
        handler=lambda args, settings: cmd_ingest(args, settings, bootstrap),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m entrypoints.cli.ingest [--database-url URL] [ingest options]``."""
    return run_standalone(
        "ingest", "Consume CloudEvents from Kafka into the ledger.", add_arguments, cmd_ingest, argv
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
