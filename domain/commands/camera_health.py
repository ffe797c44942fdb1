"""Commands of camera and matcher health: a matcher's heartbeat (`HeartbeatReport`, one value
from the runner to `check_heartbeat`; checked here, kept outside the log: heartbeats are too many
to be events), a camera recorded silent by the scheduled check, and recorded reporting again by
its next heartbeat."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.errors import ConcurrentWrite, InvalidInput, NotPermitted

# Who records a camera silent: the scheduled check, not a person.
CAMERA_CHECK = Actor(id="system:camera-health", role=Role.ADMIN)

# A heartbeat's error text is a hint for the operator, never a log of what the camera saw.
LAST_ERROR_MAX = 200
_CREDENTIALS = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]*@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# A heartbeat is a glance at the last interval, not a log: at most this many source gaps (the
# matcher sends its latest).
HEARTBEAT_GAPS_MAX = 20


def clean_error_text(text: str | None) -> str | None:
    """The matcher's last error as the ledger keeps it: one line, credentials in URLs masked
    (`rtsp://user:pw@cam` -> `rtsp://***@cam`), at most LAST_ERROR_MAX characters."""
    if text is None:
        return None
    cleaned = _CONTROL.sub(" ", _CREDENTIALS.sub(r"\1***@", text)).strip()
    if len(cleaned) > LAST_ERROR_MAX:
        cleaned = cleaned[: LAST_ERROR_MAX - 1] + "…"
    return cleaned or None


class GapLike(Protocol):
    """A time the camera's video source was lost, as the matcher hands it over (its
    `matching.pipeline.sources.SourceGap`, or the HTTP body's gap)."""

    @property
    def started_at(self) -> datetime: ...

    @property
    def ended_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class ReportedGap:
    """A time the camera's video source was lost, as a heartbeat reported it: from `started_at`
    to the first frame read again (`ended_at`; None: still lost when the heartbeat was sent).
    Times are the matcher's clock, in UTC."""

    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True)
class HeartbeatReport:
    """How one camera's matcher ran since its last heartbeat, as it reports it: counts, its
    source's gaps and an error hint only. Built once by the runner (or decoded once from the
    HTTP body) and handed as it is to `check_heartbeat`.

    `frames_offered`: frames the source delivered; `frames_processed`: those analysed;
    `frames_dropped`: those skipped. `source_gaps`: the times the source was lost (the last
    open while it is still down). A matcher that predates them sends neither count (both 0)
    and no gaps."""

    deployment_id: UUID
    camera_id: str
    frames_per_second: float
    faces_seen: int
    frames_dropped: int
    interval_seconds: float
    last_error: str | None = None
    frames_offered: int = 0
    frames_processed: int = 0
    source_gaps: tuple[GapLike, ...] = ()


@dataclass(frozen=True)
class Heartbeat:
    """A heartbeat as the ledger keeps it: the report checked, its error text cleaned, its gaps
    in UTC, stamped with the ledger's clock (`received_at`). Counts only."""

    deployment_id: UUID
    camera_id: str
    received_at: datetime
    frames_per_second: float
    faces_seen: int
    frames_dropped: int
    interval_seconds: float
    last_error: str | None
    frames_offered: int = 0
    frames_processed: int = 0
    source_gaps: tuple[ReportedGap, ...] = ()


def checked_gaps(gaps: Sequence[GapLike]) -> tuple[ReportedGap, ...]:
    """The gaps as a heartbeat keeps them (UTC), refused beyond HEARTBEAT_GAPS_MAX, or with a
    time without a time zone, or ending before it started."""
    if len(gaps) > HEARTBEAT_GAPS_MAX:
        raise InvalidInput(
            f"source_gaps holds {len(gaps)} gaps; a heartbeat carries at most "
            f"{HEARTBEAT_GAPS_MAX} (send the latest)",
            field="source_gaps",
        )
    kept: list[ReportedGap] = []
    for n, gap in enumerate(gaps):
        where = f"source_gaps[{n}]"
        try:
            started = recorded_time(gap.started_at, f"{where}.started_at")
        except InvalidInput as error:
            raise InvalidInput(error.detail, field=f"{where}.started_at") from None
        ended = None
        if gap.ended_at is not None:
            try:
                ended = recorded_time(gap.ended_at, f"{where}.ended_at")
            except InvalidInput as error:
                raise InvalidInput(error.detail, field=f"{where}.ended_at") from None
            if ended < started:
                raise InvalidInput(
                    f"{where}.ended_at is before its started_at", field=f"{where}.ended_at"
                )
        kept.append(ReportedGap(started_at=started, ended_at=ended))
    return tuple(kept)


class CameraHealthCommands(LedgerBase):
    def check_heartbeat(self, actor: Actor, report: HeartbeatReport) -> Heartbeat:
        """The heartbeat as the ledger keeps it, stamped with the ledger's clock; refused from
        any account but the deployment's matcher, for a camera not of the deployment, or with
        counts no matcher could have (negative; more frames processed than its source offered,
        when it counts what its source offered), or gaps no source could have had (see
        `checked_gaps`)."""
        actor.require(Role.MATCHER)
        deployment_id, camera_id = report.deployment_id, report.camera_id
        deployment = self._load(Deployment, deployment_id, "deployment", to_change=False)
        if actor.deployment_id != str(deployment.id):
            raise NotPermitted(f"matcher {actor.id} is not bound to deployment {deployment.id}")
        if not deployment.has_camera(camera_id):
            raise InvalidInput(f"camera {camera_id!r} is not part of deployment {deployment_id}")
        for name, value in (
            ("frames_per_second", report.frames_per_second),
            ("interval_seconds", report.interval_seconds),
        ):
            if not math.isfinite(value) or value < 0:
                raise InvalidInput(f"{name} must be a finite number, zero or more")
        for name, count in (
            ("faces_seen", report.faces_seen),
            ("frames_dropped", report.frames_dropped),
            ("frames_offered", report.frames_offered),
            ("frames_processed", report.frames_processed),
        ):
            if count < 0:
                raise InvalidInput(f"{name} cannot be negative", field=name)
        offered, processed = report.frames_offered, report.frames_processed
        # 0 offered: a matcher (or source) that does not count them; nothing to compare with.
        if offered > 0 and processed > offered:
            raise InvalidInput(
                f"frames_processed ({processed}) cannot exceed frames_offered ({offered})",
                field="frames_processed",
            )
        gaps = checked_gaps(report.source_gaps)
        return Heartbeat(
            deployment_id=deployment_id,
            camera_id=camera_id,
            received_at=self.clock(),
            frames_per_second=round(float(report.frames_per_second), 3),
            faces_seen=int(report.faces_seen),
            frames_dropped=int(report.frames_dropped),
            interval_seconds=round(float(report.interval_seconds), 3),
            last_error=clean_error_text(report.last_error),
            frames_offered=int(offered),
            frames_processed=int(processed),
            source_gaps=gaps,
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
