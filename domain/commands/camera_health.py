"""Commands of camera and matcher health: a matcher's heartbeat (checked here, kept outside the
log: heartbeats are too many to be events), a camera recorded silent by the scheduled check, and
recorded reporting again by its next heartbeat."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.deployment import Deployment
from lfr_ledger.domain.errors import ConcurrentWrite, InvalidInput, NotPermitted

# Who records a camera silent: the scheduled check, not a person.
CAMERA_CHECK = Actor(id="system:camera-health", role=Role.ADMIN)

# A heartbeat's error text is a hint for the operator, never a log of what the camera saw.
LAST_ERROR_MAX = 200
_CREDENTIALS = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]*@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean_error_text(text: str | None) -> str | None:
    """The matcher's last error as the ledger keeps it: one line, credentials in URLs masked
    (`rtsp://user:pw@cam` -> `rtsp://***@cam`), at most LAST_ERROR_MAX characters."""
    if text is None:
        return None
    cleaned = _CONTROL.sub(" ", _CREDENTIALS.sub(r"\1***@", text)).strip()
    if len(cleaned) > LAST_ERROR_MAX:
        cleaned = cleaned[: LAST_ERROR_MAX - 1] + "…"
    return cleaned or None


@dataclass(frozen=True)
class Heartbeat:
    """One camera's matcher reporting in: how it ran over the last interval. Counts only."""

    deployment_id: UUID
    camera_id: str
    received_at: datetime
    frames_per_second: float
    faces_seen: int
    frames_dropped: int
    interval_seconds: float
    last_error: str | None


class CameraHealthCommands(LedgerBase):
    def check_heartbeat(
        self,
        actor: Actor,
        deployment_id: UUID,
        *,
        camera_id: str,
        frames_per_second: float,
        faces_seen: int,
        frames_dropped: int,
        interval_seconds: float,
        last_error: str | None = None,
    ) -> Heartbeat:
        """The heartbeat as the ledger keeps it, stamped with the ledger's clock; refused from
        any account but the deployment's matcher, for a camera not of the deployment, or with
        counts no matcher could have."""
        actor.require(Role.MATCHER)
        deployment = self._load(Deployment, deployment_id, "deployment", to_change=False)
        if actor.deployment_id != str(deployment.id):
            raise NotPermitted(f"matcher {actor.id} is not bound to deployment {deployment.id}")
        if not deployment.has_camera(camera_id):
            raise InvalidInput(f"camera {camera_id!r} is not part of deployment {deployment_id}")
        for name, value in (
            ("frames_per_second", frames_per_second),
            ("interval_seconds", interval_seconds),
        ):
            if not math.isfinite(value) or value < 0:
                raise InvalidInput(f"{name} must be a finite number, zero or more")
        for name, count in (("faces_seen", faces_seen), ("frames_dropped", frames_dropped)):
            if count < 0:
                raise InvalidInput(f"{name} cannot be negative")
        return Heartbeat(
            deployment_id=deployment_id,
            camera_id=camera_id,
            received_at=self.clock(),
            frames_per_second=round(float(frames_per_second), 3),
            faces_seen=int(faces_seen),
            frames_dropped=int(frames_dropped),
            interval_seconds=round(float(interval_seconds), 3),
            last_error=clean_error_text(last_error),
        )

    def record_camera_reporting(self, actor: Actor, deployment_id: UUID, camera_id: str) -> bool:
        """A heartbeat from a camera recorded silent: records it reporting again. False (and
        nothing written) when it was not silent, or another heartbeat recorded it first."""
        actor.require(Role.MATCHER)
        deployment = self.deployment(deployment_id)
        if actor.deployment_id != str(deployment.id):
            raise NotPermitted(f"matcher {actor.id} is not bound to deployment {deployment.id}")
        if not deployment.note_camera_reporting(
            camera_id=camera_id, actor=actor, occurred_at=self.clock()
        ):
            return False
        try:
            self._commit(deployment)
        except ConcurrentWrite:
            return False  # recorded by a heartbeat at the same moment, or changed: next one
        return True

    def record_camera_silent(
        self, deployment_id: UUID, camera_id: str, *, last_seen_at: datetime
    ) -> bool:
        """The scheduled check: records the camera silent if, by the policy's bound, it is.
        Once per silence: False when it is already recorded silent, is not overdue, the
        deployment is not live, or another checker recorded something at the same moment."""
        deployment = self.deployment(deployment_id)
        if not deployment.note_camera_silent(
            camera_id=camera_id,
            last_seen_at=last_seen_at,
            policy=self.policy,
            actor=CAMERA_CHECK,
            occurred_at=self.clock(),
        ):
            return False
        try:
            self._commit(deployment)
        except ConcurrentWrite:
            return False  # another checker (or a command) won; the next check looks again
        return True

    def silent_cameras(self, deployment_id: UUID) -> dict[str, datetime]:
        """Camera id -> last heard from, for each camera of the deployment silent now."""
        deployment = self._load(Deployment, deployment_id, "deployment", to_change=False)
        return dict(deployment.silent_cameras)
