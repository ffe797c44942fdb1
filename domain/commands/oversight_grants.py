"""Oversight bodies' grants: made and revoked by an authorising officer or an admin, and the
access an oversight reader holds, asked before each of its reads (`api/personal_data/`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.errors import GrantRefused, NotFound
from lfr_ledger.domain.oversight_grant import (
    GRANTORS,
    LEGACY_UNLIMITED,
    BodyAccess,
    DeploymentFacts,
    OversightGrant,
    OversightGrantTopic,
    Remit,
    body_code,
)


class OversightGrantCommands(LedgerBase):
    def grant_oversight(
        self,
        actor: Actor,
        *,
        body: str,
        body_name: str,
        remit: Remit,
        valid_until: datetime,
    ) -> UUID:
        """A new grant to `body`, numbered after its others (a grant is never changed: a body
        whose remit changes is granted anew, and its old grant revoked)."""
        actor.require(*GRANTORS)
        code = body_code(body)
        number = len(self._grants_of(code)) + 1
        # Plans record forces by code since the register: a registered force, however given,
        # is kept as its code; another name is kept as typed (plans recorded before it).
        forces = self.policy.forces
        remit = replace(
            remit, forces=tuple(dict.fromkeys(forces.known_code(f) or f for f in remit.forces))
        )
        grant = OversightGrant.grant(
            id=OversightGrant.id_for(code, number),
            body=code,
            body_name=body_name,
            remit=remit,
            valid_until=valid_until,
            actor=actor,
            occurred_at=self.clock(),
        )
        # Two grants made at once for one body take the same number: the second save is a
        # ConcurrentWrite (409), and the client tries again.
        self._commit(grant)
        return grant.id

    def revoke_oversight_grant(self, actor: Actor, grant_id: UUID, *, reason: str) -> None:
        actor.require(*GRANTORS)
        grant = self.oversight_grant(grant_id)
        grant.revoke(reason=reason, actor=actor, occurred_at=self.clock())
        self._commit(grant)

    def oversight_grant(self, grant_id: UUID) -> OversightGrant:
        return self._load(OversightGrant, grant_id, "oversight grant")

    def oversight_grants(self, body: str | None = None) -> list[OversightGrant]:
        """One body's grants, oldest first; without `body`, every body's, in log order (a scan
        of the grants' topic: a rare read, by those who manage grants)."""
        if body is not None:
            return self._grants_of(body_code(body))
        return [
            self._grant(UUID(str(n.originator_id)))
            for n in self._scan([OversightGrantTopic.GRANTED])
        ]

    def oversight_access(self, actor: Actor) -> BodyAccess:
        """What an oversight reader may read now. A reader acting for no body holds the
        built-in grant without limits, unless the policy in force requires a body."""
        actor.require(Role.OVERSIGHT)
        if actor.body is None:
            if self.policy.oversight_requires_grant:
                raise GrantRefused(
                    f"policy {self.policy.version} requires every oversight reader to act for a "
                    "body holding a grant; the reader's token names none (claim oversight_body)"
                )
            return LEGACY_UNLIMITED
        code = body_code(actor.body)
        return BodyAccess.of(code, self._grants_of(code), self.clock())

    def deployment_facts(self, deployment_id: UUID) -> DeploymentFacts:
        """What a remit is matched against (404 for an unknown deployment)."""
        return _facts(self.deployment(deployment_id, to_change=False))

    def deployments_facts(self, deployment_ids: Iterable[UUID]) -> dict[UUID, DeploymentFacts]:
        """`deployment_facts` of many deployments, read in one query (subject access's remit
        filter: a subject on hundreds of watchlists)."""
        return {i: _facts(d) for i, d in self.deployments(deployment_ids).items()}

    def _grant(self, grant_id: UUID) -> OversightGrant:
        # Read only: the caller never changes it (no copy out of the cache).
        return self._load(OversightGrant, grant_id, "oversight grant", to_change=False)

    def _grants_of(self, body: str) -> list[OversightGrant]:
        """A body's grants, by number from 1 up to the first not made: a few cached loads and
        one miss, whatever the length of the log."""
        grants: list[OversightGrant] = []
        while True:
            try:
                grants.append(self._grant(OversightGrant.id_for(body, len(grants) + 1)))
            except NotFound:
                return grants


def _facts(deployment: Deployment) -> DeploymentFacts:
    plan = deployment.plan
    try:
        operation: UUID | None = UUID(plan.operation_id)
    except ValueError:
        operation = None
    return DeploymentFacts(deployment.id, plan.controlling_force, operation, plan.starts_at)
