"""Camera and matcher health: the matcher's heartbeat, and each camera's state for
the operator and oversight. (`/health` is the service's own health: `health.py`.)

Plain handlers, not a Controller: a second controller on `/deployments` would bring a second
automatic OPTIONS handler for its path."""

from __future__ import annotations

from functools import partial
from uuid import UUID

import anyio.to_thread
from litestar import get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, JSONBody
from litestar.response import ServerSentEvent

from lfr_ledger.api.camera_health import accept_heartbeat
from lfr_ledger.api.camera_stream import CameraFeed, camera_events, cameras_out
from lfr_ledger.api.dependencies import ActorDep, IdempotencyKey, ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.camera_health import CamerasOut, HeartbeatIn, HeartbeatOut


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
    "`silent_since`), `never_reported`, or `not_live` (the deployment is not running: not "
    "started, paused or ended, and the camera not heard from within the bound; nothing is "
    "expected of it).",
    responses=problem_spec(400, 401, 403, 404, 503),
)
def get_cameras(deployment_id: FromPath[UUID], services: ServicesDep) -> CamerasOut:
    services.statistics()  # face counts come from the views: catch them up first
    return cameras_out(services.ledger, services.settings, deployment_id)


CAMERAS_STREAM = ResponseSpec(
    data_container=str,
    media_type="text/event-stream",
    description="Server-sent events (text/event-stream), open until the client closes it. "
    "First a comment `: subscribed` with `retry: 1000`, then an event `cameras` whose `data:` "
    "is the state `GET /deployments/{id}/cameras` answers (the CamerasOut schema, one line of "
    "JSON), then another each time a camera's state, heartbeat or face count changes (a "
    "heartbeat, a silence recorded, a camera reporting again, a camera turning overdue, the "
    "deployment paused or ended). Each event replaces the last; a reconnection starts with "
    "the state as it is. A comment `: keep-alive` follows 15 s of quiet.",
    generate_examples=False,
    examples=[
        Example(
            summary="Subscribed, then the cameras' state",
            value=": subscribed\nretry: 1000\n\nevent: cameras\ndata: "
            '{"deployment_id":"1c9e6a3b-2d4f-4a5b-8c7d-9e0f1a2b3c4d","status":"live",'
            '"silent_after_seconds":120,"checked_at":"2026-06-02T10:15:31Z","cameras":[]}\n\n',
        )
    ],
)


@get(
    "/deployments/{deployment_id:uuid}/cameras/stream",
    tags=("deployments",),
    summary="Each camera's state, pushed as it changes (server-sent events; no personal data)",
    description="A text/event-stream, not JSON: the state `GET /deployments/{id}/cameras` "
    "answers, sent on connecting and again whenever it changes, so a screen that shows it "
    "need not ask every few seconds.",
    responses={200: CAMERAS_STREAM, **problem_spec(400, 401, 403, 404)},
)
async def stream_cameras(deployment_id: FromPath[UUID], services: ServicesDep) -> ServerSentEvent:
    ledger = services.ledger
    # An unknown deployment is a 404 before the stream starts.
    await anyio.to_thread.run_sync(partial(ledger.deployment, deployment_id, to_change=False))
    feed = CameraFeed(ledger, services.settings, deployment_id, services.statistics)
    return ServerSentEvent(
        camera_events(feed), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


CAMERA_HEALTH_ROUTES = [post_heartbeat, get_cameras, stream_cameras]
