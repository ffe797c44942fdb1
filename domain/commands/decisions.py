"""Commands of the people who decide an alert: the operator's adjudication (and its
correction), the engagement officer's record of the engagement, and closing the alert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert.aggregate import Alert
from lfr_ledger.domain.commands.training import TrainingCommands
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.errors import RoleSeparationViolated
from lfr_ledger.domain.read_check import checked_reads
from lfr_ledger.domain.values import AlertStatus, Confirmation, Decision


class AlertDecisionCommands(TrainingCommands):
    def _check_adjudicator(self, actor: Actor, alert: Alert) -> None:
        """Separation of duties reaches adjudication: whoever holds a duty the policy keeps
        apart from "adjudicate" on the alert's deployment (by default, its authoriser) may
        not decide its alerts."""
        deployment = self._load(Deployment, alert.deployment_id, "deployment", to_change=False)
        for other in sorted(self.policy.conflicting_duties("adjudicate")):
            if actor.id in deployment.duties.get(other, []):
                raise RoleSeparationViolated(
                    f"actor {actor.id} performed '{other}' on deployment {deployment.id}; "
                    f"policy {self.policy.version} forbids the same person to adjudicate its "
                    "alerts"
                )

    def _false_alert_factors(
        self, factors: Sequence[str], *, false_alert: bool, what: str
    ) -> tuple[str, ...]:
        """`factors` checked against the policy's closed lists, and required on a false alert
        when the policy says so; checked before any key is made."""
        return self.policy.check_false_alert_factors(factors, false_alert=false_alert, what=what)

    @checked_reads
    def adjudicate(
        self,
        actor: Actor,
        alert_id: UUID,
        decision: Decision,
        reason: str,
        false_alert_factors: Sequence[str] = (),
    ) -> AlertStatus:
        """The operator's decision and why; a no_match names why the alert was false
        (`false_alert_factors`, from the policy's `[outcomes]` lists). Returns the alert's
        status as recorded, so the reply needs no second read of it."""
        alert = self.alert(alert_id)
        actor.require(Role.OPERATOR)
        self._check_adjudicator(actor, alert)
        self._require_training(actor, "adjudicate")
        if not reason.strip() or alert.decision is not None:
            # Refused before a key is made, and for what the alert's state forbids before
            # what the policy asks: a refusal leaves nothing behind.
            alert.adjudicate(decision=decision, reason="", actor=actor, occurred_at=self.clock())
        factors = self._false_alert_factors(
            false_alert_factors,
            false_alert=Decision(decision) == Decision.NO_MATCH,
            what=f"a decision of {Decision(decision).value}",
        )
        with self._notes_key(alert) as notes:
            sealed = self._seal_text(notes, "adjudication_reason", reason.strip())
            alert.adjudicate(
                decision=decision,
                reason=sealed,
                actor=actor,
                occurred_at=self.clock(),
                false_alert_factors=factors,
            )
            self._commit(alert)
        return alert.status

    def correct_adjudication(
        self,
        actor: Actor,
        alert_id: UUID,
        decision: Decision,
        reason: str,
        false_alert_factors: Sequence[str] = (),
    ) -> None:
        """A new AdjudicationCorrected event (who, when, why, the previous decision); the
        original adjudication stays. An operator or an authorising officer, not one who holds
        a duty the policy keeps apart from adjudicating. A correction to no_match names its
        false-alert factors as a no_match does."""
        alert = self.alert(alert_id)
        actor.require(Role.OPERATOR, Role.AUTHORISING_OFFICER)
        self._check_adjudicator(actor, alert)
        self._require_training(actor, "adjudicate")
        alert.check_correctable(reason)
        if alert.decision is None or Decision(decision) == alert.decision:
            # The alert's own refusal (nothing to correct, nothing changed) before the policy's.
            alert.correct_adjudication(
                decision=decision, reason=reason, actor=actor, occurred_at=self.clock()
            )
        factors = self._false_alert_factors(
            false_alert_factors,
            false_alert=Decision(decision) == Decision.NO_MATCH,
            what=f"a correction to {Decision(decision).value}",
        )
        with self._notes_key(alert) as notes:
            alert.correct_adjudication(
                decision=decision,
                reason=self._seal_text(notes, "correction_reason", reason.strip()),
                actor=actor,
                occurred_at=self.clock(),
                false_alert_factors=factors,
            )
            self._commit(alert)

    @checked_reads
    def record_engagement(
        self,
        actor: Actor,
        alert_id: UUID,
        *,
        engaged: bool,
        confirmed: Confirmation,
        engaged_from: datetime | None = None,
        engaged_until: datetime | None = None,
        false_alert_factors: Sequence[str] = (),
    ) -> None:
        """Whether the person was engaged and the identity confirmed; when the officer was with
        them (`engaged_from`..`engaged_until`, both or neither); and, when the identity was
        not confirmed, why the alert was false (`false_alert_factors`)."""
        alert = self.alert(alert_id)
        factors = tuple(dict.fromkeys(f.strip() for f in false_alert_factors))
        # The alert's own rules first (a no_match is never engaged), then the policy's lists;
        # nothing is saved until both pass.
        alert.record_engagement(
            engaged=engaged,
            confirmed=confirmed,
            actor=actor,
            occurred_at=self.clock(),
            engaged_from=engaged_from,
            engaged_until=engaged_until,
            false_alert_factors=factors,
        )
        self._false_alert_factors(
            factors,
            false_alert=Confirmation(confirmed) == Confirmation.NOT_CONFIRMED,
            what=f'an engagement that found the identity "{Confirmation(confirmed).value}"',
        )
        self._require_training(actor, "engage")
        self._commit(alert)

    @checked_reads
    def close_alert(self, actor: Actor, alert_id: UUID) -> None:
        alert = self.alert(alert_id)
        alert.close(actor=actor, occurred_at=self.clock())
        self._commit(alert)
