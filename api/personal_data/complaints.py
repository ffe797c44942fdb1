"""Reads of complaints: a deployment's complaints with their summaries and outcomes opened.
The complaint handler (an authorising officer) reads them in reviewing the deployment, an
oversight body in its oversight of it; each read records its consultation first."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from lfr_ledger.api.personal_data.base import Layer, Read
from lfr_ledger.domain.commands.complaints import RevealedComplaint
from lfr_ledger.domain.complaint import Complaint


@dataclass(frozen=True)
class ComplaintRead:
    complaint: Complaint
    revealed: RevealedComplaint


class ComplaintReads(Layer):
    def complaints(self, deployment_id: UUID) -> list[ComplaintRead]:
        """The deployment's complaints, in the order recorded: one consultation per list read,
        naming the deployment (the log says which complaints it held at that time)."""
        self.ledger.deployment(deployment_id, to_change=False)  # 404 for an unknown one
        self._authorise(Read.COMPLAINTS, deployment_id)
        self._consult(
            Read.COMPLAINTS,
            deployment_id,
            self._in_role(f"the complaints of deployment {deployment_id}"),
        )
        complaints = self.ledger.complaints_of(deployment_id)
        self._check_integrity(originator_ids=[c.id for c in complaints])
        return [ComplaintRead(c, self.ledger.reveal_complaint(c)) for c in complaints]
