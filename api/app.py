"""The FastAPI application factory.

``create_app(ledger, tokens=…, access_log=…)`` builds one app from the
services it is handed (no module-level singletons); :func:`entrypoints.wiring.build_app`
builds those services from :class:`~entrypoints.settings.Settings` through
``entrypoints.bootstrap`` for ``ledger serve`` and the tests.

The OpenAPI document is post-processed so that every error response is
``application/problem+json`` with the :class:`~api.models.Problem` schema, the
bearer scheme is declared, and FastAPI's default validation-error schema (we
answer validation errors with 400 problems) is gone.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from api import docs, problems
from api.access_log import AccessLog
from api.checkpoint_routes import checkpoints_router
from api.desk import desk_router
from api.event_routes import EventsDoor, events_router
from api.health_routes import health_router
from api.insight import insight_pages_router, insight_router
from api.list_routes import lists_router
from api.metrics import metrics_router
from api.models import cloudevent_components
from api.names import NameIndex
from api.objections import objections_router
from api.pages import pages_router, problem_page
from api.problems import PROBLEM_MEDIA_TYPE
from api.read_side import LedgerViews, Views
from api.records import records_router
from api.report_routes import reports_router
from api.services import Services
from api.subject_routes import subjects_router
from api.submit import MAX_BODY_BYTES
from api.tokens import TokenStore
from ledger.app import Ledger
from ledger.audit.verifications import verification_summary
from ledger.metrics import LedgerMetrics

__all__ = ["create_app"]

HERE = Path(__file__).resolve().parent
_log = logging.getLogger("api")
DESCRIPTION = """\
The HTTP API of credit-ledger, an event-sourced ledger of the credit records of
market subjects (DESIGN.md "HTTP API (v1)").

* Agencies submit CloudEvents; objection handlers record their findings.
* Reads take `as_of` (valid time) and `known_at` (recorded time): an RFC 3339
  date-time, or a date meaning the end of that day in China Standard Time.
* Errors are RFC 9457 problem details (`application/problem+json`) whose `code`
  is the stable reason code shared with the CLI and Kafka dead letters.
* Authentication: `Authorization: Bearer <token>` (`ledger token add`). Without
  a token you are the public: disclosure views, lists and checkpoints only.
"""


def create_app(
    ledger: Ledger,
    *,
    tokens: TokenStore,
    access_log: AccessLog,
    views: Views | None = None,
    names: NameIndex | None = None,
    clock: Callable[[], int] | None = None,
    keystore: Any | None = None,
    signing_key: Any | None = None,
    origin: str = "credit-ledger",
    checkpoint_log: Any | None = None,
    runner: Any | None = None,
    ready_lag: int = 1000,
    extras: dict[str, Any] | None = None,
    metrics: LedgerMetrics | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The app over ``ledger``. ``views`` defaults to :class:`LedgerViews`;
    ``names`` to a :class:`NameIndex` filled now; ``clock`` to the ledger's;
    ``keystore`` (``ledger.sealing.KeyStore``) decrypts identity numbers for
    the roles that may read them (default: the ledger's own, if it has one);
    ``signing_key`` is the checkpoint key (audit bundles; ``origin`` its name), and
    ``checkpoint_log`` (``ledger.audit.checkpoint_log.CheckpointLog``) where a checkpoint
    the app issues is published.
    ``runner`` (``projections.runner.ProjectionRunner``), if given, is run in a
    background thread while the app is served (lifespan) to keep the
    materialised views current, and its ``wait`` serves ``POST /v1/events?wait=true``
    (read-your-writes); without one, another process (``ledger project --follow``)
    keeps them. ``extras`` may hold ``wait_for_position(position, timeout_s)``.
    ``metrics`` (served at ``GET /metrics``) defaults to a fresh
    :class:`~ledger.metrics.LedgerMetrics`, which then becomes the ledger's submit
    observer if it has none; its projection lag gauge reads the views' readiness, its
    verify metrics the runs ``ledger verify`` recorded in the store. ``max_body_bytes``
    bounds what is read of a request body (413 beyond it)."""
    clock = clock or ledger.clock
    index = names or NameIndex(ledger)
    index.refresh()
    extra = dict(extras or {})
    if runner is not None:
        extra.setdefault("wait_for_position", runner.wait)
    svc = Services(
        ledger=ledger,
        tokens=tokens,
        access_log=access_log,
        views=views
        or LedgerViews(
            ledger,
            clock=clock,
            keystore=keystore,
            index=index,
            signing_key=signing_key,
            origin=origin,
            checkpoint_log=checkpoint_log,
        ),
        names=index,
        clock=clock,
        ready_lag=ready_lag,
        max_body_bytes=max_body_bytes,
        extras=extra,
    )
    app = FastAPI(
        lifespan=following(runner, clock) if runner is not None else None,
        title="credit-ledger",
        docs_url=None,  # api.docs serves /docs from local files
        redoc_url=None,
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "events", "description": "Submitting CloudEvents"},
            {"name": "subjects", "description": "Standing, history and disclosure, any moment"},
            {"name": "lists", "description": "Public lists"},
            {"name": "audit", "description": "Audit bundles, checkpoints and proofs"},
            {"name": "reports", "description": "Credit reports (信用报告), verifiable offline"},
            {"name": "insight", "description": "Warnings, statistics and exports for regulators"},
            {"name": "health", "description": "Probes for the orchestrator"},
        ],
    )
    app.state.services = svc
    if metrics is None:
        known = ledger.rules.agencies.known_source if ledger.rules is not None else None
        metrics = LedgerMetrics(known_agency=known)
        if ledger.observer is None:
            ledger.observer = metrics.observe_submit
    metrics.track_projection_lag(lambda: float(svc.views.readiness().get("projections_lag", 0)))
    metrics.track_failed_subjects(
        lambda: float(svc.views.readiness().get("failed_subjects", {}).get("count", 0))
    )
    metrics.track_verifications(lambda: verification_summary(ledger.recorder))
    app.state.metrics = metrics
    problems.install(app, page=problem_page)
    app.add_middleware(EventsDoor)  # POST /v1/events ahead of the router (the hot path)
    app.include_router(reports_router)  # first: /v1/lists/trustworthy before /v1/lists/{list}
    app.include_router(events_router)  # the order of the former v1 router (OpenAPI paths)
    app.include_router(subjects_router)
    app.include_router(lists_router)
    app.include_router(checkpoints_router)
    app.include_router(records_router)
    app.include_router(objections_router)
    app.include_router(insight_router)
    app.include_router(insight_pages_router)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(pages_router)
    app.include_router(desk_router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    docs.install(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def following(runner: Any, clock: Callable[[], int]) -> Callable[[FastAPI], Any]:
    """A lifespan that runs ``runner.follow`` in a daemon thread while the app
    is served, restarting it after a failure (e.g. a lost connection, or a
    second runner on the same database winning a batch), and stops it at
    shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                try:
                    runner.follow(stop, clock=clock)
                except Exception:
                    _log.exception("projection runner failed; restarting in 1 s")
                    stop.wait(1.0)

        thread = threading.Thread(target=loop, name="projection-runner", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=10)

    return lifespan


def _openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schema["openapi"] = schema.get("openapi", "3.1.0")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(cloudevent_components())
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            default_422 = responses.get("422", {})
            if "HTTPValidationError" in str(default_422):
                responses.pop("422")
            for status, response in responses.items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and "application/json" in content:
                    if "Health" in str(content["application/json"]):
                        continue
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
            if any(p.get("in") in ("path", "query") for p in operation.get("parameters", [])):
                responses.setdefault(
                    "400",
                    {
                        "description": "Malformed request",
                        "content": {
                            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                        },
                    },
                )
    return schema
