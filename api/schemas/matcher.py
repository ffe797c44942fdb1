"""What a matcher node reads from the API when it has no access to the database: its
deployment's live terms, and the watchlist changes its local index applies. The changes hold
templates (biometric data), which only the deployment's own matcher account may read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply, one_of
from lfr_ledger.domain.values import DeploymentStatus

# The kinds of change (matching.index.follower: DeploymentProposed, Enrolled, Removed,
# WatchlistDestroyed).
CHANGE_KINDS = ("deployment_proposed", "enrolled", "removed", "watchlist_destroyed")


class LiveTermsOut(Reply):
    """The terms the matcher obeys between frame batches: it matches only while the status is
    live and a frame's capture time lies in the window, at the threshold in force."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    status: Annotated[
        str,
        Meta(description="The deployment's status", extra_json_schema=one_of(DeploymentStatus)),
    ]
    starts_at: Annotated[datetime, Meta(description="Start of the authorised window")]
    ends_at: Annotated[datetime, Meta(description="End of the authorised window (exclusive)")]
    threshold: Annotated[
        float, Meta(description="The similarity threshold in force", examples=[0.6])
    ]
    model_id: Annotated[str, Meta(description="The face model the deployment is planned for")]
    cameras: Annotated[list[str], Meta(description="The ids of the deployment's cameras")]


class WatchlistChangeOut(Reply):
    """One change to the deployment's watchlist index, in log order."""

    kind: Annotated[
        str,
        Meta(
            description="`deployment_proposed` (the deployment and its model), `enrolled` (an "
            "entry and its template), `removed` (an entry withdrawn or destroyed) or "
            "`watchlist_destroyed` (every entry of the deployment)",
            extra_json_schema=one_of(CHANGE_KINDS),
        ),
    ]
    deployment_id: Annotated[
        UUID | None, Meta(description="The deployment, except for `removed`")
    ] = None
    entry_id: Annotated[
        UUID | None, Meta(description="The watchlist entry (`enrolled`, `removed`)")
    ] = None
    model_id: Annotated[
        str | None,
        Meta(description="The model the template was made with (`enrolled`, proposals)"),
    ] = None
    template: Annotated[
        bytes | None,
        Meta(
            description="`enrolled`: the entry's template, base64 (biometric data); null when "
            "the entry has none or its key was shredded"
        ),
    ] = None


class WatchlistChangesOut(Reply):
    """A page of watchlist changes after `after`, up to `end`. Apply them and ask again from
    `end` until `end` stops moving."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    changes: Annotated[
        list[WatchlistChangeOut], Meta(description="The changes, in the log's order")
    ]
    end: Annotated[
        int,
        Meta(
            description="The position these changes reach: the next page's `after` (it may "
            "pass events that changed nothing here)"
        ),
    ]
    notifications: Annotated[
        int, Meta(description="How many watchlist notifications the page covers")
    ]
