"""The similarity threshold: an authorising officer changes it, with a reason, within the
policy's bounds for the deployment's model, until the deployment ends; where the policy says
so (`[matching] threshold_change_requires_evaluation`), citing a current model evaluation of
that model from the governance register: the evidence that the new threshold performs, across
groups, as the force says it does (R (Bridges) v South Wales Police)."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidInput, PolicyViolation
from lfr_ledger.domain.governance import DocumentKind, DocumentVersion
from lfr_ledger.domain.policy import Policy


class Threshold(DeploymentState):
    # The model evaluation the threshold in force rests on ({kind, reference, version, digest});
    # None while the threshold is the one proposed, or was changed without citing one. A class
    # default, so deployments recorded before evaluations were cited read None.
    threshold_evidence: dict[str, str | None] | None = None

    def change_threshold(
        self,
        *,
        threshold: float,
        reason: str,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
        evaluation: DocumentVersion | None = None,
    ) -> None:
        """`evaluation`: the current version of the model evaluation the change cites, found in
        the register by the command (None when none is cited)."""
        self._require_status(
            S.PROPOSED, S.AUTHORISED, S.LIVE, S.PAUSED, doing="change the threshold"
        )
        self._require_authority(actor, policy)
        policy.check_threshold(self.plan.model_id, threshold)
        if not reason.strip():
            raise InvalidInput("a threshold change needs a reason")
        if threshold == self.threshold:
            raise InvalidInput(f"the threshold is already {threshold}")
        model = self.plan.model_id
        if evaluation is None and policy.threshold_change_requires_evaluation:
            raise PolicyViolation(
                f"policy {policy.version} needs a threshold change to cite a current model "
                f"evaluation of {model!r} (evaluation_ref): evaluate the model on the force's "
                "own faces (`lfr models evaluate`) and register the signed report as a "
                "model_evaluation document first",
                field="evaluation_ref",
            )
        if evaluation is not None and (
            evaluation.kind != DocumentKind.MODEL_EVALUATION or evaluation.model_id != model
        ):
            raise PolicyViolation(
                f"{evaluation.named} evaluates model {evaluation.model_id!r}, not this "
                f"deployment's {model!r}: a threshold is on one model's scale and its evidence "
                "never transfers to another",
                field="evaluation_ref",
            )
        self._threshold_changed(
            threshold=threshold,
            previous=self.threshold,
            reason=reason.strip(),
            actor=actor,
            occurred_at=occurred_at,
            evaluation_ref=None if evaluation is None else evaluation.reference,
            evaluation_version=None if evaluation is None else evaluation.version,
            evaluation_digest=None if evaluation is None else evaluation.digest,
        )

    # The evaluation fields default to None: changes recorded before they existed cite none.
    @event("ThresholdChanged", topic=DeploymentTopic.THRESHOLD_CHANGED)
    def _threshold_changed(
        self,
        *,
        threshold: float,
        previous: float,
        reason: str,
        actor: Actor,
        occurred_at: datetime,
        evaluation_ref: str | None = None,
        evaluation_version: str | None = None,
        evaluation_digest: str | None = None,
    ) -> None:
        self.threshold = threshold
        self.threshold_evidence = (
            None
            if evaluation_ref is None
            else {
                "kind": DocumentKind.MODEL_EVALUATION.value,
                "reference": evaluation_ref,
                "version": evaluation_version,
                "digest": evaluation_digest,
            }
        )
