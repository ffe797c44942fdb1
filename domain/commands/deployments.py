"""Commands of the planner, the authorising officer, the operator and the administrator: policy
adoption, operations and each deployment's lifecycle."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.commands.base import DEADLINES
from lfr_ledger.domain.commands.governance import GovernanceCommands
from lfr_ledger.domain.complaint import numbered_complaints
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.deployment.review import Review
from lfr_ledger.domain.errors import InvalidTransition, PolicyViolation
from lfr_ledger.domain.governance import DocumentKind, DocumentVersion, GovernanceDocument
from lfr_ledger.domain.operation import Operation
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.records import PolicyVersion, PolicyVersionTopic
from lfr_ledger.domain.values import DeploymentPlan


# The proposal and the authority cite the register of governance documents.
class DeploymentCommands(GovernanceCommands):
    # --- policy -----------------------------------------------------------------------------

    def adopt_policy(self, actor: Actor, policy: Policy | None = None) -> UUID:
        """Records the policy in force, or adopts `policy` (a force's own file) and puts it in
        force. Adopting the same text again changes nothing; a changed text needs a new version.
        Deployments keep the version they were proposed under."""
        actor.require(Role.ADMIN)
        if policy is not None and policy.content_hash != self.policy.content_hash:
            previous = self.policy
            self.policy = policy
            try:
                return self.adopt_policy(actor)
            except Exception:
                self.policy = previous
                raise
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

    def latest_adopted_policy(self) -> Policy | None:
        """The policy adopted last in the log, if any: what a node started without a policy
        file puts in force."""
        last = None
        for notification in self._scan((PolicyVersionTopic.ADOPTED,)):
            last = notification
        if last is None:
            return None
        adopted = self._load(PolicyVersion, UUID(str(last.originator_id)), "policy version")
        return Policy.parse(adopted.text)

    def policy_adopted(self, version: str) -> bool:
        return self._exists(PolicyVersion.id_for(version))

    def _require_policy_adopted(self) -> None:
        if not self._exists(PolicyVersion.id_for(self.policy.version)):
            raise PolicyViolation(
                f"policy {self.policy.version} has not been adopted; an admin must adopt it first"
            )

    # --- operations and deployments ---------------------------------------------------------

    def open_operation(self, actor: Actor, *, name: str, force: str, purpose: str) -> UUID:
        operation = Operation.open(
            name=name,
            force=force,
            purpose=purpose,
            forces=self.policy.forces,
            policy_version=self.policy.version,
            actor=actor,
            occurred_at=self.clock(),
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
            register=self,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)
        return deployment.id

    def authorise_deployment(
        self,
        actor: Actor,
        deployment_id: UUID,
        *,
        authority_ref: str,
        necessity_and_proportionality: str,
        appropriate_policy_document: str,
        urgent: bool = False,
    ) -> None:
        deployment = self.deployment(deployment_id)
        deployment.authorise(
            authority_ref=authority_ref,
            urgent=urgent,
            necessity_and_proportionality=necessity_and_proportionality,
            appropriate_policy_document=appropriate_policy_document,
            policy=self.policy,
            register=self,
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
        self,
        actor: Actor,
        deployment_id: UUID,
        threshold: float,
        reason: str,
        evaluation_ref: str | None = None,
    ) -> None:
        """`evaluation_ref`: the model evaluation the change rests on, a `model_evaluation`
        document of the governance register, current now and of the deployment's model (the
        policy may require one: `[matching] threshold_change_requires_evaluation`)."""
        deployment = self.deployment(deployment_id)
        now = self.clock()
        deployment.change_threshold(
            threshold=threshold,
            reason=reason,
            policy=self.policy,
            actor=actor,
            occurred_at=now,
            evaluation=self._cited_evaluation(evaluation_ref, now),
        )
        self._commit(deployment)

    def _cited_evaluation(self, reference: str | None, at: datetime) -> DocumentVersion | None:
        """The current version of the model evaluation `reference`; refused when the register
        does not hold it or it is not current (withdrawn, expired, due for review)."""
        if reference is None or not reference.strip():
            return None
        kind = DocumentKind.MODEL_EVALUATION
        document_id = GovernanceDocument.id_for(kind, reference.strip())
        if not self._exists(document_id):
            raise PolicyViolation(
                f"model evaluation {reference.strip()!r} is not in the governance register: "
                "register the signed report first (`lfr models record-evaluation`)",
                field="evaluation_ref",
            )
        document = self._load(GovernanceDocument, document_id, "model evaluation", to_change=False)
        lapsed = document.lapsed(at)
        if lapsed is not None:
            raise PolicyViolation(
                f"{lapsed}; a threshold change cites a current model evaluation",
                field="evaluation_ref",
            )
        return document.current_at(at)

    def confirm_signage(
        self, actor: Actor, deployment_id: UUID, *, signs: str, locations: str
    ) -> None:
        """On the day, before going live: which signs stand where (in clear; names no one)."""
        deployment = self.deployment(deployment_id)
        deployment.confirm_signage(
            signs=signs, locations=locations, actor=actor, occurred_at=self.clock()
        )
        self._commit(deployment)

    def start_deployment(self, actor: Actor, deployment_id: UUID) -> None:
        deployment = self.deployment(deployment_id)
        entries = (self.watchlist_entry(e, to_change=False) for e in deployment.entry_ids)
        deployment.start(
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
            entries_confirmed_at={e.id: e.confirmed_at for e in entries if e.is_active},
            log_position=self.recorder.max_notification_id() or 0,
        )
        self._commit(deployment)

    def pause_deployment(self, actor: Actor, deployment_id: UUID, reason: str = "") -> None:
        """The reason, told live about what happens in front of the cameras, may name someone:
        sealed under the deployment's notes key, erased with its watchlist."""
        deployment = self.deployment(deployment_id)
        deployment.check_pause(actor)
        sealed = self._seal_deployment_note(deployment_id, "pause_reason", reason)
        deployment.pause(reason=sealed, actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def resume_deployment(self, actor: Actor, deployment_id: UUID) -> None:
        deployment = self.deployment(deployment_id)
        deployment.resume(policy=self.policy, actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def end_deployment(self, actor: Actor, deployment_id: UUID) -> None:
        deployment = self.deployment(deployment_id)
        deployment.end(
            undecided_alerts=self.undecided_alerts(deployment_id),
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)

    def end_on_deadline(self, deployment_id: UUID) -> bool:
        """Ends the deployment if its window closed or its urgent authority lapsed; the
        deadline job calls it for each running deployment. False when nothing was due."""
        deployment = self.deployment(deployment_id)
        now = self.clock()
        # Most runs find nothing due: only then read the log for the undecided alerts.
        if not deployment.deadline_passed(now, self.policy):
            return False
        ended = deployment.end_on_deadline(
            undecided_alerts=self.undecided_alerts(deployment_id),
            policy=self.policy,
            actor=DEADLINES,
            occurred_at=now,
        )
        if ended:
            self._commit(deployment)
        return ended

    def undecided_alerts(self, deployment_id: UUID) -> list[UUID]:
        """The deployment's alerts that no operator has adjudicated yet, read from the log
        itself so no projection lag can let a deployment end with one unseen; only the log
        since the deployment went live, where all its alerts are, so the cost follows the
        fleet's work during the deployment, not the years before it."""
        since = self._load(Deployment, deployment_id, "deployment", to_change=False)
        raised: dict[UUID, None] = {}
        decided: set[UUID] = set()
        topics = (AlertTopic.RAISED, AlertTopic.ADJUDICATED)
        for notification in self._scan(topics, after=since.log_position_at_start or 0):
            alert_id = UUID(str(notification.originator_id))
            if notification.topic == AlertTopic.ADJUDICATED:
                decided.add(alert_id)
            elif getattr(self.mapper.to_domain_event(notification), "deployment_id", None) == (
                deployment_id
            ):
                raised[alert_id] = None
        return [a for a in raised if a not in decided]

    def record_post_deployment_review(
        self, actor: Actor, deployment_id: UUID, review: Review
    ) -> None:
        """The review, with the complaints recorded against the deployment counted from
        their records (`domain/deployment/review.py`)."""
        deployment = self.deployment(deployment_id)
        deployment.record_post_deployment_review(
            review=review,
            complaint_ids=numbered_complaints(deployment_id, self._exists),
            undecided_alerts=self.undecided_alerts(deployment_id),
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)
