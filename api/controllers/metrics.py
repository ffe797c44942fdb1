"""Prometheus metrics for the people who run the service: counts and states, never a record.

Requests by route and status and their latency (counted by the request-context middleware),
each view's lag behind the log, events the projections skipped, the latest checkpoint's age,
the rolling re-verification (last intact pass's age, events re-hashed, first bad id):
`api/observability.py`; results not published in time: `api/publication_deadline.py`.
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST

from lfr_ledger.api.dependencies import ServicesDep
from lfr_ledger.api.observability import scrape
from lfr_ledger.api.publication_deadline import publication_metrics


class MetricsController(Controller):
    path = "/metrics"
    tags = ("health",)

    @get(
        "/",
        opt={"public": True},
        security=[],
        sync_to_thread=True,
        summary="Prometheus metrics (no personal data)",
        media_type=CONTENT_TYPE_LATEST,
        responses={
            200: ResponseSpec(
                data_container=str,
                media_type="text/plain",
                description="Prometheus text exposition format",
            )
        },
    )
    def metrics(self, services: ServicesDep) -> Response[bytes]:
        body = scrape(services.settings, services.projection_failures(), services.retention())
        # Results not published within the policy's days of a deployment's end (issue 24).
        body += publication_metrics(services.ledger, services.settings)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
