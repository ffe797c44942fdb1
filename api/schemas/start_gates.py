"""What the start needs beyond authority and review: the operator's signage confirmation on the
day, and a watchlist manager's re-confirmation of entries compiled days before."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply, Struct, Text

EntryIds = Annotated[list[UUID], Meta(min_length=1, max_length=100_000)]


class SignageIn(Struct):
    """On the day the deployment goes live, before starting it: the signs that tell the people
    walking into the zone. In clear in the log: it must name no one."""

    signs: Annotated[
        Text,
        Meta(
            description="Which signs stand",
            examples=["Four A-boards: 'Police are using live facial recognition here today'"],
        ),
    ]
    locations: Annotated[
        Text,
        Meta(
            description="Where they stand",
            examples=["Both ends of Abington Street and at the Market Square entrance"],
        ),
    ]


class ReconfirmationIn(Struct):
    """A watchlist manager states the entries are still wanted, close to go-live."""

    still_in_force: Annotated[
        bool,
        Meta(
            description="The reason for each entry still holds: still wanted, the order still "
            "in force, still missing (must be true; withdraw an entry that no longer holds)"
        ),
    ]
    checked: Annotated[
        Text,
        Meta(
            description="What was checked, and when (sealed under each entry's key)",
            examples=["Warrants and orders checked on the PNC, 2026-06-02 07:30"],
        ),
    ]
    entry_ids: Annotated[
        EntryIds | None,
        Meta(
            description="The entries to re-confirm; omitted or null: every active entry of "
            "the deployment"
        ),
    ] = None


class Reconfirmed(Reply):
    """Which entries were re-confirmed (all of them, or none when one was refused)."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    reconfirmed: Annotated[list[UUID], Meta(description="The entries re-confirmed")]
