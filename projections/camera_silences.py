"""When each camera was silent: `Deployment.CameraWentSilent` opens an interval, the camera's
`CameraReporting` closes it. Listed with the others in `registry.py`."""

from __future__ import annotations

from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.projections.rows import Rows, Table
from lfr_ledger.projections.view_base import Event, View, iso, on


class CameraSilencesView(View):
    """One row per silence: since when nothing was heard, when it was recorded, when the
    camera reported again."""

    name = "camera_silences"
    tables = (
        Table(
            "view_camera_silences",
            key=("deployment_id", "camera_id", "silent_since"),
            columns=("deployment_id", "camera_id", "silent_since", "recorded_at", "reporting_at"),
        ),
    )

    @on(DeploymentTopic.CAMERA_WENT_SILENT)
    def _went_silent(self, e: Event, rows: Rows) -> None:
        rows.insert(
            "view_camera_silences",
            deployment_id=str(e.originator_id),
            camera_id=e.camera_id,
            silent_since=iso(e.last_seen_at),
            recorded_at=iso(e.occurred_at),
            reporting_at=None,
        )

    @on(DeploymentTopic.CAMERA_REPORTING)
    def _reporting(self, e: Event, rows: Rows) -> None:
        rows.update(
            "view_camera_silences",
            str(e.originator_id),
            e.camera_id,
            iso(e.silent_since),
            reporting_at=iso(e.occurred_at),
        )
