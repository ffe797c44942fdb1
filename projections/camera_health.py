"""Camera and matcher health: the latest heartbeat per camera, and when each camera
was silent.

Heartbeats are kept beside the read models (`camera_heartbeats`), overwritten by the next one:
too many to be events, and worth nothing once a newer one arrives; with the counts, the times
the camera's video source was lost (`source_gaps`, a JSON array). Silences are events
(`Deployment.CameraWentSilent`, `Deployment.CameraReporting`); `CameraSilencesView`
(`camera_silences.py`) turns them into intervals, so a deployment's summary shows when its
cameras were and were not running. Counts and times only: nothing here identifies anyone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.commands.camera_health import Heartbeat, ReportedGap
from lfr_ledger.projections.store import store_for
from lfr_ledger.projections.summaries import CameraSilence
from lfr_ledger.projections.view_base import iso

# --- heartbeats -----------------------------------------------------------------------------

_HEARTBEAT_COLUMNS = (
    "deployment_id",
    "camera_id",
    "received_at",
    "frames_per_second",
    "faces_seen",
    "frames_dropped",
    "interval_seconds",
    "last_error",
    "frames_offered",
    "frames_processed",
    "source_gaps",
)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _gaps_json(gaps: tuple[ReportedGap, ...]) -> str:
    return json.dumps(
        [
            {
                "started_at": iso(g.started_at),
                "ended_at": None if g.ended_at is None else iso(g.ended_at),
            }
            for g in gaps
        ]
    )


def _gaps_of(text: str | None) -> tuple[ReportedGap, ...]:
    return tuple(
        ReportedGap(
            started_at=_time(g["started_at"]),
            ended_at=None if g["ended_at"] is None else _time(g["ended_at"]),
        )
        for g in json.loads(text or "[]")
    )


def record_heartbeat(settings: Settings, heartbeat: Heartbeat) -> None:
    """Keeps `heartbeat` as its camera's latest (an older one arriving late changes nothing)."""
    values = (
        str(heartbeat.deployment_id),
        heartbeat.camera_id,
        iso(heartbeat.received_at),
        heartbeat.frames_per_second,
        heartbeat.faces_seen,
        heartbeat.frames_dropped,
        heartbeat.interval_seconds,
        heartbeat.last_error,
        heartbeat.frames_offered,
        heartbeat.frames_processed,
        _gaps_json(heartbeat.source_gaps),
    )
    updates = ", ".join(f"{c} = excluded.{c}" for c in _HEARTBEAT_COLUMNS[2:])
    with store_for(settings).connection() as db:
        db.execute(
            f"INSERT INTO camera_heartbeats ({', '.join(_HEARTBEAT_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _HEARTBEAT_COLUMNS)}) "
            f"ON CONFLICT (deployment_id, camera_id) DO UPDATE SET {updates} "
            "WHERE camera_heartbeats.received_at <= excluded.received_at",
            values,
        )


def latest_heartbeats(settings: Settings, deployment_id: UUID) -> dict[str, Heartbeat]:
    """Each camera's latest heartbeat, by camera id."""
    with store_for(settings).connection() as db:
        rows = db.execute(
            f"SELECT {', '.join(_HEARTBEAT_COLUMNS)} FROM camera_heartbeats "
            "WHERE deployment_id = ?",
            (str(deployment_id),),
        )
    return {
        str(r[1]): Heartbeat(
            deployment_id=UUID(str(r[0])),
            camera_id=str(r[1]),
            received_at=_time(str(r[2])),
            frames_per_second=float(r[3]),
            faces_seen=int(r[4]),
            frames_dropped=int(r[5]),
            interval_seconds=float(r[6]),
            last_error=None if r[7] is None else str(r[7]),
            frames_offered=int(r[8]),
            frames_processed=int(r[9]),
            source_gaps=_gaps_of(None if r[10] is None else str(r[10])),
        )
        for r in rows
    }


@dataclass(frozen=True)
class FaceReport:
    """A camera's latest face-count report: the end of its period and how many faces."""

    period_end: datetime
    faces: int


def latest_face_reports(settings: Settings, deployment_id: UUID) -> dict[str, FaceReport]:
    """Each camera's face-count report with the latest period end, from the faces view (the
    caller catches the views up first)."""
    with store_for(settings).connection() as db:
        rows = db.execute(
            "SELECT camera_id, period_end, faces FROM view_face_counts WHERE deployment_id = ?",
            (str(deployment_id),),
        )
    latest: dict[str, FaceReport] = {}
    for camera_id, period_end, faces in rows:
        report = FaceReport(_time(str(period_end)), int(faces))
        current = latest.get(str(camera_id))
        if current is None or report.period_end > current.period_end:
            latest[str(camera_id)] = report
    return latest


def camera_silences(
    settings: Settings, deployment_id: UUID, *, ended_at: str | None = None
) -> list[CameraSilence]:
    """The deployment's silences in time order. A silence its camera never ended closes with
    the deployment's end (`ended_at`, ISO), or is still open (`until` null)."""
    with store_for(settings).connection() as db:
        rows = db.execute(
            "SELECT camera_id, silent_since, recorded_at, reporting_at FROM view_camera_silences "
            "WHERE deployment_id = ? ORDER BY silent_since, camera_id",
            (str(deployment_id),),
        )
    return [silence_of(*row, ended_at=ended_at) for row in rows]


def silence_of(
    camera_id: str,
    silent_since: str,
    recorded_at: str,
    reporting_at: str | None,
    *,
    ended_at: str | None,
) -> CameraSilence:
    until, ended_by = (reporting_at, "reporting") if reporting_at else (ended_at, None)
    if until is not None and ended_by is None:
        ended_by = "deployment_ended"
    seconds = None
    if until is not None:
        seconds = int((_time(until) - _time(silent_since)).total_seconds())
    return CameraSilence(
        camera_id=str(camera_id),
        silent_since=str(silent_since),
        recorded_at=str(recorded_at),
        until=until,
        ended_by=ended_by,
        seconds=seconds,
    )
