"""The core read models (deployments, alerts, faces) and how each event changes them. Other
views have modules of their own beside this one; `registry.py` lists them all.

Each view copies only fields that identify no one: ids, categories, places, times, counts,
decisions and scores. Names, subject references, sealed fields, reasons, offences, custody
references and actor ids (staff numbers) never reach a view, so no query over a view can
leak them. Counts stay integers; rates are computed when read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.operation import OperationTopic
from lfr_ledger.domain.records import FaceCountTopic
from lfr_ledger.domain.values import ComplianceResult, DeploymentStatus, EntryStatus, OutcomeType
from lfr_ledger.domain.watchlist import WatchlistEntryTopic
from lfr_ledger.projections.rows import Rows, Table
from lfr_ledger.projections.view_base import Event, View, iso, milliseconds, on, utc_day


class DeploymentsView(View):
    """Operations, deployments, their cameras and watchlist entries (category and status)."""

    name = "deployments"
    tables = (
        Table(
            "view_operations",
            key=("operation_id",),
            columns=("operation_id", "name", "force", "purpose", "opened_at", "closed_at"),
        ),
        Table(
            "view_deployments",
            key=("deployment_id",),
            columns=(
                "deployment_id",
                "operation_id",
                "location_name",
                "town",
                "location_type",
                "purpose",
                "starts_at",
                "ends_at",
                "model_id",
                "policy_version",
                "threshold",
                "threshold_changes",
                "status",
                "proposed_at",
                "authorised_at",
                "urgent",
                "refused_at",
                "reviewed_entry_count",
                "started_at",
                "ended_at",
                "watchlist_destroyed_at",
                "post_review_at",
            ),
            defaults={"threshold_changes": 0, "urgent": 0},
        ),
        Table(
            "view_deployment_cameras",
            key=("deployment_id", "camera_id"),
            columns=("deployment_id", "camera_id", "camera_name"),
        ),
        Table(
            "view_watchlist_entries",
            key=("entry_id",),
            columns=(
                "entry_id",
                "deployment_id",
                "category",
                "status",
                "enrolled_at",
                "withdrawn_at",
                "counted_in_size",
            ),
        ),
    )

    @on(OperationTopic.OPENED)
    def _opened(self, e: Event, rows: Rows) -> None:
        rows.insert(
            "view_operations",
            operation_id=str(e.originator_id),
            name=e.name,
            force=e.force,
            purpose=e.purpose,
            opened_at=iso(e.occurred_at),
        )

    @on(OperationTopic.CLOSED)
    def _closed(self, e: Event, rows: Rows) -> None:
        rows.update("view_operations", str(e.originator_id), closed_at=iso(e.occurred_at))

    @on(DeploymentTopic.PROPOSED)
    def _proposed(self, e: Event, rows: Rows) -> None:
        plan = e.plan
        deployment_id = str(e.originator_id)
        rows.insert(
            "view_deployments",
            deployment_id=deployment_id,
            operation_id=str(plan.operation_id),
            location_name=plan.location.name,
            town=plan.location.town,
            location_type=plan.location.location_type,
            purpose=plan.purpose,
            starts_at=iso(plan.starts_at),
            ends_at=iso(plan.ends_at),
            model_id=plan.model_id,
            policy_version=e.policy_version,
            threshold=float(e.threshold),
            status=DeploymentStatus.PROPOSED.value,
            proposed_at=iso(e.occurred_at),
        )
        for camera in plan.cameras:
            rows.insert(
                "view_deployment_cameras",
                deployment_id=deployment_id,
                camera_id=camera.id,
                camera_name=camera.name,
            )

    def _deployment(self, e: Event, rows: Rows, **values: Any) -> None:
        rows.update("view_deployments", str(e.originator_id), **values)

    @on(DeploymentTopic.AUTHORISED)
    def _authorised(self, e: Event, rows: Rows) -> None:
        self._deployment(
            e,
            rows,
            status=DeploymentStatus.AUTHORISED.value,
            authorised_at=iso(e.occurred_at),
            urgent=int(bool(e.urgent)),
        )

    @on(DeploymentTopic.REFUSED)
    def _refused(self, e: Event, rows: Rows) -> None:
        self._deployment(
            e, rows, status=DeploymentStatus.REFUSED.value, refused_at=iso(e.occurred_at)
        )

    @on(DeploymentTopic.THRESHOLD_CHANGED)
    def _threshold_changed(self, e: Event, rows: Rows) -> None:
        row = rows.get("view_deployments", str(e.originator_id))
        if row is not None:
            rows.update(
                "view_deployments",
                str(e.originator_id),
                threshold=float(e.threshold),
                threshold_changes=row["threshold_changes"] + 1,
            )

    @on(DeploymentTopic.WATCHLIST_REVIEWED)
    def _watchlist_reviewed(self, e: Event, rows: Rows) -> None:
        self._deployment(e, rows, reviewed_entry_count=int(e.entry_count))

    @on(DeploymentTopic.STARTED)
    def _started(self, e: Event, rows: Rows) -> None:
        self._deployment(e, rows, status=DeploymentStatus.LIVE.value, started_at=iso(e.occurred_at))

    @on(DeploymentTopic.PAUSED)
    def _paused(self, e: Event, rows: Rows) -> None:
        self._deployment(e, rows, status=DeploymentStatus.PAUSED.value)

    @on(DeploymentTopic.RESUMED)
    def _resumed(self, e: Event, rows: Rows) -> None:
        self._deployment(e, rows, status=DeploymentStatus.LIVE.value)

    @on(DeploymentTopic.ENDED)
    def _ended(self, e: Event, rows: Rows) -> None:
        self._deployment(e, rows, status=DeploymentStatus.ENDED.value, ended_at=iso(e.occurred_at))

    @on(DeploymentTopic.WATCHLIST_DESTROYED)
    def _watchlist_destroyed(self, e: Event, rows: Rows) -> None:
        self._deployment(e, rows, watchlist_destroyed_at=iso(e.occurred_at))

    @on(DeploymentTopic.POST_DEPLOYMENT_REVIEWED)
    def _post_reviewed(self, e: Event, rows: Rows) -> None:
        self._deployment(e, rows, post_review_at=iso(e.occurred_at))

    @on(WatchlistEntryTopic.ENROLLED)
    def _enrolled(self, e: Event, rows: Rows) -> None:
        rows.insert(
            "view_watchlist_entries",
            entry_id=str(e.originator_id),
            deployment_id=str(e.deployment_id),
            category=e.category,
            status=EntryStatus.ACTIVE.value,
            enrolled_at=iso(e.occurred_at),
            counted_in_size=1,
        )

    @on(WatchlistEntryTopic.WITHDRAWN)
    def _withdrawn(self, e: Event, rows: Rows) -> None:
        entry = rows.get("view_watchlist_entries", str(e.originator_id))
        if entry is None:
            return
        deployment = rows.get("view_deployments", entry["deployment_id"])
        # Withdrawn before the start: never on the live watchlist, so not in its size. Once
        # started, the entry was matched against and stays counted.
        started = deployment is not None and deployment["started_at"] is not None
        rows.update(
            "view_watchlist_entries",
            str(e.originator_id),
            status=EntryStatus.WITHDRAWN.value,
            withdrawn_at=iso(e.occurred_at),
            counted_in_size=int(started and bool(entry["counted_in_size"])),
        )

    @on(WatchlistEntryTopic.DESTROYED)
    def _destroyed(self, e: Event, rows: Rows) -> None:
        rows.update(
            "view_watchlist_entries", str(e.originator_id), status=EntryStatus.DESTROYED.value
        )


# Outcomes counted in a column of their own; the rest (words of advice, no further action, not
# located, other) are "other outcomes".
_OUTCOME_COLUMNS = {
    OutcomeType.ARREST.value: "arrests",
    OutcomeType.CHARGE.value: "charges",
    OutcomeType.BAIL.value: "bails",
    OutcomeType.VOLUNTARY_ATTENDANCE.value: "voluntary_attendances",
    OutcomeType.SAFEGUARDING.value: "safeguarding",
}


def _factors(e: Event) -> str | None:
    """An event's false-alert factors as the view keeps them: codes of the policy's closed
    list, comma-separated (none recorded: null)."""
    return ",".join(getattr(e, "false_alert_factors", ())) or None


class AlertsView(View):
    """One row per alert: where, which category, the score, the decision and the outcomes
    counted by kind. The entry id is an opaque key; nothing about the subject is kept."""

    name = "alerts"
    tables = (
        Table(
            "view_alerts",
            key=("alert_id",),
            columns=(
                "alert_id",
                "deployment_id",
                "camera_id",
                "entry_id",
                "category",
                "similarity",
                "threshold",
                "model_id",
                "captured_at",
                "raised_at",
                "day",
                "decision",
                "adjudicated_at",
                "adjudication_ms",
                "engaged",
                "confirmed",
                "arrests",
                "compliance_complied",
                "compliance_breach",
                "other_outcomes",
                "closed_at",
                "charges",
                "bails",
                "voluntary_attendances",
                "safeguarding",
                "engagement_ms",
                "false_alert_factors",
                "confirmed_false_factors",
            ),
            defaults={
                "arrests": 0,
                "compliance_complied": 0,
                "compliance_breach": 0,
                "other_outcomes": 0,
                "charges": 0,
                "bails": 0,
                "voluntary_attendances": 0,
                "safeguarding": 0,
            },
        ),
    )

    @on(AlertTopic.RAISED)
    def _raised(self, e: Event, rows: Rows) -> None:
        rows.insert(
            "view_alerts",
            alert_id=str(e.originator_id),
            deployment_id=str(e.deployment_id),
            camera_id=e.camera_id,
            entry_id=str(e.entry_id),
            category=e.category,
            similarity=float(e.similarity),
            threshold=float(e.threshold),
            model_id=e.model_id,
            captured_at=iso(e.captured_at),
            raised_at=iso(e.occurred_at),
            # An alert belongs to the day its face was captured.
            day=utc_day(e.captured_at),
        )

    @on(AlertTopic.ADJUDICATED)
    def _adjudicated(self, e: Event, rows: Rows) -> None:
        alert = rows.get("view_alerts", str(e.originator_id))
        if alert is None:
            return
        # Adjudication time runs from the alert being raised (durable, shown to the operator)
        # to the operator's decision: the part of the delay the operator controls.
        raised = datetime.fromisoformat(alert["raised_at"])
        rows.update(
            "view_alerts",
            str(e.originator_id),
            decision=str(e.decision),
            adjudicated_at=iso(e.occurred_at),
            adjudication_ms=milliseconds(raised, e.occurred_at),
            false_alert_factors=_factors(e),
        )

    @on(AlertTopic.ENGAGEMENT_RECORDED)
    def _engagement(self, e: Event, rows: Rows) -> None:
        # Times and factors are absent from engagements recorded before release 4.
        start = getattr(e, "engaged_from", None)
        end = getattr(e, "engaged_until", None)
        rows.update(
            "view_alerts",
            str(e.originator_id),
            engaged=int(bool(e.engaged)),
            confirmed=str(e.confirmed),
            engagement_ms=None if start is None or end is None else milliseconds(start, end),
            confirmed_false_factors=_factors(e),
        )

    @staticmethod
    def _outcome_column(outcome: Any) -> str:
        kind = str(outcome.type)
        if kind == OutcomeType.COMPLIANCE_CHECK:
            breach = str(outcome.result) == ComplianceResult.BREACH
            return "compliance_breach" if breach else "compliance_complied"
        return _OUTCOME_COLUMNS.get(kind, "other_outcomes")

    @on(AlertTopic.OUTCOME_RECORDED)
    def _outcome(self, e: Event, rows: Rows) -> None:
        alert = rows.get("view_alerts", str(e.originator_id))
        if alert is None:
            return
        column = self._outcome_column(e.outcome)
        rows.update("view_alerts", str(e.originator_id), **{column: alert[column] + 1})

    @on(AlertTopic.ADJUDICATION_CORRECTED)
    def _adjudication_corrected(self, e: Event, rows: Rows) -> None:
        # The corrected decision counts, with its factors; the adjudication time stays the
        # first decision's.
        rows.update(
            "view_alerts",
            str(e.originator_id),
            decision=str(e.decision),
            false_alert_factors=_factors(e),
        )

    @on(AlertTopic.OUTCOME_CORRECTED)
    def _outcome_corrected(self, e: Event, rows: Rows) -> None:
        alert = rows.get("view_alerts", str(e.originator_id))
        if alert is None:
            return
        before = self._outcome_column(e.previous)
        after = self._outcome_column(e.outcome)
        if before != after:
            rows.update(
                "view_alerts",
                str(e.originator_id),
                **{before: max(alert[before] - 1, 0), after: alert[after] + 1},
            )

    @on(AlertTopic.CLOSED)
    def _closed(self, e: Event, rows: Rows) -> None:
        rows.update("view_alerts", str(e.originator_id), closed_at=iso(e.occurred_at))


class FacesView(View):
    """Faces processed: one row per report a matcher sent (camera, period, count)."""

    name = "faces"
    tables = (
        Table(
            "view_face_counts",
            key=("report_id",),
            columns=(
                "report_id",
                "deployment_id",
                "camera_id",
                "period_start",
                "period_end",
                "day",
                "faces",
            ),
        ),
    )

    @on(FaceCountTopic.FACES_COUNTED)
    def _counted(self, e: Event, rows: Rows) -> None:
        rows.insert(
            "view_face_counts",
            report_id=str(e.originator_id),
            deployment_id=str(e.deployment_id),
            camera_id=e.camera_id,
            period_start=iso(e.period_start),
            period_end=iso(e.period_end),
            # A report belongs to the day its period started.
            day=utc_day(e.period_start),
            faces=int(e.count),
        )
