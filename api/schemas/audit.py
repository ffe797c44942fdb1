"""The oversight body's view of the log: history, consultations, verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from lfr_ledger.api.schemas.base import Reply


class ActorOut(Reply):
    """Who gave a command: staff or service number, role, and what the token vouched for."""

    id: str
    role: str
    rank: str | None
    force: str | None
    deployment_id: str | None


class HistoryEvent(Reply):
    """One event of the log. `data` holds the event's own fields as stored, which differ by
    `topic` (the event model in DESIGN.md); sealed personal fields stay sealed."""

    notification_id: int
    topic: str
    originator_id: UUID
    originator_version: int
    recorded_at: datetime | None
    occurred_at: datetime | None
    actor: ActorOut | None
    data: dict[str, Any]


class History(Reply):
    deployment_id: UUID
    events: list[HistoryEvent]


class Consultation(Reply):
    notification_id: int
    id: UUID
    record: str
    purpose: str
    actor_id: str
    occurred_at: datetime


class Consultations(Reply):
    consultations: list[Consultation]
    next_after: int | None


class Verification(Reply):
    ok: bool
    events_checked: int
    last_id: int
    head: str
    first_bad_id: int | None
    reason: str | None
    detail: str
    # Keys the log says exist that the vault lacks, with no erasure recorded: silent erasures.
    missing_keys: list[str] = msgspec.field(default_factory=list)
