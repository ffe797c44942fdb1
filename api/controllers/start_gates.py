"""What a deployment needs on the day before it may start, beside its authority and its
watchlist's review: the operator's confirmation that the signs stand, and a watchlist manager's
re-confirmation of entries compiled too long before go-live."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.params import FromPath, JSONBody

from lfr_ledger.api.dependencies import ActorDep, IdempotencyKey, LedgerDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Done
from lfr_ledger.api.schemas.start_gates import ReconfirmationIn, Reconfirmed, SignageIn

WRITE_ERRORS = problem_spec(400, 401, 403, 404, 409, 422)


class StartGatesController(Controller):
    path = "/deployments/{deployment_id:uuid}"
    tags = ("deployments",)

    @post(
        "/signage",
        status_code=200,
        sync_to_thread=True,
        summary="Confirm the signs stand, on the day, before starting (operator)",
        description="Records which signs stand where (`Deployment.SignageConfirmed`). Accepted "
        "while the deployment is authorised and not yet live, on a UK date of its window; with "
        "the policy's `signage_confirmed_before_start`, the start needs one recorded that day.",
        responses=WRITE_ERRORS,
    )
    def confirm_signage(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[SignageIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.confirm_signage(actor, deployment_id, signs=data.signs, locations=data.locations)
        return Done(id=deployment_id, status=str(ledger.deployment(deployment_id).status))

    @post(
        "/watchlist/reconfirmation",
        status_code=200,
        sync_to_thread=True,
        summary="Re-confirm watchlist entries: still wanted, order still in force (watchlist "
        "manager)",
        description="Records `WatchlistEntry.Reconfirmed` on each entry named (every active "
        "one when `entry_ids` is omitted), all or none. The start refuses a deployment with an "
        "active entry enrolled or re-confirmed longer than the policy's "
        "`reconfirm_within_hours` before go-live, naming those entries.",
        responses=WRITE_ERRORS,
        tags=("watchlist",),
    )
    def reconfirm_entries(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[ReconfirmationIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Reconfirmed:
        done = ledger.reconfirm_entries(
            actor,
            deployment_id,
            still_in_force=data.still_in_force,
            checked=data.checked,
            entry_ids=data.entry_ids,
        )
        return Reconfirmed(deployment_id=deployment_id, reconfirmed=done)
