"""What the app is built from: the services :func:`api.app.create_app` receives.

No module-level singletons: one :class:`Services` per app, stored on
``app.state.services``; the routes reach it through :func:`services`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from api.access_log import AccessLog
from api.names import NameIndex
from api.read_side import Views
from api.tokens import TokenStore
from ledger.app import Ledger

__all__ = ["SUBMIT_THREADS", "Services", "services"]

SUBMIT_THREADS = 32
"""Concurrent submissions one app runs at most (more wait for a thread)."""


@dataclass
class Services:
    """The ledger and everything the API reads or writes beside it.

    ``ready_lag`` is how many records the projections may trail the ledger by
    and still be ready (``/readyz``); ``wait_for_projections`` is how long a
    submission waits, at most, for the projections to catch up with what it
    wrote (read-your-writes), in seconds; ``max_body_bytes`` the largest request
    body read (``LEDGER_MAX_BODY_BYTES``); ``submit_threads`` the threads
    ``POST /v1/events`` submits on (:data:`SUBMIT_THREADS`, started as needed): as many
    as may wait in one group commit at once, and cheaper to hand a call to than the
    thread pool Starlette runs synchronous code on (~40 against ~120 us a call).
    """

    ledger: Ledger
    tokens: TokenStore
    access_log: AccessLog
    views: Views
    names: NameIndex
    clock: Callable[[], int]
    ready_lag: int = 1000
    wait_for_projections: float = 5.0
    max_body_bytes: int = 32 * 1024 * 1024
    extras: dict[str, Any] = field(default_factory=dict)
    submit_threads: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(SUBMIT_THREADS, thread_name_prefix="submit")
    )


async def services(request: Request) -> Services:
    """The app's services (a FastAPI dependency; ``async``, so that it runs on the event
    loop and not in the thread pool, as a synchronous dependency would)."""
    found: Services = request.app.state.services
    return found
