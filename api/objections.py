"""Requests and the objection handlers' queue.

* ``GET /v1/subjects/{code}/requests`` — the subject's objections and repair
  requests and how far each has come (受理, 核实, 决定) with its deadlines
  (``projections.requests``); for the subject itself (its token), auditors and
  objection handlers.
* ``GET /v1/objections`` — the objection handler's queue: every pending objection,
  overdue first, then by decide-by day; ``may_resolve`` says whether the handler's
  token (the agency or platform it names) may resolve it — the authority check of
  ``commands.authority`` on a draft resolution, the same check the decide path runs;
  ``mine=true`` keeps only those. Each item carries ``target_record``: the targeted
  record as the ledger knew it when the objection was recorded (its history entry
  read ``known_at`` the filing). Paged like every list (``api.paging``).

:func:`objection_queue` and :func:`subject_requests` are shared with the pages
(``api.desk``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from api.auth import require
from api.paging import Cursor, Limit, Page, page_of
from api.parameters import (
    CodeParam,
    known_query_only,
    problem_responses,
    subject_code,
    unknown_subject,
)
from api.responses import JSONBytes
from api.services import Services, services
from api.tokens import Principal
from commands.authority import authority_check
from commands.services import RuleServices
from commands.workflows.common import cst_day
from events.envelope import Envelope
from events.instants import CST, from_us
from events.vocabulary import EVENT_TYPES
from ledger.app import fold
from ledger.scans import records
from projections.requests import requests_of

__all__ = ["objection_queue", "objections_router", "subject_requests", "target_as_filed"]

objections_router = APIRouter(prefix="/v1", dependencies=[Depends(known_query_only)])

FILED = "credit.objection.filed"
RESOLVED = "credit.objection.resolved"


def _rules(svc: Services) -> RuleServices:
    rules = svc.ledger.rules
    assert rules is not None  # the app is built over a ledger with rule services
    return rules


def subject_requests(svc: Services, code: str) -> list[dict[str, Any]] | None:
    """The requests of ``code`` today (None when the ledger has no record of it)."""
    stream = svc.ledger.stream(code)
    if not stream:
        return None
    today = cst_day(svc.clock())
    return requests_of(fold(code, stream), _rules(svc), today)


def _may_resolve(svc: Services, principal: Principal, state: Any, objection: str) -> bool:
    """Whether the principal's agency or platform may resolve ``objection``: the
    authority check (``commands.authority``) of a draft rejected resolution."""
    if principal.agency is None:
        return False
    now = svc.clock()
    draft = Envelope(
        id="draft",
        source=principal.agency,
        type=RESOLVED,
        subject=state.subject,
        time=from_us(now).astimezone(CST).isoformat(),
        time_us=now,
        data={"objection": objection, "outcome": "rejected", "reasons": "draft"},
        schema_version=EVENT_TYPES[RESOLVED].version,
    )
    return authority_check(_rules(svc).agencies, state, draft) is None


def objection_queue(svc: Services, principal: Principal, mine: bool = False) -> list[dict[str, Any]]:
    """Every pending objection (the handler may resolve it: ``may_resolve``), overdue
    first, then by decide-by day, subject and id; with ``mine`` only those it may
    resolve. Reads the filings by type, then folds just their subjects' streams."""
    today = cst_day(svc.clock())
    subjects = {r.subject for r in records(svc.ledger, (FILED,))}
    queue: list[dict[str, Any]] = []
    for code in sorted(subjects):
        stream = svc.ledger.stream(code)
        state = fold(code, stream)
        recorded = {r.id: r.recorded_us for r in stream if r.type == FILED}
        for request in requests_of(state, _rules(svc), today):
            if request["kind"] != "objection" or request["stage"] != "verifying":
                continue
            may = _may_resolve(svc, principal, state, request["id"])
            if mine and not may:
                continue
            queue.append(
                {
                    **request,
                    "subject": code,
                    "subject_name": svc.names.name(code),
                    "filed_recorded_us": recorded.get(request["id"]),
                    "may_resolve": may,
                }
            )
    return queue


def queue_key(item: dict[str, Any]) -> tuple[Any, ...]:
    """Overdue first, then the earliest decide-by day (unknown last), subject, id."""
    return (not item["overdue"], item["decide_by"] or "9999-12-31", item["subject"], item["id"])


def target_as_filed(svc: Services, principal: Principal, item: dict[str, Any]) -> Any:
    """The targeted record's history entry as known when the objection was recorded."""
    view = svc.views.history(
        item["subject"], None, item.get("filed_recorded_us"), principal.role.value
    )
    return next((e for e in view.body["events"] if e["id"] == item["target"]), None)


def queue_page(
    svc: Services, principal: Principal, mine: bool, limit: int | None, cursor: str | None
) -> Page[dict[str, Any]]:
    """One page of the queue, each item with its ``target_record``."""
    page = page_of(
        objection_queue(svc, principal, mine),
        queue_key,
        scope=f"objections:{principal.token_id}:{mine}",
        limit=limit,
        cursor=cursor,
    )
    for item in page.items:
        item["target_record"] = target_as_filed(svc, principal, item)
    return page


@objections_router.get(
    "/objections",
    tags=["subjects"],
    summary="The objection handler's queue: pending objections, overdue first",
    description=(
        "Every pending objection (异议) with its flag-by and decide-by days, overdue first; "
        "`may_resolve` says whether this token's agency or platform may resolve it "
        "(`mine=true`: only those); `target_record` is the targeted record as the ledger "
        "knew it when the objection was recorded. Paged (`limit`, `cursor` ← `next`)."
    ),
    responses=problem_responses(400, 401, 403),
)
def get_objections(
    principal: Annotated[Principal, Depends(require("objections"))],
    svc: Annotated[Services, Depends(services)],
    mine: Annotated[bool, Query(description="Only those this token may resolve")] = False,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    page = queue_page(svc, principal, mine, limit, cursor)
    return JSONBytes({"items": page.items, **page.fields()})


@objections_router.get(
    "/subjects/{code}/requests",
    tags=["subjects"],
    summary="A subject's objections and repair requests and how far each has come",
    description=(
        "Each request with its steps 受理 (accepted), 核实 (verifying), 决定 (decided), "
        "its deadlines (flag_by, decide_by; the region's procedures) and the outcome. "
        "For the subject itself (its token; any other code is a 403 not-own-subject), "
        "auditors and objection handlers. Paged in stream order."
    ),
    responses=problem_responses(400, 401, 403, 404),
)
def get_requests(
    code: CodeParam,
    principal: Annotated[Principal, Depends(require("requests"))],
    svc: Annotated[Services, Depends(services)],
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    code = subject_code(code)
    found = subject_requests(svc, code)
    if found is None:
        raise unknown_subject(code)
    page = page_of(
        found, lambda r: (r["seq"],), scope=f"requests:{code}", limit=limit, cursor=cursor
    )
    return JSONBytes({"subject": code, "items": page.items, **page.fields()})
