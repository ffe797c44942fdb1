"""The similarity threshold: an authorising officer changes it, with a reason, within the
policy's bounds for the deployment's model, until the deployment ends."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.domain.policy import Policy


class Threshold(DeploymentState):
    def change_threshold(
        self, *, threshold: float, reason: str, policy: Policy, actor: Actor, occurred_at: datetime
    ) -> None:
        self._require_status(
            S.PROPOSED, S.AUTHORISED, S.LIVE, S.PAUSED, doing="change the threshold"
        )
        self._require_authority(actor, policy)
        policy.check_threshold(self.plan.model_id, threshold)
        if not reason.strip():
            raise InvalidInput("a threshold change needs a reason")
        if threshold == self.threshold:
            raise InvalidInput(f"the threshold is already {threshold}")
        self._threshold_changed(
            threshold=threshold,
            previous=self.threshold,
            reason=reason.strip(),
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("ThresholdChanged", topic=DeploymentTopic.THRESHOLD_CHANGED)
    def _threshold_changed(
        self, *, threshold: float, previous: float, reason: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.threshold = threshold
