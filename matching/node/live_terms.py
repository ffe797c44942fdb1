"""What an in-process runner reads between frame batches: the deployment's terms (status,
window, threshold in force), read from the event store (`LedgerWatch`, the pipeline's
`DeploymentWatch`)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from lfr_ledger.matching.pipeline.ports import LiveTerms

if TYPE_CHECKING:
    from lfr_ledger.domain.application import CaseLedger


class LedgerWatch:
    """Reads the deployment from the event store (up to date across processes)."""

    def __init__(self, ledger: CaseLedger, deployment_id: UUID) -> None:
        self.ledger = ledger
        self.deployment_id = deployment_id

    def terms(self) -> LiveTerms:
        d = self.ledger.deployment(self.deployment_id)
        return LiveTerms(
            status=str(d.status),
            starts_at=d.plan.starts_at,
            ends_at=d.plan.ends_at,
            threshold=float(d.threshold),
            model_id=d.plan.model_id,
            cameras=frozenset(c.id for c in d.plan.cameras),
        )
