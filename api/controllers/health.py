"""Liveness: no token, no database, nothing to leak."""

from __future__ import annotations

from litestar import Controller, get

from lfr_ledger.api.schemas.common import Health


class HealthController(Controller):
    path = "/health"
    tags = ("health",)

    @get("/", opt={"public": True}, security=[], summary="Liveness probe")
    async def health(self) -> Health:
        # Deliberately trivial: the benchmark's baseline for the server's own overhead.
        return Health(status="ok")
