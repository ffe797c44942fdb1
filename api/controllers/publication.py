"""Publication records: per-deployment figures in the shape forces publish (no personal data)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec

from lfr_ledger.api.controllers.deps import (
    ServicesDep,
)
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.statistics import PublicationRecord


class PublicationController(Controller):
    path = "/publication"
    tags = ("publication",)

    @get(
        "/deployments",
        sync_to_thread=True,
        summary="Publication records of every deployment (JSON)",
        responses=problem_spec(401, 403, 503),
    )
    def publication_records(self, services: ServicesDep) -> list[PublicationRecord]:
        return services.statistics().publication_records()

    @get(
        "/deployments.csv",
        sync_to_thread=True,
        media_type="text/csv",
        summary="Publication records of every deployment (CSV)",
        responses={
            200: ResponseSpec(
                data_container=str, media_type="text/csv", description="One row per deployment"
            ),
            **problem_spec(401, 403, 503),
        },
    )
    def publication_csv(self, services: ServicesDep) -> Response[str]:
        csv: str = services.statistics().publication_csv()
        return Response(
            content=csv,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="deployments.csv"'},
        )
