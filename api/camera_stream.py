"""Each camera's state, pushed: the operator's page follows its cameras on one server-sent
event stream instead of asking `GET /deployments/{id}/cameras` every few seconds.

A camera's state is not one event of the log: it is read from the latest heartbeats (kept
beside the read models, not events), the face-count view, the deployment's silences, and the
clock (a camera turns `overdue` when nothing was heard for the policy's bound). So the stream
sends the whole state (the `CamerasOut` the GET route answers) each time it differs from what
it last sent, and first on every (re)connection: a client that reconnects gets the state as it
is, and nothing in between can be lost because each message replaces the last.

The server looks when the log moves (the log's bell, eventlog/wakeup.py: silences, face counts
and the deployment's status are events), at most every `MIN_GAP_SECONDS`, and once a second
otherwise (heartbeats are not events, and the clock turns cameras overdue); cheaply: the state
is rebuilt only when the log moved, a heartbeat arrived or a camera's bound ran out since the
last look. Counts and times only.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import datetime, timedelta
from uuid import UUID

import anyio
import anyio.to_thread
import msgspec
from litestar.response import ServerSentEventMessage

from lfr_ledger.api.camera_health import CameraState, camera_health
from lfr_ledger.api.schemas.camera_health import (
    CameraHealthOut,
    CamerasOut,
    LastFaceReport,
    LastHeartbeat,
    SourceGapOut,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.wakeup import LogBell, bell_of
from lfr_ledger.projections.camera_health import latest_heartbeats

LOOK_EVERY_SECONDS = 1.0
# A burst of alerts rebuilds the state no more often than this.
MIN_GAP_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 1000
EVENT = "cameras"


def cameras_out(ledger: CaseLedger, settings: Settings, deployment_id: UUID) -> CamerasOut:
    """Every camera of the deployment as checked now (the caller catches the views up)."""
    cameras = camera_health(ledger, settings, deployment_id)
    return CamerasOut(
        deployment_id=deployment_id,
        status=str(ledger.deployment(deployment_id, to_change=False).status),
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


class CameraFeed:
    """One subscription's view of a deployment's cameras: what it last sent, and what would
    make it look again."""

    def __init__(
        self,
        ledger: CaseLedger,
        settings: Settings,
        deployment_id: UUID,
        caught_up: Callable[[], object],
    ) -> None:
        self.ledger = ledger
        self.settings = settings
        self.deployment_id = deployment_id
        self.caught_up = caught_up
        self._marks: tuple[object, ...] | None = None
        self._turns_at: datetime | None = None  # when a reporting camera next turns overdue
        self._sent: bytes | None = None
        self.bell: LogBell | None = bell_of(ledger.recorder)

    def _marks_now(self) -> tuple[object, ...]:
        """What moves when a camera's state may have: the log's head (silences, face counts,
        the deployment's status) and each camera's latest heartbeat time."""
        beats = latest_heartbeats(self.settings, self.deployment_id)
        return (
            self.ledger.recorder.max_notification_id(),
            tuple(sorted((c, b.received_at) for c, b in beats.items())),
        )

    def poll(self) -> CamerasOut | None:
        """The cameras' state when it differs from the last sent (always, the first time)."""
        marks = self._marks_now()
        due = self._turns_at is not None and self.ledger.clock() >= self._turns_at
        if marks == self._marks and not due:
            return None
        self._marks = marks
        self.caught_up()  # face counts come from the views
        state = cameras_out(self.ledger, self.settings, self.deployment_id)
        bound = timedelta(seconds=state.silent_after_seconds)
        turns = [
            c.last_seen_at + bound
            for c in state.cameras
            if c.state == CameraState.REPORTING and c.last_seen_at is not None
        ]
        self._turns_at = min(turns) if turns else None
        # `checked_at` moves on every look: only a change of the cameras themselves is news.
        body = msgspec.json.encode(msgspec.structs.replace(state, checked_at=datetime.min))
        if body == self._sent:
            return None
        self._sent = body
        return state


async def camera_events(feed: CameraFeed) -> AsyncGenerator[ServerSentEventMessage, None]:
    yield ServerSentEventMessage(data=None, comment="subscribed", retry=RETRY_MILLISECONDS)
    quiet_since = anyio.current_time()
    while True:
        rung = feed.bell.rung if feed.bell is not None else 0
        state = await anyio.to_thread.run_sync(feed.poll)
        if state is not None:
            quiet_since = anyio.current_time()
            yield ServerSentEventMessage(data=msgspec.json.encode(state).decode(), event=EVENT)
        elif anyio.current_time() - quiet_since > KEEPALIVE_SECONDS:
            quiet_since = anyio.current_time()
            yield ServerSentEventMessage(data=None, comment="keep-alive")
        await anyio.sleep(MIN_GAP_SECONDS)
        if feed.bell is None:
            await anyio.sleep(LOOK_EVERY_SECONDS - MIN_GAP_SECONDS)
        else:
            await feed.bell.wait(rung, LOOK_EVERY_SECONDS - MIN_GAP_SECONDS)
