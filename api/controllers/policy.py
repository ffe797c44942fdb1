"""The policy in force: read by everyone, adopted by an admin before any deployment is proposed.
A force adopts its own file by sending its text (or with `lfr policy adopt FILE`)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from lfr_ledger.api.dependencies import (
    ActorDep,
    IdempotencyKey,
    LedgerDep,
)
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.admin import PolicyText
from lfr_ledger.api.schemas.common import (
    DutyTraining,
    PolicyAdopted,
    PolicyIn,
    PolicyInForce,
    RegisteredForce,
)
from lfr_ledger.domain.policy import Policy


class PolicyController(Controller):
    path = "/policy"
    tags = ("policy",)

    @get(
        "/",
        sync_to_thread=True,
        summary="The policy in force: version, whether it is adopted, its closed lists",
        responses=problem_spec(401, 403),
    )
    def policy_in_force(self, ledger: LedgerDep) -> PolicyInForce:
        policy = ledger.policy
        return PolicyInForce(
            version=policy.version,
            title=policy.title,
            content_hash=policy.content_hash,
            adopted=ledger.policy_adopted(policy.version),
            location_types=list(policy.location_types),
            watchlist_categories=list(policy.categories),
            forces=[RegisteredForce(code, name) for code, name in policy.forces.names.items()],
            training=[DutyTraining(d, c) for d, c in policy.training_courses.items()]
            if policy.training_required
            else [],
            complaint_channels=list(policy.complaint_channels),
            false_alert_factors=list(policy.false_alerts.codes()),
            false_alert_factors_required=policy.false_alerts.required,
            equality_fields={k: list(v) for k, v in policy.equality_fields.items()},
        )

    @get(
        "/text",
        sync_to_thread=True,
        summary="The policy in force as its TOML file, with its version (admin)",
        description="What an administrator starts a new version from: edit a copy, give it a "
        "new `version`, and send it to POST /policy/adopt.",
        responses=problem_spec(401, 403),
    )
    def policy_text(self, ledger: LedgerDep) -> PolicyText:
        policy = ledger.policy
        return PolicyText(
            version=policy.version,
            content_hash=policy.content_hash,
            adopted=ledger.policy_adopted(policy.version),
            toml=policy.text,
        )

    @post(
        "/adopt",
        status_code=200,
        sync_to_thread=True,
        summary="Adopt the policy in force, or a force's own policy sent as `toml` (admin)",
        description="Without a body, records the policy this node runs under. With `toml`, "
        "checks the file and puts it in force on this node (other nodes on restart). Adopting "
        "the same text again changes nothing; changed text under an adopted version is refused.",
        responses=problem_spec(400, 401, 403, 409, 422),
    )
    def adopt_policy(
        self,
        ledger: LedgerDep,
        actor: ActorDep,
        data: JSONBody[PolicyIn | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> PolicyAdopted:
        policy = Policy.parse(data.toml) if data is not None else None
        policy_id = ledger.adopt_policy(actor, policy)
        return PolicyAdopted(
            id=policy_id, version=ledger.policy.version, content_hash=ledger.policy.content_hash
        )
