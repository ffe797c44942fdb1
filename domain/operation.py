"""An operation groups the deployments of one policing purpose (e.g. a week of town-centre LFR)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition
from lfr_ledger.domain.forces import ForceRegister


class OperationTopic:
    """The stored topic of each Operation event. Stable strings, so classes can move without
    breaking stored events; readers of the log filter on these, never on literals."""

    OPENED = "lfr/Operation.Opened"
    CLOSED = "lfr/Operation.Closed"


class Operation(Aggregate):
    TOPIC = "lfr/Operation"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/Operation.Created"

    @classmethod
    def open(
        cls,
        *,
        name: str,
        force: str,
        purpose: str,
        forces: ForceRegister,
        policy_version: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> Operation:
        """An operation of a force of the register (`force`: its code or exact registered
        name; recorded as its code). Operations opened before the register keep their names."""
        actor.require(Role.PLANNER)
        for field, value in (("name", name), ("force", force), ("purpose", purpose)):
            if not value.strip():
                raise InvalidInput(f"an operation needs a {field}")
        return cls(
            name=name.strip(),
            force=forces.code_of(force, "force", policy_version),
            purpose=purpose.strip(),
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("Opened", topic=OperationTopic.OPENED)
    def __init__(
        self, *, name: str, force: str, purpose: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.name = name
        self.force = force
        self.purpose = purpose
        self.opened_by = actor
        self.opened_at = occurred_at
        self.closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def close(self, *, actor: Actor, occurred_at: datetime) -> None:
        actor.require(Role.PLANNER)
        if not self.is_open:
            raise InvalidTransition(f"operation {self.id} was already closed")
        self._closed(actor=actor, occurred_at=occurred_at)

    @event("Closed", topic=OperationTopic.CLOSED)
    def _closed(self, *, actor: Actor, occurred_at: datetime) -> None:
        self.closed_at = occurred_at

    def summary_fields(self) -> dict[str, Any]:
        return {"name": self.name, "force": self.force, "purpose": self.purpose}
