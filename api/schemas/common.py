"""Replies every resource shares: a record created, a command done, health, policy adopted."""

from __future__ import annotations

from uuid import UUID

from lfr_ledger.api.schemas.base import Reply


class Created(Reply):
    id: UUID


class Done(Reply):
    """A command was recorded. `status` is the record's state after it."""

    id: UUID
    status: str


class Health(Reply, omit_defaults=True):
    """`ok`, or `degraded` with the number of events projections skipped (see
    `lfr projections status`)."""

    status: str
    projection_failures: int = 0


class PolicyAdopted(Reply):
    id: UUID
    version: str
    content_hash: str
