"""``ledger feed``: the command line of the disclosure change feed
(:class:`projections.feed.DisclosureFeed`), producing to Kafka until SIGTERM/SIGINT or,
with ``--once``, until caught up. Configuration from the settings object
(``LEDGER_KAFKA_BOOTSTRAP``, ``LEDGER_KAFKA_FEED_TOPIC``); logs through :mod:`ledger.logs`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from entrypoints.bootstrap import ConfigurationError
from entrypoints.cli.ingest import stop_on_signals
from entrypoints.cli.standalone import run_standalone
from entrypoints.settings import Settings
from ledger.app import Ledger
from projections.feed import DEFAULT_FEED_TOPIC, DisclosureFeed, feed_producer

__all__ = ["add_arguments", "cmd_feed", "main", "register"]

log = logging.getLogger("projections.feed")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default LEDGER_KAFKA_BOOTSTRAP)")
    p.add_argument(
        "--topic",
        help=f"topic for the changes (default LEDGER_KAFKA_FEED_TOPIC, {DEFAULT_FEED_TOPIC})",
    )
    p.add_argument("--batch", type=int, default=500, help="ledger positions per batch")
    p.add_argument(
        "--once", action="store_true", help="exit when caught up instead of following the ledger"
    )


def cmd_feed(args: argparse.Namespace, settings: Settings, make: Callable[..., Ledger]) -> int:
    """Follow the ledger and produce disclosure changes until SIGTERM/SIGINT (or caught
    up, with ``--once``)."""
    bootstrap = args.bootstrap or settings.kafka_bootstrap
    if not bootstrap:
        raise ConfigurationError(
            "LEDGER_KAFKA_BOOTSTRAP is not set: the change feed needs the Kafka bootstrap servers"
        )
    topic = args.topic or settings.kafka_feed_topic
    ledger = make(settings)
    producer = feed_producer(bootstrap)
    feed = DisclosureFeed(
        ledger,
        producer,
        topic=topic,
        batch_size=args.batch,
        source=f"{settings.name}/disclosure",
        origin=settings.name,
    )
    log.info("disclosure feed to %s from position %d", topic, feed.position())
    started = time.perf_counter()
    try:
        with stop_on_signals() as stop:
            total = feed.run(stop, until_caught_up=args.once)
    finally:
        producer.close(timeout=10)
    print(
        f"feed stopped at position {feed.position()}: {total} records in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


def register(subparsers: Any, bootstrap: Callable[..., Ledger]) -> None:
    """Add ``feed`` to the ``ledger`` command line."""
    p = subparsers.add_parser(
        "feed", help="produce disclosure changes to Kafka (credit.disclosure.changes)"
    )
    add_arguments(p)
    p.set_defaults(handler=lambda args, settings: cmd_feed(args, settings, bootstrap))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m entrypoints.cli.feed [--database-url URL] [feed options]``."""
    return run_standalone(
        "feed", "Produce disclosure changes to Kafka.", add_arguments, cmd_feed, argv
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
