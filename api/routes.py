"""The v1 endpoints (DESIGN.md "HTTP API (v1)") and the health probes.

Handlers are plain ``def`` where they touch the database (FastAPI runs them in
its thread pool) and return :class:`~api.responses.JSONBytes` built from the
projections' dicts. Every error is a problem (:mod:`api.problems`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.audience import audience_of
from api.auth import require
from api.models import (
    CODE_FORMAT,
    CODE_PATTERN,
    EXAMPLE_CODE,
    EXAMPLE_EVENT,
    INSTANT_FORMAT,
    AuditBundle,
    Checkpoint,
    Consistency,
    Disclosure,
    EventResult,
    Health,
    History,
    ListMembers,
    Problem,
    Standing,
)
from api.paging import MAX_LIMIT, Cursor, Limit, page_of
from api.problems import ProblemError, status_of_rejection
from api.read_side import NoCheckpoint, NotAvailable, UnknownList, UnknownSubject, View
from api.responses import JSONBytes
from api.services import Services, services
from api.submit import authorise, media_type, parse_body, read_body, submit
from api.tokens import Principal, Role
from api.unverified import flag_disclosure
from events.codes import validate_subject_code
from events.dates import DEFAULT_RANGE
from events.instants import InvalidInstant, parse_instant
from events.reasons import InvalidEvent, Reason
from ledger.store.views import LIST_NAMES
from projections.public import EVERYTHING, standing_for
from projections.reads import SubjectViewsFailed
from services.responsible import persons_of

__all__ = ["health_router", "members_page", "record_path", "v1_router"]

v1_router = APIRouter(prefix="/v1")
health_router = APIRouter(tags=["health"])


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
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


# -- parameters -------------------------------------------------------------------------

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


def known_query_only(request: Request) -> None:
    """Refuse query parameters the endpoint does not define (400 ``invalid-request``):
    a misspelt ``as_of`` must not silently mean "now"."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:  # pragma: no cover - always an APIRoute here
        return
    known = _query_names(dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        allowed = ", ".join(sorted(known)) or "none"
        raise ProblemError(
            400,
            Reason.INVALID_REQUEST,
            f"unknown query parameter {names}; this endpoint takes: {allowed}",
            invalid=[{"name": u, "reason": "unknown query parameter"} for u in unknown],
        )


v1_router.dependencies.append(Depends(known_query_only))


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


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def record_path(source: str, event_id: str) -> str:
    """The URL of one record (``GET /v1/records/{source}/{id}``; a source is
    ``KIND/REGION``, two path segments)."""
    from urllib.parse import quote

    return f"/v1/records/{quote(source, safe='/')}/{quote(event_id, safe='')}"


def unknown_subject(code: str) -> ProblemError:
    """The 404 problem of a subject the ledger holds no record of."""
    return ProblemError(404, Reason.UNKNOWN_SUBJECT, f"the ledger has no record of subject {code}")


def _read(
    request: Request,
    svc: Services,
    principal: Principal,
    what: str,
    code: str,
    as_of: str | None,
    known_at: str | None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Response:
    code = subject_code(code)
    as_of_us = instant("as_of", as_of)
    known_at_us = instant("known_at", known_at)
    try:
        if what == "history":
            view: View = svc.views.history(code, as_of_us, known_at_us, principal.role.value)
            page = page_of(
                view.body["events"],
                lambda e: (e["seq"],),
                scope=f"history:{code}:{as_of}:{known_at}",
                limit=limit,
                cursor=cursor,
                default=MAX_LIMIT,
            )
            body = {**view.body, "events": page.items, **page.fields()}
            view = View(body, view.personal)
        elif what == "disclosure":
            view = svc.views.disclosure(code, as_of_us, known_at_us, audience_of(principal))
        elif what == "standing":
            view = svc.views.standing(code, as_of_us, known_at_us)
            audience = audience_of(principal)
            if not audience.everything:  # 停止共享: repaired records only to whom they belong
                now = svc.views.disclosure(code, None, None, EVERYTHING).body
                view = View(standing_for(audience, view.body, now), view.personal)
        else:
            view = getattr(svc.views, what)(code, as_of_us, known_at_us)
    except UnknownSubject as e:
        raise unknown_subject(code) from e
    except SubjectViewsFailed as e:
        raise ProblemError(503, Reason.UNAVAILABLE, str(e)) from e
    if what == "disclosure" and principal.role is not Role.PUBLIC:
        view = View(flag_disclosure(view.body, svc.ledger, code, known_at_us), view.personal)
    if view.personal and principal.role is not Role.PUBLIC:
        svc.access_log.record(
            principal,
            what,
            code,
            as_of=as_of_us,
            known_at=known_at_us,
            client=_client(request),
        )
    return JSONBytes(view.body)


# -- events -----------------------------------------------------------------------------

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


@v1_router.post(
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
        **_problems(400, 401, 403, 409, 413, 415, 422, 503),
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


# -- subjects ---------------------------------------------------------------------------


@v1_router.get(
    "/subjects/{code}/standing",
    tags=["subjects"],
    summary="Credit standing: grade, score and why, active measures, open items",
    response_model=Standing,
    responses=_problems(400, 401, 403, 404, 503),
)
def get_standing(
    request: Request,
    code: CodeParam,
    principal: Annotated[Principal, Depends(require("standing"))],
    svc: Annotated[Services, Depends(services)],
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> Response:
    return _read(request, svc, principal, "standing", code, as_of, known_at)


@v1_router.get(
    "/subjects/{code}/history",
    tags=["subjects"],
    summary="Every record with both clocks, who and on what basis",
    description=(
        "Auditors and objection handlers: any subject; a subject's token: its own "
        "records only (403 not-own-subject otherwise). Paged by stream order "
        f"(`limit`, default and maximum {MAX_LIMIT}; `cursor` ← `next`; `total`)."
    ),
    response_model=History,
    responses=_problems(400, 401, 403, 404, 503),
)
def get_history(
    request: Request,
    code: CodeParam,
    principal: Annotated[Principal, Depends(require("history"))],
    svc: Annotated[Services, Depends(services)],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    return _read(request, svc, principal, "history", code, as_of, known_at, limit, cursor)


@v1_router.get(
    "/subjects/{code}/disclosure",
    tags=["subjects"],
    summary="What is public about the subject (信用中国 view), personal data masked",
    description=(
        "The public (no token) sees only records published now, at any `as_of` / "
        "`known_at`, with their current (corrected, 已更正) content, and the notice of a "
        "withdrawn or revoked penalty decision. Auditors and objection handlers see every "
        "record, an agency every record it is responsible for; an item whose publication "
        "ended carries `publication_ended` (why, on, by)."
    ),
    response_model=Disclosure,
    responses=_problems(400, 401, 404, 503),
)
def get_disclosure(
    request: Request,
    code: CodeParam,
    principal: Annotated[Principal, Depends(require("disclosure"))],
    svc: Annotated[Services, Depends(services)],
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> Response:
    return _read(request, svc, principal, "disclosure", code, as_of, known_at)


@v1_router.get(
    "/subjects/{code}/persons",
    tags=["audit"],
    summary="Responsible persons (责任人) and which sanctions and measures extend to them",
    description=(
        "For auditors: each person linked to the subject (key id, name, role, tenure; never the "
        "identity number), the designations, measures and bans in force that extend to them "
        "(seed 000 §十二), and every measure in force with its entry of the measures list "
        "(惩戒措施清单: category, basis, whether it extends to responsible persons)."
    ),
    responses=_problems(400, 401, 403, 404, 503),
)
def get_persons(
    request: Request,
    code: CodeParam,
    principal: Annotated[Principal, Depends(require("persons"))],
    svc: Annotated[Services, Depends(services)],
    as_of: AsOf = None,
) -> Response:
    code = subject_code(code)
    as_of_us = instant("as_of", as_of)
    body = persons_of(svc.ledger, code, as_of_us)
    if body is None:
        raise unknown_subject(code)
    svc.access_log.record(principal, "persons", code, as_of=as_of_us, client=_client(request))
    return JSONBytes(body)


@v1_router.get(
    "/subjects/{code}/audit-bundle",
    tags=["audit"],
    summary="The subject's records, inclusion proofs and a signed checkpoint (AUDIT-FORMAT.md)",
    response_model=AuditBundle,
    responses=_problems(400, 401, 403, 404, 503),
)
def get_audit_bundle(
    request: Request,
    code: CodeParam,
    principal: Annotated[Principal, Depends(require("audit-bundle"))],
    svc: Annotated[Services, Depends(services)],
    checkpoint: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**63 - 1,
            description="Size of a stored checkpoint (default: the latest; the first is "
            "issued if there is none)",
            examples=[22312],
        ),
    ] = None,
) -> Response:
    code = subject_code(code)
    try:
        view = svc.views.audit_bundle(code, checkpoint)
    except UnknownSubject as e:
        raise unknown_subject(code) from e
    except NoCheckpoint as e:
        raise ProblemError(404, Reason.NOT_FOUND, str(e)) from e
    except NotAvailable as e:
        raise ProblemError(503, Reason.UNAVAILABLE, str(e)) from e
    if view.personal:
        svc.access_log.record(principal, "audit-bundle", code, client=_client(request))
    witnesses = svc.extras.get("cosignatures")  # LEDGER_WITNESSES: beside the signature
    return JSONBytes(witnesses.attach(view.body) if witnesses is not None else view.body)


# -- lists ------------------------------------------------------------------------------


@v1_router.get(
    "/lists/{list}",
    tags=["lists"],
    summary="Current members of a public list",
    description=(
        "One member per listing (a subject listed twice, on two findings, is two "
        "members), ordered by subject code then listing id and paged (`limit`, "
        "`cursor` ← `next`; `total` listings). `subjects` counts the distinct subjects "
        "of the whole answer."
    ),
    response_model=ListMembers,
    responses=_problems(400, 401, 404, 503),
)
def get_list(
    list_name: Annotated[
        str,
        Path(
            alias="list",
            description="serious-dishonesty (严重失信主体名单), focus (重点关注) or bans "
            "(市场和行业禁入 register)",
            examples=["serious-dishonesty"],
            json_schema_extra={"enum": list(LIST_NAMES)},
        ),
    ],
    principal: Annotated[Principal, Depends(require("lists"))],
    svc: Annotated[Services, Depends(services)],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    as_of_us = instant("as_of", as_of)
    known_at_us = instant("known_at", known_at)
    try:
        view = svc.views.list_members(list_name, as_of_us, known_at_us, audience_of(principal))
    except UnknownList as e:
        names = ", ".join(svc.views.list_names())
        raise ProblemError(
            404, Reason.UNKNOWN_LIST, f"no public list {list_name!r}; lists: {names}"
        ) from e
    return JSONBytes(members_page(view.body, f"{list_name}:{as_of}:{known_at}", limit, cursor))


def members_page(
    body: dict[str, Any], scope: str, limit: int | None, cursor: str | None
) -> dict[str, Any]:
    """A list body with one page of its members (by subject code, then listing id),
    the paging members and ``subjects``: the distinct subjects of the whole answer (a
    subject listed on two findings is two members and one subject)."""
    members = body.get("members", [])
    page = page_of(
        members,
        lambda m: (str(m.get("subject")), str(m.get("event_id"))),
        scope=f"list:{scope}",
        limit=limit,
        cursor=cursor,
    )
    subjects = len({m.get("subject") for m in members})
    return {**body, "members": page.items, "subjects": subjects, **page.fields()}


# -- checkpoints ------------------------------------------------------------------------


@v1_router.get(
    "/checkpoints/latest",
    tags=["audit"],
    summary="The latest signed tree head",
    response_model=Checkpoint,
    responses=_problems(401, 404, 503),
)
def get_latest_checkpoint(
    principal: Annotated[Principal, Depends(require("checkpoints"))],
    svc: Annotated[Services, Depends(services)],
) -> Response:
    try:
        return JSONBytes(svc.views.latest_checkpoint().body)
    except NoCheckpoint as e:
        raise ProblemError(404, Reason.NOT_FOUND, str(e)) from e


@v1_router.get(
    "/checkpoints/consistency",
    tags=["audit"],
    summary="RFC 9162 consistency proof between two tree sizes",
    response_model=Consistency,
    responses=_problems(400, 401, 404, 503),
)
def get_consistency(
    principal: Annotated[Principal, Depends(require("checkpoints"))],
    svc: Annotated[Services, Depends(services)],
    from_size: Annotated[
        int, Query(alias="from", ge=0, description="The older tree size", examples=[1000])
    ],
    to_size: Annotated[
        int, Query(alias="to", ge=0, description="The newer tree size", examples=[2000])
    ],
) -> Response:
    if from_size > to_size:
        raise ProblemError(
            400,
            Reason.INVALID_REQUEST,
            f"from ({from_size}) must not exceed to ({to_size})",
            invalid=[{"name": "from", "reason": "greater than to"}],
        )
    try:
        return JSONBytes(svc.views.consistency(from_size, to_size).body)
    except NotAvailable as e:
        raise ProblemError(503, Reason.UNAVAILABLE, str(e)) from e
    except (LookupError, ValueError) as e:
        raise ProblemError(404, Reason.NOT_FOUND, str(e)) from e


# -- health -----------------------------------------------------------------------------


@health_router.get(
    "/healthz",
    summary="Liveness: the process answers",
    response_model=Health,
)
async def healthz() -> Response:
    return JSONBytes({"status": "ok", "checks": {}})


@health_router.get(
    "/readyz",
    summary="Readiness: the database answers and the projections are caught up",
    response_model=Health,
    responses={503: {"model": Health, "description": "Not ready; `checks` says why"}},
)
def readyz(svc: Annotated[Services, Depends(services)]) -> Response:
    try:
        checks = svc.views.readiness()
    except Exception as e:  # any failure to reach the store means not ready
        return JSONBytes(
            {"status": "unavailable", "checks": {"database": f"{type(e).__name__}: {e}"}},
            status_code=503,
        )
    lag = checks.get("projections_lag")
    ok = checks.get("database") == "ok" and (lag is None or lag <= svc.ready_lag)
    checks["max_lag"] = svc.ready_lag
    return JSONBytes(
        {"status": "ok" if ok else "unavailable", "checks": checks},
        status_code=200 if ok else 503,
    )
