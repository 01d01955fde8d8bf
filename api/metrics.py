"""``GET /metrics``: the Prometheus text exposition of the process's
:class:`~ledger.metrics.LedgerMetrics` (``app.state.metrics``). Unauthenticated,
like the health probes, and left out of the OpenAPI document (it is not part of
the v1 API)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ledger.metrics import CONTENT_TYPE_LATEST, LedgerMetrics

__all__ = ["metrics_router"]

metrics_router = APIRouter()


@metrics_router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry: LedgerMetrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE_LATEST)
