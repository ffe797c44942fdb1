"""The `Deployment` aggregate, assembled from its facets (one concern each, with its commands
and their events) and holding what the facets share: how a deployment is proposed, and the
state its proposal sets."""

from __future__ import annotations

from datetime import datetime

# Every facet's events are defined in this module, so their fields' annotations resolve here
# (`typing.get_type_hints`): it names each type they use (tests/test_deployment_facets.py).
from uuid import UUID  # noqa: F401

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.authority import Authority
from lfr_ledger.domain.deployment.blue import BlueWalkPasts
from lfr_ledger.domain.deployment.cameras import CameraHealth
from lfr_ledger.domain.deployment.documents import Cited, DocumentRegister, cite_current
from lfr_ledger.domain.deployment.lifecycle import Lifecycle
from lfr_ledger.domain.deployment.publication import ResultsPublication
from lfr_ledger.domain.deployment.review import PostDeploymentReview
from lfr_ledger.domain.deployment.signage import Signage, check_notice_lead_time
from lfr_ledger.domain.deployment.state import S
from lfr_ledger.domain.deployment.threshold import Threshold
from lfr_ledger.domain.deployment.watchlist import Watchlist
from lfr_ledger.domain.errors import PolicyViolation
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import DeploymentPlan


class Deployment(
    Authority,
    Threshold,
    Watchlist,
    Lifecycle,
    Signage,
    PostDeploymentReview,
    CameraHealth,
    BlueWalkPasts,
    ResultsPublication,
    Aggregate,
):
    """One authorised use of LFR at one place for one window, and its watchlist. Every event of
    every facet is defined here, as `Deployment.<Event>` (see `domain/facets.py`)."""

    TOPIC = "lfr/Deployment"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/Deployment.Created"

    @classmethod
    def propose(
        cls,
        *,
        plan: DeploymentPlan,
        threshold: float | None,
        policy: Policy,
        register: DocumentRegister,
        actor: Actor,
        occurred_at: datetime,
    ) -> Deployment:
        actor.require(Role.PLANNER)
        if plan.policy_ref != policy.version:
            raise PolicyViolation(
                f"the proposal cites policy {plan.policy_ref!r} but {policy.version!r} is in force"
            )
        policy.check_location_type(plan.location.location_type)
        plan = plan.registered(policy.forces, policy.version)
        check_notice_lead_time(plan, policy)
        unknown = [c for c in plan.watchlist_categories if c not in policy.categories]
        if unknown:
            raise PolicyViolation(
                f"watchlist categories {unknown} are not in policy {policy.version}'s closed list"
            )
        if threshold is None:
            threshold = policy.thresholds_for(plan.model_id).default_threshold
        policy.check_threshold(plan.model_id, threshold)
        # The DPIA and EIA it cites, and the equality evidence, current in the register now;
        # the exact versions are recorded with the proposal.
        documents = cite_current(
            register,
            required=policy.governance_at_proposal,
            named={
                "dpia": Cited(plan.dpia_ref.strip(), "dpia_ref"),
                "eia": Cited(plan.eia_ref.strip(), "eia_ref"),
            },
            model_id=plan.model_id,
            at=occurred_at,
            stage="proposal",
            policy_version=policy.version,
        )
        return cls(
            plan=plan,
            threshold=threshold,
            policy_version=policy.version,
            actor=actor,
            occurred_at=occurred_at,
            documents=documents,
        )

    @event("Proposed", topic=DeploymentTopic.PROPOSED)
    def __init__(
        self,
        *,
        plan: DeploymentPlan,
        threshold: float,
        policy_version: str,
        actor: Actor,
        occurred_at: datetime,
        # The governance documents cited (kind, reference, version); absent before release 4.
        documents: list[dict[str, str]] | None = None,
    ) -> None:
        # What each attribute means is written where it is declared (`state.py`).
        self.plan = plan
        self.threshold = threshold
        self.policy_version = policy_version
        self.documents_cited = {} if documents is None else {"proposal": documents}
        self.status = S.PROPOSED
        self.proposed_by = actor.id
        self.duties = {"propose": [actor.id]}
        self.authorised_by = None
        self.urgent = False
        self.urgent_confirmed = False
        self.urgent_deadline = None
        self.authorised_at = None
        self.authority_ref = None
        self.necessity_and_proportionality = None
        self.appropriate_policy_document = None
        self.end_reason = None
        self.undecided_at_end = []
        self.entry_ids = []
        self.entries_by_subject = {}
        self.watchlist_reviewed = False
        self.reviewed_entry_count = None
        self.signage_confirmed_at = None
        self.started_at = None
        self.log_position_at_start = None
        self.resumed_at = None
        self.silent_cameras = {}
        self.blue_walk_pasts = 0
        self.ended_at = None
        self.watchlist_destroyed_at = None
        self.post_review_at = None
