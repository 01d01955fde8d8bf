"""Regulators' insight over the whole ledger: early warnings, statistics and exports.

* ``GET /v1/warnings`` (agency, auditor): the warnings of every subject at
  ``as_of`` as known at ``known_at`` (``projections.warnings``), optionally of one
  ``rule``; an agency sees only those of its own sector and region
  (:meth:`~projections.warnings.RiskWarning.seen_by`), an auditor all. Paged by
  ``limit`` and ``cursor`` (→ ``next``, ``total``).
* ``/insight/warnings`` — the page for regulators: the same list, as of a day.
* ``GET /v1/statistics`` (agency, auditor): ``projections.statistics`` for a
  ``region``, ``sector``, ``agency`` and period (``from``, ``to``); JSON, or CSV
  with ``format=csv``. An agency's statistics are those of its own region (a
  region outside it is a 403).
* ``GET /v1/exports/{kind}`` (agency, auditor): ``projections.exports`` of the
  latest signed checkpoint at ``as_of`` in ``format`` (parquet, csv, jsonl), the
  snapshot (with the checkpoint) in the ``Ledger-Snapshot`` header and, for
  Parquet, in the file's metadata. An agency reads as its audience
  (``api.audience``): its own records, and the published ones.
* ``/insight/statistics`` — the same with charts (Apache ECharts, shipped in
  ``api/static/vendor/echarts``; nothing from a CDN) and a CSV download link.

The warning rule book is ``extras["warning_book"]`` when the composition root
hands one, else the ledger's rule services' (``RuleServices.warnings``).
"""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import PlainTextResponse, Response

from api.audience import audience_of
from api.auth import current_principal, require
from api.page_labels import page_label
from api.pages import _error, _page, _page_refused
from api.parameters import AsOf, KnownAt, instant, known_query_only, problem_responses
from api.problems import ProblemError
from api.responses import JSONBytes
from api.services import Services, services
from api.tokens import Principal, Role
from commands.agencies import Agencies
from commands.jurisdiction import region_contains, sector_and_region
from commands.warning_rules import WarningBook
from events.instants import CST, from_us
from events.reasons import Reason
from projections.exports import EXPORT_FORMATS, EXPORT_KINDS, export_of, write_export
from projections.statistics import StatisticsFilter, statistics, statistics_csv
from projections.warnings import RiskWarning, ledger_warnings, warnings_body

__all__ = ["insight_pages_router", "insight_router"]

insight_router = APIRouter(prefix="/v1", dependencies=[Depends(known_query_only)])
insight_pages_router = APIRouter(include_in_schema=False)

MAX_PAGE = 1000


def warning_book(svc: Services) -> WarningBook:
    """The warning rules the app was given (``extras["warning_book"]``), else the
    ledger's rule services' (the composition root loads both from the settings)."""
    book = svc.extras.get("warning_book")
    if not isinstance(book, WarningBook):
        book = svc.extras["warning_book"] = svc.ledger.rule_services().warnings
    return book


def visible_warnings(
    svc: Services,
    principal: Principal,
    as_of_us: int | None,
    known_at_us: int | None,
    rule: str | None,
) -> tuple[int, list[RiskWarning]]:
    """(the instant read, the warnings ``principal`` may see). Raises a 400
    problem for an unknown rule."""
    book = warning_book(svc)
    if rule is not None and rule not in book.rule_ids():
        raise ProblemError(
            400,
            Reason.INVALID_REQUEST,
            f"rule: no rule {rule!r}; known: {', '.join(book.rule_ids())}",
            invalid=[{"name": "rule", "reason": "unknown rule"}],
        )
    at = svc.clock() if as_of_us is None else as_of_us
    ledger = svc.ledger
    rules = ledger.rules
    assert rules is not None
    found = ledger_warnings(ledger.recorder.store.views(), rules, book, at, known_at_us, rule)
    if principal.role is not Role.AUDITOR:
        agency = principal.agency or ""
        found = [w for w in found if w.seen_by(agency, rules.agencies)]
    return at, found


def _page_bounds(cursor: str | None, limit: int, total: int) -> tuple[int, int | None]:
    if cursor is None:
        start = 0
    elif cursor.isdigit() and len(cursor) < 10:
        start = int(cursor)
    else:
        raise ProblemError(
            400,
            Reason.INVALID_REQUEST,
            "cursor: not a cursor this endpoint gave",
            invalid=[{"name": "cursor", "reason": "unknown cursor"}],
        )
    end = start + limit
    return start, end if end < total else None


@insight_router.get(
    "/warnings",
    tags=["insight"],
    summary="Early warnings (风险预警) of every subject, with evidence",
    description="Each warning names its rule (`rule`, `rule_set` id@version), its evidence "
    "(record ids) and `since` when it holds, read at `as_of` as known at `known_at`. An agency "
    "sees the warnings of its own sector and region; an auditor all.",
    responses=problem_responses(400, 401, 403),
)
def get_warnings(
    principal: Annotated[Principal, Depends(require("warnings"))],
    svc: Annotated[Services, Depends(services)],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    rule: Annotated[str | None, Query(description="one rule id only")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[str | None, Query(description="`next` of the previous page")] = None,
) -> Response:
    as_of_us = instant("as_of", as_of)
    known_at_us = instant("known_at", known_at)
    at, found = visible_warnings(svc, principal, as_of_us, known_at_us, rule)
    start, following = _page_bounds(cursor, limit, len(found))
    body: dict[str, Any] = warnings_body(found[start : start + limit], at, known_at_us)
    body.update(total=len(found), next=None if following is None else str(following))
    return JSONBytes(body)


# -- the page for regulators ------------------------------------------------------------------


def _day(us: int) -> str:
    return from_us(us).astimezone(CST).date().isoformat()


@insight_pages_router.get("/insight/warnings")
def warnings_page(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    svc: Annotated[Services, Depends(services)],
    as_of: str | None = None,
    rule: str | None = None,
) -> Response:
    refused = _page_refused(request, principal, "warnings", "风险预警 / this role may not see warnings")
    if refused is not None:
        return refused
    try:
        at, found = visible_warnings(
            svc, principal, instant("as_of", as_of or None), None, rule or None
        )
    except ProblemError as exc:
        return _error(request, 400, "请求有误 Bad request", exc.detail)
    book = warning_book(svc)
    rules = {r.id: r for rs in book.rule_sets for r in rs.rules}
    counts = {rid: sum(1 for w in found if w.rule.id == rid) for rid in rules}
    return _page(
        request,
        "warnings.html",
        {
            "as_of": _day(at),
            "rule": rule or "",
            "rules": rules,
            "counts": counts,
            "warnings": [w.to_json() for w in found],
        },
    )


# -- statistics -------------------------------------------------------------------------------


def _region(text: str | None) -> str | None:
    if text is None:
        return None
    if len(text) != 6 or not text.isdigit():
        raise ProblemError(
            400,
            Reason.INVALID_REQUEST,
            f"region: {text!r} is not a six-digit GB/T 2260 code",
            invalid=[{"name": "region", "reason": "not a region code"}],
        )
    return text


def _date(name: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ProblemError(
            400,
            Reason.INVALID_REQUEST,
            f"{name}: {text!r} is not a date written YYYY-MM-DD",
            invalid=[{"name": name, "reason": "not a date"}],
        ) from None


def _agencies(svc: Services) -> Agencies:
    """The agency and region registry the ledger was started with."""
    rules = svc.ledger.rules
    assert rules is not None
    return rules.agencies


def statistics_filter(
    agencies: Agencies,
    principal: Principal,
    region: str | None,
    sector: str | None,
    agency: str | None,
    start: str | None,
    end: str | None,
) -> StatisticsFilter:
    """The filter a request asks for, bounded by what ``principal`` may see: an
    agency only its own region. Raises 400 / 403 problems."""
    wanted = _region(region)
    if principal.role is not Role.AUDITOR:
        own = sector_and_region(agencies, principal.agency or "")
        if own is None:
            raise ProblemError(
                403, Reason.ROLE_NOT_ALLOWED, "this principal names no agency region"
            )
        if wanted is None:
            wanted = own[1]
        elif not region_contains(agencies, own[1], wanted):
            raise ProblemError(
                403,
                Reason.ROLE_NOT_ALLOWED,
                f"an agency of region {own[1]} sees the statistics of its own region only",
            )
    return StatisticsFilter(
        region=wanted,
        sector=sector or None,
        agency=agency or None,
        start=_date("from", start),
        end=_date("to", end),
    )


def _statistics(svc: Services, filters: StatisticsFilter) -> dict[str, Any]:
    rules = svc.ledger.rules
    assert rules is not None
    return statistics(svc.ledger.recorder.store.views(), rules, filters)


Region = Annotated[
    str | None, Query(description="GB/T 2260 region: 000000 all, PP0000 a province …")
]
Sector = Annotated[str | None, Query(description="the recording agency's kind, e.g. samr")]
Agency = Annotated[str | None, Query(description="one agency source, e.g. samr/440300")]
From = Annotated[str | None, Query(alias="from", description="first valid day, YYYY-MM-DD")]
To = Annotated[str | None, Query(alias="to", description="last valid day, YYYY-MM-DD")]


@insight_router.get(
    "/statistics",
    tags=["insight"],
    summary="Statistics for a region, sector, agency and period (JSON or CSV)",
    description="Counts of records by kind and severity, list entries and exits, repairs, "
    "objections (outcome, decision time against the deadline), publications late against the "
    "7-working-day rule, grade distribution; computed by DuckDB at the views' position. "
    "`format=csv` gives one long CSV. An agency sees its own region only.",
    responses=problem_responses(400, 401, 403),
)
def get_statistics(
    principal: Annotated[Principal, Depends(require("statistics"))],
    svc: Annotated[Services, Depends(services)],
    region: Region = None,
    sector: Sector = None,
    agency: Agency = None,
    start: From = None,
    end: To = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    filters = statistics_filter(_agencies(svc), principal, region, sector, agency, start, end)
    body = _statistics(svc, filters)
    if format == "csv":
        return PlainTextResponse(
            statistics_csv(body),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="statistics.csv"'},
        )
    return JSONBytes(body)


@insight_pages_router.get("/insight/statistics")
def statistics_page(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    svc: Annotated[Services, Depends(services)],
    region: str | None = None,
    sector: str | None = None,
    agency: str | None = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    refused = _page_refused(request, principal, "statistics", "统计 / this role may not see statistics")
    if refused is not None:
        return refused
    try:
        filters = statistics_filter(
            _agencies(svc),
            principal,
            region or None, sector or None, agency or None, start or None, end or None
        )
    except ProblemError as exc:
        return _error(request, exc.status, "请求有误 Bad request", exc.detail)
    body = _statistics(svc, filters)
    query = {k: v for k, v in filters.to_json().items() if v}
    return _page(
        request,
        "statistics.html",
        {
            "stats": body,
            "labels": _statistics_labels(svc.ledger.rules, body),
            "filters": filters.to_json(),
            "csv_url": "/v1/statistics?" + urlencode({**query, "format": "csv"}),
        },
    )


def _statistics_labels(rules: Any, stats: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The labels the statistics page's charts show for the codes in ``stats``."""
    return {
        "action": {
            f"{r['kind']}.{r['action']}": page_label(rules, "action", f"{r['kind']}.{r['action']}")
            for r in stats.get("records", [])
        },
        "severity": {s: page_label(rules, "severity", s) for s in ("minor", "general", "serious")},
        "list": {e["list"]: page_label(rules, "list", e["list"]) for e in _entries_and_exits(stats)},
        "region": {r["region"]: page_label(rules, "region", r["region"]) for r in stats.get("by_region", [])},
        "sector": {
            r["sector"]: page_label(rules, "agency-kind", r["sector"]) for r in stats.get("by_sector", [])
        },
        "kind": {
            p["kind"]: page_label(rules, "record-kind", p["kind"])
            for p in stats.get("publications", {}).get("by_kind", [])
        },
    }


def _entries_and_exits(stats: dict[str, Any]) -> list[dict[str, Any]]:
    lists = stats.get("lists", {})
    return [*lists.get("entries", []), *lists.get("exits", [])]


# -- exports ----------------------------------------------------------------------------------

MEDIA_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl",
}


@insight_router.get(
    "/exports/{kind}",
    tags=["insight"],
    summary="A consistent snapshot for other systems (按需共享): Parquet, CSV or JSON lines",
    description="`records`, `disclosure`, `lists` or `standing`, read at `as_of` from exactly the "
    "records the latest signed checkpoint commits to. The snapshot (kind, as_of, position, "
    "known_at, checkpoint) is in the `Ledger-Snapshot` header, and in a Parquet file's metadata "
    "under `credit-ledger.snapshot`. An agency gets its own records and what is published.",
    responses={
        200: {
            "description": "The export file",
            "content": {m: {} for m in MEDIA_TYPES.values()},
        },
        **problem_responses(400, 401, 403, 503),
    },
    response_class=Response,
)
def get_export(
    kind: Annotated[
        str,
        Path(description="what to export", json_schema_extra={"enum": list(EXPORT_KINDS)}),
    ],
    principal: Annotated[Principal, Depends(require("exports"))],
    svc: Annotated[Services, Depends(services)],
    as_of: AsOf = None,
    format: Annotated[str, Query(description="parquet, csv or jsonl")] = "parquet",
) -> Response:
    from ledger.audit.checkpoints import latest_checkpoint

    if kind not in EXPORT_KINDS:
        raise ProblemError(
            404, Reason.INVALID_REQUEST, f"no export {kind!r}; exports: {', '.join(EXPORT_KINDS)}"
        )
    if format not in EXPORT_FORMATS:
        raise ProblemError(
            400,
            Reason.INVALID_REQUEST,
            f"format: {format!r}; formats: {', '.join(EXPORT_FORMATS)}",
            invalid=[{"name": "format", "reason": "unknown format"}],
        )
    as_of_us = instant("as_of", as_of)
    ledger = svc.ledger
    rules = ledger.rules
    assert rules is not None
    checkpoint = latest_checkpoint(ledger.recorder)
    if checkpoint is None:
        raise ProblemError(
            503,
            Reason.INVALID_REQUEST,
            "no signed checkpoint yet: an export is the state one commits to",
        )
    now = svc.clock()
    export = export_of(
        kind,
        ledger.recorder.store.views(),
        rules,
        checkpoint.to_json(),
        now if as_of_us is None else as_of_us,
        now,
        audience_of(principal),
    )
    out = io.BytesIO()
    write_export(export, format, out)
    snapshot = json.dumps(export.snapshot.to_json(), separators=(",", ":"))  # ASCII: a header
    return Response(
        out.getvalue(),
        media_type=MEDIA_TYPES[format],
        headers={
            "Ledger-Snapshot": snapshot,
            "Content-Disposition": f'attachment; filename="{kind}.{format}"',
        },
    )
