"""Commands of the authorising officer who handles complaints about a deployment: record one
(linked to the deployment, and perhaps to one of its alerts), record its resolution; and the
reads the review and the query layer make of a deployment's complaints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.complaint import (
    MAXIMUM_COMPLAINTS_PER_DEPLOYMENT,
    Complaint,
    numbered_complaints,
    today_anywhere,
)
from lfr_ledger.domain.errors import InvalidTransition


@dataclass(frozen=True)
class RevealedComplaint:
    """A complaint's sealed text opened (`[erased]` once its key is shredded)."""

    summary: str
    outcome: str | None


class ComplaintCommands(LedgerBase):
    def record_complaint(
        self,
        actor: Actor,
        deployment_id: UUID,
        *,
        received_on: date,
        channel: str,
        summary: str,
        alert_id: UUID | None = None,
    ) -> UUID:
        """Records a complaint against the deployment (an unknown deployment or alert is a
        NotFound). Its summary is sealed under the complaint's own key, made only once every
        rule passed."""
        self.deployment(deployment_id, to_change=False)
        alert_deployment = None
        if alert_id is not None:
            alert_deployment = self.alert(alert_id, to_change=False).deployment_id
        Complaint.check(
            received_on=received_on,
            channel=channel,
            summary=summary,
            alert_deployment_id=alert_deployment,
            deployment_id=deployment_id,
            policy=self.policy,
            actor=actor,
            today=today_anywhere(self.clock()),
        )
        number = len(self.complaint_ids(deployment_id)) + 1
        if number > MAXIMUM_COMPLAINTS_PER_DEPLOYMENT:
            raise InvalidTransition(
                f"deployment {deployment_id} holds {MAXIMUM_COMPLAINTS_PER_DEPLOYMENT} "
                "complaints, the most one deployment's register numbers"
            )
        complaint_id = Complaint.id_for(deployment_id, number)
        # Made if absent, kept if the save loses a race: the winner's summary, recorded under
        # the same number, is sealed under it (`LedgerBase._text_key`).
        with self._text_key(complaint_id):
            complaint = Complaint.record(
                deployment_id=deployment_id,
                number=number,
                alert_id=alert_id,
                alert_deployment_id=alert_deployment,
                received_on=received_on,
                channel=channel,
                sealed_summary=self._seal_text(complaint_id, "summary", summary.strip()),
                policy=self.policy,
                actor=actor,
                occurred_at=self.clock(),
            )
            self._commit(complaint)
        return complaint.id

    def resolve_complaint(
        self, actor: Actor, complaint_id: UUID, *, outcome: str, resolved_on: date
    ) -> None:
        complaint = self.complaint(complaint_id)
        complaint.check_resolution(
            outcome=outcome,
            resolved_on=resolved_on,
            actor=actor,
            today=today_anywhere(self.clock()),
        )
        complaint.resolve(
            sealed_outcome=self._seal_text(complaint_id, "outcome", outcome.strip()),
            resolved_on=resolved_on,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(complaint)

    def complaint(self, complaint_id: UUID, *, to_change: bool = True) -> Complaint:
        return self._load(Complaint, complaint_id, "complaint", to_change=to_change)

    def complaint_ids(self, deployment_id: UUID) -> list[UUID]:
        """The deployment's complaints, in the order recorded."""
        return numbered_complaints(deployment_id, self._exists)

    def complaints_of(self, deployment_id: UUID) -> list[Complaint]:
        """The deployment's complaints, sealed text sealed (read-only copies)."""
        return [self.complaint(c, to_change=False) for c in self.complaint_ids(deployment_id)]

    def reveal_complaint(self, complaint: Complaint) -> RevealedComplaint:
        """The complaint's summary and outcome in clear. Only the query layer calls it, after
        recording the consultation."""
        outcome = complaint.sealed_outcome
        return RevealedComplaint(
            summary=self.reveal_text(complaint.id, "summary", complaint.sealed_summary),
            outcome=None if outcome is None else self.reveal_text(complaint.id, "outcome", outcome),
        )
