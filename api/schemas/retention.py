"""Legal holds and retention runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply, ShortText, Struct, Text


class LegalHoldIn(Struct):
    """A legal hold: the alert's images are kept past retention for the named proceedings."""

    reason: Annotated[
        Text,
        Meta(description="Why", examples=["The face crop is evidence in the prosecution"]),
    ]
    proceedings_ref: Annotated[
        ShortText,
        Meta(
            description="The proceedings it is for; sealed under the alert's notes key, and "
            'never repeated: replies read "[sealed]"',
            examples=["CPS-2026-0417"],
        ),
    ]


class LegalHoldReleaseIn(Struct):
    """Why the hold ends: retention applies again at its next run."""

    reason: Annotated[
        Text, Meta(description="Why", examples=["Proceedings concluded on 2026-09-30"])
    ]


class LegalHold(Reply):
    """An alert's retention state after the command: no personal data."""

    id: Annotated[UUID, Meta(description="The alert")]
    under_legal_hold: Annotated[bool, Meta(description="Whether a hold keeps its images")]
    proceedings_ref: Annotated[
        str | None,
        Meta(
            description='"[sealed]" for the proceedings an authorising officer named (this '
            "reply, kept for a retry, never holds them); the policy's version for an evidential "
            "hold; null without a hold"
        ),
    ]
    images_erased_at: Annotated[
        datetime | None, Meta(description="When retention erased its images, if it did")
    ]


class RetentionRun(Reply):
    """What a retention run destroyed (or, with `dry_run`, would destroy). Ids only."""

    as_of: Annotated[datetime, Meta(description="The server's time the run judged by")]
    dry_run: Annotated[bool, Meta(description="Whether it only reported what is due")]
    watchlists_destroyed: Annotated[
        list[UUID], Meta(description="Deployments whose watchlist was destroyed")
    ]
    entries_destroyed: Annotated[list[UUID], Meta(description="Watchlist entries destroyed")]
    alert_images_erased: Annotated[
        list[UUID], Meta(description="Alerts whose images and notes were erased")
    ]
    held: Annotated[list[UUID], Meta(description="Alerts due for erasure but kept under a hold")]
    keys_shredded_late: Annotated[
        list[UUID],
        Meta(description="Keys an earlier run left unshredded, shredded now"),
    ]
    not_ended: Annotated[
        list[UUID],
        Meta(
            description="Deployments whose window closed but nobody ended: an operator must "
            "end them before their watchlist can be destroyed"
        ),
    ]
    failures: Annotated[list[str], Meta(description="What could not be done, and why")]
    index_synced: Annotated[
        bool, Meta(description="Whether the matching index dropped what was destroyed")
    ]
    # The access and disclosure logs' own retention (`retention.access_log_years`).
    consultation_purposes_destroyed: Annotated[
        list[UUID],
        Meta(description="Consultations whose stated purpose was destroyed (access-log retention)"),
    ]
    disclosure_contents_destroyed: Annotated[
        list[UUID],
        Meta(description="Disclosures whose recipient and record were destroyed"),
    ]
    unsealed_disclosures: Annotated[
        list[UUID],
        Meta(
            description="Disclosures past the period recorded before sealing: their text stays "
            "in the log in clear"
        ),
    ]
