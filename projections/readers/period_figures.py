"""A period's figures across operations: every deployment that went live in it, by month."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import msgspec

from lfr_ledger.projections.readers.base import PerDeployment, ViewReader
from lfr_ledger.projections.readers.figures import Row, ratio
from lfr_ledger.projections.readers.reviews import period_reviews
from lfr_ledger.projections.statistics import tally
from lfr_ledger.projections.store import store_for
from lfr_ledger.projections.summaries import PeriodFigures


class PeriodFiguresReader(ViewReader):
    """Figures across every operation for the deployments live in a period."""

    def period_figures(self, start: date, end: date) -> PeriodFigures:
        """Every deployment that went live from `start` to `end` (dates, both inclusive, UTC)."""
        upper = (end + timedelta(days=1)).isoformat()
        with store_for(self.settings).connection() as db, db.snapshot():
            live_in_period = "started_at IS NOT NULL AND started_at >= ? AND started_at < ?"
            bounds = (start.isoformat(), upper)
            deployments = self._deployments(db, live_in_period, bounds)
            details = self._details(
                db,
                live_in_period,
                bounds,
                faces_summed=True,
                ids=[d["deployment_id"] for d in deployments],
            )
            reviews = period_reviews(db, deployments, live_in_period, bounds)
        grouped = PerDeployment.of(details)
        alerts_of = grouped.alerts
        fields = self._operation_fields_of(deployments, details, grouped)
        totals = tally(details["alerts"], [f["faces"] for f in details["faces"]])
        hours = sum(f["hours_live"] for f in fields.values())
        months: dict[str, list[Row]] = defaultdict(list)
        for d in deployments:
            months[d["started_at"][:7]].append(d)
        by_month = []
        for month, ds in sorted(months.items()):
            counts = tally([a for d in ds for a in alerts_of[d["deployment_id"]]], None)
            by_month.append(
                {
                    "month": month,
                    "deployments": len(ds),
                    "hours_live": sum(fields[d["deployment_id"]]["hours_live"] for d in ds),
                    **{
                        k: counts[k]
                        for k in (
                            "alerts",
                            "true_alerts",
                            "false_alerts",
                            "arrests",
                            "compliance_checks",
                        )
                    },
                }
            )
        figures = {
            "from_date": start.isoformat(),
            "to_date": end.isoformat(),
            "operations": len({d["operation_id"] for d in deployments}),
            "deployments": len(deployments),
            "mutual_aid_deployments": sum(1 for f in fields.values() if f["mutual_aid"]),
            "hours_live": hours,
            "faces_reported_by_matcher": totals["faces_processed"] or 0,
            "alerts": totals["alerts"],
            "true_alerts": totals["true_alerts"],
            "false_alerts": totals["false_alerts"],
            "arrests": totals["arrests"],
            "compliance_checks": totals["compliance_checks"],
            "arrests_per_deployment": ratio(totals["arrests"], len(deployments)),
            "alerts_per_hour": ratio(totals["alerts"], hours),
            "arrests_per_hour": ratio(totals["arrests"], hours),
            "totals": totals,
            "by_month": by_month,
            "blue": self._blue(details),
            **reviews,
        }
        return msgspec.convert(figures, PeriodFigures)
