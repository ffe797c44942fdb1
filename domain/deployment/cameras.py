"""Camera health: a camera of a live deployment that nothing is heard from (no heartbeat, no
face count) for the policy's bound is recorded silent, once per silence; the next heartbeat
from it records it reporting again."""

from __future__ import annotations

from datetime import datetime, timedelta

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidInput
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
