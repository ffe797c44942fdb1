"""The oversight body's view of the log: consultations and verification. A deployment's
history, typed per event topic, is in `history.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

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


class CheckpointStatus(Reply):
    """The latest checkpoint this node signed, checked against the log as it is now."""

    last_id: int
    head: str
    created_at: str
    key_id: str
    signature_ok: bool
    extends: Annotated[bool, Meta(description="the log still passes through its head")]
    reason: str | None


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
    checkpoint: Annotated[
        CheckpointStatus | None,
        Meta(description="the latest signed checkpoint (`lfr serve` signs one as the log grows)"),
    ] = None
