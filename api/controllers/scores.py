"""A deployment's similarity scores and threshold sensitivity (`lfr stats scores` over HTTP).
From the read models: no personal data."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from lfr_ledger.api.dependencies import ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.oversight import Scores
from lfr_ledger.domain.errors import NotFound


class ScoresController(Controller):
    path = "/deployments"
    tags = ("statistics",)

    @get(
        "/{deployment_id:uuid}/scores",
        sync_to_thread=True,
        summary="Alerts per similarity bin, and what each higher threshold would have kept",
        description="The distribution splits each bin [lower, upper) by adjudication; the "
        "sensitivity table gives, for each threshold from the lowest in force upwards by "
        "`step`, the alerts, true alerts and arrests kept and the false alerts avoided.",
        responses=problem_spec(400, 401, 403, 404, 503),
    )
    def scores(
        self,
        deployment_id: FromPath[UUID],
        services: ServicesDep,
        bin_width: Annotated[
            float, QueryParameter(ge=0.01, le=0.5, description="width of a score bin")
        ] = 0.05,
        step: Annotated[
            float, QueryParameter(ge=0.005, le=0.5, description="threshold increment")
        ] = 0.01,
    ) -> Scores:
        reader = services.statistics()
        distribution = reader.score_distribution(deployment_id, bin_width)
        sensitivity = reader.threshold_sensitivity(deployment_id, step)
        if distribution is None or sensitivity is None:
            raise NotFound(f"no statistics for deployment {deployment_id}")
        return Scores(distribution=distribution, sensitivity=sensitivity)
