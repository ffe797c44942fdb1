"""An operation's summary: its deployments, towns and days, totals, each deployment's figures
and the breakdowns by town, camera, category and day."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import msgspec

from lfr_ledger.projections.readers.base import PerDeployment, ViewReader, select_rows
from lfr_ledger.projections.readers.breakdowns import breakdowns, deployment_head
from lfr_ledger.projections.readers.figures import ratio
from lfr_ledger.projections.statistics import tally
from lfr_ledger.projections.store import store_for
from lfr_ledger.projections.summaries import OperationSummary


class OperationSummaryReader(ViewReader):
    """One operation's figures, from its deployments' rows in every view."""

    def operation_summary(self, operation_id: UUID) -> OperationSummary | None:
        with store_for(self.settings).connection() as db, db.snapshot():
            ops = select_rows(
                db,
                ("operation_id", "name", "force", "purpose", "opened_at", "closed_at"),
                "FROM view_operations WHERE operation_id = ?",
                (str(operation_id),),
            )
            if not ops:
                return None
            deployments = self._deployments(db, "operation_id = ?", (str(operation_id),))
            details = self._details(db, "operation_id = ?", (str(operation_id),))
        op = ops[0]
        grouped = PerDeployment.of(details)
        sizes, alerts_of, faces_of = grouped.sizes, grouped.alerts, grouped.faces
        by_town: dict[str, list[str]] = defaultdict(list)
        for d in deployments:
            by_town[d["town"]].append(d["deployment_id"])
        days = sorted({(d["started_at"] or d["starts_at"])[:10] for d in deployments})
        per_deployment = self._operation_fields_of(deployments, details, grouped)
        totals = tally(details["alerts"], [f["faces"] for f in details["faces"]])
        hours = sum(p["hours_live"] for p in per_deployment.values())
        started = sum(1 for d in deployments if d["started_at"])
        summary = {
            "operation_id": op["operation_id"],
            "name": op["name"],
            "force": op["force"],
            "purpose": op["purpose"],
            "status": "closed" if op["closed_at"] else "open",
            "opened_at": op["opened_at"],
            "closed_at": op["closed_at"],
            "deployment_count": len(deployments),
            "deployments_started": sum(1 for d in deployments if d["started_at"]),
            "towns": sorted(by_town),
            "town_count": len(by_town),
            "days": days,
            "day_count": len(days),
            "watchlist_size": sum(sizes.values()),
            "thresholds": sorted({float(d["threshold"]) for d in deployments}),
            "totals": totals,
            "mutual_aid_deployments": sum(1 for p in per_deployment.values() if p["mutual_aid"]),
            "hours_live": hours,
            "arrests_per_deployment": ratio(totals["arrests"], started),
            "alerts_per_hour": ratio(totals["alerts"], hours),
            "arrests_per_hour": ratio(totals["arrests"], hours),
            "blue": self._blue(details),
            "by_deployment": [
                {
                    **deployment_head(d, sizes[d["deployment_id"]]),
                    **tally(alerts_of[d["deployment_id"]], faces_of[d["deployment_id"]]),
                    **per_deployment[d["deployment_id"]],
                }
                for d in deployments
            ],
            "by_town": [
                tally(
                    [a for i in ids for a in alerts_of[i]],
                    [f for i in ids for f in faces_of[i]],
                    town=town,
                    deployments=len(ids),
                )
                for town, ids in sorted(by_town.items())
            ],
            **breakdowns(
                details,
                camera_key=("deployment_id", "camera_id"),
                deployments=[d["deployment_id"] for d in deployments],
            ),
        }
        return msgspec.convert(summary, OperationSummary)
