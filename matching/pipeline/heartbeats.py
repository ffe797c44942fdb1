"""The runner's heartbeats: how its camera ran over the last interval, counts and times only.

Every `heartbeat_every_seconds` of wall time a heartbeat goes out (frames its source offered,
processed and dropped, faces seen, the source's gaps, its last error) through a
`HeartbeatSink`, also while the runner waits for a lost source to come back: a camera whose
runner stops sending, because it crashed or hangs, is recorded silent by the server's check.
Heartbeats are best effort: one not delivered is noted and replaced by the next.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from lfr_ledger.domain.commands.camera_health import HeartbeatReport
from lfr_ledger.matching.pipeline.ports import DeploymentCamera, HeartbeatSink
from lfr_ledger.matching.pipeline.sources import SourceCounts
from lfr_ledger.matching.pipeline.summary import RunSummary

logger = logging.getLogger("lfr.matching")

# What a runner reports of a source that counts nothing (frames handed over by a test, say).
NO_COUNTS = SourceCounts(offered=0, dropped=0, gaps=())


@dataclass
class _Beat:
    """What the next heartbeat reports: counts since the last one, and the last error met."""

    started: float | None = None
    before: SourceCounts = NO_COUNTS
    frames: int = 0
    faces: int = 0
    error: str | None = None


class HeartbeatReporter:
    """One camera's heartbeats. The first stage counts frames and faces (`saw`), either stage
    notes an error (`note_error`), and a heartbeat due goes out from the frame loop or, while no
    frame comes, from the idle thread `start` begins. None go out without a sink."""

    def __init__(
        self,
        camera: DeploymentCamera,
        every_seconds: float,
        sink: HeartbeatSink | None,
        source_counts: Callable[[], SourceCounts] | None,
        monotonic: Callable[[], float],
        summary: RunSummary,
    ) -> None:
        self.camera = camera
        self.every_seconds = every_seconds
        self.sink = sink
        self.source_counts = source_counts
        self.monotonic = monotonic
        self.summary = summary
        self._beat = _Beat()
        self._gaps_reported = 0
        self._lock = threading.Lock()

    def start(self, finished: threading.Event, frames_read: Callable[[], int]) -> None:
        """The first interval begins now, from the source's counts as they stand; heartbeats go
        out from the idle thread too until `finished` is set."""
        self._beat = _Beat(started=self.monotonic(), before=self._counts())
        self._gaps_reported = 0
        threading.Thread(
            target=self._beat_while_idle,
            args=(finished, frames_read),
            name=f"beat:{self.camera.camera_id}",
            daemon=True,
        ).start()

    def saw(self, faces: int) -> None:
        """One frame read, with `faces` found in it (the first stage only)."""
        self._beat.frames += 1
        self._beat.faces += faces

    def note_error(self, text: str) -> None:
        # Written by the second stage, read and reset by the first when a heartbeat goes out.
        with self._lock:
            self._beat.error = text

    def _beat_while_idle(self, finished: threading.Event, frames_read: Callable[[], int]) -> None:
        """While no frame comes (a lost source reconnecting), heartbeats go out on time anyway,
        carrying the open gap: the camera shows "source lost", not silence."""
        frames = -1
        while not finished.wait(self.every_seconds):
            if frames_read() == frames:  # none for a whole interval
                self.send_if_due()
            frames = frames_read()

    def send_if_due(self) -> None:
        with self._lock:
            report = self._take()
        if report is None:
            return
        assert self.sink is not None
        try:
            self.sink.send_heartbeat(report)
        except Exception as error:  # a heartbeat is best effort: matching goes on without it
            logger.warning("heartbeat of %s not delivered: %s", self.camera.camera_id, error)
            self.note_error(f"heartbeat not delivered: {type(error).__name__}")
            return
        self.summary.heartbeats.append(report)

    def _counts(self) -> SourceCounts:
        if self.source_counts is None:
            return NO_COUNTS
        return self.source_counts()

    def _take(self) -> HeartbeatReport | None:
        """The heartbeat due now, if one is, its counts then started afresh."""
        beat = self._beat
        if self.sink is None or beat.started is None:
            return None
        now = self.monotonic()
        elapsed = now - beat.started
        if elapsed < self.every_seconds:
            return None
        counts = self._counts()
        # Each gap until it is reported closed: an open one in every heartbeat while it lasts.
        gaps = counts.gaps[self._gaps_reported :]
        self._gaps_reported += sum(1 for gap in gaps if gap.ended_at is not None)
        self._beat = _Beat(started=now, before=counts)
        return HeartbeatReport(
            deployment_id=self.camera.deployment_id,
            camera_id=self.camera.camera_id,
            frames_per_second=round(beat.frames / elapsed, 3) if elapsed > 0 else 0.0,
            faces_seen=beat.faces,
            frames_dropped=max(0, counts.dropped - beat.before.dropped),
            interval_seconds=round(elapsed, 3),
            last_error=beat.error,
            frames_offered=max(0, counts.offered - beat.before.offered),
            frames_processed=beat.frames,
            source_gaps=gaps,
        )
