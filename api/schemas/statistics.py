"""What analysts receive: deployment and operation summaries, alert rows and publication
records, every figure typed. The projections build these shapes from the views, so they are
declared in `projections/summaries.py` (the api may import projections, never the reverse)
and named here beside every other route's reply."""

from __future__ import annotations

from lfr_ledger.projections.summaries import (
    AlertRow,
    CameraCounts,
    CategoryCounts,
    Counts,
    DayCounts,
    DeploymentCameraCounts,
    DeploymentCounts,
    DeploymentSummary,
    OperationSummary,
    PublicationRecord,
    ScoreDistribution,
    ThresholdSensitivity,
    TownCounts,
)

__all__ = [
    "AlertRow",
    "CameraCounts",
    "CategoryCounts",
    "Counts",
    "DayCounts",
    "DeploymentCameraCounts",
    "DeploymentCounts",
    "DeploymentSummary",
    "OperationSummary",
    "PublicationRecord",
    "ScoreDistribution",
    "ThresholdSensitivity",
    "TownCounts",
]
