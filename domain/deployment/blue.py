"""Blue walk-pasts: a consenting officer enrolled on a "blue" entry (a category the policy lists
in `watchlist.blue_categories`) walks past a camera while the deployment is live, and the
operator records each pass, so the true-positive identification rate is measurable: blue
alerts adjudicated match / blue walk-pasts. Blue alerts count in no operational figure."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidInput, PolicyViolation
from lfr_ledger.domain.policy import Policy


class BlueWalkPasts(DeploymentState):
    def record_blue_walk_past(
        self,
        *,
        entry_id: UUID,
        entry_deployment_id: UUID,
        entry_category: str,
        camera_id: str,
        walked_at: datetime,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        actor.require(Role.OPERATOR)
        self._require_status(S.LIVE, doing="record a blue walk-past")
        if entry_deployment_id != self.id:
            raise InvalidInput(f"watchlist entry {entry_id} is not on deployment {self.id}")
        if entry_category not in policy.blue_categories:
            raise PolicyViolation(
                f"watchlist entry {entry_id} is {entry_category}, not a blue (test subject) "
                f"category of policy {policy.version}: "
                + (", ".join(policy.blue_categories) or "none")
            )
        if not self.has_camera(camera_id):
            raise InvalidInput(f"camera {camera_id!r} is not part of deployment {self.id}")
        since = self.live_since
        if since is None or walked_at < since or walked_at > occurred_at:
            raise InvalidInput(
                "walked_at must lie while the deployment has been live, and not in the future"
            )
        self._blue_walk_past_recorded(
            entry_id=entry_id,
            camera_id=camera_id,
            walked_at=walked_at,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("BlueWalkPastRecorded", topic=DeploymentTopic.BLUE_WALK_PAST_RECORDED)
    def _blue_walk_past_recorded(
        self,
        *,
        entry_id: UUID,
        camera_id: str,
        walked_at: datetime,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.blue_walk_pasts += 1
