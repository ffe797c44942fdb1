"""Which deployments may still be running: the deadline job's list of what to look at."""

from __future__ import annotations

from uuid import UUID

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.values import DeploymentStatus
from lfr_ledger.projections.store import store_for

RUNNING = (DeploymentStatus.AUTHORISED, DeploymentStatus.LIVE, DeploymentStatus.PAUSED)


def running_deployments(settings: Settings) -> list[UUID]:
    """Deployments the view holds as authorised, live or paused. The view may lag the log by
    a moment; the aggregate, not this list, decides whether a deadline passed."""
    with store_for(settings).connection() as db:
        rows = db.execute(
            "SELECT deployment_id FROM view_deployments WHERE status IN (?, ?, ?) "
            "ORDER BY ends_at, deployment_id",
            [str(s) for s in RUNNING],
        )
        return [UUID(str(row[0])) for row in rows]
