"""Liveness: no token, nothing to leak. `degraded` when a projection skipped an event it could
not take (the count is re-read at most every few seconds, so the probe stays cheap)."""

from __future__ import annotations

from litestar import Controller, get

from lfr_ledger.api.controllers.deps import ServicesDep
from lfr_ledger.api.schemas.common import Health


class HealthController(Controller):
    path = "/health"
    tags = ("health",)

    @get("/", opt={"public": True}, security=[], summary="Liveness probe")
    async def health(self, services: ServicesDep) -> Health:
        # Nearly trivial: the benchmark's baseline for the server's own overhead.
        skipped = services.projection_failures()
        if skipped:
            return Health(status="degraded", projection_failures=skipped)
        return Health(status="ok")
