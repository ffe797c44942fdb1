"""A deployment's summary: its head, totals, breakdowns by camera, category and day, its
forces and hours live, the blue watchlist's figures and when its cameras were silent."""

from __future__ import annotations

from uuid import UUID

import msgspec

from lfr_ledger.projections.camera_health import camera_silences
from lfr_ledger.projections.readers.base import ViewReader
from lfr_ledger.projections.readers.breakdowns import breakdowns, deployment_head
from lfr_ledger.projections.statistics import tally
from lfr_ledger.projections.store import store_for
from lfr_ledger.projections.summaries import DeploymentSummary


class DeploymentSummaryReader(ViewReader):
    """One deployment's figures, from every view that concerns it."""

    def deployment_summary(self, deployment_id: UUID) -> DeploymentSummary | None:
        with store_for(self.settings).connection() as db, db.snapshot():
            found = self._deployments(db, "deployment_id = ?", (str(deployment_id),))
            if not found:
                return None
            d = found[0]
            details = self._details(db, "deployment_id = ?", (str(deployment_id),))
        size = sum(int(s["entries"]) for s in details["sizes"])
        totals = tally(details["alerts"], [f["faces"] for f in details["faces"]])
        summary = {
            **deployment_head(d, size),
            "cameras": [c["camera_id"] for c in details["cameras"]],
            "totals": totals,
            **breakdowns(details, camera_key=("camera_id",)),
            **self._operation_fields(
                details["operation"].get(d["deployment_id"]), totals, self.clock(), d["ends_at"]
            ),
            "blue": self._blue(details),
            "camera_silences": camera_silences(
                self.settings, deployment_id, ended_at=d["ended_at"]
            ),
        }
        return msgspec.convert(summary, DeploymentSummary)
