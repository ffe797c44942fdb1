"""After the deployment: its results published for the public, and the ledger's own record
when they are late.

The planner or an authorising officer publishes a deployment's results once it has ended and
every alert has its operator's decision (the true and false alerts published are final), after
checking the figures: the public feed (`/public`) then shows its publication record. The policy
gives `publication.results_within_days` from the end; a deployment still unpublished past that
is recorded overdue by the ledger itself (once), in the history oversight reads. Publication
after that is still recorded, as late. A deployment that never went live has no results."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidTransition
from lfr_ledger.domain.policy import Policy


class ResultsPublication(DeploymentState):
    # When the results were published, and when the ledger recorded them overdue (None: not
    # yet). Class defaults, so a deployment whose events predate publication decodes unpublished.
    results_published_at: datetime | None = None
    publication_overdue_at: datetime | None = None

    def publication_due_by(self, policy: Policy) -> datetime | None:
        """When the results are due: the policy's days after the end. None before the end, and
        for a deployment that ended without going live (it has no results)."""
        if self.ended_at is None or self.started_at is None:
            return None
        return self.ended_at + timedelta(days=policy.results_within_days)

    def publish_results(
        self,
        *,
        undecided_alerts: list[UUID],
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        actor.require(Role.PLANNER, Role.AUTHORISING_OFFICER)
        self._require_status(S.ENDED, doing="publish the deployment's results")
        due_by = self.publication_due_by(policy)
        if due_by is None:
            raise InvalidTransition(
                f"deployment {self.id} ended without going live: it has no results to publish"
            )
        if self.results_published_at is not None:
            raise InvalidTransition(
                f"deployment {self.id}'s results were published already, at "
                f"{self.results_published_at.isoformat()}"
            )
        if undecided_alerts:
            raise InvalidTransition(
                f"{len(undecided_alerts)} alert(s) of deployment {self.id} still await an "
                "operator's decision; results are published once every alert is adjudicated, "
                "so the true and false alerts the public reads are final"
            )
        self._results_published(due_by=due_by, actor=actor, occurred_at=occurred_at)

    @event("ResultsPublished", topic=DeploymentTopic.RESULTS_PUBLISHED)
    def _results_published(self, *, due_by: datetime, actor: Actor, occurred_at: datetime) -> None:
        self.results_published_at = occurred_at

    def note_publication_overdue(
        self, *, policy: Policy, actor: Actor, occurred_at: datetime
    ) -> bool:
        """Records the results overdue if they are unpublished past the policy's days after the
        end; False when nothing is due or it was recorded already (so two checks, or two
        nodes, record it once)."""
        due_by = self.publication_due_by(policy)
        if (
            due_by is None
            or self.results_published_at is not None
            or self.publication_overdue_at is not None
            or occurred_at <= due_by
        ):
            return False
        self._publication_overdue(
            due_by=due_by,
            results_within_days=policy.results_within_days,
            actor=actor,
            occurred_at=occurred_at,
        )
        return True

    @event("PublicationOverdue", topic=DeploymentTopic.PUBLICATION_OVERDUE)
    def _publication_overdue(
        self, *, due_by: datetime, results_within_days: int, actor: Actor, occurred_at: datetime
    ) -> None:
        self.publication_overdue_at = occurred_at
