"""What the bench takes from its caller: how to build a ``Ledger`` and a recorder on a
store URL, and the rule services.

The bench measures the ledger as the composition root builds it, but imports no entry
point: ``ledger bench`` (:mod:`entrypoints.cli.bench`) hands it a :class:`Factories`.
Writer and worker processes are started with ``spawn`` and receive the factories by
pickling, so both must be module-level functions (or ``functools.partial`` of them).
``python -m bench`` and ``python -m bench.exports`` find the command line by the name
:data:`ENTRY` at run time (:func:`entry`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from commands.services import RuleServices
from ledger.app import Ledger

__all__ = ["ENTRY", "Factories", "entry"]

ENTRY = "entrypoints.cli.bench"
"""The module that wires the bench to the composition root (resolved at run time)."""


@dataclass(frozen=True)
class Factories:
    """The composition root's builders, as the bench uses them."""

    ledger: Callable[..., Ledger]
    """``ledger(database_url, **settings)``: the ledger on that store, as every service
    builds it; keyword arguments name settings fields (``name``, ``signing_key_file``,
    ``person_secret_file``, ``checkpoint_log``)."""
    recorder: Callable[..., Any]
    """``recorder(database_url, pool_size=…)``: the store's recorder, its tables created."""
    rules: Callable[[], RuleServices]
    """``rules()``: the rule services (calendars, rule sets, agencies) as configured."""
    environment: Callable[[], dict[str, str]]
    """``environment()``: the environment a child process (``ledger serve``) starts with
    (``Settings.child_environment``: the bench reads no environment itself)."""


def entry(name: str) -> Callable[..., Any]:
    """The function ``name`` of :data:`ENTRY` (for the ``python -m`` entry points)."""
    function: Callable[..., Any] = getattr(importlib.import_module(ENTRY), name)
    return function
