"""The policy version in force: adopted by an admin before any deployment is proposed."""

from __future__ import annotations

from litestar import Controller, post

from lfr_ledger.api.controllers.deps import (
    ActorDep,
    IdempotencyKey,
    LedgerDep,
)
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import PolicyAdopted


class PolicyController(Controller):
    path = "/policy"
    tags = ("policy",)

    @post(
        "/adopt",
        status_code=200,
        sync_to_thread=True,
        summary="Adopt the policy file in force (admin); adopting it again changes nothing",
        responses=problem_spec(400, 401, 403, 409, 422),
    )
    def adopt_policy(
        self, ledger: LedgerDep, actor: ActorDep, idempotency_key: IdempotencyKey = None
    ) -> PolicyAdopted:
        policy_id = ledger.adopt_policy(actor)
        return PolicyAdopted(
            id=policy_id, version=ledger.policy.version, content_hash=ledger.policy.content_hash
        )
