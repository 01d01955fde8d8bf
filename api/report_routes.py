"""The credit report over HTTP (issue 19): ``GET /v1/subjects/{code}/report`` and
``GET /v1/reports/{report_id}``; and the trustworthy list, ``GET /v1/lists/trustworthy``.

Anyone may get a subject's report of now: it holds only what is public
(:mod:`projections.report`). A report for a past date (``as_of``) is for the roles that
see everything (auditor, objection handler; DOMAIN.md Clarifications). The JSON is
``credit-report/1``; ``Accept: application/pdf`` (or the path ``…/report.pdf``) gives the
PDF with the JSON attached. ``GET /v1/reports/{report_id}`` answers whether this ledger
issued the report, with the SHA-256 to compare with the one the report prints: JSON, or
a page for a browser (``Accept: text/html``, the phone that scanned the report's QR code).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.audience import audience_of
from api.auth import require
from api.list_routes import members_page
from api.paging import Cursor, Limit
from api.parameters import (
    AsOf,
    CodeParam,
    instant,
    known_query_only,
    problem_responses,
    subject_code,
    unknown_subject,
)
from api.problems import ProblemError, wants_html
from api.responses import JSONBytes
from api.services import Services, services
from api.tokens import Principal
from events.reasons import Reason
from projections.live import UnknownSubject

__all__ = ["PDF", "report_issuer", "reports_router"]

reports_router = APIRouter(prefix="/v1", tags=["reports"], dependencies=[Depends(known_query_only)])
PDF = "application/pdf"
_REPORT_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def report_issuer(svc: Services) -> Any:
    """The app's :class:`~projections.report.ReportIssuer`: ``extras["report_issuer"]``
    (``entrypoints.wiring`` builds it from the settings), else one over the views' ledger and
    checkpoint key, made once."""
    found = svc.extras.get("report_issuer")
    if found is None:
        from projections.report import ReportIssuer

        views: Any = svc.views
        if getattr(views, "signing_key", None) is None:
            raise ProblemError(503, Reason.UNAVAILABLE, "no checkpoint signing key is configured")
        found = ReportIssuer(
            svc.ledger.recorder,
            views.reads,
            views.signing_key,
            views.origin,
            svc.clock,
            checkpoint_log=getattr(views, "checkpoint_log", None),
        )
        svc.extras["report_issuer"] = found
    return found


def _issue(
    svc: Services, principal: Principal, code: str, as_of: str | None, pdf: bool
) -> Response:
    from api.report_render import PdfUnavailable, render_pdf
    from projections.report import ReportRefused, ReportUnavailable

    code = subject_code(code)
    as_of_us = instant("as_of", as_of)
    if as_of_us is not None and not audience_of(principal).everything:
        raise ProblemError(
            403,
            Reason.ROLE_NOT_ALLOWED,
            "a report for a past date is issued to auditors and objection handlers only "
            "(or by the ledger's command line); the public gets the report of now",
        )
    try:
        report = report_issuer(svc).issue(code, as_of_us)
        witnesses = svc.extras.get("cosignatures")  # LEDGER_WITNESSES: beside the signature
        report = witnesses.attach(report) if witnesses is not None else report
    except UnknownSubject as e:
        raise unknown_subject(code) from e
    except ReportRefused as e:
        raise ProblemError(400, Reason.INVALID_REQUEST, str(e)) from e
    except ReportUnavailable as e:
        raise ProblemError(503, Reason.UNAVAILABLE, str(e)) from e
    if pdf:
        try:
            data = render_pdf(report)
        except PdfUnavailable as e:
            raise ProblemError(503, Reason.UNAVAILABLE, str(e)) from e
        return Response(
            data,
            media_type=PDF,
            headers={
                "Content-Disposition": f'attachment; filename="credit-report-{code}-'
                f'{report["report_id"]}.pdf"'
            },
        )
    return JSONBytes(report)


@reports_router.get(
    "/subjects/{code}/report",
    summary="A signed credit report (信用报告) of the subject: JSON, or PDF by Accept",
    description=(
        "credit-report/1 (AUDIT-FORMAT.md): what is public about the subject, with its "
        "redacted audit bundle at a fresh checkpoint, signed with the ledger's key. "
        "`Accept: application/pdf` gives the typeset PDF with the JSON attached. "
        "`as_of` (a past date) is for auditors and objection handlers."
    ),
    responses={
        200: {"content": {PDF: {}}, "description": "the report (JSON, or PDF by Accept)"},
        **problem_responses(400, 403, 404, 503),
    },
)
async def get_report(
    request: Request,
    code: CodeParam,
    principal: Annotated[Principal, Depends(require("disclosure"))],
    svc: Annotated[Services, Depends(services)],
    as_of: AsOf = None,
) -> Response:
    pdf = PDF in request.headers.get("accept", "")
    return await run_in_threadpool(_issue, svc, principal, code, as_of, pdf)


@reports_router.get(
    "/subjects/{code}/report.pdf",
    summary="The subject's credit report as PDF",
    include_in_schema=False,  # the link of the pages; the API's is the route above by Accept
)
async def get_report_pdf(
    code: CodeParam,
    principal: Annotated[Principal, Depends(require("disclosure"))],
    svc: Annotated[Services, Depends(services)],
    as_of: AsOf = None,
) -> Response:
    return await run_in_threadpool(_issue, svc, principal, code, as_of, True)


@reports_router.get(
    "/reports/{report_id}",
    summary="Was this report issued by this ledger?",
    description="The register's entry of the report: subject, when issued, its dates and "
    "the SHA-256 of canon(report) to compare with the one the report prints; 404 if this "
    "ledger never issued it. A browser (`Accept: text/html`, the report's QR code opened "
    "on a phone) gets the same as a page.",
    responses={
        200: {"content": {"text/html": {}}, "description": "the entry (JSON, or a page)"},
        **problem_responses(400, 404),
    },
)
def get_issued_report(
    request: Request,
    report_id: Annotated[
        str,
        Path(
            description="The report's 26-character id (a ULID)",
            examples=["01M96HWWA2W0MN1HSHFE1CGVC4"],
            pattern=_REPORT_ID.pattern,
        ),
    ],
    principal: Annotated[Principal, Depends(require("disclosure"))],
    svc: Annotated[Services, Depends(services)],
) -> Response:
    if not _REPORT_ID.fullmatch(report_id):
        raise ProblemError(
            400, Reason.INVALID_REQUEST, "a report id is 26 characters of Crockford base32"
        )
    found = report_issuer(svc).issued(report_id)
    if found is None:
        raise ProblemError(404, Reason.NOT_FOUND, f"this ledger issued no report {report_id}")
    if wants_html(request):
        return _check_page(request, svc, found.to_json())
    return JSONBytes(found.to_json())


def _check_page(request: Request, svc: Services, entry: dict[str, Any]) -> Response:
    """The register's entry as a page: issued, for whom, its dates and SHA-256."""
    from api.pages import _page
    from events.instants import CST, from_us

    def shown(instant: str | None) -> str:
        return (instant or "")[:16].replace("T", " ") or "—"

    issued = from_us(int(entry["issued_us"])).astimezone(CST).strftime("%Y-%m-%d %H:%M")
    return _page(
        request,
        "report_check.html",
        {
            "r": entry,
            "name": svc.names.name(str(entry["subject"])),
            "issued": issued,
            "as_of": shown(entry.get("as_of")),
            "known_at": shown(entry.get("known_at")),
        },
    )


@reports_router.get(
    "/lists/trustworthy",
    tags=["lists"],
    summary="The trustworthy list (守信激励对象名单): who qualifies now",
    description="Subjects that meet the trustworthy rule of the incentives data (qualifying "
    "grades in consecutive evaluations, no published negative record, no commitment "
    "breached): each with its scheme, grades, since, valid_until, the lowered spot-check "
    "ratio and the evaluations it rests on (`derived_from`). Ordered by subject code and "
    "paged like the other lists (`limit`, `cursor` ← `next`; `total`, `subjects`). "
    "`as_of` (a past date) is for auditors and objection handlers.",
    responses=problem_responses(400, 403),
)
def get_trustworthy(
    principal: Annotated[Principal, Depends(require("lists"))],
    svc: Annotated[Services, Depends(services)],
    as_of: AsOf = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    from projections.trustworthy import members

    as_of_us = instant("as_of", as_of)
    if as_of_us is not None and not audience_of(principal).everything:
        raise ProblemError(
            403,
            Reason.ROLE_NOT_ALLOWED,
            "the trustworthy list of a past date is for auditors and objection handlers",
        )
    views: Any = svc.views
    body = members(views.reads, as_of_us)
    return JSONBytes(members_page(body, f"trustworthy:{as_of}:None", limit, cursor))
