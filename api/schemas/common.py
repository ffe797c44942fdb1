"""Replies every resource shares: a record created, a command done, health, policy adopted."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply, Struct


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


class PolicyIn(Struct):
    """A force's own policy file, to check and put in force."""

    toml: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=200_000,
            description="The policy file's full text (TOML), as `domain/policy.toml` shows it.",
        ),
    ]


class PolicyInForce(Reply):
    version: str
    title: str
    content_hash: str
    adopted: Annotated[
        bool, Meta(description="False until an admin adopts it; no proposal is accepted before")
    ]
    location_types: list[str]
    watchlist_categories: list[str]
