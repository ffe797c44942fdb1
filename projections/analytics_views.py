"""Read models for the analytics: each deployment's forces (mutual aid) and the
time it was live, and the blue walk-pasts. Listed with the others in `registry.py`."""

from __future__ import annotations

from datetime import datetime

from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.projections.rows import Rows, Table
from lfr_ledger.projections.view_base import Event, View, iso, milliseconds, on


class DeploymentOperationView(View):
    """Per deployment: controlling and equipment-owner forces, whether that is mutual aid, and
    the milliseconds it was live: the sum of its intervals from started or resumed to paused
    or ended (`live_since` holds the start of the interval still open)."""

    name = "deployment_operation"
    tables = (
        Table(
            "view_deployment_operation",
            key=("deployment_id",),
            columns=(
                "deployment_id",
                "controlling_force",
                "equipment_owner_force",
                "mutual_aid",
                "live_ms",
                "live_since",
            ),
            defaults={"mutual_aid": 0, "live_ms": 0},
        ),
    )

    @on(DeploymentTopic.PROPOSED)
    def _proposed(self, e: Event, rows: Rows) -> None:
        plan = e.plan
        rows.insert(
            "view_deployment_operation",
            deployment_id=str(e.originator_id),
            controlling_force=" ".join(plan.controlling_force.split()),
            # An owner not known (None) is stored as "" (the column predates it), read as null.
            equipment_owner_force=" ".join((plan.equipment_owner_force or "").split()),
            mutual_aid=int(bool(plan.mutual_aid)),
            live_ms=0,
            live_since=None,
        )

    def _open(self, e: Event, rows: Rows) -> None:
        row = rows.get("view_deployment_operation", str(e.originator_id))
        if row is not None and row["live_since"] is None:
            rows.update(
                "view_deployment_operation", str(e.originator_id), live_since=iso(e.occurred_at)
            )

    def _close(self, e: Event, rows: Rows) -> None:
        row = rows.get("view_deployment_operation", str(e.originator_id))
        if row is None or row["live_since"] is None:
            return
        since = datetime.fromisoformat(row["live_since"])
        rows.update(
            "view_deployment_operation",
            str(e.originator_id),
            live_ms=int(row["live_ms"]) + max(milliseconds(since, e.occurred_at), 0),
            live_since=None,
        )

    @on(DeploymentTopic.STARTED)
    def _started(self, e: Event, rows: Rows) -> None:
        self._open(e, rows)

    @on(DeploymentTopic.RESUMED)
    def _resumed(self, e: Event, rows: Rows) -> None:
        self._open(e, rows)

    @on(DeploymentTopic.PAUSED)
    def _paused(self, e: Event, rows: Rows) -> None:
        self._close(e, rows)

    @on(DeploymentTopic.ENDED)
    def _ended(self, e: Event, rows: Rows) -> None:
        self._close(e, rows)


class BlueWalkPastsView(View):
    """One row per blue walk-past: which (opaque) entry passed which camera, and when."""

    name = "blue_walk_pasts"
    tables = (
        Table(
            "view_blue_walk_pasts",
            key=("deployment_id", "version"),
            columns=("deployment_id", "version", "entry_id", "camera_id", "walked_at"),
        ),
    )

    @on(DeploymentTopic.BLUE_WALK_PAST_RECORDED)
    def _recorded(self, e: Event, rows: Rows) -> None:
        rows.insert(
            "view_blue_walk_pasts",
            deployment_id=str(e.originator_id),
            version=int(e.originator_version),
            entry_id=str(e.entry_id),
            camera_id=e.camera_id,
            walked_at=iso(e.walked_at),
        )
