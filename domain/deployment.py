"""A deployment: one authorised use of LFR at one place for one window, and its watchlist."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role, rank_at_least
from lfr_ledger.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotPermitted,
    PolicyViolation,
    RoleSeparationViolated,
)
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import DeploymentPlan, DeploymentStatus

S = DeploymentStatus


class DeploymentTopic:
    """The stored topic of each Deployment event. Stable strings, so classes can move without
    breaking stored events; readers of the log filter on these, never on literals."""

    PROPOSED = "lfr/Deployment.Proposed"
    AUTHORISED = "lfr/Deployment.Authorised"
    URGENT_AUTHORITY_CONFIRMED = "lfr/Deployment.UrgentAuthorityConfirmed"
    REFUSED = "lfr/Deployment.Refused"
    THRESHOLD_CHANGED = "lfr/Deployment.ThresholdChanged"
    WATCHLIST_ENTRY_ADDED = "lfr/Deployment.WatchlistEntryAdded"
    WATCHLIST_REVIEWED = "lfr/Deployment.WatchlistReviewed"
    WATCHLIST_DESTROYED = "lfr/Deployment.WatchlistDestroyed"
    STARTED = "lfr/Deployment.Started"
    PAUSED = "lfr/Deployment.Paused"
    RESUMED = "lfr/Deployment.Resumed"
    ENDED = "lfr/Deployment.Ended"
    POST_DEPLOYMENT_REVIEWED = "lfr/Deployment.PostDeploymentReviewed"
    URGENT_AUTHORITY_LAPSED = "lfr/Deployment.UrgentAuthorityLapsed"
    # camera health
    CAMERA_WENT_SILENT = "lfr/Deployment.CameraWentSilent"
    CAMERA_REPORTING = "lfr/Deployment.CameraReporting"
    # analytics: a consenting test subject walked past a camera
    BLUE_WALK_PAST_RECORDED = "lfr/Deployment.BlueWalkPastRecorded"


class EndReason:
    """Why a deployment ended: the operator ended it, or the ledger did, on a deadline."""

    OPERATOR = "operator"
    WINDOW_CLOSED = "window_closed"
    URGENT_AUTHORITY_LAPSED = "urgent_authority_lapsed"


class Deployment(Aggregate):
    TOPIC = "lfr/Deployment"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/Deployment.Created"

    # --- proposal -------------------------------------------------------------------------

    @classmethod
    def propose(
        cls,
        *,
        plan: DeploymentPlan,
        threshold: float | None,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> Deployment:
        actor.require(Role.PLANNER)
        if plan.policy_ref != policy.version:
            raise PolicyViolation(
                f"the proposal cites policy {plan.policy_ref!r} but {policy.version!r} is in force"
            )
        policy.check_location_type(plan.location.location_type)
        plan.check_mutual_aid()
        notice = plan.public_notice.issued_at
        if policy.notice_before_window and notice is not None and notice > plan.starts_at:
            raise PolicyViolation(
                f"the public notice is dated {notice.isoformat()}, after the window opens at "
                f"{plan.starts_at.isoformat()}; policy {policy.version} needs the public told "
                "first (or an exemption with its reason)"
            )
        unknown = [c for c in plan.watchlist_categories if c not in policy.categories]
        if unknown:
            raise PolicyViolation(
                f"watchlist categories {unknown} are not in policy {policy.version}'s closed list"
            )
        if threshold is None:
            threshold = policy.thresholds_for(plan.model_id).default_threshold
        policy.check_threshold(plan.model_id, threshold)
        return cls(
            plan=plan,
            threshold=threshold,
            policy_version=policy.version,
            actor=actor,
            occurred_at=occurred_at,
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
    ) -> None:
        self.plan = plan
        self.threshold = threshold
        self.policy_version = policy_version
        self.status = S.PROPOSED
        self.proposed_by = actor.id
        # Who performed which duty here, for the policy's role-separation rules.
        self.duties: dict[str, list[str]] = {"propose": [actor.id]}
        self.authorised_by: str | None = None
        self.urgent = False
        self.urgent_confirmed = False
        self.urgent_deadline: datetime | None = None
        self.authorised_at: datetime | None = None
        self.authority_ref: str | None = None
        self.necessity_and_proportionality: str | None = None
        self.appropriate_policy_document: str | None = None
        self.end_reason: str | None = None
        # Alerts still awaiting a decision when the ledger ended the deployment on a deadline.
        self.undecided_at_end: list[UUID] = []
        self.entry_ids: list[UUID] = []
        # Subject pseudonym -> its latest entry here, so one subject is enrolled once.
        self.entries_by_subject: dict[str, UUID] = {}
        self.watchlist_reviewed = False
        self.reviewed_entry_count: int | None = None
        self.started_at: datetime | None = None
        # The log's head just before the deployment went live: every alert of it lies after
        # it, so the questions about its alerts read only the log since (None: started before
        # positions were recorded, read the whole log).
        self.log_position_at_start: int | None = None
        self.resumed_at: datetime | None = None
        # Camera id -> when it was last heard from, for each camera silent now.
        self.silent_cameras: dict[str, datetime] = {}
        self.blue_walk_pasts = 0
        self.ended_at: datetime | None = None
        self.watchlist_destroyed_at: datetime | None = None
        self.post_review_at: datetime | None = None

    # --- helpers ----------------------------------------------------------------------------

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

    # --- authorisation ----------------------------------------------------------------------

    def authorise(
        self,
        *,
        authority_ref: str,
        urgent: bool,
        necessity_and_proportionality: str,
        appropriate_policy_document: str,
        policy: Policy,
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
    ) -> None:
        self.status = S.AUTHORISED
        self.authorised_by = actor.id
        self.authorised_at = occurred_at
        self.authority_ref = authority_ref
        self.necessity_and_proportionality = necessity_and_proportionality
        self.appropriate_policy_document = appropriate_policy_document
        self.urgent = urgent
        self.urgent_deadline = urgent_deadline
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

    def refuse(self, *, reason: str, policy: Policy, actor: Actor, occurred_at: datetime) -> None:
        self._require_status(S.PROPOSED, doing="refuse")
        self._require_authority(actor, policy)
        if not reason.strip():
            raise InvalidInput("a refusal needs a reason")
        self._refused(reason=reason.strip(), actor=actor, occurred_at=occurred_at)

    @event("Refused", topic=DeploymentTopic.REFUSED)
    def _refused(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        self.status = S.REFUSED

    def change_threshold(
        self, *, threshold: float, reason: str, policy: Policy, actor: Actor, occurred_at: datetime
    ) -> None:
        self._require_status(
            S.PROPOSED, S.AUTHORISED, S.LIVE, S.PAUSED, doing="change the threshold"
        )
        self._require_authority(actor, policy)
        policy.check_threshold(self.plan.model_id, threshold)
        if not reason.strip():
            raise InvalidInput("a threshold change needs a reason")
        if threshold == self.threshold:
            raise InvalidInput(f"the threshold is already {threshold}")
        self._threshold_changed(
            threshold=threshold,
            previous=self.threshold,
            reason=reason.strip(),
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("ThresholdChanged", topic=DeploymentTopic.THRESHOLD_CHANGED)
    def _threshold_changed(
        self, *, threshold: float, previous: float, reason: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.threshold = threshold

    # --- watchlist --------------------------------------------------------------------------

    def add_watchlist_entry(
        self,
        *,
        entry_id: UUID,
        category: str,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
        subject_digest: str | None = None,
    ) -> None:
        actor.require(Role.WATCHLIST_MANAGER)
        self._require_status(
            S.PROPOSED,
            S.AUTHORISED,
            doing="enrol: the watchlist is frozen once the deployment starts",
        )
        self._check_separation("compile_watchlist", actor, policy)
        if category not in self.plan.watchlist_categories:
            raise PolicyViolation(
                f"category {category!r} is not among this deployment's authorised categories: "
                + ", ".join(self.plan.watchlist_categories)
            )
        self._watchlist_entry_added(
            entry_id=entry_id,
            category=category,
            actor=actor,
            occurred_at=occurred_at,
            subject_digest=subject_digest,
        )

    @event("WatchlistEntryAdded", topic=DeploymentTopic.WATCHLIST_ENTRY_ADDED)
    def _watchlist_entry_added(
        self,
        *,
        entry_id: UUID,
        category: str,
        actor: Actor,
        occurred_at: datetime,
        subject_digest: str | None = None,  # absent from entries added before release 2
    ) -> None:
        self.entry_ids.append(entry_id)
        if subject_digest is not None:
            self.entries_by_subject[subject_digest] = entry_id
        self._note_duty("compile_watchlist", actor.id)
        # A reviewed watchlist that changes must be reviewed again.
        self.watchlist_reviewed = False

    def review_watchlist(
        self,
        *,
        entry_count: int,
        confirmed_count: int,
        not_excessive: bool,
        note: str,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self._require_status(S.PROPOSED, S.AUTHORISED, doing="review the watchlist")
        self._require_authority(actor, policy)
        self._check_separation("review_watchlist", actor, policy)
        if entry_count == 0:
            raise InvalidTransition(f"deployment {self.id} has an empty watchlist to review")
        if confirmed_count != entry_count:
            raise InvalidTransition(
                f"the watchlist has {entry_count} active entries, not {confirmed_count}: "
                "it changed since it was read; review it again"
            )
        if not not_excessive:
            raise PolicyViolation(
                "the reviewer did not confirm the watchlist is not excessive; "
                "remove entries, then review again"
            )
        self._watchlist_reviewed(
            entry_count=entry_count, note=note.strip(), actor=actor, occurred_at=occurred_at
        )

    @event("WatchlistReviewed", topic=DeploymentTopic.WATCHLIST_REVIEWED)
    def _watchlist_reviewed(
        self, *, entry_count: int, note: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.watchlist_reviewed = True
        self.reviewed_entry_count = entry_count
        self._note_duty("review_watchlist", actor.id)

    def destroy_watchlist(
        self, *, manifest: list[UUID], rule: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self._require_status(S.ENDED, S.REFUSED, doing="destroy the watchlist")
        if self.watchlist_destroyed_at is not None:
            raise InvalidTransition(f"the watchlist of deployment {self.id} is already destroyed")
        self._watchlist_destroyed(
            manifest=manifest, rule=rule, actor=actor, occurred_at=occurred_at
        )

    @event("WatchlistDestroyed", topic=DeploymentTopic.WATCHLIST_DESTROYED)
    def _watchlist_destroyed(
        self, *, manifest: list[UUID], rule: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.watchlist_destroyed_at = occurred_at

    # --- live operation ---------------------------------------------------------------------

    def start(
        self,
        *,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
        log_position: int | None = None,
    ) -> None:
        actor.require(Role.OPERATOR)
        self._require_status(S.AUTHORISED, doing="start")
        if not self.watchlist_reviewed:
            raise InvalidTransition(
                f"deployment {self.id}'s watchlist has not been reviewed by an authorising officer"
            )
        if not self.inside_window(occurred_at):
            raise InvalidTransition(
                f"deployment {self.id} is authorised for {self.plan.starts_at.isoformat()} to "
                f"{self.plan.ends_at.isoformat()}; it cannot start at {occurred_at.isoformat()}"
            )
        if self.urgent_authority_lapsed(occurred_at, policy):
            raise InvalidTransition(
                f"urgent authority for deployment {self.id} was not confirmed in writing "
                f"within {policy.urgent_confirmation_hours} h"
            )
        self._started(actor=actor, occurred_at=occurred_at, log_position=log_position)

    @event("Started", topic=DeploymentTopic.STARTED)
    def _started(
        self, *, actor: Actor, occurred_at: datetime, log_position: int | None = None
    ) -> None:
        self.status = S.LIVE
        self.started_at = occurred_at
        self.log_position_at_start = log_position

    def pause(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        actor.require(Role.OPERATOR)
        self._require_status(S.LIVE, doing="pause")
        self._paused(reason=reason.strip(), actor=actor, occurred_at=occurred_at)

    @event("Paused", topic=DeploymentTopic.PAUSED)
    def _paused(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        self.status = S.PAUSED

    def resume(self, *, policy: Policy, actor: Actor, occurred_at: datetime) -> None:
        actor.require(Role.OPERATOR)
        self._require_status(S.PAUSED, doing="resume")
        if self.urgent_authority_lapsed(occurred_at, policy):
            raise InvalidTransition(
                f"urgent authority for deployment {self.id} was not confirmed in writing "
                f"within {policy.urgent_confirmation_hours} h; end the deployment"
            )
        if not self.inside_window(occurred_at):
            raise InvalidTransition(
                f"deployment {self.id}'s window closed at {self.plan.ends_at.isoformat()}; "
                "end it instead"
            )
        self._resumed(actor=actor, occurred_at=occurred_at)

    @event("Resumed", topic=DeploymentTopic.RESUMED)
    def _resumed(self, *, actor: Actor, occurred_at: datetime) -> None:
        self.status = S.LIVE
        self.resumed_at = occurred_at  # camera health: silence counts from here

    def end(self, *, undecided_alerts: list[UUID], actor: Actor, occurred_at: datetime) -> None:
        """The operator ends the deployment, once every alert raised on it has its decision:
        human review of each alert is the condition of using LFR at all."""
        actor.require(Role.OPERATOR)
        self._require_status(S.AUTHORISED, S.LIVE, S.PAUSED, doing="end")
        if undecided_alerts:
            listed = ", ".join(str(a) for a in undecided_alerts[:10])
            more = f" and {len(undecided_alerts) - 10} more" if len(undecided_alerts) > 10 else ""
            raise InvalidTransition(
                f"deployment {self.id} has {len(undecided_alerts)} alert(s) awaiting an "
                f"operator's decision ({listed}{more}); adjudicate them, then end it"
            )
        self._ended(
            actor=actor, occurred_at=occurred_at, reason=EndReason.OPERATOR, undecided_alerts=[]
        )

    def deadline_passed(self, at: datetime, policy: Policy) -> bool:
        """Whether the deployment still runs (authorised, live or paused) past its window or on
        urgent authority that lapsed."""
        if self.status not in (S.AUTHORISED, S.LIVE, S.PAUSED):
            return False
        return at >= self.plan.ends_at or self.urgent_authority_lapsed(at, policy)

    def end_on_deadline(
        self, *, undecided_alerts: list[UUID], policy: Policy, actor: Actor, occurred_at: datetime
    ) -> bool:
        """The ledger ends a running deployment whose window closed or whose urgent authority
        lapsed, recording which alerts still await a decision. False when no deadline passed."""
        if not self.deadline_passed(occurred_at, policy):
            return False
        if self.urgent_authority_lapsed(occurred_at, policy):
            self._urgent_authority_lapsed(
                deadline=self._urgent_deadline(policy), actor=actor, occurred_at=occurred_at
            )
            reason = EndReason.URGENT_AUTHORITY_LAPSED
        else:
            reason = EndReason.WINDOW_CLOSED
        self._ended(
            actor=actor,
            occurred_at=occurred_at,
            reason=reason,
            undecided_alerts=list(undecided_alerts),
        )
        return True

    @event("UrgentAuthorityLapsed", topic=DeploymentTopic.URGENT_AUTHORITY_LAPSED)
    def _urgent_authority_lapsed(
        self, *, deadline: datetime | None, actor: Actor, occurred_at: datetime
    ) -> None:
        pass

    @event("Ended", topic=DeploymentTopic.ENDED)
    def _ended(
        self,
        *,
        actor: Actor,
        occurred_at: datetime,
        # Both absent from deployments ended before release 3: all ended by their operator.
        reason: str = EndReason.OPERATOR,
        undecided_alerts: list[UUID] | None = None,
    ) -> None:
        self.status = S.ENDED
        self.ended_at = occurred_at
        self.end_reason = reason
        self.undecided_at_end = list(undecided_alerts or [])

    # --- after the deployment ---------------------------------------------------------------

    def record_post_deployment_review(
        self,
        *,
        findings: str,
        undecided_alerts: list[UUID],
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self._require_status(S.ENDED, doing="review the deployment")
        self._require_authority(actor, policy)
        if undecided_alerts:
            raise InvalidTransition(
                f"{len(undecided_alerts)} alert(s) of deployment {self.id} still await an "
                "operator's decision; the review comes after every alert is adjudicated"
            )
        if self.post_review_at is not None:
            raise InvalidTransition(f"deployment {self.id} already has its post-deployment review")
        if not findings.strip():
            raise InvalidInput("a post-deployment review needs its findings")
        self._post_deployment_reviewed(
            findings=findings.strip(), actor=actor, occurred_at=occurred_at
        )

    @event("PostDeploymentReviewed", topic=DeploymentTopic.POST_DEPLOYMENT_REVIEWED)
    def _post_deployment_reviewed(
        self, *, findings: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.post_review_at = occurred_at

    # --- camera health ----------------------------------------------------------------------
    # A camera of a live deployment that nothing is heard from (no heartbeat, no face count)
    # for the policy's bound is recorded silent, once per silence; the next heartbeat from it
    # records it reporting again.

    @property
    def live_since(self) -> datetime | None:
        """When the deployment last went live (started or resumed)."""
        resumed = self.resumed_at
        if resumed is not None and (self.started_at is None or resumed > self.started_at):
            return resumed
        return self.started_at

    def note_camera_silent(
        self,
        *,
        camera_id: str,
        last_seen_at: datetime,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> bool:
        """Records the camera silent if the deployment is live, the camera is not already
        silent, and nothing was heard from it for longer than the policy's bound. False when
        there is nothing to record (so two checkers, or two checks, record one silence)."""
        if not self.has_camera(camera_id):
            raise InvalidInput(f"camera {camera_id!r} is not part of deployment {self.id}")
        if self.status != S.LIVE or camera_id in self.silent_cameras:
            return False
        since = self.live_since
        if since is not None and last_seen_at < since:
            last_seen_at = since  # a camera owes no report for a time it was not meant to run
        if occurred_at - last_seen_at <= timedelta(seconds=policy.camera_silent_after_seconds):
            return False
        self._camera_went_silent(
            camera_id=camera_id, last_seen_at=last_seen_at, actor=actor, occurred_at=occurred_at
        )
        return True

    @event("CameraWentSilent", topic=DeploymentTopic.CAMERA_WENT_SILENT)
    def _camera_went_silent(
        self, *, camera_id: str, last_seen_at: datetime, actor: Actor, occurred_at: datetime
    ) -> None:
        self.silent_cameras[camera_id] = last_seen_at

    def note_camera_reporting(self, *, camera_id: str, actor: Actor, occurred_at: datetime) -> bool:
        """Records a silent camera reporting again; False when it was not silent (or the
        deployment is over: its end closes every silence)."""
        since = self.silent_cameras.get(camera_id)
        if since is None or self.status not in (S.LIVE, S.PAUSED):
            return False
        self._camera_reporting(
            camera_id=camera_id, silent_since=since, actor=actor, occurred_at=occurred_at
        )
        return True

    @event("CameraReporting", topic=DeploymentTopic.CAMERA_REPORTING)
    def _camera_reporting(
        self, *, camera_id: str, silent_since: datetime, actor: Actor, occurred_at: datetime
    ) -> None:
        self.silent_cameras.pop(camera_id, None)

    # --- blue walk-pasts ---------------------------------------------------------------------
    # A consenting officer enrolled on a "blue" entry (a category the policy lists in
    # `watchlist.blue_categories`) walks past a camera while the deployment is live; the
    # operator records each pass, so the true-positive identification rate is measurable:
    # blue alerts adjudicated match / blue walk-pasts. Blue alerts count in no operational figure.

    def record_blue_walk_past(
        self,
        *,
        entry_id: UUID,
        entry_deployment_id: UUID,
        entry_category: str,
        camera_id: str,
        walked_at: datetime,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        actor.require(Role.OPERATOR)
        self._require_status(S.LIVE, doing="record a blue walk-past")
        if entry_deployment_id != self.id:
            raise InvalidInput(f"watchlist entry {entry_id} is not on deployment {self.id}")
        if entry_category not in policy.blue_categories:
            raise PolicyViolation(
                f"watchlist entry {entry_id} is {entry_category}, not a blue (test subject) "
                f"category of policy {policy.version}: "
                + (", ".join(policy.blue_categories) or "none")
            )
        if not self.has_camera(camera_id):
            raise InvalidInput(f"camera {camera_id!r} is not part of deployment {self.id}")
        since = self.live_since
        if since is None or walked_at < since or walked_at > occurred_at:
            raise InvalidInput(
                "walked_at must lie while the deployment has been live, and not in the future"
            )
        self._blue_walk_past_recorded(
            entry_id=entry_id,
            camera_id=camera_id,
            walked_at=walked_at,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("BlueWalkPastRecorded", topic=DeploymentTopic.BLUE_WALK_PAST_RECORDED)
    def _blue_walk_past_recorded(
        self,
        *,
        entry_id: UUID,
        camera_id: str,
        walked_at: datetime,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.blue_walk_pasts += 1
