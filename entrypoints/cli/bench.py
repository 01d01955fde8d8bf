"""``ledger bench``: the sub-command, for ``entrypoints/cli/__init__.py`` to wire in.

``register(subparsers, bootstrap)`` adds ``bench [--scale smoke|small|medium|large|full]
[--database-url URL] [--kafka BOOTSTRAP] [--output PATH] [--json] [--writers N]
[--seed N]`` and sets ``handler(args, settings) -> int`` as the other commands do.
``bootstrap`` is the composition root (``entrypoints.bootstrap.bootstrap``): every
``Ledger`` the bench measures, in this process and in its writer processes, is built
by it (:func:`entrypoints.bootstrap.ledger_at`, which the writer processes import
without the whole command line), every recorder by ``entrypoints.bootstrap.open_recorder``,
handed to the bench as :class:`bench.composition.Factories` (the bench imports no entry
point); ``bootstrap`` must be a module-level function (the writers receive it pickled).

:func:`main` and :func:`exports_main` are what ``python -m bench`` and
``python -m bench.exports`` run (found by name, :func:`bench.composition.entry`).

The bench's ``--database-url`` (dest ``bench_database_url``) is its own: it names the
PostgreSQL database to create and drop schemas in, never the ledger's store, so the
global ``ledger --database-url`` is ignored here.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Sequence
from typing import Any

from bench.composition import Factories
from bench.exports import run_exports
from bench.run import build_parser, execute
from entrypoints.bootstrap import bootstrap as default_bootstrap
from entrypoints.bootstrap import ledger_at, open_recorder
from entrypoints.rule_files import load_rules
from entrypoints.settings import Settings
from ledger.app import Ledger

__all__ = ["exports_main", "factories", "main", "register"]


def factories(bootstrap: Callable[[Settings], Ledger] = default_bootstrap) -> Factories:
    """The bench's builders from the composition root ``bootstrap``."""
    return Factories(
        ledger=functools.partial(ledger_at, bootstrap),
        recorder=open_recorder,
        rules=load_rules,
        environment=functools.partial(dict, Settings().child_environment),
    )


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
        return execute(args, factories(bootstrap))

    parser.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench ARGS``: ``ledger bench ARGS``."""
    from entrypoints.cli import main as ledger_main

    return ledger_main(["bench", *(argv or [])])


def exports_main(argv: Sequence[str] | None = None) -> None:
    """``python -m bench.exports ARGS`` (:mod:`bench.exports`), with the composition
    root's ledger and the settings' child environment."""
    run_exports(argv, functools.partial(ledger_at, default_bootstrap), Settings().child_environment)
