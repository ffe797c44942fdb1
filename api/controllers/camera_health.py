"""Camera and matcher health: the matcher's heartbeat, and each camera's state for
the operator and oversight. (`/health` is the service's own health: `health.py`.)

Plain handlers, not a Controller: a second controller on `/deployments` would bring a second
automatic OPTIONS handler for its path."""

from __future__ import annotations

from uuid import UUID

from litestar import get, post
from litestar.params import FromPath, JSONBody

from lfr_ledger.api.camera_health import accept_heartbeat, camera_health
from lfr_ledger.api.dependencies import ActorDep, IdempotencyKey, ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.camera_health import (
    CameraHealthOut,
    CamerasOut,
    HeartbeatIn,
    HeartbeatOut,
    LastFaceReport,
    LastHeartbeat,
    SourceGapOut,
)


@post(
    "/deployments/{deployment_id:uuid}/heartbeat",
    status_code=200,
    sync_to_thread=True,
    tags=("deployments",),
    summary="A camera's matcher reports in: frames per second, faces seen, frames offered, "
    "processed and dropped, the video source's gaps, last error (the deployment's matcher)",
    description="Not an event: the latest heartbeat per camera is kept, each replacing the "
    "last. A camera recorded silent that sends one is recorded reporting again "
    "(Deployment.CameraReporting). The error text is kept on one line, with credentials in "
    "URLs masked, at most 200 characters. `frames_offered`, `frames_processed` and "
    "`source_gaps` may be left out (0, 0 and none, as a matcher that predates them sends); "
    "refused: more frames processed than offered (when offered is counted), a gap ending "
    "before it started or more than 20 gaps. Counts and times only.",
    responses=problem_spec(400, 401, 403, 404, 409, 422),
)
def post_heartbeat(
    deployment_id: FromPath[UUID],
    data: JSONBody[HeartbeatIn],
    services: ServicesDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> HeartbeatOut:
    heartbeat, reporting = accept_heartbeat(
        services.ledger, services.settings, actor, data.report(deployment_id)
    )
    return HeartbeatOut(
        deployment_id=deployment_id,
        camera_id=heartbeat.camera_id,
        received_at=heartbeat.received_at,
        reporting_recorded=reporting,
    )


@get(
    "/deployments/{deployment_id:uuid}/cameras",
    sync_to_thread=True,
    tags=("deployments",),
    summary="Each camera's last heartbeat (with its frame counts and video-source gaps), last "
    "face-count report and state (no personal data)",
    description="`state`: `reporting` (heard from within the policy's "
    "`camera_silent_after_seconds`), `overdue` (not heard from for longer; the next check "
    "records it silent while the deployment is live), `silent` (recorded silent, since "
    "`silent_since`), or `never_reported`.",
    responses=problem_spec(400, 401, 403, 404, 503),
)
def get_cameras(deployment_id: FromPath[UUID], services: ServicesDep) -> CamerasOut:
    services.statistics()  # face counts come from the views: catch them up first
    ledger = services.ledger
    cameras = camera_health(ledger, services.settings, deployment_id)
    return CamerasOut(
        deployment_id=deployment_id,
        status=str(ledger.deployment(deployment_id).status),
        silent_after_seconds=ledger.policy.camera_silent_after_seconds,
        checked_at=ledger.clock(),
        cameras=[
            CameraHealthOut(
                camera_id=c.camera_id,
                name=c.name,
                state=c.state,
                last_seen_at=c.last_seen_at,
                silent_since=c.silent_since,
                last_heartbeat=(
                    None
                    if c.heartbeat is None
                    else LastHeartbeat(
                        received_at=c.heartbeat.received_at,
                        frames_per_second=c.heartbeat.frames_per_second,
                        faces_seen=c.heartbeat.faces_seen,
                        frames_dropped=c.heartbeat.frames_dropped,
                        interval_seconds=c.heartbeat.interval_seconds,
                        last_error=c.heartbeat.last_error,
                        frames_offered=c.heartbeat.frames_offered,
                        frames_processed=c.heartbeat.frames_processed,
                        source_gaps=[
                            SourceGapOut(started_at=g.started_at, ended_at=g.ended_at)
                            for g in c.heartbeat.source_gaps
                        ],
                    )
                ),
                last_face_report=(
                    None
                    if c.face_report is None
                    else LastFaceReport(
                        period_end=c.face_report.period_end, faces=c.face_report.faces
                    )
                ),
            )
            for c in cameras
        ],
    )


CAMERA_HEALTH_ROUTES = [post_heartbeat, get_cameras]
