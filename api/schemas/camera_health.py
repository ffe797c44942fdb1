"""Camera and matcher health: a matcher's heartbeat, and each camera's state.
Counts and times only: nothing here identifies anyone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Ident, Reply, Struct

Rate = Annotated[float, Meta(ge=0, le=10_000)]
Count = Annotated[int, Meta(ge=0, le=1_000_000_000)]


class HeartbeatIn(Struct):
    """How one camera's matcher ran over its last interval. `last_error`: the text of the
    last error it met, if any (kept one line, URL credentials masked, at most 200
    characters); it must never hold anything about a person."""

    camera_id: Ident
    frames_per_second: Rate
    faces_seen: Count
    interval_seconds: Annotated[float, Meta(ge=0, le=86_400)]
    frames_dropped: Count = 0
    last_error: Annotated[str, Meta(max_length=2000)] | None = None


class HeartbeatOut(Reply):
    """The heartbeat as kept. `reporting_recorded`: it ended a recorded silence of the camera
    (a Deployment.CameraReporting event)."""

    deployment_id: UUID
    camera_id: str
    received_at: datetime
    reporting_recorded: bool


class LastHeartbeat(Reply):
    received_at: datetime
    frames_per_second: float
    faces_seen: int
    frames_dropped: int
    interval_seconds: float
    last_error: str | None


class LastFaceReport(Reply):
    period_end: datetime
    faces: int


class CameraHealthOut(Reply):
    camera_id: str
    name: str
    state: Annotated[str, Meta(description="reporting, overdue, silent or never_reported")]
    last_seen_at: Annotated[
        datetime | None, Meta(description="Its latest heartbeat or face-count period end")
    ]
    silent_since: Annotated[
        datetime | None, Meta(description="While recorded silent: when it was last heard from")
    ]
    last_heartbeat: LastHeartbeat | None
    last_face_report: LastFaceReport | None


class CamerasOut(Reply):
    deployment_id: UUID
    status: str
    silent_after_seconds: int
    checked_at: datetime
    cameras: list[CameraHealthOut]
