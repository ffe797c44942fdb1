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

What the runner keeps, and what it never keeps: a track holds boxes, times and scores only, in
memory, and ends a second after its face was last seen. A face whose best candidate falls below
the threshold is discarded in the frame it was embedded in: its embedding and pixels are never
stored, logged or sent; its track adds one to the camera's count of faces processed
(`face_counts.py`) when first compared. A face that matches feeds the alert in making for its
watchlist entry (`alerts.py`). Heartbeats go out on their own pace (`heartbeats.py`).

Where it looks: with `RunnerConfig.gating` (and an engine that can search regions, as the
built-in one can) the detector searches only where something moved or a track predicts a face,
and the whole frame at least once a second (`regions.py`); a fixed camera's empty street then
costs a thumbnail's comparison, not a detector run.

When it is behind (the degradation policy). A runner that cannot keep up with its camera sheds
work in this order, and never anything below the line:

1. stale frames: a live source hands over only the newest frame (`FrameSource.drop_stale`), so
   the frames a slow runner could not take are dropped and counted (`dropped`, in heartbeats),
   never queued;
2. second looks: while a frame waits for the second stage behind one being embedded, a better
   sighting of a track already compared is not compared again (`RunSummary.shed`).

Never shed: the first comparison of every new track and the comparison after two tracks crossed
(so every passer-by the detector follows is compared with the watchlist at least once, and a
swapped track is caught); the whole-frame search at least once a second; an alert due, its
journal entry and its delivery; the terms check, the face counts and heartbeats. The first stage
waits for the second rather than let unembedded frames pile up (`MAX_IN_FLIGHT`).

The runner reads and writes only through its ports (`ports.py`): it writes through an
`AlertSink` (the Application in-process, or the HTTP API with a matcher token) and reads the
deployment's terms (status, window, threshold in force) through a `DeploymentWatch` between
frame batches: a pause or an end stops it, a threshold change applies from the next batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple
from uuid import UUID

import numpy as np

from lfr_ledger.matching.engines.faces import DetectedFace, Face, FaceEngine
from lfr_ledger.matching.pipeline.alerts import AlertsInMaking
from lfr_ledger.matching.pipeline.config import RunnerConfig
from lfr_ledger.matching.pipeline.face_counts import FaceCountPeriods
from lfr_ledger.matching.pipeline.heartbeats import HeartbeatReporter
from lfr_ledger.matching.pipeline.ports import (
    DeploymentCamera,
    LiveTerms,
    RunnerHooks,
    RunnerReads,
    RunnerWrites,
)
from lfr_ledger.matching.pipeline.regions import RegionFinder, RegionGate
from lfr_ledger.matching.pipeline.sources import Frame
from lfr_ledger.matching.pipeline.summary import RunSummary
from lfr_ledger.matching.pipeline.tracking import FaceTrack, FaceTracker, sighting_quality

logger = logging.getLogger("lfr.matching")

# Frames the second stage may hold before the first waits for it: one being embedded, one ready.
MAX_IN_FLIGHT = 2


class RunnerRefused(RuntimeError):
    """The runner will not start: the deployment is not live, or not in its window, ..."""


class MatchRunner:
    """Matches one camera's frames against one deployment's watchlist. Not thread-safe; `stop`
    may be called from any thread."""

    def __init__(
        self,
        *,
        camera: DeploymentCamera,
        engine: FaceEngine,
        reads: RunnerReads,
        writes: RunnerWrites,
        config: RunnerConfig | None = None,
        hooks: RunnerHooks | None = None,
    ) -> None:
        self.camera = camera
        self.engine = engine
        self.reads = reads
        self.writes = writes
        self.config = config or RunnerConfig()
        self.hooks = hooks or RunnerHooks()
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._summary = RunSummary()
        self._tracker = FaceTracker(self.config.tracking)
        self._finder = engine if isinstance(engine, RegionFinder) else None
        gating = self.config.gating
        self._gate = RegionGate(gating) if gating is not None and self._finder else None
        # The second stage: one thread, so frames complete in the order they were read.
        self._second_stage = ThreadPoolExecutor(1, thread_name_prefix=f"embed:{camera.camera_id}")
        self._in_flight: deque[Future[bool]] = deque()
        self._heartbeats = HeartbeatReporter(
            camera,
            self.config.heartbeat_every_seconds,
            writes.heartbeat_sink,
            reads.source_counts,
            reads.monotonic,
            self._summary,
        )
        note_error = self._heartbeats.note_error
        self._alerts = AlertsInMaking(
            camera, self.config, writes, reads.watch, self._summary, self.hooks, note_error
        )
        self._counts = FaceCountPeriods(
            camera, self.config.count_interval, writes.sink, self._summary, note_error
        )

    # --- control ----------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def check_can_start(self) -> LiveTerms:
        """The terms in force, or RunnerRefused saying why matching may not run now."""
        deployment, camera = self.camera.deployment_id, self.camera.camera_id
        terms = self.reads.watch.terms()
        if not terms.is_live:
            raise RunnerRefused(
                f"deployment {deployment} is {terms.status}; matching runs only while it is "
                "live (an operator starts or resumes it)"
            )
        if camera not in terms.cameras:
            raise RunnerRefused(
                f"camera {camera!r} is not part of deployment {deployment} "
                f"(its cameras: {', '.join(sorted(terms.cameras))})"
            )
        if self.engine.model_id != terms.model_id:
            raise RunnerRefused(
                f"deployment {deployment} matches with model {terms.model_id!r}; this engine "
                f"runs {self.engine.model_id!r}, whose scores are on another scale"
            )
        now = self.reads.clock()
        if not terms.inside_window(now):
            raise RunnerRefused(
                f"deployment {deployment} is authorised for {terms.starts_at.isoformat()} to "
                f"{terms.ends_at.isoformat()}; it is now {now.isoformat()}, outside that window"
            )
        return terms

    def run(self, frames: Iterable[Frame]) -> RunSummary:
        """Matches frames until the source ends, the deployment stops being live, its window
        closes, or `stop()` is called. Counts are flushed and pending alerts raised on the way
        out (if the deployment still accepts them)."""
        terms = self.check_can_start()
        refresh = self.reads.refresh
        if refresh is not None:
            refresh()
        checked_at = time.monotonic()
        refreshed_at = checked_at
        since_check = 0
        summary = self._summary
        summary.stopped = "source ended"
        self._heartbeats.start(self._finished, lambda: summary.frames)
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
                    terms = self.reads.watch.terms()
                    since_check, checked_at = 0, now
                    if not terms.is_live:
                        summary.stopped = f"deployment {terms.status}"
                        break
                if refresh is not None and now - refreshed_at >= self.config.refresh_every_seconds:
                    refresh()
                    refreshed_at = now
                if not terms.inside_window(frame.captured_at):
                    summary.stopped = "outside the authorised window"
                    break
                if self.hooks.on_frame is not None:
                    self.hooks.on_frame(frame)
                self._alerts.resume(frame.captured_at)
                if not self._process(frame, terms):
                    break
                self._heartbeats.send_if_due()
            # Only an orderly stop flushes: after a crash the partial period and any pending
            # alert are left to the restart, which replays them and reports them whole, once.
            self._flush()
        finally:
            self._finished.set()
            self._second_stage.shutdown(wait=True, cancel_futures=True)
        logger.info(
            "runner %s/%s stopped (%s): %d frames, %d faces, %d alerts",
            self.camera.deployment_id,
            self.camera.camera_id,
            summary.stopped,
            summary.frames,
            summary.faces,
            len(summary.alerts),
        )
        return summary

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
        detections = self._detect(frame)
        summary.detections += len(detections)
        self._heartbeats.saw(len(detections))
        update = self._tracker.update(detections, frame.captured_at)
        # Behind: a frame waits for the second stage while another is being embedded.
        behind = len(self._in_flight) >= MAX_IN_FLIGHT and not self._in_flight[0].done()
        chosen: list[_Chosen] = []
        for track, detection in update.assigned:
            quality = sighting_quality(frame.image, detection)
            if not track.wants_embedding(quality, self.config.tracking):
                continue
            if behind and not track.wants_embedding(quality, self.config.tracking, behind=True):
                summary.shed += 1  # only a better look at a face already compared
                continue
            chosen.append(_Chosen(detection, quality, track))
            track.embedded(quality)
        return _Batch(frame=frame, terms=terms, chosen=chosen)

    def _detect(self, frame: Frame) -> list[DetectedFace]:
        """The frame's faces: searched only where motion or a track says a face can be, when
        the engine can search regions and the gate does not ask for the whole frame."""
        if self._gate is None or self._finder is None:
            self._summary.whole_frames += 1
            return self.engine.find_faces(frame.image)
        at = frame.captured_at
        regions = self._gate.regions(frame.image, self._tracker.predicted_boxes(at), at)
        if regions is None:
            self._summary.whole_frames += 1
            return self.engine.find_faces(frame.image)
        return self._finder.find_faces_in(frame.image, regions)

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
        # A track counts as a face processed once, when it is first compared with the list
        # (frames complete in order on this one thread, so no track is counted twice).
        new_faces = 0
        for _, chosen in embedded:
            if not chosen.track.compared:
                chosen.track.compared = True
                new_faces += 1
        self._summary.faces += new_faces
        self._counts.count(frame.captured_at, new_faces)
        best: dict[UUID, tuple[float, Face, float]] = {}
        if embedded:
            found = self.reads.index.search_many(
                self.camera.deployment_id,
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
            self._alerts.sighting(entry_id, similarity, face, quality, frame)
        return self._alerts.raise_due(frame.captured_at, terms)

    def _flush(self) -> None:
        # The last frames' results first: their sightings may still raise (if the deployment
        # still accepts them) and their faces belong to the period reported below.
        self._settle(keep=0)
        self._tracker.end_all()
        if self._alerts.pending:
            current = self.reads.watch.terms()
            if current.is_live:
                self._alerts.raise_due(None, current)
        self._counts.flush()


class _Chosen(NamedTuple):
    """A sighting handed to the recogniser."""

    detection: DetectedFace
    quality: float
    track: FaceTrack  # counts as a face processed when first compared (`_apply`)


@dataclass
class _Batch:
    """One frame handed from the first stage to the second, with the sightings chosen."""

    frame: Frame
    terms: LiveTerms
    chosen: list[_Chosen]
