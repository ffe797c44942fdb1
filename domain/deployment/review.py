"""After the deployment: an authorising officer records its post-deployment review, once it has
ended and every alert raised on it has its decision."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition
from lfr_ledger.domain.policy import Policy


class PostDeploymentReview(DeploymentState):
    def record_post_deployment_review(
        self,
        *,
        findings: str,
        undecided_alerts: list[UUID],
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self._require_status(S.ENDED, doing="review the deployment")
        self._require_authority(actor, policy)
        if undecided_alerts:
            raise InvalidTransition(
                f"{len(undecided_alerts)} alert(s) of deployment {self.id} still await an "
                "operator's decision; the review comes after every alert is adjudicated"
            )
        if self.post_review_at is not None:
            raise InvalidTransition(f"deployment {self.id} already has its post-deployment review")
        if not findings.strip():
            raise InvalidInput("a post-deployment review needs its findings")
        self._post_deployment_reviewed(
            findings=findings.strip(), actor=actor, occurred_at=occurred_at
        )

    @event("PostDeploymentReviewed", topic=DeploymentTopic.POST_DEPLOYMENT_REVIEWED)
    def _post_deployment_reviewed(
        self, *, findings: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.post_review_at = occurred_at
