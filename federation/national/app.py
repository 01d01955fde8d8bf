"""The national view over HTTP: FastAPI routes under ``/v1/national/``.

Everything served is public: it is what the regions' disclosure feeds published, so no
token is asked for. Each record carries its ``origin`` and ``links`` to the region's API
(the subject's audit bundle there, the record itself), where an auditor verifies it
against the region's signed checkpoints.

| path | what |
|---|---|
| ``GET /v1/national/subjects/{code}/disclosure`` | the items any region publishes now |
| ``GET /v1/national/subjects/{code}/standing`` | per region and overall: lists, bans, counts |
| ``GET /v1/national/lists/{list}`` | the union of the regions' lists (``limit``, ``cursor``) |
| ``GET /v1/national/subjects?q=`` | search by code prefix or name (``limit``, ``cursor``) |
| ``GET /v1/national/regions`` | the regions, their newest checkpoint and figures |
| ``GET /v1/national/checkpoints?origin=`` | the checkpoints received from a region |

Errors are RFC 9457 problem details with the ledger's reason codes (``unknown-subject``,
``unknown-list``, ``not-found``, ``invalid-request`` and the subject-code checks), made by
the main API's :mod:`api.problems`: Chinese ``title`` and ``detail`` under
``Accept-Language: zh`` (the English detail in ``detail_en``), ``Content-Language`` saying
which. ``GET /metrics`` serves :class:`~federation.national.metrics.NationalMetrics` when the
app is given them (``ledger national`` does).

The national standing is not a grade: a grade is each region's, computed by its rules
from records it does not all publish. What crosses regions is the lists (联合惩戒: a
subject on a region's serious-dishonesty list is on the national one) and the bans.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Query
from fastapi.responses import Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from api import problems
from api.problems import ProblemError
from events.codes import validate_subject_code
from events.labels import label
from events.reasons import InvalidEvent, Reason
from federation.national.config import NationalConfig, Region
from federation.national.metrics import NationalMetrics
from federation.national.store import NationalStore, Page

__all__ = ["NATIONAL_LISTS", "build_national_app"]

NATIONAL_LISTS: dict[str, str] = {
    name: label("list", name) for name in ("serious-dishonesty", "focus", "bans")
}
"""The lists served nationally: the public lists and the market-ban register."""


def _subject(code: str) -> str:
    try:
        return validate_subject_code(code)
    except InvalidEvent as e:
        raise ProblemError.of_rejection(e.rejection, 400) from e


def _links(region: Region | None, subject: str, cause: dict[str, Any] | None) -> dict[str, Any]:
    if region is None:
        return {}
    links = {
        "audit_bundle": region.link(f"/v1/subjects/{subject}/audit-bundle"),
        "disclosure": region.link(f"/v1/subjects/{subject}/disclosure"),
    }
    if cause and cause.get("source") and cause.get("id"):
        links["record"] = region.link(
            f"/v1/records/{cause['source']}/{quote(str(cause['id']), safe='')}"
        )
    return links


def _shown(config: NationalConfig, row: dict[str, Any]) -> dict[str, Any]:
    """A published item as served: the region's item plus origin and links."""
    item = row["item"] or {}
    return {
        **item,
        "origin": row["origin"],
        "event_id": row["event_id"],
        "position": row["position"],
        "links": _links(config.region(row["origin"]), row["subject"], row["cause"]),
    }


def _page(page: Page, key: str) -> dict[str, Any]:
    return {key: page.rows, "total": page.total, "next": page.next}


def build_national_app(
    store: NationalStore, config: NationalConfig, metrics: NationalMetrics | None = None
) -> FastAPI:
    """The national view's app, reading ``store`` (which a consumer fills); with
    ``metrics`` (the consumer's), ``GET /metrics`` serves them."""
    app = FastAPI(
        title="credit-ledger national view",
        description="What the regional ledgers publish, gathered (issue 22).",
        version="1",
    )

    problems.install(app)

    def published(code: str) -> tuple[str, list[dict[str, Any]]]:
        subject = _subject(code)
        rows = store.subject_items(subject)
        if not rows:
            raise ProblemError(
                404,
                Reason.UNKNOWN_SUBJECT,
                f"no region has published anything about {subject}",
            )
        return subject, [_shown(config, r) for r in rows if r["published"]]

    @app.get("/v1/national/subjects/{code}/disclosure")
    def disclosure(code: str) -> dict[str, Any]:
        """What the regions publish about the subject now, each item with its origin."""
        subject, items = published(code)
        return {
            "subject": subject,
            "subject_name": store.subject_name(subject),
            "regions": sorted({i["origin"] for i in items}),
            "items": items,
        }

    @app.get("/v1/national/subjects/{code}/standing")
    def standing(code: str) -> dict[str, Any]:
        """Lists and bans across the regions, and per region what it publishes."""
        subject, items = published(code)
        lists = sorted({i["list"] for i in items if i.get("kind") == "list" and i.get("list")})
        regions = []
        for origin in sorted({i["origin"] for i in items}):
            mine = [i for i in items if i["origin"] == origin]
            region = config.region(origin)
            regions.append(
                {
                    "origin": origin,
                    "published": len(mine),
                    "kinds": dict(Counter(str(i.get("kind")) for i in mine)),
                    "lists": sorted({i["list"] for i in mine if i.get("kind") == "list"}),
                    "links": {
                        **_links(region, subject, None),
                        **(
                            {"standing": region.link(f"/v1/subjects/{subject}/standing")}
                            if region
                            else {}
                        ),
                    },
                }
            )
        return {
            "subject": subject,
            "subject_name": store.subject_name(subject),
            "lists": lists,
            "memberships": [i for i in items if i.get("kind") == "list"],
            "bans": [i for i in items if i.get("kind") == "ban"],
            "serious_dishonesty": "serious-dishonesty" in lists,
            "regions": regions,
            "note": "grades are regional (each region's rules over its whole record): see "
            "each region's standing link",
        }

    @app.get("/v1/national/lists/{name}")
    def national_list(
        name: str,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """The subjects on list ``name`` in at least one region, each with its listings."""
        if name not in NATIONAL_LISTS:
            raise ProblemError(
                404, Reason.UNKNOWN_LIST, f"no list {name!r}: one of {sorted(NATIONAL_LISTS)}"
            )
        page = store.list_members(name, limit, cursor)
        for member in page.rows:
            member["listings"] = [_shown(config, r) for r in member["listings"]]
            member["regions"] = sorted({r["origin"] for r in member["listings"]})
        return {"list": name, "label": NATIONAL_LISTS[name], **_page(page, "members")}

    @app.get("/v1/national/subjects")
    def search(
        q: Annotated[str, Query(min_length=2, max_length=100)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Subjects whose code starts with ``q`` or whose name contains it."""
        return {"q": q, **_page(store.search(q, limit, cursor), "subjects")}

    @app.get("/v1/national/regions")
    def regions() -> dict[str, Any]:
        """The configured regions, the newest checkpoint received from each, and figures
        (items published now, the last position applied, when)."""
        latest = store.latest_checkpoints()
        figures = store.region_figures()
        return {
            "regions": [
                {
                    **r.to_json(),
                    "checkpoint": latest[r.origin].to_json() if r.origin in latest else None,
                    **figures.get(r.origin, {"items": 0, "position": None}),
                }
                for r in config.regions
            ]
        }

    @app.get("/v1/national/checkpoints")
    def checkpoints(
        origin: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> dict[str, Any]:
        """The signed checkpoints received from region ``origin`` (signature verified),
        newest first."""
        if config.region(origin) is None:
            raise ProblemError(404, Reason.NOT_FOUND, f"no region {origin!r}")
        return {
            "origin": origin,
            "checkpoints": [c.to_json() for c in store.checkpoints(origin, limit)],
        }

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if metrics is not None:

        @app.get("/metrics", include_in_schema=False)
        def prometheus() -> Response:
            """The national view's metrics (Prometheus text format)."""
            return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return app
