"""What every v1 endpoint shares: its path and query parameters, their checks, and
the problems it documents.

* `CodeParam`, `AsOf`, `KnownAt`: the subject code in the path and the two clocks in
  the query, documented once for the OpenAPI schema.
* `subject_code`, `instant`: the checked values, or a 400 problem (the code
  validator's reason; ``invalid-instant`` or ``date-out-of-range``).
* `known_query_only`: the router dependency that refuses a query parameter the
  endpoint does not define (400 ``invalid-request``), so a misspelt ``as_of`` never
  silently means "now". Every ``/v1`` router is built with it but the events router,
  whose one endpoint calls `refuse_unknown_query` itself (``api.event_routes``).
* `problem_responses`: the OpenAPI ``responses`` entry of the problems an endpoint
  may answer (RFC 9457, :mod:`api.problems`).
* `unknown_subject`: the 404 of a subject the ledger holds no record of;
  `client_of`: the client address the access log records.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from fastapi import Path, Query, Request

from api.models import CODE_FORMAT, CODE_PATTERN, EXAMPLE_CODE, INSTANT_FORMAT, Problem
from api.problems import ProblemError
from events.codes import validate_subject_code
from events.dates import DEFAULT_RANGE
from events.instants import InvalidInstant, parse_instant
from events.reasons import InvalidEvent, Reason

__all__ = [
    "AsOf",
    "CodeParam",
    "KnownAt",
    "client_of",
    "instant",
    "known_query_only",
    "problem_responses",
    "refuse_unknown_query",
    "subject_code",
    "unknown_subject",
]


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these problem ``statuses`` (each a :class:`Problem`
    with what the status means here)."""
    text = {
        400: "Malformed request (bad code, instant or parameter)",
        401: "A bearer token is required (WWW-Authenticate: Bearer)",
        403: "The principal's role may not do this",
        404: "Unknown subject, list or resource",
        409: "Conflict (id reused with other content, write conflict)",
        413: "Body or batch too large",
        415: "Content-Type missing or not JSON (application/json, CloudEvents JSON, JSON lines)",
        422: "The event was rejected (reason in `code`)",
        503: "Not available now (database or projections)",
    }
    return {s: {"model": Problem, "description": text[s]} for s in statuses}


CodeParam = Annotated[
    str,
    Path(
        description="Unified social credit code (统一社会信用代码), 18 characters",
        examples=[EXAMPLE_CODE],
        json_schema_extra={"pattern": CODE_PATTERN, "format": CODE_FORMAT},
    ),
]
_INSTANT_DOC = (
    "RFC 3339 date-time with offset, or a date YYYY-MM-DD meaning the end of that day "
    f"in China Standard Time (UTC+8), within {DEFAULT_RANGE.text} (the default range; "
    "LEDGER_DATE_FIRST/LEDGER_DATE_LAST): outside it a 400 date-out-of-range, unparsable "
    "a 400 invalid-instant. Default: now."
)
_INSTANT_SCHEMA = {"type": "string", "format": INSTANT_FORMAT}
AsOf = Annotated[
    str | None,
    Query(
        description="Valid time: " + _INSTANT_DOC,
        examples=["2026-03-01"],
        json_schema_extra=_INSTANT_SCHEMA,
    ),
]
KnownAt = Annotated[
    str | None,
    Query(
        description="Recorded time: " + _INSTANT_DOC,
        examples=["2026-03-01T12:00:00+08:00"],
        json_schema_extra=_INSTANT_SCHEMA,
    ),
]


def _query_names(dependant: Any) -> set[str]:
    names = {p.alias for p in getattr(dependant, "query_params", ())}
    for sub in getattr(dependant, "dependencies", ()):
        names |= _query_names(sub)
    return names


async def known_query_only(request: Request) -> None:
    """Refuse query parameters the endpoint does not define (400 ``invalid-request``):
    a misspelt ``as_of`` must not silently mean "now". (``async``: it runs on the event
    loop, not through the thread pool.)"""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:  # pragma: no cover - always an APIRoute here
        return
    refuse_unknown_query(request, _query_names(dependant))


def refuse_unknown_query(request: Request, known: Collection[str]) -> None:
    """A 400 ``invalid-request`` naming the query parameters of ``request`` not in
    ``known`` (what :func:`known_query_only` checks, for an endpoint that declares its
    parameters itself)."""
    if not request.scope.get("query_string"):
        return
    unknown = sorted(set(request.query_params) - set(known))
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        allowed = ", ".join(sorted(known)) or "none"
        raise ProblemError(
            400,
            Reason.INVALID_REQUEST,
            f"unknown query parameter {names}; this endpoint takes: {allowed}",
            invalid=[{"name": u, "reason": "unknown query parameter"} for u in unknown],
        )


def subject_code(code: str) -> str:
    """The validated code, or a 400 problem with the code validator's reason."""
    try:
        return validate_subject_code(code)
    except InvalidEvent as e:
        raise ProblemError.of_rejection(e.rejection, 400) from e


def instant(name: str, text: str | None) -> int | None:
    """Microseconds UTC of a query instant, or a 400 problem: ``invalid-instant`` for
    text that is no instant, ``date-out-of-range`` for one outside the accepted range."""
    if text is None:
        return None
    try:
        return parse_instant(text)
    except InvalidInstant as e:
        raise ProblemError(
            400, e.reason, f"{name}: {e}", invalid=[{"name": name, "reason": str(e)}]
        ) from e


def client_of(request: Request) -> str | None:
    """The client's address (the access log records it), if known."""
    return request.client.host if request.client else None


def unknown_subject(code: str) -> ProblemError:
    """The 404 problem of a subject the ledger holds no record of."""
    return ProblemError(404, Reason.UNKNOWN_SUBJECT, f"the ledger has no record of subject {code}")
