"""``ledger bench``: the sub-command, for ``entrypoints/cli/__init__.py`` to wire in.

``register(subparsers, bootstrap)`` adds ``bench [--scale smoke|small|medium|large|full]
[--database-url URL] [--kafka BOOTSTRAP] [--output PATH] [--json] [--writers N]
[--seed N]`` and sets ``handler(args, settings) -> int`` as the other commands do.
``bootstrap`` is the composition root (``entrypoints.bootstrap.bootstrap``): every
``Ledger`` the bench measures, in this process and in its writer processes, is built
by it; it must be a module-level function (the writers import it by name).

The bench's ``--database-url`` (dest ``bench_database_url``) is its own: it names the
PostgreSQL database to create and drop schemas in, never the ledger's store, so the
global ``ledger --database-url`` is ignored here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bench.run import build_parser, execute
from entrypoints.settings import Settings
from ledger.app import Ledger

__all__ = ["register"]


def register(
    subparsers: argparse._SubParsersAction[Any],
    bootstrap: Callable[[Settings], Ledger],
) -> argparse.ArgumentParser:
    """Add the ``bench`` sub-command; returns its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="measure the ledger against raw PostgreSQL and plain eventsourcing (PostgreSQL)",
        description=(
            "Measure the ledger on PostgreSQL against the machine's own limit (raw COPY and "
            "reads) and a plain eventsourcing application on the same data; print a table "
            "and write JSON."
        ),
    )
    build_parser(parser)

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        del settings  # the bench builds its own settings per schema
        return execute(args, bootstrap)

    parser.set_defaults(handler=handler)
    return parser
