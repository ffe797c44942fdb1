"""The live runner: one camera of one deployment, from frames to alerts.

`frame → engine.analyse (detect, quality gate, align, embed) → k-NN in the deployment's
watchlist index → similarity ≥ the threshold in force → track per watchlist entry → raise alert`.

What the runner keeps, and what it never keeps:

- A face whose best candidate falls below the threshold is discarded in the frame it was seen in:
  its embedding and pixels are never stored, logged or sent. It adds one to the camera's count of
  faces processed, which is reported per period — the only trace a passer-by leaves.
- A face that matches opens (or feeds) a track for its watchlist entry. A track lasts one
  cool-down from its first sighting; it raises one alert carrying the best-quality crop seen
  before the alert was raised (`best_shot` of captured time, zero by default so the alert is
  raised from the first matching frame).

Alert ids derive from (deployment, camera, entry, track start) and face-count ids from
(deployment, camera, period start): a runner restarted on a replayed recording stamps its frames
exactly as before, so every alert and count it sends again is recognised and recorded once.

Every `heartbeat_every_seconds` of wall time the runner sends a heartbeat (frames per second,
faces seen, frames the source dropped, its last error) through a `HeartbeatSink` (the alert sink,
when it takes heartbeats): a camera whose runner stops sending, because its source stalled or it
crashed, is recorded silent by the server's check.

The runner writes through an `AlertSink` (the Application in-process, or the HTTP API with a
matcher token) and reads the deployment's terms (status, window, threshold in force) through a
`DeploymentWatch` between frame batches: a pause or an end stops it, a threshold change applies
from the next batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import cv2
import numpy as np

from lfr_ledger.domain.clock import utcnow
from lfr_ledger.domain.errors import (
    ConcurrentWrite,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PolicyViolation,
)
from lfr_ledger.matching.crops import portrait
from lfr_ledger.matching.engine import Face, FaceEngine
from lfr_ledger.matching.live_terms import DeploymentWatch, LiveTerms, WatchlistSearch
from lfr_ledger.matching.sinks import (
    AlertClaim,
    AlertSink,
    FacesCounted,
    HeartbeatReport,
    HeartbeatSink,
    alert_id_for,
)
from lfr_ledger.matching.sources import Frame

logger = logging.getLogger("lfr.matching")


class RunnerRefused(RuntimeError):
    """The runner will not start: the deployment is not live, or not in its window, ..."""


@dataclass(frozen=True)
class RunnerConfig:
    """`cooldown`: one alert per entry per camera per this much captured time.
    `best_shot`: how long a new track collects crops before its alert is raised (0: at once).
    `count_interval`: faces processed are reported per this much captured time.
    `check_every_frames` / `check_every_seconds`: how often the deployment's terms are re-read.
    `refresh_every_seconds`: how often `refresh` (the index sync) is called.
    `heartbeat_every_seconds`: how often (wall time) a heartbeat is sent.
    """

    cooldown: timedelta = timedelta(seconds=30)
    best_shot: timedelta = timedelta(0)
    count_interval: timedelta = timedelta(minutes=1)
    check_every_frames: int = 10
    check_every_seconds: float = 1.0
    refresh_every_seconds: float = 60.0
    crop_margin: float = 0.4
    crop_jpeg_quality: int = 90
    heartbeat_every_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.heartbeat_every_seconds > 0:
            raise ValueError("heartbeat_every_seconds must be positive")
        if self.cooldown <= timedelta(0) or self.count_interval <= timedelta(0):
            raise ValueError("cooldown and count_interval must be positive")
        if self.best_shot < timedelta(0) or self.best_shot > self.cooldown:
            raise ValueError("best_shot must lie between 0 and the cool-down")


@dataclass
class _Track:
    entry_id: UUID
    started_at: datetime
    alert_id: UUID
    similarity: float
    quality: float
    crop: bytes | None
    raised: bool = False


@dataclass
class _Period:
    start: datetime
    end: datetime  # the period's nominal end
    count: int = 0
    last_frame: datetime | None = None
    gap: timedelta | None = None


@dataclass
class RunSummary:
    frames: int = 0
    faces: int = 0
    alerts: list[AlertClaim] = field(default_factory=list)
    counts: list[FacesCounted] = field(default_factory=list)
    heartbeats: list[HeartbeatReport] = field(default_factory=list)
    stopped: str = ""

    @property
    def alert_ids(self) -> list[UUID]:
        return [a.alert_id for a in self.alerts]


class MatchRunner:
    """Matches one camera's frames against one deployment's watchlist. Not thread-safe; `stop`
    may be called from any thread."""

    def __init__(
        self,
        *,
        deployment_id: UUID,
        camera_id: str,
        engine: FaceEngine,
        index: WatchlistSearch,
        sink: AlertSink,
        watch: DeploymentWatch,
        config: RunnerConfig | None = None,
        clock: Callable[[], datetime] = utcnow,
        refresh: Callable[[], object] | None = None,
        on_alert: Callable[[AlertClaim], None] | None = None,
        on_frame: Callable[[Frame], None] | None = None,
        heartbeats: HeartbeatSink | None = None,
        frames_dropped: Callable[[], int] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.deployment_id = deployment_id
        self.camera_id = camera_id
        self.engine = engine
        self.index = index
        self.sink = sink
        self.watch = watch
        self.config = config or RunnerConfig()
        self.clock = clock
        self.refresh = refresh
        self.on_alert = on_alert
        self.on_frame = on_frame
        self._stop = threading.Event()
        self._tracks: dict[UUID, _Track] = {}
        self._period: _Period | None = None
        self._periods_started = False
        self._summary = RunSummary()
        # Heartbeats: to `heartbeats`, else to the alert sink if it takes them.
        self.heartbeats = heartbeats
        if heartbeats is None and isinstance(sink, HeartbeatSink):
            self.heartbeats = sink
        self.frames_dropped = frames_dropped
        self.monotonic = monotonic
        self._beat = _Beat()

    # --- control ----------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def check_can_start(self) -> LiveTerms:
        """The terms in force, or RunnerRefused saying why matching may not run now."""
        terms = self.watch.terms()
        if not terms.is_live:
            raise RunnerRefused(
                f"deployment {self.deployment_id} is {terms.status}; matching runs only while "
                "it is live (an operator starts or resumes it)"
            )
        if self.camera_id not in terms.cameras:
            raise RunnerRefused(
                f"camera {self.camera_id!r} is not part of deployment {self.deployment_id} "
                f"(its cameras: {', '.join(sorted(terms.cameras))})"
            )
        if self.engine.model_id != terms.model_id:
            raise RunnerRefused(
                f"deployment {self.deployment_id} matches with model {terms.model_id!r}; this "
                f"engine runs {self.engine.model_id!r}, whose scores are on another scale"
            )
        now = self.clock()
        if not terms.inside_window(now):
            raise RunnerRefused(
                f"deployment {self.deployment_id} is authorised for "
                f"{terms.starts_at.isoformat()} to {terms.ends_at.isoformat()}; "
                f"it is now {now.isoformat()}, outside that window"
            )
        return terms

    def run(self, frames: Iterable[Frame]) -> RunSummary:
        """Matches frames until the source ends, the deployment stops being live, its window
        closes, or `stop()` is called. Counts are flushed and pending alerts raised on the way
        out (if the deployment still accepts them)."""
        terms = self.check_can_start()
        if self.refresh is not None:
            self.refresh()
        checked_at = time.monotonic()
        refreshed_at = checked_at
        since_check = 0
        summary = self._summary
        summary.stopped = "source ended"
        self._beat = _Beat(started=self.monotonic(), dropped_before=self._dropped())
        for frame in frames:
            if self._stop.is_set():
                summary.stopped = "stopped"
                break
            since_check += 1
            now = time.monotonic()
            if (
                since_check >= self.config.check_every_frames
                or now - checked_at >= self.config.check_every_seconds
            ):
                terms = self.watch.terms()
                since_check, checked_at = 0, now
                if not terms.is_live:
                    summary.stopped = f"deployment {terms.status}"
                    break
            if self.refresh is not None and now - refreshed_at >= self.config.refresh_every_seconds:
                self.refresh()
                refreshed_at = now
            if not terms.inside_window(frame.captured_at):
                summary.stopped = "outside the authorised window"
                break
            if self.on_frame is not None:
                self.on_frame(frame)
            if not self._process(frame, terms):
                break
            self._heartbeat_if_due()
        # Only an orderly stop flushes: after a crash the partial period and any pending track
        # are left to the restart, which replays them and reports them whole, once.
        self._flush()
        logger.info(
            "runner %s/%s stopped (%s): %d frames, %d faces, %d alerts",
            self.deployment_id,
            self.camera_id,
            summary.stopped,
            summary.frames,
            summary.faces,
            len(summary.alerts),
        )
        return summary

    # --- one frame --------------------------------------------------------------------------

    def _process(self, frame: Frame, terms: LiveTerms) -> bool:
        """False when the deployment refused an alert because it is no longer live."""
        summary = self._summary
        summary.frames += 1
        faces = self.engine.analyse(frame.image)
        summary.faces += len(faces)
        self._beat.frames += 1
        self._beat.faces += len(faces)
        self._count(frame.captured_at, len(faces))
        best: dict[UUID, tuple[float, Face]] = {}
        if faces:
            found = self.index.search_many(
                self.deployment_id,
                np.stack([face.embedding for face in faces]),
                1,
                model_id=terms.model_id,
            )
            for face, hits in zip(faces, found, strict=True):
                if not hits or hits[0].similarity < terms.threshold:
                    continue  # a non-match: nothing of it outlives this loop
                hit = hits[0]
                if hit.entry_id not in best or hit.similarity > best[hit.entry_id][0]:
                    best[hit.entry_id] = (float(hit.similarity), face)
        del faces
        for entry_id, (similarity, face) in best.items():
            self._sighting(entry_id, similarity, face, frame)
        return self._raise_due(frame.captured_at, terms)

    def _sighting(self, entry_id: UUID, similarity: float, face: Face, frame: Frame) -> None:
        track = self._tracks.get(entry_id)
        at = frame.captured_at
        if track is not None and at < track.started_at + self.config.cooldown:
            if track.raised:
                return
            quality = _quality(face)
            if quality > track.quality:
                track.quality, track.crop = quality, self._crop(frame.image, face)
            track.similarity = max(track.similarity, similarity)
            return
        alert_id = alert_id_for(self.deployment_id, self.camera_id, entry_id, at)
        self._tracks[entry_id] = _Track(
            entry_id=entry_id,
            started_at=at,
            alert_id=alert_id,
            similarity=similarity,
            quality=_quality(face),
            crop=self._crop(frame.image, face),
        )

    def _crop(self, image: np.ndarray, face: Face) -> bytes | None:
        crop = portrait(image, face.detection, margin=self.config.crop_margin)
        ok, encoded = cv2.imencode(
            ".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, self.config.crop_jpeg_quality]
        )
        return encoded.tobytes() if ok else None

    def _raise_due(self, now: datetime | None, terms: LiveTerms) -> bool:
        for track in list(self._tracks.values()):
            if track.raised:
                continue
            if now is not None and now - track.started_at < self.config.best_shot:
                continue
            if not self._raise(track, terms):
                return False
        return True

    def _raise(self, track: _Track, terms: LiveTerms) -> bool:
        claim = AlertClaim(
            alert_id=track.alert_id,
            deployment_id=self.deployment_id,
            camera_id=self.camera_id,
            entry_id=track.entry_id,
            similarity=round(min(1.0, track.similarity), 6),
            captured_at=track.started_at,
            model_id=terms.model_id,
            track_id=f"trk-{track.alert_id.hex[:16]}",
            face_crop=track.crop,
        )
        track.raised = True
        track.crop = None  # sent once; the runner keeps no image it no longer needs
        try:
            self.sink.raise_alert(claim)
        except InvalidTransition as refusal:
            current = self.watch.terms()
            if not current.is_live:
                self._summary.stopped = f"deployment {current.status}"
                return False
            # Live, yet refused: the entry was withdrawn, or the frame fell outside the window.
            logger.warning("alert %s refused: %s", claim.alert_id, refusal)
            self._beat.error = f"alert refused: {type(refusal).__name__}: {refusal}"
            return True
        except (InvalidInput, NotFound, PolicyViolation) as refusal:
            logger.warning("alert %s refused: %s", claim.alert_id, refusal)
            self._beat.error = f"alert refused: {type(refusal).__name__}: {refusal}"
            return True
        self._summary.alerts.append(claim)
        logger.info(
            "alert %s raised: deployment %s camera %s entry %s similarity %.3f",
            claim.alert_id,
            self.deployment_id,
            self.camera_id,
            claim.entry_id,
            claim.similarity,
        )
        if self.on_alert is not None:
            self.on_alert(claim)
        return True

    # --- faces processed --------------------------------------------------------------------

    def _count(self, at: datetime, faces: int) -> None:
        interval = self.config.count_interval
        period = self._period
        if period is not None and at >= period.end:
            self._report(period, period.end)
            period = None
        if period is None:
            # Periods sit on a grid from the epoch, so every runner (and every restart) cuts the
            # same periods; the first period of a run begins at its first frame, so a runner
            # started mid-period never reports over a part another run already reported.
            epoch = datetime(1970, 1, 1, tzinfo=UTC)
            slots = (at - epoch) // interval
            grid_start = epoch + slots * interval
            first = not self._periods_started
            period = _Period(start=at if first else grid_start, end=grid_start + interval)
            self._period = period
            self._periods_started = True
        period.count += faces
        if period.last_frame is not None:
            period.gap = at - period.last_frame
        period.last_frame = at

    def _report(self, period: _Period, end: datetime) -> None:
        report = FacesCounted(
            deployment_id=self.deployment_id,
            camera_id=self.camera_id,
            period_start=period.start,
            period_end=end,
            count=period.count,
        )
        try:
            self.sink.report_faces_counted(report)
        except ConcurrentWrite as conflict:
            # Another report for the same period stands; the first one recorded is kept.
            logger.warning("faces count for %s kept as first reported: %s", period.start, conflict)
            self._beat.error = "faces count kept as first reported"
            return
        self._summary.counts.append(report)

    def _flush(self) -> None:
        if any(not t.raised for t in self._tracks.values()):
            current = self.watch.terms()
            if current.is_live:
                self._raise_due(None, current)
        period = self._period
        if period is not None and period.last_frame is not None:
            # A partial period ends one frame after its last frame (never after its nominal end).
            step = (
                period.gap if period.gap and period.gap > timedelta(0) else timedelta(seconds=0.1)
            )
            self._report(period, min(period.end, period.last_frame + step))
            self._period = None

    # --- heartbeats ---------------------------------------------------------------------------

    def _dropped(self) -> int:
        return self.frames_dropped() if self.frames_dropped is not None else 0

    def _heartbeat_if_due(self) -> None:
        beat = self._beat
        if self.heartbeats is None or beat.started is None:
            return
        now = self.monotonic()
        elapsed = now - beat.started
        if elapsed < self.config.heartbeat_every_seconds:
            return
        dropped = self._dropped()
        report = HeartbeatReport(
            deployment_id=self.deployment_id,
            camera_id=self.camera_id,
            frames_per_second=round(beat.frames / elapsed, 3) if elapsed > 0 else 0.0,
            faces_seen=beat.faces,
            frames_dropped=max(0, dropped - beat.dropped_before),
            interval_seconds=round(elapsed, 3),
            last_error=beat.error,
        )
        self._beat = _Beat(started=now, dropped_before=dropped)
        try:
            self.heartbeats.send_heartbeat(report)
        except Exception as error:  # a heartbeat is best effort: matching goes on without it
            logger.warning("heartbeat of %s not delivered: %s", self.camera_id, error)
            self._beat.error = f"heartbeat not delivered: {type(error).__name__}"
            return
        self._summary.heartbeats.append(report)


@dataclass
class _Beat:
    """What the next heartbeat reports: counts since the last one, and the last error met."""

    started: float | None = None
    dropped_before: int = 0
    frames: int = 0
    faces: int = 0
    error: str | None = None


def _quality(face: Face) -> float:
    """Bigger and surer faces make better crops for the operator; beyond ~160 px size stops
    mattering."""
    return float(face.score) * min(face.detection.size_px, 160.0)
