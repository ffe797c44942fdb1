"""Commands of the blue watchlist: an operator records that a consenting
test subject (an entry in a blue category of the policy) walked past a camera, so the
true-positive identification rate can be measured apart from operational figures."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.watchlist import WatchlistEntry


class BlueWalkPastCommands(LedgerBase):
    def record_blue_walk_past(
        self,
        actor: Actor,
        deployment_id: UUID,
        *,
        entry_id: UUID,
        camera_id: str,
        walked_at: datetime,
    ) -> None:
        """Records one pass of a blue entry's officer past `camera_id` at `walked_at`; refused
        unless the deployment is live, the entry is its own and blue, and the time lies in
        its live period."""
        walked = recorded_time(walked_at, "walked_at")
        deployment = self._load(Deployment, deployment_id, "deployment")
        entry = self._load(WatchlistEntry, entry_id, "watchlist entry", to_change=False)
        deployment.record_blue_walk_past(
            entry_id=entry.id,
            entry_deployment_id=entry.deployment_id,
            entry_category=entry.category,
            camera_id=camera_id,
            walked_at=walked,
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)
