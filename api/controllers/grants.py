"""Oversight bodies' grants: granted and revoked by an authorising officer or an admin, listed
for them and for oversight. What a grant opens is checked by the query layer on every read an
oversight reader makes (`api/personal_data/base.py`)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from lfr_ledger.api.dependencies import ActorDep, IdempotencyKey, LedgerDep, OversightBodyQuery
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Created, Done
from lfr_ledger.api.schemas.grants import (
    REMIT,
    GrantIn,
    GrantOut,
    Grants,
    RevocationIn,
)
from lfr_ledger.domain.oversight_grant import Remit

WRITE_ERRORS = problem_spec(400, 401, 403, 404, 409, 422)


class GrantController(Controller):
    path = "/oversight/grants"
    tags = ("oversight",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Grant an oversight body a remit until a time (authorising officer or admin)",
        description="The body's readers (oversight tokens naming it in the claim "
        "`oversight_body`) may then read the personal data of the deployments within the "
        f"remit, until `valid_until`. {REMIT} A read outside it is refused (403 "
        "`outside-grant`, naming the body and why). A body may hold several grants: a "
        "deployment within any grant in force may be read.",
        responses=WRITE_ERRORS,
    )
    def grant(
        self,
        data: JSONBody[GrantIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        remit = Remit.checked(
            forces=data.forces,
            operation_ids=data.operation_ids,
            period_from=data.period_from,
            period_to=data.period_to,
        )
        grant_id = ledger.grant_oversight(
            actor,
            body=data.body,
            body_name=data.body_name,
            remit=remit,
            valid_until=data.valid_until,
        )
        return Created(id=grant_id)

    @post(
        "/{grant_id:uuid}/revocation",
        status_code=200,
        sync_to_thread=True,
        summary="Revoke an oversight body's grant now (authorising officer or admin)",
        description="From now on the grant opens nothing; the body's other grants in force "
        "still do. A grant already revoked is a 409.",
        responses=WRITE_ERRORS,
    )
    def revoke(
        self,
        grant_id: FromPath[UUID],
        data: JSONBody[RevocationIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.revoke_oversight_grant(actor, grant_id, reason=data.reason)
        return Done(id=grant_id, status=ledger.oversight_grant(grant_id).status)

    @get(
        "/",
        sync_to_thread=True,
        summary="Oversight bodies' grants, oldest first, with their status now",
        responses=problem_spec(400, 401, 403, 422),
    )
    def grants(
        self,
        ledger: LedgerDep,
        of_body: OversightBodyQuery = None,
    ) -> Grants:
        now = ledger.clock()
        return Grants(grants=[GrantOut.of(g, now) for g in ledger.oversight_grants(of_body)])
