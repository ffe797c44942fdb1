"""The live runner: one camera of one deployment, from frames to alerts.

`frame → find faces (detect, quality gate) → follow them (tracking) → for the sightings worth it:
refine, align, embed → k-NN in the deployment's watchlist index → similarity ≥ the threshold in
force → one alert per watchlist entry per cool-down`.

Each face is followed across frames as a track (`tracking.py`) and compared with the watchlist
when it appears, again once it has parted from a face it crossed, and again only when a sighting
is materially better (bigger, surer, sharper, more frontal), up to a small cap: a passer-by
crossing the view in three seconds costs a few embeddings, not thirty.

Two stages overlap: the first (the caller's thread) reads a frame, finds and follows its faces
and chooses which to compare; the second (the runner's own thread) embeds them, searches and
raises, one frame at a time in the order read, so alerts come out exactly as a one-stage runner
would raise them (and a replay raises the same ones) while frame N + 1 is detected as frame N is
embedded. At most `MAX_IN_FLIGHT` frames wait for the second stage; then the first waits too,
and a live source drops the frames it could not hand over.

What the runner keeps, and what it never keeps:

- A track holds boxes, times and scores only, in memory, and ends a second after its face was
  last seen. A face whose best candidate falls below the threshold is discarded in the frame it
  was embedded in: its embedding and pixels are never stored, logged or sent. Its track adds one
  to the camera's count of faces processed when first compared, which is reported per period —
  the only trace a passer-by leaves.
- A face that matches opens (or feeds) the alert in making for its watchlist entry. It lasts one
  cool-down from its first matching sighting; it raises one alert carrying the best-quality crop
  seen before the alert was raised (`best_shot` of captured time, zero by default so the alert
  is raised from the first matching sighting).

Alert ids derive from (deployment, camera, entry, first matching sighting) and face-count ids
from (deployment, camera, period start): a runner restarted on a replayed recording stamps its
frames exactly as before, so every alert and count it sends again is recognised and recorded
once. A live camera cannot be replayed; there the `AlertJournal` (`journal.py`) carries the last
cool-down's alerts over a restart.

Every `heartbeat_every_seconds` of wall time the runner sends a heartbeat (frames its source
offered, processed and dropped, faces seen, the source's gaps, its last error) through a
`HeartbeatSink` (the alert sink, when it takes heartbeats), also while it waits for a lost
source to come back: a camera whose runner stops sending, because it crashed or hangs, is
recorded silent by the server's check.

The runner writes through an `AlertSink` (the Application in-process, or the HTTP API with a
matcher token) and reads the deployment's terms (status, window, threshold in force) through a
`DeploymentWatch` between frame batches: a pause or an end stops it, a threshold change applies
from the next batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from uuid import UUID

import cv2
import numpy as np

from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.clock import utcnow
from lfr_ledger.domain.commands.camera_health import HeartbeatReport
from lfr_ledger.domain.errors import (
    ConcurrentWrite,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PolicyViolation,
)
from lfr_ledger.matching.engines.faces import DetectedFace, Face, FaceEngine
from lfr_ledger.matching.node.live_terms import DeploymentWatch, LiveTerms, WatchlistSearch
from lfr_ledger.matching.node.sinks import AlertSink, FacesCounted, HeartbeatSink, alert_id_for
from lfr_ledger.matching.pipeline.crops import portrait
from lfr_ledger.matching.pipeline.journal import AlertJournal
from lfr_ledger.matching.pipeline.sources import Frame, SourceCounts
from lfr_ledger.matching.pipeline.tracking import (
    FaceTracker,
    TrackingConfig,
    sighting_quality,
)

logger = logging.getLogger("lfr.matching")


# What a runner reports of a source that counts nothing (frames handed over by a test, say).
NO_COUNTS = SourceCounts(offered=0, dropped=0, gaps=())

# Frames the second stage may hold before the first waits for it: one being embedded, one ready.
MAX_IN_FLIGHT = 2


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
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def __post_init__(self) -> None:
        if not self.heartbeat_every_seconds > 0:
            raise ValueError("heartbeat_every_seconds must be positive")
        if self.cooldown <= timedelta(0) or self.count_interval <= timedelta(0):
            raise ValueError("cooldown and count_interval must be positive")
        if self.best_shot < timedelta(0) or self.best_shot > self.cooldown:
            raise ValueError("best_shot must lie between 0 and the cool-down")


@dataclass
class _EntryAlert:
    """The alert in making for one watchlist entry: one per cool-down from its first sighting."""

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
    """`faces`: faces processed (tracks compared with the watchlist, one per passer-by);
    `detections`: faces found over all frames; `embeddings`: faces the recogniser embedded."""

    frames: int = 0
    faces: int = 0
    detections: int = 0
    embeddings: int = 0
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
        source_counts: Callable[[], SourceCounts] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        journal: AlertJournal | None = None,
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
        self._alerts: dict[UUID, _EntryAlert] = {}
        self._tracker = FaceTracker(self.config.tracking)
        # The second stage: one thread, so frames complete in the order they were read.
        self._second_stage = ThreadPoolExecutor(1, thread_name_prefix=f"embed:{camera_id}")
        self._in_flight: deque[Future[bool]] = deque()
        self._period: _Period | None = None
        self._periods_started = False
        self._summary = RunSummary()
        # Heartbeats: to `heartbeats`, else to the alert sink if it takes them.
        self.heartbeats = heartbeats
        if heartbeats is None and isinstance(sink, HeartbeatSink):
            self.heartbeats = sink
        # The source's counters (`FrameSource.counts`): frames offered and dropped, and gaps.
        self.source_counts = source_counts
        self.monotonic = monotonic
        self._beat = _Beat()
        self.journal = journal
        self._resumed = False
        self._beat_lock = threading.Lock()
        self._finished = threading.Event()

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
        self._beat = _Beat(started=self.monotonic(), before=self._source_counts())
        self._gaps_reported = 0
        idle_beats = threading.Thread(
            target=self._beat_while_idle, name=f"beat:{self.camera_id}", daemon=True
        )
        idle_beats.start()
        try:
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
                if (
                    self.refresh is not None
                    and now - refreshed_at >= self.config.refresh_every_seconds
                ):
                    self.refresh()
                    refreshed_at = now
                if not terms.inside_window(frame.captured_at):
                    summary.stopped = "outside the authorised window"
                    break
                if self.on_frame is not None:
                    self.on_frame(frame)
                if not self._resumed:
                    self._resume(frame.captured_at)
                if not self._process(frame, terms):
                    break
                self._heartbeat_if_due()
            # Only an orderly stop flushes: after a crash the partial period and any pending
            # alert are left to the restart, which replays them and reports them whole, once.
            self._flush()
        finally:
            self._finished.set()
            self._second_stage.shutdown(wait=True, cancel_futures=True)
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

    def _resume(self, first_frame: datetime) -> None:
        """Takes up the journal's claims of the last cool-down: their entries count as alerted,
        and each claim is sent again (the ledger records it once), in case the previous run
        died between writing it and sending it."""
        self._resumed = True
        if self.journal is None:
            return
        since = first_frame - self.config.cooldown
        for claim in self.journal.claims_since(self.deployment_id, self.camera_id, since):
            self._alerts[claim.entry_id] = _EntryAlert(
                entry_id=claim.entry_id,
                started_at=claim.captured_at,
                alert_id=claim.alert_id,
                similarity=claim.similarity,
                quality=0.0,
                crop=None,
                raised=True,
            )
            self._send(claim, resent=True)

    # --- one frame --------------------------------------------------------------------------

    def _process(self, frame: Frame, terms: LiveTerms) -> bool:
        """Finds and follows the frame's faces, and hands the frame to the second stage (embed
        the faces chosen, search, raise). False once a frame's alert was refused because the
        deployment is no longer live."""
        batch = self._follow(frame, terms)
        self._in_flight.append(self._second_stage.submit(self._complete, batch))
        return self._settle(keep=MAX_IN_FLIGHT)

    def _settle(self, keep: int) -> bool:
        """Collects the frames the second stage has finished, waiting while more than `keep`
        are in flight (so a slow recogniser holds the reader back instead of queueing frames
        without bound). Re-raises what failed there; False if a frame's alert was refused
        because the deployment is no longer live."""
        carried_on = True
        while self._in_flight and (self._in_flight[0].done() or len(self._in_flight) > keep):
            carried_on = self._in_flight.popleft().result() and carried_on
        return carried_on

    def _follow(self, frame: Frame, terms: LiveTerms) -> _Batch:
        summary = self._summary
        summary.frames += 1
        detections = self.engine.find_faces(frame.image)
        summary.detections += len(detections)
        self._beat.frames += 1
        self._beat.faces += len(detections)
        update = self._tracker.update(detections, frame.captured_at)
        chosen: list[_Chosen] = []
        for track, detection in update.assigned:
            quality = sighting_quality(frame.image, detection)
            if track.wants_embedding(quality, self.config.tracking):
                chosen.append(_Chosen(detection, quality, first=track.embeddings == 0))
                track.embedded(quality)
        return _Batch(frame=frame, terms=terms, chosen=chosen)

    def _complete(self, batch: _Batch) -> bool:
        """The second stage, on its own thread, one frame at a time in order."""
        faces = (
            self.engine.embed_faces(batch.frame.image, [c.detection for c in batch.chosen])
            if batch.chosen
            else []
        )
        return self._apply(batch, faces)

    def _apply(self, batch: _Batch, faces: Sequence[Face | None]) -> bool:
        """The one-stage runner's second half, for one frame: count the tracks compared for the
        first time, search the embedded faces, feed the alerts in making, raise those due."""
        frame, terms = batch.frame, batch.terms
        embedded = [
            (face, chosen)
            for chosen, face in zip(batch.chosen, faces, strict=True)
            if face is not None
        ]
        self._summary.embeddings += len(embedded)
        # A track counts as a face processed once, when it is first compared with the list.
        new_faces = sum(1 for _, chosen in embedded if chosen.first)
        self._summary.faces += new_faces
        self._count(frame.captured_at, new_faces)
        best: dict[UUID, tuple[float, Face, float]] = {}
        if embedded:
            found = self.index.search_many(
                self.deployment_id,
                np.stack([face.embedding for face, _ in embedded]),
                1,
                model_id=terms.model_id,
            )
            for (face, chosen), hits in zip(embedded, found, strict=True):
                if not hits or hits[0].similarity < terms.threshold:
                    continue  # a non-match: nothing of it outlives this loop
                hit = hits[0]
                if hit.entry_id not in best or hit.similarity > best[hit.entry_id][0]:
                    best[hit.entry_id] = (float(hit.similarity), face, chosen.quality)
        del embedded, faces
        for entry_id, (similarity, face, quality) in best.items():
            self._sighting(entry_id, similarity, face, quality, frame)
        return self._raise_due(frame.captured_at, terms)

    def _sighting(
        self, entry_id: UUID, similarity: float, face: Face, quality: float, frame: Frame
    ) -> None:
        alert = self._alerts.get(entry_id)
        at = frame.captured_at
        if alert is not None and at < alert.started_at + self.config.cooldown:
            if alert.raised:
                return
            if quality > alert.quality:
                alert.quality, alert.crop = quality, self._crop(frame.image, face)
            alert.similarity = max(alert.similarity, similarity)
            return
        alert_id = alert_id_for(self.deployment_id, self.camera_id, entry_id, at)
        self._alerts[entry_id] = _EntryAlert(
            entry_id=entry_id,
            started_at=at,
            alert_id=alert_id,
            similarity=similarity,
            quality=quality,
            crop=self._crop(frame.image, face),
        )

    def _crop(self, image: np.ndarray, face: Face) -> bytes | None:
        crop = portrait(image, face.detection, margin=self.config.crop_margin)
        ok, encoded = cv2.imencode(
            ".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, self.config.crop_jpeg_quality]
        )
        return encoded.tobytes() if ok else None

    def _raise_due(self, now: datetime | None, terms: LiveTerms) -> bool:
        for alert in list(self._alerts.values()):
            if alert.raised:
                continue
            if now is not None and now - alert.started_at < self.config.best_shot:
                continue
            if not self._raise(alert, terms):
                return False
        return True

    def _raise(self, alert: _EntryAlert, terms: LiveTerms) -> bool:
        claim = AlertClaim(
            alert_id=alert.alert_id,
            deployment_id=self.deployment_id,
            camera_id=self.camera_id,
            entry_id=alert.entry_id,
            similarity=round(min(1.0, alert.similarity), 6),
            captured_at=alert.started_at,
            model_id=terms.model_id,
            track_id=f"trk-{alert.alert_id.hex[:16]}",
            face_crop=alert.crop,
        )
        alert.raised = True
        alert.crop = None  # sent once; the runner keeps no image it no longer needs
        if self.journal is not None:
            self.journal.write(claim)
        return self._send(claim)

    def _send(self, claim: AlertClaim, *, resent: bool = False) -> bool:
        """Sends a claim; a refusal is noted and matching goes on, unless it says the deployment
        is no longer live (False). A `resent` claim is an earlier run's: not this run's news."""
        try:
            self.sink.raise_alert(claim)
        except InvalidTransition as refusal:
            current = self.watch.terms()
            if not current.is_live:
                self._summary.stopped = f"deployment {current.status}"
                return False
            # Live, yet refused: the entry was withdrawn, or the frame fell outside the window.
            logger.warning("alert %s refused: %s", claim.alert_id, refusal)
            self._note_error(f"alert refused: {type(refusal).__name__}: {refusal}")
            return True
        except (InvalidInput, NotFound, PolicyViolation) as refusal:
            logger.warning("alert %s refused: %s", claim.alert_id, refusal)
            self._note_error(f"alert refused: {type(refusal).__name__}: {refusal}")
            return True
        if resent:
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
            self._note_error("faces count kept as first reported")
            return
        self._summary.counts.append(report)

    def _flush(self) -> None:
        # The last frames' results first: their sightings may still raise (if the deployment
        # still accepts them) and their faces belong to the period reported below.
        self._settle(keep=0)
        self._tracker.end_all()
        if any(not a.raised for a in self._alerts.values()):
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

    def _source_counts(self) -> SourceCounts:
        if self.source_counts is None:
            return NO_COUNTS
        return self.source_counts()

    def _note_error(self, text: str) -> None:
        # Written by the second stage, read and reset by the first when a heartbeat goes out.
        with self._beat_lock:
            self._beat.error = text

    def _beat_while_idle(self) -> None:
        """While no frame comes (a lost source reconnecting), heartbeats go out on time anyway,
        carrying the open gap: the camera shows "source lost", not silence."""
        every = self.config.heartbeat_every_seconds
        frames = -1
        while not self._finished.wait(every):
            if self._summary.frames == frames:  # none for a whole interval
                self._heartbeat_if_due()
            frames = self._summary.frames

    def _heartbeat_if_due(self) -> None:
        with self._beat_lock:
            report = self._take_heartbeat()
        if report is None:
            return
        assert self.heartbeats is not None
        try:
            self.heartbeats.send_heartbeat(report)
        except Exception as error:  # a heartbeat is best effort: matching goes on without it
            logger.warning("heartbeat of %s not delivered: %s", self.camera_id, error)
            self._note_error(f"heartbeat not delivered: {type(error).__name__}")
            return
        self._summary.heartbeats.append(report)

    def _take_heartbeat(self) -> HeartbeatReport | None:
        """The heartbeat due now, if one is, its counts then started afresh."""
        beat = self._beat
        if self.heartbeats is None or beat.started is None:
            return None
        now = self.monotonic()
        elapsed = now - beat.started
        if elapsed < self.config.heartbeat_every_seconds:
            return None
        counts = self._source_counts()
        # Each gap until it is reported closed: an open one in every heartbeat while it lasts.
        gaps = counts.gaps[self._gaps_reported :]
        self._gaps_reported += sum(1 for gap in gaps if gap.ended_at is not None)
        self._beat = _Beat(started=now, before=counts)
        return HeartbeatReport(
            deployment_id=self.deployment_id,
            camera_id=self.camera_id,
            frames_per_second=round(beat.frames / elapsed, 3) if elapsed > 0 else 0.0,
            faces_seen=beat.faces,
            frames_dropped=max(0, counts.dropped - beat.before.dropped),
            interval_seconds=round(elapsed, 3),
            last_error=beat.error,
            frames_offered=max(0, counts.offered - beat.before.offered),
            frames_processed=beat.frames,
            source_gaps=gaps,
        )


class _Chosen(NamedTuple):
    """A sighting handed to the recogniser."""

    detection: DetectedFace
    quality: float
    first: bool  # its track's first comparison: the track counts as a face processed


@dataclass
class _Batch:
    """One frame handed from the first stage to the second, with the sightings chosen."""

    frame: Frame
    terms: LiveTerms
    chosen: list[_Chosen]


@dataclass
class _Beat:
    """What the next heartbeat reports: counts since the last one, and the last error met."""

    started: float | None = None
    before: SourceCounts = NO_COUNTS
    frames: int = 0
    faces: int = 0
    error: str | None = None
