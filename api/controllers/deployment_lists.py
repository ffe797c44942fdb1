"""The list of deployments: every one, the proposals awaiting authority (`?status=proposed`),
or one operation's (`?operation_id=`). From the read models: no personal data."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import get
from litestar.params import QueryParameter

from lfr_ledger.api.controllers.operations import Limit, Offset
from lfr_ledger.api.dependencies import ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.operations import DeploymentList
from lfr_ledger.domain.values import DeploymentStatus
from lfr_ledger.projections.lists import ListReader


# A plain handler, not a Controller: a second controller on `/deployments` would bring a second
# automatic OPTIONS handler for the path, which Litestar refuses.
@get(
    "/deployments",
    sync_to_thread=True,
    tags=("deployments",),
    summary="Deployments by window start: operation, town, place, window, status",
    description="`status=proposed` lists the proposals awaiting an authorising officer's "
    "decision; `operation_id` one operation's deployments. Paged with `limit` and "
    "`offset`; `next_offset` is null on the last page.",
    responses=problem_spec(400, 401, 403, 503),
)
def list_deployments(
    services: ServicesDep,
    status: Annotated[
        DeploymentStatus | None,
        QueryParameter(required=False, description="only deployments in this state"),
    ] = None,
    operation_id: Annotated[
        UUID | None, QueryParameter(required=False, description="only this operation's")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> DeploymentList:
    services.statistics()  # catches the views up, so a client reads its own writes
    return ListReader(services.settings).deployments(
        status=status.value if status is not None else None,
        operation_id=str(operation_id) if operation_id is not None else None,
        limit=limit,
        offset=offset,
    )
