"""Oversight bodies and their grants: which deployments a body (the ICO, the IOPC, a PCC's
ethics panel, HMICFRS) may read, and until when.

A grant names the body by a short code and a name, and a remit: the controlling forces, the
operations and the period of the deployments it may read; a dimension left empty does not
limit. It lasts until `valid_until` unless revoked earlier. An authorising officer or an admin
grants and revokes, each an event in the log. The query layer (`api/personal_data/`) asks
`BodyAccess` before every read an oversight reader makes.

An oversight reader whose token names no body is the role as it was before grants: a built-in
grant without limits (`LEGACY_UNLIMITED`), unless the policy in force sets
`[oversight] requires_grant = true`, which refuses such a reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.errors import GrantRefused, InvalidInput, InvalidTransition
from lfr_ledger.domain.records import LFR_NAMESPACE

# Who may grant and revoke: the force's authorising officers (who authorise the deployments
# the grant opens) and its administrators.
GRANTORS = (Role.AUTHORISING_OFFICER, Role.ADMIN)

# A body's code: short, upper case, the same in a token's claim and in the grant ("ICO",
# "IOPC", "PCC-NORTHANTS-ETHICS"). Written into the log and shown in every report.
BODY_CODE_RULE = "1 to 32 of the characters A-Z 0-9 _ -, beginning with a letter or digit"
_BODY_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")

# The most names one remit may list (forces, operations): a remit is a short, readable list.
MAX_REMIT_ITEMS = 100


def body_code(text: str, field: str = "body") -> str:
    """`text` as a body's code (upper case), refused unless it follows `BODY_CODE_RULE`."""
    code = text.strip().upper()
    if _BODY_CODE.fullmatch(code) is None:
        raise InvalidInput(f"{field} must be a body's code: {BODY_CODE_RULE}", field=field)
    return code


class OversightGrantTopic:
    """The stored topic of each OversightGrant event. Stable strings, so classes can move
    without breaking stored events; readers of the log filter on these, never on literals."""

    GRANTED = "lfr/OversightGrant.Granted"
    REVOKED = "lfr/OversightGrant.Revoked"


@dataclass(frozen=True)
class Remit:
    """The deployments a grant opens: each named dimension limits, an empty one does not.
    Forces are matched against the deployment's controlling force as its plan records it;
    the period against the deployment's planned start (from inclusive, to exclusive)."""

    forces: tuple[str, ...] = ()
    operation_ids: tuple[UUID, ...] = ()
    period_from: datetime | None = None
    period_to: datetime | None = None

    @classmethod
    def checked(
        cls,
        *,
        forces: Iterable[str] = (),
        operation_ids: Iterable[UUID] = (),
        period_from: datetime | None = None,
        period_to: datetime | None = None,
    ) -> Remit:
        names = []
        for force in forces:
            name = force.strip()
            if not name or len(name) > 200:
                raise InvalidInput("each force of a remit is 1 to 200 characters", field="forces")
            if name not in names:
                names.append(name)
        operations = list(dict.fromkeys(operation_ids))
        if len(names) > MAX_REMIT_ITEMS or len(operations) > MAX_REMIT_ITEMS:
            raise InvalidInput(f"a remit lists at most {MAX_REMIT_ITEMS} forces and operations")
        start = None if period_from is None else recorded_time(period_from, "period_from")
        end = None if period_to is None else recorded_time(period_to, "period_to")
        if start is not None and end is not None and end <= start:
            raise InvalidInput("the remit's period_to must be after its period_from")
        return cls(tuple(names), tuple(operations), start, end)

    @property
    def whole(self) -> bool:
        """No limit at all: every deployment of the ledger."""
        return not (self.forces or self.operation_ids) and (
            self.period_from is None and self.period_to is None
        )

    def leaves_out(self, deployment: DeploymentFacts) -> str | None:
        """Why the deployment lies outside this remit, or None when inside."""
        if self.forces and deployment.force not in self.forces:
            return f"force {deployment.force!r}"
        if self.operation_ids and deployment.operation_id not in self.operation_ids:
            return f"operation {deployment.operation_id}"
        starts = deployment.starts_at
        if (self.period_from is not None and starts < self.period_from) or (
            self.period_to is not None and starts >= self.period_to
        ):
            return f"a deployment starting {starts.isoformat()}"
        return None

    def describe(self) -> str:
        if self.whole:
            return "every deployment"
        parts = []
        if self.forces:
            parts.append("forces " + ", ".join(repr(f) for f in self.forces))
        if self.operation_ids:
            parts.append("operations " + ", ".join(str(o) for o in self.operation_ids))
        if self.period_from is not None or self.period_to is not None:
            start = self.period_from.isoformat() if self.period_from else "the first"
            end = self.period_to.isoformat() if self.period_to else "the last"
            parts.append(f"deployments starting from {start} to {end}")
        return "; ".join(parts)


@dataclass(frozen=True)
class DeploymentFacts:
    """What a remit is matched against: a deployment's id, controlling force, operation and
    planned start."""

    id: UUID
    force: str
    operation_id: UUID | None
    starts_at: datetime


class OversightGrant(Aggregate):
    """One body's permission to read the deployments of a remit until `valid_until`."""

    TOPIC = "lfr/OversightGrant"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/OversightGrant.Created"

    @staticmethod
    def id_for(body: str, number: int) -> UUID:
        """A body's grants are numbered from 1, so they are found without scanning the log:
        two grants made at once for one body collide, and the second is retried."""
        return uuid5(LFR_NAMESPACE, f"oversight-grant:{body}:{number}")

    @classmethod
    def grant(
        cls,
        *,
        id: UUID,
        body: str,
        body_name: str,
        remit: Remit,
        valid_until: datetime,
        actor: Actor,
        occurred_at: datetime,
    ) -> OversightGrant:
        actor.require(*GRANTORS)
        name = body_name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("body_name is 1 to 200 characters", field="body_name")
        until = recorded_time(valid_until, "valid_until")
        if until <= occurred_at:
            raise InvalidInput(
                f"valid_until {until.isoformat()} is not after now ({occurred_at.isoformat()})",
                field="valid_until",
            )
        return cls(
            id=id,
            body=body_code(body),
            body_name=name,
            forces=list(remit.forces),
            operation_ids=list(remit.operation_ids),
            period_from=remit.period_from,
            period_to=remit.period_to,
            valid_until=until,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("Granted", topic=OversightGrantTopic.GRANTED)
    def __init__(
        self,
        *,
        id: UUID,
        body: str,
        body_name: str,
        forces: list[str],
        operation_ids: list[UUID],
        period_from: datetime | None,
        period_to: datetime | None,
        valid_until: datetime,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.body = body
        self.body_name = body_name
        self.remit = Remit(tuple(forces), tuple(operation_ids), period_from, period_to)
        self.valid_until = valid_until
        self.granted_by = actor.id
        self.granted_at = occurred_at
        self.revoked_at: datetime | None = None
        self.revoked_by: str | None = None
        self.revocation_reason: str | None = None

    def revoke(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        actor.require(*GRANTORS)
        if self.revoked_at is not None:
            raise InvalidTransition(
                f"grant {self.id} of body {self.body} was already revoked at "
                f"{self.revoked_at.isoformat()}"
            )
        text = reason.strip()
        if not text or len(text) > 500:
            raise InvalidInput("a revocation needs a reason of 1 to 500 characters", field="reason")
        self._revoked(reason=text, actor=actor, occurred_at=occurred_at)

    @event("Revoked", topic=OversightGrantTopic.REVOKED)
    def _revoked(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        self.revoked_at = occurred_at
        self.revoked_by = actor.id
        self.revocation_reason = reason

    def lapsed(self, now: datetime) -> str | None:
        """Why the grant no longer opens anything at `now` (revoked, expired), or None."""
        if self.revoked_at is not None:
            return f"grant {self.id} was revoked at {self.revoked_at.isoformat()}"
        if now >= self.valid_until:
            return f"grant {self.id} expired at {self.valid_until.isoformat()}"
        return None

    @property
    def status(self) -> str:
        """What the record itself says, without a clock: granted or revoked (a replayed
        reply is rebuilt from it, `api/exactly_once.py`). Expiry is read at a time: `status_at`."""
        return "revoked" if self.revoked_at is not None else "granted"

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.valid_until else "in_force"


@dataclass(frozen=True)
class BodyAccess:
    """What one oversight reader may read now: its body's grants in force, or the whole
    ledger for a reader acting for no body (`unlimited`)."""

    body: str | None
    in_force: tuple[OversightGrant, ...] = ()
    lapsed: tuple[str, ...] = ()  # why each other grant of the body opens nothing now
    unlimited: bool = False

    @classmethod
    def of(cls, body: str, grants: Sequence[OversightGrant], now: datetime) -> BodyAccess:
        in_force = tuple(g for g in grants if g.lapsed(now) is None)
        lapsed = tuple(reason for g in grants if (reason := g.lapsed(now)) is not None)
        return cls(body, in_force, lapsed)

    @property
    def whole(self) -> bool:
        """Every deployment and the log as a whole: no limit, or a grant in force without one."""
        return self.unlimited or any(g.remit.whole for g in self.in_force)

    def covers(self, deployment: DeploymentFacts) -> bool:
        return self.whole or any(g.remit.leaves_out(deployment) is None for g in self.in_force)

    def require(self, deployment: DeploymentFacts) -> None:
        """Refuses unless a grant in force covers the deployment, naming the body and why."""
        if self.covers(deployment):
            return
        self.require_in_force()
        outside = "; ".join(
            f"grant {g.id} ({g.remit.describe()}) leaves out {g.remit.leaves_out(deployment)}"
            for g in self.in_force
        )
        raise GrantRefused(
            f"oversight body {self.body} may not read deployment {deployment.id}: outside "
            f"its remit: {outside}"
        )

    def require_whole(self, what: str, instead: str | None = None) -> None:
        """Refuses a read spanning every deployment (`what`) to a body whose grants are
        limited; `instead` says what it may ask for."""
        if self.whole:
            return
        self.require_in_force()
        remits = "; ".join(f"grant {g.id}: {g.remit.describe()}" for g in self.in_force)
        raise GrantRefused(
            f"oversight body {self.body} may not read {what}: it spans every deployment and "
            f"the body's remit is limited ({remits}); {instead or 'name a deployment within it'}"
        )

    def require_in_force(self) -> None:
        """Refuses a body none of whose grants is in force (never made, expired, revoked)."""
        if self.unlimited or self.in_force:
            return
        why = "; ".join(self.lapsed) if self.lapsed else "no grant was ever made to it"
        raise GrantRefused(f"oversight body {self.body} holds no grant in force: {why}")

    def describe(self) -> str | None:
        """The remit a limited body's answers are held to, None when the reader sees all."""
        if self.whole:
            return None
        remits = "; or ".join(g.remit.describe() for g in self.in_force)
        return f"oversight body {self.body}: {remits}"


# The reader acting for no body, while the policy allows it: the role as it was before grants.
LEGACY_UNLIMITED = BodyAccess(body=None, unlimited=True)
