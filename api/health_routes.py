"""The probes for the orchestrator: ``GET /healthz`` (liveness: the process
answers) and ``GET /readyz`` (readiness: the database answers and the projections
are no more than ``ready_lag`` positions behind; 503 with ``checks`` saying why not).
Outside ``/v1``, no token, no query check.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.models import Health
from api.responses import JSONBytes
from api.services import Services, services

__all__ = ["health_router"]

health_router = APIRouter(tags=["health"])


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
