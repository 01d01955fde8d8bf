"""What the ledger holds about one subject, at any moment: ``GET
/v1/subjects/{code}/standing``, ``…/history``, ``…/disclosure``, ``…/persons`` and
``…/audit-bundle``.

Every read takes the subject code (400 if malformed, 404 if the ledger holds no
record of it) and, except the audit bundle, ``as_of`` (valid time); standing,
history and disclosure also ``known_at`` (recorded time). What a principal sees is
its audience's (:mod:`api.audience`): the public only what is published now; a
non-public reader's disclosure is flagged where a record's authority is unverified.
A read that returns personal data is written to the access log. History pages by
stream order (:mod:`api.paging`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.audience import audience_of
from api.auth import require
from api.models import AuditBundle, Disclosure, History, Standing
from api.paging import MAX_LIMIT, Cursor, Limit, page_of
from api.parameters import (
    AsOf,
    CodeParam,
    KnownAt,
    client_of,
    instant,
    known_query_only,
    problem_responses,
    subject_code,
    unknown_subject,
)
from api.problems import ProblemError
from api.read_side import NoCheckpoint, NotAvailable, UnknownSubject, View
from api.responses import JSONBytes
from api.services import Services, services
from api.tokens import Principal, Role
from api.unverified import flag_disclosure
from events.reasons import Reason
from projections.public import EVERYTHING, standing_for
from projections.reads import SubjectViewsFailed
from services.responsible import persons_of

__all__ = ["subjects_router"]

subjects_router = APIRouter(prefix="/v1", dependencies=[Depends(known_query_only)])


@dataclass(frozen=True, slots=True)
class _Asked:
    """One subject read as asked: who asks, the subject, both instants as given (the
    history's paging scope) and as parsed, and the history's page."""

    svc: Services
    principal: Principal
    code: str
    as_of: str | None
    known_at: str | None
    as_of_us: int | None
    known_at_us: int | None
    limit: int | None
    cursor: str | None


def _standing(asked: _Asked) -> View:
    """The standing; to an audience that does not see everything, without what rests
    on records not shown to it (停止共享: repaired records only to whom they belong)."""
    svc, code = asked.svc, asked.code
    view = svc.views.standing(code, asked.as_of_us, asked.known_at_us)
    audience = audience_of(asked.principal)
    if not audience.everything:
        now = svc.views.disclosure(code, None, None, EVERYTHING).body
        view = View(standing_for(audience, view.body, now), view.personal)
    return view


def _history(asked: _Asked) -> View:
    """One page of the history, in stream order (:mod:`api.paging`)."""
    code, role = asked.code, asked.principal.role.value
    view = asked.svc.views.history(code, asked.as_of_us, asked.known_at_us, role)
    page = page_of(
        view.body["events"],
        lambda e: (e["seq"],),
        scope=f"history:{code}:{asked.as_of}:{asked.known_at}",
        limit=asked.limit,
        cursor=asked.cursor,
        default=MAX_LIMIT,
    )
    return View({**view.body, "events": page.items, **page.fields()}, view.personal)


def _disclosure(asked: _Asked) -> View:
    """The audience's disclosure; to a non-public reader, with the records whose
    authority is unverified flagged."""
    svc, code, principal = asked.svc, asked.code, asked.principal
    view = svc.views.disclosure(code, asked.as_of_us, asked.known_at_us, audience_of(principal))
    if principal.role is Role.PUBLIC:
        return view
    return View(flag_disclosure(view.body, svc.ledger, code, asked.known_at_us), view.personal)


_SUBJECT_READS: dict[str, Callable[[_Asked], View]] = {
    "standing": _standing,
    "history": _history,
    "disclosure": _disclosure,
}
"""The reads at ``as_of`` / ``known_at`` by name (the access log's ``what``)."""


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
    """Parse the subject and instants (400), read ``what`` (404 unknown subject, 503 its
    views failed), log a read of personal data by a non-public reader, answer JSON."""
    code = subject_code(code)
    as_of_us = instant("as_of", as_of)
    known_at_us = instant("known_at", known_at)
    asked = _Asked(svc, principal, code, as_of, known_at, as_of_us, known_at_us, limit, cursor)
    try:
        view = _SUBJECT_READS[what](asked)
    except UnknownSubject as e:
        raise unknown_subject(code) from e
    except SubjectViewsFailed as e:
        raise ProblemError(503, Reason.UNAVAILABLE, str(e)) from e
    if view.personal and principal.role is not Role.PUBLIC:
        svc.access_log.record(
            principal,
            what,
            code,
            as_of=as_of_us,
            known_at=known_at_us,
            client=client_of(request),
        )
    return JSONBytes(view.body)


@subjects_router.get(
    "/subjects/{code}/standing",
    tags=["subjects"],
    summary="Credit standing: grade, score and why, active measures, open items",
    response_model=Standing,
    responses=problem_responses(400, 401, 403, 404, 503),
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


@subjects_router.get(
    "/subjects/{code}/history",
    tags=["subjects"],
    summary="Every record with both clocks, who and on what basis",
    description=(
        "Auditors and objection handlers: any subject; a subject's token: its own "
        "records only (403 not-own-subject otherwise). Paged by stream order "
        f"(`limit`, default and maximum {MAX_LIMIT}; `cursor` ← `next`; `total`)."
    ),
    response_model=History,
    responses=problem_responses(400, 401, 403, 404, 503),
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


@subjects_router.get(
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
    responses=problem_responses(400, 401, 404, 503),
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


@subjects_router.get(
    "/subjects/{code}/persons",
    tags=["audit"],
    summary="Responsible persons (责任人) and which sanctions and measures extend to them",
    description=(
        "For auditors: each person linked to the subject (key id, name, role, tenure; never the "
        "identity number), the designations, measures and bans in force that extend to them "
        "(seed 000 §十二), and every measure in force with its entry of the measures list "
        "(惩戒措施清单: category, basis, whether it extends to responsible persons)."
    ),
    responses=problem_responses(400, 401, 403, 404, 503),
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
    svc.access_log.record(principal, "persons", code, as_of=as_of_us, client=client_of(request))
    return JSONBytes(body)


@subjects_router.get(
    "/subjects/{code}/audit-bundle",
    tags=["audit"],
    summary="The subject's records, inclusion proofs and a signed checkpoint (AUDIT-FORMAT.md)",
    response_model=AuditBundle,
    responses=problem_responses(400, 401, 403, 404, 503),
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
        svc.access_log.record(principal, "audit-bundle", code, client=client_of(request))
    witnesses = svc.extras.get("cosignatures")  # LEDGER_WITNESSES: beside the signature
    return JSONBytes(witnesses.attach(view.body) if witnesses is not None else view.body)
