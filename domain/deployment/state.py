"""What every facet of a deployment reads: its state, set when it is proposed and changed only by
its events, and the rules more than one facet applies (status, role separation, rank, window,
cameras, the urgent authority's deadline, when it last went live)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role, rank_at_least
from lfr_ledger.domain.errors import InvalidTransition, NotPermitted, RoleSeparationViolated
from lfr_ledger.domain.facets import AggregateFacet
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import DeploymentPlan, DeploymentStatus

S = DeploymentStatus


class DeploymentState(AggregateFacet):
    """The deployment's state, declared once for every facet (`Deployment.__init__` sets it)."""

    plan: DeploymentPlan
    threshold: float
    policy_version: str
    # The exact versions of the governance documents cited, by stage ("proposal",
    # "authorisation"): each {kind, reference, version} (`domain/governance.py`).
    documents_cited: dict[str, list[dict[str, str]]]
    status: DeploymentStatus
    proposed_by: str
    # Who performed which duty here, for the policy's role-separation rules.
    duties: dict[str, list[str]]
    authorised_by: str | None
    urgent: bool
    urgent_confirmed: bool
    urgent_deadline: datetime | None
    authorised_at: datetime | None
    authority_ref: str | None
    necessity_and_proportionality: str | None
    appropriate_policy_document: str | None
    end_reason: str | None
    # Alerts still awaiting a decision when the ledger ended the deployment on a deadline.
    undecided_at_end: list[UUID]
    entry_ids: list[UUID]
    # Subject pseudonym -> its latest entry here, so one subject is enrolled once.
    entries_by_subject: dict[str, UUID]
    watchlist_reviewed: bool
    reviewed_entry_count: int | None
    # When an operator last confirmed the signs stand (`signage.py`); the start needs it today.
    signage_confirmed_at: datetime | None
    started_at: datetime | None
    # The log's head just before the deployment went live: every alert of it lies after it, so
    # the questions about its alerts read only the log since (None: started before positions
    # were recorded, read the whole log).
    log_position_at_start: int | None
    resumed_at: datetime | None
    # Camera id -> when it was last heard from, for each camera silent now.
    silent_cameras: dict[str, datetime]
    blue_walk_pasts: int
    ended_at: datetime | None
    watchlist_destroyed_at: datetime | None
    post_review_at: datetime | None

    def _require_status(self, *allowed: DeploymentStatus, doing: str) -> None:
        if self.status not in allowed:
            wanted = " or ".join(s.value for s in allowed)
            raise InvalidTransition(
                f"cannot {doing}: deployment {self.id} is {self.status}, it must be {wanted}"
            )

    def _check_separation(self, duty: str, actor: Actor, policy: Policy) -> None:
        for other in policy.conflicting_duties(duty):
            if actor.id in self.duties.get(other, []):
                raise RoleSeparationViolated(
                    f"actor {actor.id} performed '{other}' on deployment {self.id}; policy "
                    f"{policy.version} forbids the same person to '{duty}' it"
                )

    def _note_duty(self, duty: str, actor_id: str) -> None:
        holders = self.duties.setdefault(duty, [])
        if actor_id not in holders:
            holders.append(actor_id)

    def _require_authority(self, actor: Actor, policy: Policy, *, urgent: bool = False) -> None:
        actor.require(Role.AUTHORISING_OFFICER)
        minimum = policy.urgent_minimum_rank if urgent else policy.minimum_rank
        if not rank_at_least(actor.rank, minimum):
            raise NotPermitted(
                f"authority needs rank {minimum} or above under policy {policy.version}; "
                f"the actor's rank is {actor.rank or 'not stated'}"
            )

    def inside_window(self, at: datetime) -> bool:
        return self.plan.starts_at <= at < self.plan.ends_at

    def has_camera(self, camera_id: str) -> bool:
        return any(c.id == camera_id for c in self.plan.cameras)

    @property
    def is_live(self) -> bool:
        return self.status == S.LIVE

    @property
    def live_since(self) -> datetime | None:
        """When the deployment last went live (started or resumed)."""
        resumed = self.resumed_at
        if resumed is not None and (self.started_at is None or resumed > self.started_at):
            return resumed
        return self.started_at

    def _urgent_deadline(self, policy: Policy) -> datetime | None:
        """When unconfirmed urgent authority lapses (from the policy in force for authorities
        recorded before the deadline was stored)."""
        if not self.urgent or self.authorised_at is None:
            return None
        if self.urgent_deadline is not None:
            return self.urgent_deadline
        return self.authorised_at + timedelta(hours=policy.urgent_confirmation_hours)

    def urgent_authority_lapsed(self, at: datetime, policy: Policy) -> bool:
        """Whether this deployment runs on urgent authority nobody confirmed in time."""
        deadline = self._urgent_deadline(policy)
        return deadline is not None and not self.urgent_confirmed and at > deadline
