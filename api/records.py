"""Finding things: ``GET /v1/subjects?q=`` (search by name or code), ``GET
/v1/records/{source}/{id}`` (one record), ``GET /v1/public-key`` (the checkpoint key).

* Search pages like every list (:mod:`api.paging`): the exact code first, then by
  code; ``total`` counts every match. Names are public (信用中国 shows them).
* A record is looked up by its idempotency key (``source``, ``id``); what a reader
  gets of it is decided by ``projections.public.record_for`` — the ONE place that
  filters public output: the roles that see everything, the subject itself and the
  agency that recorded it read the record; the public the published item only; a
  record the reader may not see is a 404 ``not-found`` like a record that does not
  exist (no hint). ``POST /v1/events`` points ``Location`` here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from api.audience import audience_of
from api.auth import require
from api.models import PublicKey, RecordView, SearchResults
from api.names import Match, NameIndex
from api.paging import Cursor, Limit, Page, page_of
from api.parameters import known_query_only, problem_responses
from api.problems import ProblemError
from api.read_side import PERSON_TYPE, UnknownSubject
from api.responses import JSONBytes
from api.services import Services, services
from api.tokens import Principal, Role
from events.reasons import Reason
from projections.public import record_for
from projections.reads import SubjectViewsFailed

__all__ = ["records_router", "search_page"]

records_router = APIRouter(prefix="/v1", dependencies=[Depends(known_query_only)])


@records_router.get(
    "/subjects",
    tags=["subjects"],
    summary="Search subjects by name or code (统一社会信用代码)",
    description=(
        "Subjects whose code starts with `q` or whose name contains it (case-insensitive), "
        "the exact code first, then by code; paged (`limit`, `cursor` ← `next`; `total` "
        "matches)."
    ),
    response_model=SearchResults,
    responses=problem_responses(400),
)
def search_subjects(
    principal: Annotated[Principal, Depends(require("search"))],
    svc: Annotated[Services, Depends(services)],
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=100,
            description="Part of a name, or the start of a code",
            examples=["北京"],
        ),
    ],
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    query = q.strip()
    if not query:
        raise ProblemError(
            400,
            Reason.INVALID_REQUEST,
            "q: give part of a name or the start of a code",
            invalid=[{"name": "q", "reason": "blank"}],
        )
    page = search_page(svc.names, query, limit, cursor)
    items = [{"subject": m.subject, "name": m.name} for m in page.items]
    return JSONBytes({"query": query, "items": items, **page.fields()})


def search_page(
    names: NameIndex, query: str, limit: int | None, cursor: str | None
) -> Page[Match]:
    """One page of the subjects matching ``query`` (the exact code first, then by
    code): what the API and the search page both show."""
    upper = query.strip().upper()
    return page_of(
        names.search(query, limit=None),
        lambda m: (m.subject != upper, m.subject),
        scope=f"search:{query.strip()}",
        limit=limit,
        cursor=cursor,
    )


@records_router.get(
    "/records/{kind}/{region}/{id:path}",
    tags=["subjects"],
    summary="One record by its source (KIND/REGION) and id",
    description=(
        "The record as the reader may see it: `record` (its history entry: both clocks, "
        "who, basis, links) for auditors, objection handlers, the subject itself and the "
        "agency that recorded it; `disclosure`, its item of the disclosure view, as that "
        "reader sees it (the public: only while published). A record the reader may not "
        "see is a 404 like one that does not exist."
    ),
    response_model=RecordView,
    responses=problem_responses(400, 401, 404, 503),
)
def get_record(
    request: Request,
    kind: Annotated[
        str,
        Path(
            description="The source's kind (samr, credit-platform, subject, …)",
            pattern="^[a-z][a-z0-9-]{0,39}$",
            examples=["samr"],
        ),
    ],
    region: Annotated[
        str,
        Path(
            description="The source's region (six digits), or a subject's code",
            pattern="^[0-9A-Za-z]{1,18}$",
            examples=["440300"],
        ),
    ],
    id: Annotated[
        str,
        Path(
            description="The record's CloudEvents id",
            min_length=1,
            max_length=256,
            examples=["samr-440300-2026-000123"],
        ),
    ],
    principal: Annotated[Principal, Depends(require("records"))],
    svc: Annotated[Services, Depends(services)],
) -> Response:
    source = f"{kind}/{region}"
    missing = ProblemError(404, Reason.NOT_FOUND, f"no record {id!r} from {source} to show")
    recorder = svc.ledger.recorder
    with recorder.audit_reader() as cursor:
        found = recorder.select_by_keys(cursor, [(source, id)]).get((source, id))
    if found is None:
        raise missing
    code = found.subject
    audience = audience_of(principal)
    try:
        history = svc.views.history(code, None, None, principal.role.value)
        disclosure = svc.views.disclosure(code, None, None, audience)
    except UnknownSubject as e:  # pragma: no cover - the record names its subject
        raise missing from e
    except SubjectViewsFailed as e:
        raise ProblemError(503, Reason.UNAVAILABLE, str(e)) from e
    entry = next((e for e in history.body["events"] if e["id"] == id and e["source"] == source), None)
    item = next((i for i in disclosure.body.get("items", ()) if i.get("event_id") == id), None)
    shown = record_for(audience, code, entry or found.to_json(), item)
    if shown is None:
        raise missing
    if shown["record"] is not None and found.type == PERSON_TYPE and principal.role is not Role.PUBLIC:
        svc.access_log.record(
            principal, "record", code, client=request.client.host if request.client else None
        )
    body: dict[str, Any] = {"subject": code, "source": source, "id": id, **shown}
    return JSONBytes(body)


@records_router.get(
    "/public-key",
    tags=["audit"],
    summary="The Ed25519 public key that signs checkpoints and reports",
    response_model=PublicKey,
    responses=problem_responses(404),
)
def get_public_key(
    principal: Annotated[Principal, Depends(require("public-key"))],
    svc: Annotated[Services, Depends(services)],
) -> Response:
    key = getattr(svc.views, "public_key", None)
    if not isinstance(key, str):
        raise ProblemError(404, Reason.NOT_FOUND, "no checkpoint signing key is configured")
    origin = getattr(svc.views, "origin", None)
    return JSONBytes({"algorithm": "Ed25519", "public_key": key, "origin": origin})
