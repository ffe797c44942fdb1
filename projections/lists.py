"""Lists for planners, authorising officers and oversight: operations and deployments, paged.

Read from the `deployments` view only (no personal data: places, times, states and counts), so
a list can be shown to anyone the route admits. Pages are `limit`/`offset` over a stable order
(operations by opening time, deployments by window start), with the total for the filter.
"""

from __future__ import annotations

from typing import Any

import msgspec

from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.store import store_for
from lfr_ledger.projections.summaries import Figures


class OperationRow(Figures):
    operation_id: str
    name: str
    force: str
    status: str  # "open" or "closed"
    opened_at: str
    closed_at: str | None
    deployment_count: int


class OperationList(Figures):
    operations: list[OperationRow]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class DeploymentRow(Figures):
    deployment_id: str
    operation_id: str
    town: str
    location_name: str
    location_type: str
    starts_at: str
    ends_at: str
    status: str
    proposed_at: str
    authorised_at: str | None
    urgent: bool
    started_at: str | None
    ended_at: str | None


class DeploymentList(Figures):
    deployments: list[DeploymentRow]
    total: int
    limit: int
    offset: int
    next_offset: int | None


_DEPLOYMENT_COLUMNS = (
    "deployment_id",
    "operation_id",
    "town",
    "location_name",
    "location_type",
    "starts_at",
    "ends_at",
    "status",
    "proposed_at",
    "authorised_at",
    "urgent",
    "started_at",
    "ended_at",
)


def _next(offset: int, shown: int, total: int) -> int | None:
    return offset + shown if offset + shown < total else None


class ListReader:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def operations(self, *, limit: int = 100, offset: int = 0) -> OperationList:
        with store_for(self.settings).connection() as db, db.snapshot():
            [(total,)] = db.execute("SELECT COUNT(*) FROM view_operations")
            rows = db.execute(
                "SELECT o.operation_id, o.name, o.force, o.opened_at, o.closed_at, "
                "(SELECT COUNT(*) FROM view_deployments d WHERE d.operation_id = o.operation_id) "
                "FROM view_operations o ORDER BY o.opened_at, o.operation_id LIMIT ? OFFSET ?",
                (limit, offset),
            )
        operations = [
            {
                "operation_id": r[0],
                "name": r[1],
                "force": r[2],
                "status": "closed" if r[4] else "open",
                "opened_at": r[3],
                "closed_at": r[4],
                "deployment_count": int(r[5]),
            }
            for r in rows
        ]
        reply = {
            "operations": operations,
            "total": int(total),
            "limit": limit,
            "offset": offset,
            "next_offset": _next(offset, len(operations), int(total)),
        }
        return msgspec.convert(reply, OperationList)

    def deployments(
        self,
        *,
        status: str | None = None,
        operation_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> DeploymentList:
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if operation_id is not None:
            where.append("operation_id = ?")
            params.append(operation_id)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        with store_for(self.settings).connection() as db, db.snapshot():
            [(total,)] = db.execute(f"SELECT COUNT(*) FROM view_deployments {clause}", params)
            rows = db.execute(
                f"SELECT {', '.join(_DEPLOYMENT_COLUMNS)} FROM view_deployments {clause}"
                "ORDER BY starts_at, deployment_id LIMIT ? OFFSET ?",
                (*params, limit, offset),
            )
        deployments = [dict(zip(_DEPLOYMENT_COLUMNS, r, strict=True)) for r in rows]
        for d in deployments:
            d["urgent"] = bool(d["urgent"])
        reply = {
            "deployments": deployments,
            "total": int(total),
            "limit": limit,
            "offset": offset,
            "next_offset": _next(offset, len(deployments), int(total)),
        }
        return msgspec.convert(reply, DeploymentList)
