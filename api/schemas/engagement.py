"""What the officer sent to engage on an alert reads of the watchlist entry it matched."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply


class EngagedEntryOut(Reply):
    """Personal data, for the officer engaging on a match: every response of this shape is
    logged as a consultation of the entry ("engaging on alert <id>")."""

    alert_id: Annotated[UUID, Meta(description="The alert the officer engages on")]
    entry_id: Annotated[UUID, Meta(description="The watchlist entry it matched")]
    name: Annotated[
        str,
        Meta(
            description="The subject's name, to confirm identity on engaging "
            '("[erased]" once retention shredded the entry)',
            examples=["Jane Doe"],
        ),
    ]
    category: Annotated[
        str,
        Meta(
            description="The entry's watchlist category (a code of the policy's closed list)",
            examples=["wanted_by_courts"],
        ),
    ]
    offence: Annotated[
        str,
        Meta(
            description='The offence or concern ("[erased]" once retention shredded the entry)',
            examples=["Failing to appear (Bail Act 1976 s.6)"],
        ),
    ]
    description: Annotated[
        str | None,
        Meta(
            description="How to know the person: build, clothing, marks, warning markers; null "
            "when the watchlist manager gave none (or for an entry enrolled before the field)",
            examples=["Male, about 1.80 m, slim; tattoo of a swallow on the left hand"],
        ),
    ]
    under_18: Annotated[bool, Meta(description="Whether the subject is a child")]
    entry_status: Annotated[
        str, Meta(description="The entry's status (EntryStatus): active, withdrawn, destroyed")
    ]
    has_image: Annotated[
        bool, Meta(description="Whether an enrolled image is held (`GET .../entry/image`)")
    ]
    erased: Annotated[bool, Meta(description="Whether retention shredded its personal data")]
