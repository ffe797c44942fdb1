"""How a runner runs: the cool-down between alerts, the best-shot wait, the face-count period,
how often it re-reads the deployment's terms, syncs its index and sends a heartbeat, how it
follows faces (`TrackingConfig`) and where it searches for them (`GatingConfig`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from lfr_ledger.matching.pipeline.regions import GatingConfig
from lfr_ledger.matching.pipeline.tracking import TrackingConfig


@dataclass(frozen=True)
class RunnerConfig:
    """`cooldown`: one alert per entry per camera per this much captured time.
    `best_shot`: how long a new track collects crops before its alert is raised (0: at once).
    `count_interval`: faces processed are reported per this much captured time.
    `check_every_frames` / `check_every_seconds`: how often the deployment's terms are re-read.
    `refresh_every_seconds`: how often `refresh` (the index sync) is called.
    `heartbeat_every_seconds`: how often (wall time) a heartbeat is sent.
    `gating`: search only where motion or a track says a face can be (`regions.py`), when the
    engine can; None (the default): the whole frame, every frame.
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
    gating: GatingConfig | None = None

    def __post_init__(self) -> None:
        if not self.heartbeat_every_seconds > 0:
            raise ValueError("heartbeat_every_seconds must be positive")
        if self.cooldown <= timedelta(0) or self.count_interval <= timedelta(0):
            raise ValueError("cooldown and count_interval must be positive")
        if self.best_shot < timedelta(0) or self.best_shot > self.cooldown:
            raise ValueError("best_shot must lie between 0 and the cool-down")
