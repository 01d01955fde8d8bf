"""The public lists: ``GET /v1/lists/{list}`` (serious-dishonesty, focus, and the
bans register), read at ``as_of`` / ``known_at``.

One member per listing (a subject listed on two findings is two members), ordered by
subject code then listing id and paged (:func:`members_page`, which the list pages
use too); what a principal sees is its audience's. An unknown list is a 404
``unknown-list`` naming the lists there are. (``/v1/lists/trustworthy`` is
:mod:`api.report_routes`, included before this router.)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from api.audience import audience_of
from api.auth import require
from api.models import ListMembers
from api.paging import Cursor, Limit, page_of
from api.parameters import AsOf, KnownAt, instant, known_query_only, problem_responses
from api.problems import ProblemError
from api.read_side import UnknownList
from api.responses import JSONBytes
from api.services import Services, services
from api.tokens import Principal
from events.reasons import Reason
from ledger.store.views import LIST_NAMES

__all__ = ["lists_router", "members_page"]

lists_router = APIRouter(prefix="/v1", dependencies=[Depends(known_query_only)])


@lists_router.get(
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
    responses=problem_responses(400, 401, 404, 503),
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
