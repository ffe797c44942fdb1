"""A client's request, recorded in the same transaction as what it changed: exactly once.

A client that retries (a van on a flaky network, a double click) names its request with an
`Idempotency-Key`. The first command the request saves also saves a `Request` record whose id
is derived from (actor, key): a second execution of the same request, after a crash or from a
second server, would create that record again, and the store refuses the whole transaction.
The record also lists what the request changed (each record's id and version), from which the
reply it earned can be given again without running anything.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.records import LFR_NAMESPACE


class RequestTopic:
    """The stored topic of each Request event."""

    RECEIVED = "lfr/Request.Received"


@dataclass
class RequestScope:
    """The request being served: set around a handler, read by the ledger's first save."""

    actor: Actor
    key: str
    route: str
    body_hash: str
    recorded: bool = False


CURRENT_REQUEST: ContextVar[RequestScope | None] = ContextVar("lfr_request", default=None)


class Request(Aggregate):
    TOPIC = "lfr/Request"

    class Created(Aggregate.Created):
        TOPIC = "lfr/Request.Created"

    @staticmethod
    def id_for(actor_id: str, key: str) -> UUID:
        return uuid5(LFR_NAMESPACE, f"request:{actor_id}:{key}")

    @classmethod
    def receive(
        cls, scope: RequestScope, *, changed: list[tuple[UUID, int]], occurred_at: datetime
    ) -> Request:
        return cls(
            id=cls.id_for(scope.actor.id, scope.key),
            # The key is the client's own string: only its digest is kept.
            key_digest=hashlib.sha256(scope.key.encode()).hexdigest(),
            route=scope.route,
            body_hash=scope.body_hash,
            changed=tuple((str(i), v) for i, v in changed),
            actor=scope.actor,
            occurred_at=occurred_at,
        )

    @event("Received", topic=RequestTopic.RECEIVED)
    def __init__(
        self,
        *,
        id: UUID,
        key_digest: str,
        route: str,
        body_hash: str,
        changed: tuple[tuple[str, int], ...],
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.key_digest = key_digest
        self.route = route
        self.body_hash = body_hash
        self.changed = tuple((UUID(str(i)), int(v)) for i, v in changed)
        self.received_at = occurred_at

    def version_of(self, record_id: UUID) -> int | None:
        """The version the request left `record_id` at, if it changed it."""
        return next((v for i, v in self.changed if i == record_id), None)

    @property
    def created(self) -> UUID | None:
        """The first record the request created (its version is 1)."""
        return next((i for i, v in self.changed if v == 1), None)
