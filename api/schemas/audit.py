"""The oversight body's view of the log: consultations and verification. A deployment's
history, typed per event topic, is in `history.py`."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from lfr_ledger.api.schemas.base import Reply


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
