"""Authority: an authorising officer authorises a proposed deployment (in writing, or urgently
and orally, to be confirmed in writing in time) or refuses it."""

from __future__ import annotations

from datetime import datetime, timedelta

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.documents import Cited, DocumentRegister, cite_current
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition, PolicyViolation
from lfr_ledger.domain.policy import Policy


class Authority(DeploymentState):
    def authorise(
        self,
        *,
        authority_ref: str,
        urgent: bool,
        necessity_and_proportionality: str,
        appropriate_policy_document: str,
        policy: Policy,
        register: DocumentRegister,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self._require_status(S.PROPOSED, doing="authorise")
        self._require_authority(actor, policy, urgent=urgent)
        self._check_separation("authorise", actor, policy)
        if not authority_ref.strip():
            raise InvalidInput("an authorisation needs an authority reference")
        statement = " ".join(necessity_and_proportionality.split())
        if len(statement) < policy.minimum_necessity_statement_length:
            raise PolicyViolation(
                "the authority must state why LFR is necessary and proportionate here, in at "
                f"least {policy.minimum_necessity_statement_length} characters under policy "
                f"{policy.version}; necessity_and_proportionality has {len(statement)}"
            )
        if not appropriate_policy_document.strip():
            raise InvalidInput(
                "an authorisation cites the appropriate policy document (DPA 2018 s.42) "
                "for sensitive processing: appropriate_policy_document is empty"
            )
        if occurred_at >= self.plan.ends_at:
            raise InvalidTransition(
                f"cannot authorise deployment {self.id}: its window ended at "
                f"{self.plan.ends_at.isoformat()}"
            )
        # The authority is given on the documents current now: its APD, and again the DPIA,
        # EIA and equality evidence (one may have lapsed since the proposal).
        documents = cite_current(
            register,
            required=policy.governance_at_authorisation,
            named={
                "dpia": Cited(self.plan.dpia_ref.strip(), "dpia_ref"),
                "eia": Cited(self.plan.eia_ref.strip(), "eia_ref"),
                "appropriate_policy_document": Cited(
                    appropriate_policy_document.strip(), "appropriate_policy_document"
                ),
            },
            model_id=self.plan.model_id,
            at=occurred_at,
            stage="authorisation",
            policy_version=policy.version,
        )
        self._authorised(
            authority_ref=authority_ref.strip(),
            urgent=urgent,
            rank=actor.rank,
            actor=actor,
            occurred_at=occurred_at,
            necessity_and_proportionality=statement,
            appropriate_policy_document=appropriate_policy_document.strip(),
            urgent_deadline=(
                occurred_at + timedelta(hours=policy.urgent_confirmation_hours) if urgent else None
            ),
            documents=documents,
        )

    @event("Authorised", topic=DeploymentTopic.AUTHORISED)
    def _authorised(
        self,
        *,
        authority_ref: str,
        urgent: bool,
        rank: str | None,
        actor: Actor,
        occurred_at: datetime,
        # The three below are absent from authorisations recorded before release 3.
        necessity_and_proportionality: str = "",
        appropriate_policy_document: str = "",
        urgent_deadline: datetime | None = None,
        # The governance documents cited (kind, reference, version); absent before release 4.
        documents: list[dict[str, str]] | None = None,
    ) -> None:
        self.status = S.AUTHORISED
        self.authorised_by = actor.id
        self.authorised_at = occurred_at
        self.authority_ref = authority_ref
        self.necessity_and_proportionality = necessity_and_proportionality
        self.appropriate_policy_document = appropriate_policy_document
        self.urgent = urgent
        self.urgent_deadline = urgent_deadline
        if documents is not None:
            self.documents_cited = {**self.documents_cited, "authorisation": documents}
        self._note_duty("authorise", actor.id)

    def confirm_urgent_authority(
        self, *, written_ref: str, policy: Policy, actor: Actor, occurred_at: datetime
    ) -> None:
        if not self.urgent:
            raise InvalidTransition(f"deployment {self.id} was not authorised urgently")
        if self.urgent_confirmed:
            raise InvalidTransition(
                f"urgent authority for deployment {self.id} is already confirmed"
            )
        self._require_authority(actor, policy)
        if not written_ref.strip():
            raise InvalidInput("a written confirmation needs its reference")
        deadline = self._urgent_deadline(policy)
        if self.status == S.ENDED or (deadline is not None and occurred_at > deadline):
            raise InvalidTransition(
                f"urgent authority for deployment {self.id} had to be confirmed in writing by "
                f"{deadline.isoformat() if deadline else 'its deadline'}; it lapsed, and a late "
                "confirmation cannot revive it: propose and authorise the deployment anew"
            )
        self._urgent_authority_confirmed(
            written_ref=written_ref.strip(), actor=actor, occurred_at=occurred_at
        )

    @event("UrgentAuthorityConfirmed", topic=DeploymentTopic.URGENT_AUTHORITY_CONFIRMED)
    def _urgent_authority_confirmed(
        self, *, written_ref: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.urgent_confirmed = True

    def refuse(self, *, reason: str, policy: Policy, actor: Actor, occurred_at: datetime) -> None:
        self._require_status(S.PROPOSED, doing="refuse")
        self._require_authority(actor, policy)
        if not reason.strip():
            raise InvalidInput("a refusal needs a reason")
        self._refused(reason=reason.strip(), actor=actor, occurred_at=occurred_at)

    @event("Refused", topic=DeploymentTopic.REFUSED)
    def _refused(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        self.status = S.REFUSED
