"""Read model of post-deployment reviews and complaints, for the period report: per deployment
whether it was reviewed, whether its objectives were met, its lessons; per complaint its
deployment, channel and dates. No personal data: a complaint's summary and outcome are sealed
in the log and never read here. Listed with the others in `registry.py`."""

from __future__ import annotations

from lfr_ledger.domain.complaint import ComplaintTopic
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.projections.rows import Rows, Table
from lfr_ledger.projections.view_base import Event, View, iso, on


class ReviewsView(View):
    name = "reviews"
    tables = (
        Table(
            "view_deployment_reviews",
            key=("deployment_id",),
            columns=(
                "deployment_id",
                "reviewed_at",
                "objectives_met",
                "lessons",
                "complaints_counted",
            ),
            defaults={"lessons": "", "complaints_counted": 0},
        ),
        Table(
            "view_complaints",
            key=("complaint_id",),
            columns=(
                "complaint_id",
                "deployment_id",
                "number",
                "alert_id",
                "received_on",
                "channel",
                "resolved_on",
            ),
        ),
    )

    @on(DeploymentTopic.POST_DEPLOYMENT_REVIEWED)
    def _reviewed(self, e: Event, rows: Rows) -> None:
        # Who reviewed stays in the log (oversight reads it there): analysts read no officer's
        # id. A review recorded before issue 24 holds its findings alone: reviewed, objectives
        # unknown, no lessons apart from its findings.
        rows.insert(
            "view_deployment_reviews",
            deployment_id=str(e.originator_id),
            reviewed_at=iso(e.occurred_at),
            objectives_met=getattr(e, "objectives_met", None),
            lessons=getattr(e, "lessons", ""),
            complaints_counted=len(getattr(e, "complaint_ids", None) or []),
        )

    @on(ComplaintTopic.RECORDED)
    def _complaint(self, e: Event, rows: Rows) -> None:
        rows.insert(
            "view_complaints",
            complaint_id=str(e.originator_id),
            deployment_id=str(e.deployment_id),
            number=int(e.number),
            alert_id=None if e.alert_id is None else str(e.alert_id),
            received_on=e.received_on,
            channel=e.channel,
            resolved_on=None,
        )

    @on(ComplaintTopic.RESOLVED)
    def _resolved(self, e: Event, rows: Rows) -> None:
        rows.update("view_complaints", str(e.originator_id), resolved_on=e.resolved_on)
