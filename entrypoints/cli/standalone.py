"""One service command of ``ledger`` run on its own, as ``python -m entrypoints.cli.NAME``
(``feed``, ``ingest``): the command's options plus ``--database-url``, the settings object
(``LEDGER_*``), logs through :mod:`ledger.logs`, and the composition root's ledger.

Exit status: what the command returns, or 2 after a ``ConfigurationError`` (printed as
``ledger NAME: message`` on standard error, as ``ledger NAME`` prints it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from entrypoints.bootstrap import ConfigurationError, bootstrap
from entrypoints.settings import Settings
from ledger import logs
from ledger.app import Ledger

__all__ = ["ServiceCommand", "run_standalone"]

ServiceCommand = Callable[[argparse.Namespace, Settings, Callable[..., Ledger]], int]
"""``command(args, settings, make)``: a service command building its ledger with ``make``."""


def run_standalone(
    name: str,
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    command: ServiceCommand,
    argv: Sequence[str] | None = None,
) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) for ``python -m entrypoints.cli.NAME``
    and run ``command`` with the settings and :func:`entrypoints.bootstrap.bootstrap`."""
    parser = argparse.ArgumentParser(
        prog=f"python -m entrypoints.cli.{name}", description=description
    )
    parser.add_argument("--database-url", help="override LEDGER_DATABASE_URL")
    add_arguments(parser)
    args = parser.parse_args(argv)
    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    logs.configure(settings.log_format, settings.log_level)
    try:
        return command(args, settings, bootstrap)
    except ConfigurationError as e:
        print(f"ledger {name}: {e}", file=sys.stderr)
        return 2
