"""Submitting: ``POST /v1/events`` (one CloudEvent, a batch, or JSON lines).

One object is answered 201 recorded (``Location``: :func:`record_path`), 200 repeat,
or a problem with the rejection's reason code; an array or JSON lines 200 with one
result per event, in input order. The body is bounded before it is read (413), its
media type checked (415), each event authorised for the principal
(:mod:`api.submit`); ``wait=true`` holds the answer until the materialised views
include the events (at most 5 s, ``X-Views-Caught-Up``).

The endpoint is the API's hot path (single events from many clients), so it takes the
bare request and makes the checks FastAPI's dependencies would make itself, in their
order: unknown query parameters (400), the principal (401/403), ``wait`` (400), then
the body. FastAPI's resolution of dependencies and parameters cost about a third of
the HTTP layers' CPU per request here; the OpenAPI document still declares the
``wait`` parameter and the bearer scheme (``openapi_extra``).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import admit, current_principal
from api.models import EXAMPLE_EVENT, EventResult
from api.parameters import problem_responses, refuse_unknown_query
from api.problems import ProblemError, answer, invalid_request, status_of_rejection
from api.responses import JSONBytes
from api.services import Services
from api.submit import authorise, media_type, parse_body, read_body, submit
from events.reasons import Reason

__all__ = ["EVENTS_PATH", "EventsDoor", "events_router", "record_path"]

EVENTS_PATH = "/v1/events"

events_router = APIRouter(prefix="/v1")
"""Without the ``known_query_only`` dependency of the other ``/v1`` routers: its
endpoint checks its query itself (module docstring)."""


def record_path(source: str, event_id: str) -> str:
    """The URL of one record (``GET /v1/records/{source}/{id}``; a source is
    ``KIND/REGION``, two path segments)."""
    from urllib.parse import quote

    return f"/v1/records/{quote(source, safe='/')}/{quote(event_id, safe='')}"


_EVENT_OR_BATCH = {
    "oneOf": [
        {"$ref": "#/components/schemas/CloudEvent"},
        {
            "type": "array",
            "items": {"$ref": "#/components/schemas/CloudEvent"},
            "maxItems": 10_000,
        },
    ]
}
_WAIT_DOC = (
    "Return only once the materialised views (lists) include the recorded events, at "
    "most 5 s (read-your-writes); header `X-Views-Caught-Up` says whether they did"
)
_WAIT_PARAMETER = {
    "description": _WAIT_DOC,
    "in": "query",
    "name": "wait",
    "required": False,
    "schema": {"default": False, "description": _WAIT_DOC, "title": "Wait", "type": "boolean"},
}
_QUERY = frozenset({"wait"})
_BOOLEAN = TypeAdapter(bool)


def _wait(request: Request) -> bool:
    """The ``wait`` query parameter (a boolean as FastAPI reads one: ``true``, ``1``,
    ``yes``, ``on``…; the last one given), or the 400 ``invalid-request`` FastAPI's
    validation would answer."""
    text = request.query_params.get("wait")
    if text is None:
        return False
    try:
        return _BOOLEAN.validate_python(text)
    except ValidationError as e:
        raise invalid_request(
            {**error, "loc": ("query", "wait", *error["loc"])} for error in e.errors()
        ) from e


_EVENTS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": _EVENT_OR_BATCH,
            "examples": {
                "one": {"summary": "One event", "value": EXAMPLE_EVENT},
                "batch": {"summary": "A batch", "value": [EXAMPLE_EVENT]},
            },
        },
        "application/cloudevents+json": {"schema": {"$ref": "#/components/schemas/CloudEvent"}},
        "application/cloudevents-batch+json": {
            "schema": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/CloudEvent"},
                "maxItems": 10_000,
            }
        },
    },
}


@events_router.post(
    "/events",
    tags=["events"],
    summary="Submit one CloudEvent or a batch",
    description=(
        "One object: 201 recorded, 200 repeat (same source and id, same content), or a "
        "problem with the reason `code`. An array: 200 with one result per event, in input "
        "order (`submit --json` shape). JSON lines (`application/jsonl` or "
        "`application/x-ndjson`, one event a line) are answered like an array. Any other "
        "or no `Content-Type` is a 415; a body over the server's limit a 413, decided "
        "before it is read. One round of appends per request. Agencies may "
        "submit only as their own `source`; objection handlers only "
        "objection.resolved, record.corrected and record.revoked."
    ),
    status_code=201,
    response_model=EventResult,
    responses={
        200: {
            "description": "A repeat (one event), or the per-event results of an array",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/EventResult"},
                            {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/EventResult"},
                            },
                        ]
                    }
                }
            },
        },
        201: {
            "description": "Recorded",
            "headers": {
                "Location": {
                    "description": "The record just written, as the submitter may read it "
                    "(GET /v1/records/{source}/{id})",
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_responses(400, 401, 403, 409, 413, 415, 422, 503),
    },
    openapi_extra={
        "requestBody": _EVENTS_BODY,
        "parameters": [_WAIT_PARAMETER],
        "security": [{"bearer": []}],
    },
)
async def post_events(request: Request) -> Response:
    refuse_unknown_query(request, _QUERY)
    principal = admit("submit", current_principal(request))
    wait = _wait(request)
    svc: Services = request.app.state.services
    media = media_type(request.headers.get("content-type"))
    body = await read_body(
        request.headers.get("content-length"), request.stream(), svc.max_body_bytes
    )
    batch, items = parse_body(body, media)
    items = authorise(principal, items)
    loop = asyncio.get_running_loop()
    outcomes = await loop.run_in_executor(svc.submit_threads, submit, svc.ledger, items)
    headers: dict[str, str] = {}
    if wait:
        headers["X-Views-Caught-Up"] = await run_in_threadpool(
            _wait_for_views, svc, [o.record.position for o in outcomes if o.record]
        )
    if batch:
        return JSONBytes([o.to_json() for o in outcomes], headers=headers)
    (outcome,) = outcomes
    if outcome.status == "rejected":
        code = outcome.code or str(Reason.INVALID_REQUEST)
        raise ProblemError(
            status_of_rejection(code),
            code,
            outcome.message or code,
            **{k: v for k, v in outcome.details.items() if k not in ("id", "source")},
            id=outcome.id,
            source=outcome.source,
        )
    if outcome.status == "repeat":
        return JSONBytes(outcome.to_json(), status_code=200, headers=headers)
    assert outcome.record is not None
    headers["Location"] = record_path(outcome.record.source, outcome.record.id)
    return JSONBytes(outcome.to_json(), status_code=201, headers=headers)


class EventsDoor:
    """Pure ASGI middleware that serves ``POST /v1/events`` with :func:`post_events`
    itself, ahead of the router: the route's matching among every route of the app,
    FastAPI's request handler and its exception middleware cost about a quarter of the
    HTTP layers' CPU per request (in-process, ledger stubbed). A problem is answered as
    the app's handler answers it (:func:`api.problems.answer`: JSON, or the page for a
    browser); anything else propagates to the app's 500 handler, as from the route.
    Every other request goes to the app; the route itself stays (the OpenAPI document,
    and the same endpoint should the door be absent)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _is_events(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await post_events(request)
        except ProblemError as problem:
            response = answer(request, problem)
        await response(scope, receive, send)


def _is_events(scope: Scope) -> bool:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path == EVENTS_PATH or (bool(root) and path == root + EVENTS_PATH)


def _wait_for_views(svc: Services, positions: list[int]) -> str:
    """ "true" once the views have processed the last of ``positions``, else "false"."""
    waiter = svc.extras.get("wait_for_position")
    if not positions:
        return "true"
    if not callable(waiter):
        return "false"
    try:
        waiter(max(positions), svc.wait_for_projections)
    except TimeoutError:
        return "false"
    return "true"
