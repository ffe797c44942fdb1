"""Operations: a planner opens one and closes it; the list of them; its statistics read back as
a summary."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from lfr_ledger.api.dependencies import (
    ActorDep,
    IdempotencyKey,
    LedgerDep,
    ServicesDep,
)
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Created
from lfr_ledger.api.schemas.operations import OperationClosed, OperationIn, OperationList
from lfr_ledger.api.schemas.statistics import OperationSummary
from lfr_ledger.domain.errors import NotFound

Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="at most this many rows")]
Offset = Annotated[int, QueryParameter(ge=0, le=2**31, description="skip this many rows")]


class OperationController(Controller):
    path = "/operations"
    tags = ("operations",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Open an operation (planner)",
        responses=problem_spec(400, 401, 403, 409, 422),
    )
    def open_operation(
        self,
        data: JSONBody[OperationIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        operation_id = ledger.open_operation(
            actor, name=data.name, force=data.force, purpose=data.purpose
        )
        return Created(id=operation_id)

    @post(
        "/{operation_id:uuid}/close",
        status_code=200,
        sync_to_thread=True,
        summary="Close the operation (planner)",
        description="Once closed, no deployment may be proposed in it; its deployments and "
        "their records stay as they are. Closing it again is refused (409), as is an unknown "
        "id (404). With an `Idempotency-Key`, a retry gets the first reply.",
        responses=problem_spec(400, 401, 403, 404, 409, 422),
    )
    def close_operation(
        self,
        operation_id: FromPath[UUID],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> OperationClosed:
        ledger.close_operation(actor, operation_id)
        closed_at = ledger.operation(operation_id).closed_at
        assert closed_at is not None  # the command just recorded it
        return OperationClosed(id=operation_id, status="closed", closed_at=closed_at)

    @get(
        "/",
        sync_to_thread=True,
        summary="Operations, oldest first: name, force, open or closed, deployment count",
        description="Paged with `limit` and `offset`; `next_offset` is null on the last page. "
        "From the read models: no personal data.",
        responses=problem_spec(400, 401, 403, 503),
    )
    def list_operations(
        self, services: ServicesDep, limit: Limit = 100, offset: Offset = 0
    ) -> OperationList:
        from lfr_ledger.projections.lists import ListReader

        services.statistics()  # catches the views up, so a client reads its own writes
        return ListReader(services.settings).operations(limit=limit, offset=offset)

    @get(
        "/{operation_id:uuid}/summary",
        sync_to_thread=True,
        summary="Statistics of an operation across its deployments (no personal data)",
        responses=problem_spec(400, 401, 403, 404, 503),
    )
    def operation_summary(
        self, operation_id: FromPath[UUID], services: ServicesDep
    ) -> OperationSummary:
        summary = services.statistics().operation_summary(operation_id)
        if summary is None:
            raise NotFound(f"no statistics for operation {operation_id}")
        return summary
