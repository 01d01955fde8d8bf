"""The log's signed tree heads: ``GET /v1/checkpoints/latest`` and ``GET
/v1/checkpoints/consistency?from=&to=`` (the RFC 9162 proof between two tree sizes).

The checkpoint and proof formats are AUDIT-FORMAT.md's. No checkpoint yet, or a size
the log never had, is a 404 ``not-found``; ``from`` greater than ``to`` a 400; a
store that cannot answer a 503. (A subject's audit bundle, with its inclusion
proofs, is :mod:`api.subject_routes`.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from api.auth import require
from api.models import Checkpoint, Consistency
from api.parameters import known_query_only, problem_responses
from api.problems import ProblemError
from api.read_side import NoCheckpoint, NotAvailable
from api.responses import JSONBytes
from api.services import Services, services
from api.tokens import Principal
from events.reasons import Reason

__all__ = ["checkpoints_router"]

checkpoints_router = APIRouter(prefix="/v1", dependencies=[Depends(known_query_only)])


@checkpoints_router.get(
    "/checkpoints/latest",
    tags=["audit"],
    summary="The latest signed tree head",
    response_model=Checkpoint,
    responses=problem_responses(401, 404, 503),
)
def get_latest_checkpoint(
    principal: Annotated[Principal, Depends(require("checkpoints"))],
    svc: Annotated[Services, Depends(services)],
) -> Response:
    try:
        return JSONBytes(svc.views.latest_checkpoint().body)
    except NoCheckpoint as e:
        raise ProblemError(404, Reason.NOT_FOUND, str(e)) from e


@checkpoints_router.get(
    "/checkpoints/consistency",
    tags=["audit"],
    summary="RFC 9162 consistency proof between two tree sizes",
    response_model=Consistency,
    responses=problem_responses(400, 401, 404, 503),
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
