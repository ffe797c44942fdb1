"""Operations: a planner opens one; its statistics are read back as a summary."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from lfr_ledger.api.controllers.deps import (
    ActorDep,
    IdempotencyKey,
    LedgerDep,
    ServicesDep,
)
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Created
from lfr_ledger.api.schemas.operations import OperationIn
from lfr_ledger.api.schemas.statistics import OperationSummary
from lfr_ledger.domain.errors import NotFound


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
