"""Liveness and readiness: no token, nothing to leak.

`/health` and `/health/live`: the process answers (`degraded` when a projection skipped an
event it could not take; the count is re-read at most every few seconds, so the probe stays
cheap). `/health/ready`: the store answers, no view trails the log by more than
`READY_LAG_EVENTS`, and on PostgreSQL no session has held the event log's write lock longer than
a write waits for it (writes stuck: issue 23), else 503 with the reason, so a load balancer
sends traffic elsewhere while a node catches up and an operator sees which session to end.
"""

from __future__ import annotations

import anyio.to_thread
from litestar import Controller, Response, get

from lfr_ledger.api.dependencies import ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Health, Readiness
from lfr_ledger.eventlog.chain.wiring import stuck_writes

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
    reasons = (
        [f"{len(lagging)} view(s) trail the log by more than {READY_LAG_EVENTS} events"]
        if lagging
        else []
    )
    try:
        stuck = stuck_writes(services.ledger.recorder, services.settings)
    except Exception as error:  # the catalogue did not answer: as the store not answering
        stuck = f"the store did not say whether writes are stuck ({type(error).__name__})"
    reasons += [stuck] if stuck else []
    return Readiness(
        ready=not reasons,
        head=max((v["head"] for v in views), default=0),
        max_lag=READY_LAG_EVENTS,
        lagging=lagging,
        reason="; ".join(reasons) or None,
    )
