"""Liveness and readiness: no token, nothing to leak.

`/health` and `/health/live`: the process answers (`degraded` when a projection skipped an
event it could not take; the count is re-read at most every few seconds, so the probe stays
cheap). `/health/ready`: the store answers and no view trails the log by more than
`READY_LAG_EVENTS`, else 503, so a load balancer sends traffic elsewhere while a node catches up.
"""

from __future__ import annotations

import anyio.to_thread
from litestar import Controller, Response, get

from lfr_ledger.api.dependencies import ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Health, Readiness

READY_LAG_EVENTS = 1000


class HealthController(Controller):
    path = "/health"
    tags = ("health",)

    @get("/", opt={"public": True}, security=[], summary="Liveness probe")
    async def health(self, services: ServicesDep) -> Health:
        return _liveness(services)

    @get("/live", opt={"public": True}, security=[], summary="Liveness probe (as /health)")
    async def live(self, services: ServicesDep) -> Health:
        return _liveness(services)

    @get(
        "/ready",
        opt={"public": True},
        security=[],
        summary="Readiness probe: 200 when the store answers and the views are current, else 503",
        responses=problem_spec(503),
    )
    async def ready(self, services: ServicesDep) -> Response[Readiness]:
        readiness = await anyio.to_thread.run_sync(_readiness, services)
        return Response(readiness, status_code=200 if readiness.ready else 503)


def _liveness(services: ServicesDep) -> Health:
    # Nearly trivial: the benchmark's baseline for the server's own overhead.
    skipped = services.projection_failures()
    if skipped:
        return Health(status="degraded", projection_failures=skipped)
    return Health(status="ok")


def _readiness(services: ServicesDep) -> Readiness:
    from lfr_ledger.projections.catch_up import status

    try:
        views = status(services.settings)
    except Exception as error:  # the store is down or unreachable: not ready, and say so
        return Readiness(
            ready=False,
            head=None,
            max_lag=READY_LAG_EVENTS,
            lagging=[],
            reason=f"the store did not answer ({type(error).__name__})",
        )
    lagging = [v["name"] for v in views if v["lag"] > READY_LAG_EVENTS]
    return Readiness(
        ready=not lagging,
        head=max((v["head"] for v in views), default=0),
        max_lag=READY_LAG_EVENTS,
        lagging=lagging,
        reason=f"{len(lagging)} view(s) trail the log by more than {READY_LAG_EVENTS} events"
        if lagging
        else None,
    )
