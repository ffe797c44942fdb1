"""Commands of the planner, the authorising officer, the operator and the administrator: policy
adoption, operations and each deployment's lifecycle."""

from __future__ import annotations

from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.deployment import Deployment
from lfr_ledger.domain.errors import InvalidTransition, PolicyViolation
from lfr_ledger.domain.operation import Operation
from lfr_ledger.domain.records import PolicyVersion
from lfr_ledger.domain.values import DeploymentPlan


class DeploymentCommands(LedgerBase):
    # --- policy -----------------------------------------------------------------------------

    def adopt_policy(self, actor: Actor) -> UUID:
        """Records the policy file in force. Adopting the same text again changes nothing."""
        actor.require(Role.ADMIN)
        policy_id = PolicyVersion.id_for(self.policy.version)
        if self._exists(policy_id):
            adopted = self._load(PolicyVersion, policy_id, "policy version")
            if adopted.content_hash != self.policy.content_hash:
                raise PolicyViolation(
                    f"policy version {self.policy.version} was adopted with different content; "
                    "give the changed policy a new version"
                )
            return policy_id
        self._commit(
            PolicyVersion.adopt(
                version=self.policy.version,
                content_hash=self.policy.content_hash,
                text=self.policy.text,
                actor=actor,
                occurred_at=self.clock(),
            )
        )
        return policy_id

    def _require_policy_adopted(self) -> None:
        if not self._exists(PolicyVersion.id_for(self.policy.version)):
            raise PolicyViolation(
                f"policy {self.policy.version} has not been adopted; an admin must adopt it first"
            )

    # --- operations and deployments ---------------------------------------------------------

    def open_operation(self, actor: Actor, *, name: str, force: str, purpose: str) -> UUID:
        operation = Operation.open(
            name=name, force=force, purpose=purpose, actor=actor, occurred_at=self.clock()
        )
        self._commit(operation)
        return operation.id

    def close_operation(self, actor: Actor, operation_id: UUID) -> None:
        operation = self.operation(operation_id)
        operation.close(actor=actor, occurred_at=self.clock())
        self._commit(operation)

    def propose_deployment(
        self, actor: Actor, plan: DeploymentPlan, threshold: float | None = None
    ) -> UUID:
        self._require_policy_adopted()
        operation = self.operation(UUID(plan.operation_id))
        if not operation.is_open:
            raise InvalidTransition(f"operation {operation.id} is closed")
        deployment = Deployment.propose(
            plan=plan,
            threshold=threshold,
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)
        return deployment.id

    def authorise_deployment(
        self, actor: Actor, deployment_id: UUID, *, authority_ref: str, urgent: bool = False
    ) -> None:
        deployment = self.deployment(deployment_id)
        deployment.authorise(
            authority_ref=authority_ref,
            urgent=urgent,
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)

    def confirm_urgent_authority(self, actor: Actor, deployment_id: UUID, written_ref: str) -> None:
        deployment = self.deployment(deployment_id)
        deployment.confirm_urgent_authority(
            written_ref=written_ref, policy=self.policy, actor=actor, occurred_at=self.clock()
        )
        self._commit(deployment)

    def refuse_deployment(self, actor: Actor, deployment_id: UUID, reason: str) -> None:
        deployment = self.deployment(deployment_id)
        deployment.refuse(reason=reason, policy=self.policy, actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def change_threshold(
        self, actor: Actor, deployment_id: UUID, threshold: float, reason: str
    ) -> None:
        deployment = self.deployment(deployment_id)
        deployment.change_threshold(
            threshold=threshold,
            reason=reason,
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)

    def start_deployment(self, actor: Actor, deployment_id: UUID) -> None:
        deployment = self.deployment(deployment_id)
        deployment.start(policy=self.policy, actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def pause_deployment(self, actor: Actor, deployment_id: UUID, reason: str = "") -> None:
        deployment = self.deployment(deployment_id)
        deployment.pause(reason=reason, actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def resume_deployment(self, actor: Actor, deployment_id: UUID) -> None:
        deployment = self.deployment(deployment_id)
        deployment.resume(actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def end_deployment(self, actor: Actor, deployment_id: UUID) -> None:
        deployment = self.deployment(deployment_id)
        deployment.end(actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def record_post_deployment_review(
        self, actor: Actor, deployment_id: UUID, findings: str
    ) -> None:
        deployment = self.deployment(deployment_id)
        deployment.record_post_deployment_review(
            findings=findings, policy=self.policy, actor=actor, occurred_at=self.clock()
        )
        self._commit(deployment)
