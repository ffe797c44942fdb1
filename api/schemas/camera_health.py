"""Camera and matcher health: a matcher's heartbeat, and each camera's state.
Counts and times only: nothing here identifies anyone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Ident, Reply, Struct, one_of
from lfr_ledger.domain.values import DeploymentStatus

Rate = Annotated[float, Meta(ge=0, le=10_000)]
Count = Annotated[int, Meta(ge=0, le=1_000_000_000)]
# A camera's state (api/camera_health.py, CameraState).
CAMERA_STATES = ("reporting", "overdue", "silent", "never_reported")


class HeartbeatIn(Struct):
    """How one camera's matcher ran over its last interval. `last_error`: the text of the
    last error it met, if any (kept one line, URL credentials masked, at most 200
    characters); it must never hold anything about a person."""

    camera_id: Annotated[
        Ident,
        Meta(description="The camera, one of the deployment's plan", examples=["cam-north-1"]),
    ]
    frames_per_second: Annotated[
        Rate, Meta(description="Frames processed per second over the interval", examples=[12.5])
    ]
    faces_seen: Annotated[
        Count, Meta(description="Faces detected over the interval", examples=[340])
    ]
    interval_seconds: Annotated[
        float,
        Meta(ge=0, le=86_400, description="The interval's length, in seconds", examples=[30.0]),
    ]
    frames_dropped: Annotated[
        Count, Meta(description="Frames dropped over the interval", examples=[0])
    ] = 0
    last_error: (
        Annotated[
            str,
            Meta(
                max_length=2000,
                description="The last error the matcher met, if any (nothing about a person)",
                examples=["rtsp://cam-north-1/stream: connection reset"],
            ),
        ]
        | None
    ) = None


class HeartbeatOut(Reply):
    """The heartbeat as kept. `reporting_recorded`: it ended a recorded silence of the camera
    (a Deployment.CameraReporting event)."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    camera_id: Annotated[str, Meta(description="The camera")]
    received_at: Annotated[datetime, Meta(description="When the server received it")]
    reporting_recorded: Annotated[
        bool,
        Meta(description="Whether it ended a recorded silence (Deployment.CameraReporting)"),
    ]


class LastHeartbeat(Reply):
    """A camera's latest heartbeat, as kept."""

    received_at: Annotated[datetime, Meta(description="When the server received it")]
    frames_per_second: Annotated[float, Meta(description="Frames processed per second")]
    faces_seen: Annotated[int, Meta(description="Faces detected over the interval")]
    frames_dropped: Annotated[int, Meta(description="Frames dropped over the interval")]
    interval_seconds: Annotated[float, Meta(description="The interval's length, in seconds")]
    last_error: Annotated[
        str | None,
        Meta(description="The last error met (one line, URL credentials masked), if any"),
    ]


class LastFaceReport(Reply):
    """A camera's latest face-count report (POST .../faces-counted)."""

    period_end: Annotated[datetime, Meta(description="The end of the period it counted")]
    faces: Annotated[int, Meta(description="Faces processed in that period")]


class CameraHealthOut(Reply):
    """One camera's state, last heartbeat and last face-count report."""

    camera_id: Annotated[str, Meta(description="The camera's id, as in the plan")]
    name: Annotated[str, Meta(description="The camera's name, as in the plan")]
    state: Annotated[
        str,
        Meta(
            description="reporting, overdue, silent or never_reported",
            extra_json_schema=one_of(CAMERA_STATES),
        ),
    ]
    last_seen_at: Annotated[
        datetime | None, Meta(description="Its latest heartbeat or face-count period end")
    ]
    silent_since: Annotated[
        datetime | None, Meta(description="While recorded silent: when it was last heard from")
    ]
    last_heartbeat: Annotated[
        LastHeartbeat | None, Meta(description="Its latest heartbeat; null if it sent none")
    ]
    last_face_report: Annotated[
        LastFaceReport | None,
        Meta(description="Its latest face-count report; null if it sent none"),
    ]


class CamerasOut(Reply):
    """Each camera of a deployment, as checked now (no personal data)."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    status: Annotated[
        str,
        Meta(
            description="The deployment's status (DeploymentStatus)",
            extra_json_schema=one_of(DeploymentStatus),
        ),
    ]
    silent_after_seconds: Annotated[
        int,
        Meta(
            description="The policy's `camera_silent_after_seconds`: a live camera not heard "
            "from for longer is recorded silent",
            examples=[120],
        ),
    ]
    checked_at: Annotated[datetime, Meta(description="When the states were read")]
    cameras: Annotated[list[CameraHealthOut], Meta(description="Every camera of the plan")]
