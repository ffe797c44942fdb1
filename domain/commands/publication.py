"""Commands of transparency: the planner or an authorising officer publishes a deployment's
results for the public, and the ledger's own deadline check records results not published in
time (`publication.results_within_days` after the end)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.errors import ConcurrentWrite

# Who records results overdue: the scheduled check, not a person.
PUBLICATION_CHECK = Actor(id="system:publication-deadline", role=Role.ADMIN)


class PublicationCommands(LedgerBase):
    if TYPE_CHECKING:  # `DeploymentCommands` gives it to the ledger

        def undecided_alerts(self, deployment_id: UUID) -> list[UUID]: ...

    def publish_results(self, actor: Actor, deployment_id: UUID) -> None:
        """Publishes the ended deployment's results (its publication record) on the public
        feed; refused while an alert awaits its decision, or a second time."""
        deployment = self.deployment(deployment_id)
        deployment.publish_results(
            undecided_alerts=self.undecided_alerts(deployment_id),
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)

    def record_publication_overdue(self, deployment_id: UUID) -> bool:
        """Records the deployment's results overdue if they are past the policy's deadline and
        unpublished; False when nothing is due, or it is recorded already (by this check or,
        at the same moment, another node's)."""
        deployment = self.deployment(deployment_id)
        if not deployment.note_publication_overdue(
            policy=self.policy, actor=PUBLICATION_CHECK, occurred_at=self.clock()
        ):
            return False
        try:
            self._commit(deployment)
        except ConcurrentWrite:
            return False
        return True
