"""What analysts receive: deployment and operation summaries, alert rows and publication
records, every figure typed. The projections build these shapes from the views, so they are
declared in `projections/summaries.py` (the api may import projections, never the reverse)
and named here beside every other route's reply."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import AwareDateTime, Ident, Reply, Struct
from lfr_ledger.projections.summaries import (
    AlertRow,
    BlueFigures,
    CameraCounts,
    CategoryCounts,
    Counts,
    DayCounts,
    DeploymentCameraCounts,
    DeploymentCounts,
    DeploymentSummary,
    MonthFigures,
    OperationSummary,
    PeriodFigures,
    PublicationRecord,
    ScoreDistribution,
    ThresholdSensitivity,
    TownCounts,
)

__all__ = [
    "AlertRow",
    "BlueFigures",
    "BlueWalkPastIn",
    "BlueWalkPastOut",
    "CameraCounts",
    "CategoryCounts",
    "Counts",
    "DayCounts",
    "DeploymentCameraCounts",
    "DeploymentCounts",
    "DeploymentSummary",
    "EqualityTrend",
    "MonthFigures",
    "OperationSummary",
    "PeriodFigures",
    "PublicationRecord",
    "ScoreDistribution",
    "ThresholdSensitivity",
    "TownCounts",
]


# --- the blue watchlist -------------------------------------------------------------------


class BlueWalkPastIn(Struct):
    """A consenting officer on a blue (test-subject) entry walked past a camera."""

    entry_id: UUID
    camera_id: Ident
    walked_at: AwareDateTime


class BlueWalkPastOut(Reply):
    """The walk-past recorded, and how many the deployment has now."""

    deployment_id: UUID
    entry_id: UUID
    camera_id: str
    walked_at: datetime
    walk_pasts: int


# --- the equality trend alarm (oversight) ----------------------------------------


class TrendGroupOut(Reply):
    value: str
    false_alerts: int
    false_alerts_before: int
    alerts: int
    share: Annotated[float | None, Meta(description="share of the false alerts in the last window")]
    baseline_share: Annotated[
        float | None,
        Meta(description="the share it is compared with (see the table's `baseline`)"),
    ]
    ratio: float | None
    suppressed: Annotated[
        bool, Meta(description="fewer false alerts than minimum_cell_size: not judged")
    ]
    alarm: bool


class TrendTableOut(Reply):
    field: str
    baseline: Annotated[
        str,
        Meta(
            description="previous_window: the share in the window before; share_of_alerts: "
            "the group's share of all alerts in the last window (the window before had too "
            "few false alerts)"
        ),
    ]
    false_alerts: int
    false_alerts_before: int
    alerts: int
    groups: list[TrendGroupOut]


class EqualityTrend(Reply):
    """The equality trend alarm: each perceived group's share of false alerts over the last
    window against the window before (or its share of all alerts); `rule` states it."""

    rule: str
    trend_alarm_ratio: float
    window_days: int
    minimum_cell_size: int
    deployment_id: UUID | None
    window_start: datetime
    window_end: datetime
    previous_start: datetime
    alarm: bool
    alarms: list[str]
    tables: list[TrendTableOut]
