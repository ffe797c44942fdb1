"""Faces processed, counted per period of captured time and reported once per period.

A track adds one to its camera's count when it is first compared with the watchlist: the only
trace a passer-by leaves. Periods sit on a grid from the epoch, so every runner (and every
restart) cuts the same periods and a face-count id derives from (deployment, camera, period
start): a count sent again after a restart is recognised and recorded once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lfr_ledger.domain.errors import (
    ConcurrentWrite,
    InvalidInput,
    InvalidTransition,
    PolicyViolation,
)
from lfr_ledger.matching.pipeline.ports import AlertSink, DeploymentCamera, FacesCounted
from lfr_ledger.matching.pipeline.summary import RunSummary

logger = logging.getLogger("lfr.matching")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class _Period:
    start: datetime
    end: datetime  # the period's nominal end
    count: int = 0
    last_frame: datetime | None = None
    gap: timedelta | None = None


class FaceCountPeriods:
    """One camera's count of faces processed, reported to `sink` as each period closes and,
    on an orderly stop, for the partial period at the end (`flush`)."""

    def __init__(
        self,
        camera: DeploymentCamera,
        interval: timedelta,
        sink: AlertSink,
        summary: RunSummary,
        note_error: Callable[[str], None],
    ) -> None:
        self.camera = camera
        self.interval = interval
        self.sink = sink
        self.summary = summary
        self.note_error = note_error
        self._period: _Period | None = None
        self._started = False

    def count(self, at: datetime, faces: int) -> None:
        """`faces` processed in the frame captured `at` (zero too: the frame moves time on)."""
        interval = self.interval
        period = self._period
        if period is not None and at >= period.end:
            self._report(period, period.end)
            period = None
        if period is None:
            # The first period of a run begins at its first frame, so a runner started
            # mid-period never reports over a part another run already reported.
            slots = (at - EPOCH) // interval
            grid_start = EPOCH + slots * interval
            first = not self._started
            period = _Period(start=at if first else grid_start, end=grid_start + interval)
            self._period = period
            self._started = True
        period.count += faces
        if period.last_frame is not None:
            period.gap = at - period.last_frame
        period.last_frame = at

    def flush(self) -> None:
        """Reports the partial period: it ends one frame after its last frame (never after its
        nominal end)."""
        period = self._period
        if period is not None and period.last_frame is not None:
            step = (
                period.gap if period.gap and period.gap > timedelta(0) else timedelta(seconds=0.1)
            )
            self._report(period, min(period.end, period.last_frame + step))
            self._period = None

    def _report(self, period: _Period, end: datetime) -> None:
        report = FacesCounted(
            deployment_id=self.camera.deployment_id,
            camera_id=self.camera.camera_id,
            period_start=period.start,
            period_end=end,
            count=period.count,
        )
        try:
            self.sink.report_faces_counted(report)
        except ConcurrentWrite as conflict:
            # Another report for the same period stands; the first one recorded is kept.
            logger.warning("faces count for %s kept as first reported: %s", period.start, conflict)
            self.note_error("faces count kept as first reported")
            return
        except (InvalidInput, InvalidTransition, PolicyViolation) as refusal:
            # The ledger refuses a period outside the live time (a camera clock far off) or an
            # implausible count: sending it again cannot change that, and matching goes on.
            logger.warning("faces count for %s refused: %s", period.start, refusal)
            self.note_error(f"faces count refused: {type(refusal).__name__}: {refusal}")
            return
        self.summary.counts.append(report)
