"""Camera and matcher health: a matcher's heartbeat, and each camera's state.
Counts and times only: nothing here identifies anyone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import AwareDateTime, Ident, Reply, Struct, one_of
from lfr_ledger.domain.commands.camera_health import HEARTBEAT_GAPS_MAX, HeartbeatReport
from lfr_ledger.domain.values import DeploymentStatus

Rate = Annotated[float, Meta(ge=0, le=10_000)]
Count = Annotated[int, Meta(ge=0, le=1_000_000_000)]
# A camera's state (api/camera_health.py, CameraState).
CAMERA_STATES = ("reporting", "overdue", "silent", "never_reported", "not_live")


class SourceGapIn(Struct):
    """A time the camera's video source was lost, by the matcher's clock."""

    started_at: Annotated[
        AwareDateTime,
        Meta(
            description="When the source was lost (the read that failed)",
            examples=["2026-06-02T10:14:02Z"],
        ),
    ]
    ended_at: (
        Annotated[
            AwareDateTime,
            Meta(
                description="When the first frame came again, not before started_at; null or "
                "absent while the source is still lost",
                examples=["2026-06-02T10:14:09Z"],
            ),
        ]
        | None
    ) = None


class HeartbeatIn(Struct):
    """How one camera's matcher ran over its last interval. `last_error`: the text of the
    last error it met, if any (kept one line, URL credentials masked, at most 200
    characters); it must never hold anything about a person. The frame counts and the
    source's gaps may be left out (a matcher that predates them): they count as 0 and none."""

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
        Count,
        Meta(
            description="Frames the source delivered that the matcher skipped over the "
            "interval (it was busy with an older one)",
            examples=[0],
        ),
    ] = 0
    frames_offered: Annotated[
        Count,
        Meta(
            description="Frames the video source delivered over the interval, processed or "
            "not; 0 when the matcher does not count them",
            examples=[375],
        ),
    ] = 0
    frames_processed: Annotated[
        Count,
        Meta(
            description="Frames the matcher analysed over the interval; at most "
            "frames_offered when that is counted",
            examples=[375],
        ),
    ] = 0
    source_gaps: Annotated[
        list[SourceGapIn],
        Meta(
            max_length=HEARTBEAT_GAPS_MAX,
            description="The times the video source was lost (the latest, at most "
            f"{HEARTBEAT_GAPS_MAX}); one still lost has no ended_at",
        ),
    ] = msgspec.field(default_factory=list)
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

    def report(self, deployment_id: UUID) -> HeartbeatReport:
        """The heartbeat this body states, as the matcher's runner built it."""
        fields = msgspec.structs.asdict(self)
        fields["source_gaps"] = tuple(self.source_gaps)
        return HeartbeatReport(deployment_id=deployment_id, **fields)


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


class SourceGapOut(Reply):
    """A time the camera's video source was lost, as its latest heartbeat reported it."""

    started_at: Annotated[datetime, Meta(description="When the source was lost (UTC)")]
    ended_at: Annotated[
        datetime | None,
        Meta(description="When frames came again (UTC); null: still lost at the heartbeat"),
    ]


class LastHeartbeat(Reply):
    """A camera's latest heartbeat, as kept."""

    received_at: Annotated[datetime, Meta(description="When the server received it")]
    frames_per_second: Annotated[float, Meta(description="Frames processed per second")]
    faces_seen: Annotated[int, Meta(description="Faces detected over the interval")]
    frames_dropped: Annotated[
        int, Meta(description="Frames the source delivered that the matcher skipped")
    ]
    interval_seconds: Annotated[float, Meta(description="The interval's length, in seconds")]
    last_error: Annotated[
        str | None,
        Meta(description="The last error met (one line, URL credentials masked), if any"),
    ]
    frames_offered: Annotated[
        int,
        Meta(
            description="Frames the video source delivered over the interval (0: not counted "
            "by this matcher)"
        ),
    ]
    frames_processed: Annotated[
        int, Meta(description="Frames the matcher analysed over the interval")
    ]
    source_gaps: Annotated[
        list[SourceGapOut],
        Meta(
            description="The times the video source was lost, as reported; one with a null "
            "ended_at means it was still lost when the heartbeat was sent"
        ),
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
            description="reporting, overdue, silent, never_reported or not_live",
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
