"""Prometheus metrics for the people who run the service: counts and states, never a record.

Issue 15 adds the rest (requests, latency, lag, heartbeats); today: how many events the
projections skipped because a view could not take them.
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from lfr_ledger.api.controllers.deps import ServicesDep


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
        # A registry per scrape: every value is read fresh from its source of truth.
        registry = CollectorRegistry()
        skipped = Gauge(
            "lfr_projection_failures",
            "Events a projection could not take and skipped (see lfr projections status)",
            registry=registry,
        )
        skipped.set(services.projection_failures())
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
