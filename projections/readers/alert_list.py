"""A deployment's alerts as operators list them, each with its status."""

from __future__ import annotations

from uuid import UUID

import msgspec

from lfr_ledger.domain.values import AlertStatus
from lfr_ledger.projections.readers.base import ViewReader
from lfr_ledger.projections.readers.figures import Row
from lfr_ledger.projections.summaries import AlertRow

# The view's columns that count an alert's outcomes, one kind each.
OUTCOME_COLUMNS = (
    "arrests",
    "compliance_complied",
    "compliance_breach",
    "other_outcomes",
    "charges",
    "bails",
    "voluntary_attendances",
    "safeguarding",
)


def alert_status_of_row(alert: Row) -> AlertStatus:
    """The alert's state from its view row, by the same rule as the `Alert` aggregate's."""
    outcomes = sum(int(alert[column]) for column in OUTCOME_COLUMNS)
    return AlertStatus.after(
        adjudicated=alert["decision"] is not None,
        engagement_recorded=alert["engaged"] is not None,
        outcomes=outcomes,
        closed=alert["closed_at"] is not None,
    )


class AlertListReader(ViewReader):
    """The alert list of the `alerts` view, blue alerts included."""

    def deployment_alerts(self, deployment_id: UUID) -> list[AlertRow]:
        # Operators adjudicate blue alerts like any other: the list keeps them.
        _, alerts = self._alerts(deployment_id, with_blue=True)
        rows = [
            {
                "id": a["alert_id"],
                "entry_id": a["entry_id"],
                "camera_id": a["camera_id"],
                "category": a["category"],
                "similarity": float(a["similarity"]),
                "threshold": float(a["threshold"]),
                "status": alert_status_of_row(a),
                "captured_at": a["captured_at"],
                "raised_at": a["raised_at"],
                "adjudicated_at": a["adjudicated_at"],
                "decision": a["decision"],
            }
            for a in alerts
        ]
        return msgspec.convert(rows, list[AlertRow])
