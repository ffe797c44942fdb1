"""Camera health: a camera of a live deployment that nothing is heard from (no heartbeat, no
face count) for the policy's bound is recorded silent, once per silence; the next heartbeat
from it records it reporting again. And what a camera's face count may claim: a period inside
the deployment's live time, and no more faces than a camera can see in it."""

from __future__ import annotations

from datetime import datetime, timedelta

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.alert import CLOCK_SKEW
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition, PolicyViolation
from lfr_ledger.domain.policy import Policy


class CameraHealth(DeploymentState):
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

    def check_face_count(
        self,
        *,
        camera_id: str,
        period_start: datetime,
        period_end: datetime,
        count: int,
        policy: Policy,
        now: datetime,
    ) -> None:
        """Refuses a new count whose period lies outside the deployment's live time (from its
        start to its end, or now, and never past its window; give or take the clock skew an
        alert's capture time is allowed), or that claims more faces than a camera can see in
        the period. Times are aware instants: an offset moves them, it does not widen them."""
        if self.started_at is None:
            raise InvalidTransition(
                f"deployment {self.id} has not gone live: faces are counted only in its live time"
            )
        until = min(self.ended_at or now, self.plan.ends_at)
        early = period_start < self.started_at - CLOCK_SKEW
        if early or period_end > until + CLOCK_SKEW:
            raise InvalidTransition(
                f"faces counted from {period_start.isoformat()} to {period_end.isoformat()} (UTC) "
                f"lie outside deployment {self.id}'s live time, {self.started_at.isoformat()} to "
                f"{until.isoformat()} (give or take {CLOCK_SKEW.total_seconds() / 60:g} minutes "
                "of clock skew): a camera counts faces only while its deployment is live",
                field="period_start" if early else "period_end",
            )
        seconds = (period_end - period_start).total_seconds()
        most = int(seconds * policy.max_faces_per_second) + policy.max_faces_per_frame
        if count > most:
            raise PolicyViolation(
                f"{count} faces in {seconds:g} s is more than camera {camera_id} can have seen: "
                f"policy {policy.version} allows at most {policy.max_faces_per_second:g} a second "
                f"of the period plus {policy.max_faces_per_frame} "
                f"(matching.max_faces_per_second, max_faces_per_frame), so at most {most} here",
                field="count",
            )
