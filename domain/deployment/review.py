"""After the deployment: an authorising officer records its post-deployment review, once it has
ended and every alert raised on it has its decision.

The review is structured (issue 24): whether the deployment met its objectives (a closed
answer, and why), the issues met, its impact on the community, the complaints about it, and
the lessons for the next one. The complaints linked to the deployment are counted from the
complaint records by the command, never typed in; the reviewer may note others (made on the
day and never recorded as complaints, say). Every part is kept in clear for oversight and the
period report, so it names no one: a complaint is cited by its id, an alert by its id.

Reviews recorded before issue 24 hold `findings` alone; they still decode (every new field of
the event has a default) and read as reviewed, their objectives unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition
from lfr_ledger.domain.policy import Policy

# The longest a part of the review may be: a review is read, not archived as a report.
MAXIMUM_PART_LENGTH = 2000


class ObjectivesMet(StrEnum):
    """Whether the deployment met the objectives its authority set."""

    MET = "met"
    PARTLY_MET = "partly_met"
    NOT_MET = "not_met"


@dataclass(frozen=True)
class Review:
    """What the reviewer answers, part by part. `complaints_noted` (complaints the records do
    not hold) and `findings` (anything else) may be empty; every other part needs an answer,
    "none" included: a part left blank is a question not asked."""

    objectives_met: str
    objectives_statement: str
    issues: str
    community_impact: str
    lessons: str
    complaints_noted: str = ""
    findings: str = ""

    REQUIRED = ("objectives_statement", "issues", "community_impact", "lessons")

    def checked(self) -> Review:
        """The review with every part trimmed, or InvalidInput naming the part at fault."""
        if self.objectives_met not in {o.value for o in ObjectivesMet}:
            raise InvalidInput(
                f"objectives_met must be one of {', '.join(o.value for o in ObjectivesMet)}; "
                f"got {self.objectives_met!r}",
                field="objectives_met",
            )
        trimmed = {f.name: getattr(self, f.name).strip() for f in fields(self)}
        for name in self.REQUIRED:
            if not trimmed[name]:
                raise InvalidInput(
                    f"a post-deployment review needs its {name.replace('_', ' ')} "
                    '(write "none" if there is nothing to say)',
                    field=name,
                )
        for name, text in trimmed.items():
            if len(text) > MAXIMUM_PART_LENGTH:
                raise InvalidInput(
                    f"{name} is {len(text)} characters; at most {MAXIMUM_PART_LENGTH}",
                    field=name,
                )
        return replace(self, **trimmed)


class PostDeploymentReview(DeploymentState):
    def record_post_deployment_review(
        self,
        *,
        review: Review,
        complaint_ids: list[UUID],
        undecided_alerts: list[UUID],
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        """`complaint_ids`: the complaints recorded against this deployment, as the ledger
        holds them now (the command reads them; the reviewer does not choose)."""
        self._require_status(S.ENDED, doing="review the deployment")
        self._require_authority(actor, policy)
        if undecided_alerts:
            raise InvalidTransition(
                f"{len(undecided_alerts)} alert(s) of deployment {self.id} still await an "
                "operator's decision; the review comes after every alert is adjudicated"
            )
        if self.post_review_at is not None:
            raise InvalidTransition(f"deployment {self.id} already has its post-deployment review")
        review = review.checked()
        self._post_deployment_reviewed(
            findings=review.findings,
            actor=actor,
            occurred_at=occurred_at,
            objectives_met=review.objectives_met,
            objectives_statement=review.objectives_statement,
            issues=review.issues,
            community_impact=review.community_impact,
            complaint_ids=list(complaint_ids),
            complaints_noted=review.complaints_noted,
            lessons=review.lessons,
        )

    @event("PostDeploymentReviewed", topic=DeploymentTopic.POST_DEPLOYMENT_REVIEWED)
    def _post_deployment_reviewed(
        self,
        *,
        findings: str = "",
        actor: Actor,
        occurred_at: datetime,
        # Absent from reviews recorded before issue 24 (`findings` alone).
        objectives_met: str | None = None,
        objectives_statement: str = "",
        issues: str = "",
        community_impact: str = "",
        complaint_ids: list[UUID] | None = None,
        complaints_noted: str = "",
        lessons: str = "",
    ) -> None:
        self.post_review_at = occurred_at
