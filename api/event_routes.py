"""Submitting: ``POST /v1/events`` (one CloudEvent, a batch, or JSON lines).

One object is answered 201 recorded (``Location``: :func:`record_path`), 200 repeat,
or a problem with the rejection's reason code; an array or JSON lines 200 with one
result per event, in input order. The body is bounded before it is read (413), its
media type checked (415), each event authorised for the principal
(:mod:`api.submit`); ``wait=true`` holds the answer until the materialised views
include the events (at most 5 s, ``X-Views-Caught-Up``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import require
from api.models import EXAMPLE_EVENT, EventResult
from api.parameters import known_query_only, problem_responses
from api.problems import ProblemError, status_of_rejection
from api.responses import JSONBytes
from api.services import Services, services
from api.submit import authorise, media_type, parse_body, read_body, submit
from api.tokens import Principal
from events.reasons import Reason

__all__ = ["events_router", "record_path"]

events_router = APIRouter(prefix="/v1", dependencies=[Depends(known_query_only)])


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
    openapi_extra={"requestBody": _EVENTS_BODY},
)
async def post_events(
    request: Request,
    principal: Annotated[Principal, Depends(require("submit"))],
    svc: Annotated[Services, Depends(services)],
    wait: Annotated[
        bool,
        Query(
            description="Return only once the materialised views (lists) include the "
            "recorded events, at most 5 s (read-your-writes); header "
            "`X-Views-Caught-Up` says whether they did",
        ),
    ] = False,
) -> Response:
    media = media_type(request.headers.get("content-type"))
    body = await read_body(
        request.headers.get("content-length"), request.stream(), svc.max_body_bytes
    )
    batch, items = parse_body(body, media)
    items = authorise(principal, items)
    outcomes = await run_in_threadpool(submit, svc.ledger, items)
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
