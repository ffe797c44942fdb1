"""The read models' place in the log, for the administrator: each view's lag behind the log
and the events it skipped (what /health/ready and /metrics compute, as JSON for the console)."""

from __future__ import annotations

from litestar import Controller, get

from lfr_ledger.api.controllers.health import READY_LAG_EVENTS
from lfr_ledger.api.dependencies import ActorDep, ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.admin import ViewLag, ViewsLag
from lfr_ledger.domain.actors import Role


class ProjectionsController(Controller):
    path = "/projections"
    tags = ("health",)

    @get(
        "/",
        sync_to_thread=True,
        summary="Each view's lag behind the log, in events, and the events it skipped (admin)",
        description="Read without catching anything up: a view's lag is what a reader of it "
        "would wait for now. Beyond `max_lag` events /health/ready answers 503.",
        responses=problem_spec(401, 403),
    )
    def views(self, services: ServicesDep, actor: ActorDep) -> ViewsLag:
        actor.require(Role.ADMIN)
        from lfr_ledger.projections.catch_up import status

        views = status(services.settings)
        return ViewsLag(
            head=max((int(v["head"]) for v in views), default=0),
            max_lag=READY_LAG_EVENTS,
            views=[
                ViewLag(
                    name=str(v["name"]),
                    position=int(v["position"]),
                    lag=int(v["lag"]),
                    skipped=len(v["failures"]),
                )
                for v in views
            ],
        )
