"""Camera and matcher health, composed: a matcher's heartbeat is checked by the ledger,
kept beside the read models, and (if its camera was recorded silent) records it reporting; the
scheduled check records silent the cameras of live deployments nothing was heard from.

Used by the HTTP routes, by `lfr match` in process, and by the server's scheduler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from lfr_ledger.api.scheduling import every_alone
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.commands.camera_health import Heartbeat, HeartbeatReport
from lfr_ledger.domain.errors import ConcurrentWrite, DomainError
from lfr_ledger.domain.values import DeploymentStatus
from lfr_ledger.projections.camera_health import (
    FaceReport,
    latest_face_reports,
    latest_heartbeats,
    record_heartbeat,
)
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.running_deployments import running_deployments

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger("lfr.camera_health")

# How often the server looks for silent cameras.
CHECK_EVERY_SECONDS = 60
CHECK_JOB_ID = "cameras:silence"


class CameraState:
    """A camera as the operator sees it: heard from within the policy's bound (`reporting`),
    not heard from for longer but not yet recorded (`overdue`: the next check records it),
    recorded silent (`silent`), or never heard from since the deployment went live. A
    deployment that is not running (not started, paused, ended) expects nothing of its cameras:
    one not heard from lately is `not_live`, never `overdue` (issue 25: an ended deployment's
    camera read as overdue)."""

    REPORTING = "reporting"
    OVERDUE = "overdue"
    SILENT = "silent"
    NEVER_REPORTED = "never_reported"
    NOT_LIVE = "not_live"


@dataclass(frozen=True)
class CameraHealth:
    camera_id: str
    name: str
    state: str
    last_seen_at: datetime | None
    silent_since: datetime | None
    heartbeat: Heartbeat | None
    face_report: FaceReport | None


def accept_heartbeat(
    ledger: CaseLedger, settings: Settings, actor: Actor, report: HeartbeatReport
) -> tuple[Heartbeat, bool]:
    """Keeps the heartbeat as its camera's latest; True beside it when it recorded the camera
    reporting again after a silence. Refused (nothing kept) as the ledger's checks say."""
    heartbeat = ledger.check_heartbeat(actor, report)
    record_heartbeat(settings, heartbeat)
    reporting = False
    if report.camera_id in ledger.silent_cameras(report.deployment_id):
        reporting = ledger.record_camera_reporting(actor, report.deployment_id, report.camera_id)
    return heartbeat, reporting


def _last_seen(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def camera_health(
    ledger: CaseLedger, settings: Settings, deployment_id: UUID
) -> list[CameraHealth]:
    """Each camera of the deployment: its last heartbeat, last face-count report and state.
    The caller catches the views up first (face counts come from them)."""
    deployment = ledger.deployment(deployment_id)
    beats = latest_heartbeats(settings, deployment_id)
    faces = latest_face_reports(settings, deployment_id)
    silent = deployment.silent_cameras
    bound = ledger.policy.camera_silent_after_seconds
    now = ledger.clock()
    cameras: list[CameraHealth] = []
    for camera in deployment.plan.cameras:
        beat, face = beats.get(camera.id), faces.get(camera.id)
        seen = _last_seen(beat.received_at if beat else None, face.period_end if face else None)
        recent = seen is not None and (now - seen).total_seconds() <= bound
        if camera.id in silent and deployment.status != DeploymentStatus.ENDED:
            state = CameraState.SILENT  # a silence stays open while paused, closes at the end
        elif not deployment.is_live:
            state = CameraState.REPORTING if recent else CameraState.NOT_LIVE
        elif seen is None:
            state = CameraState.NEVER_REPORTED
        elif (now - seen).total_seconds() > bound:
            state = CameraState.OVERDUE
        else:
            state = CameraState.REPORTING
        cameras.append(
            CameraHealth(
                camera_id=camera.id,
                name=camera.name,
                state=state,
                last_seen_at=seen,
                silent_since=silent.get(camera.id),
                heartbeat=beat,
                face_report=face,
            )
        )
    return cameras


def check_silent_cameras(
    ledger: CaseLedger,
    settings: Settings,
    *,
    caught_up: Callable[[], object] | None = None,
) -> list[tuple[UUID, str]]:
    """Records silent every camera of a live deployment not heard from (heartbeat or face
    count) for longer than the policy's bound; returns the (deployment, camera) pairs it
    recorded. Once per silence, and safe on several nodes at once: a camera already silent is
    skipped, and of two checkers writing at the same moment one wins, the other skips."""
    if caught_up is not None:
        caught_up()
    else:
        catch_up(settings)
    recorded: list[tuple[UUID, str]] = []
    for deployment_id in running_deployments(settings):
        try:
            deployment = ledger.deployment(deployment_id)
            if not deployment.is_live:
                continue
            beats = latest_heartbeats(settings, deployment_id)
            faces = latest_face_reports(settings, deployment_id)
            for camera in deployment.plan.cameras:
                if camera.id in deployment.silent_cameras:
                    continue
                beat, face = beats.get(camera.id), faces.get(camera.id)
                seen = _last_seen(
                    beat.received_at if beat else None,
                    face.period_end if face else None,
                    deployment.live_since,
                )
                if seen is None:
                    continue
                if ledger.record_camera_silent(deployment_id, camera.id, last_seen_at=seen):
                    recorded.append((deployment_id, camera.id))
        except ConcurrentWrite:
            continue  # changed at this moment (ended, paused, another check): look next time
        except DomainError:
            log.exception("camera check of deployment %s failed", deployment_id)
    if recorded:
        log.info("recorded %d camera(s) silent", len(recorded))
    return recorded


def schedule_camera_checks(
    scheduler: BaseScheduler,
    ledger: CaseLedger,
    settings: Settings,
    *,
    caught_up: Callable[[], object] | None = None,
    every_seconds: float = CHECK_EVERY_SECONDS,
) -> None:
    """Arms the silence check on the server's scheduler (a job of its own, every minute)."""
    every_alone(
        scheduler,
        settings,
        CHECK_JOB_ID,
        check_silent_cameras,
        ledger,
        settings,
        seconds=every_seconds,
        caught_up=caught_up,
    )
