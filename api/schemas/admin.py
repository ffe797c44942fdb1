"""What the administrator's page reads: retention's backlog and recent work, each view's lag
behind the log, the latest signed checkpoint's age, and the text of the policy in force. Counts,
states and times only: no record, no person."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply


class RetentionWork(Reply):
    """Destructions recorded in the log since a moment, by kind (metadata only: counts)."""

    since: Annotated[datetime, Meta(description="The start of the period counted")]
    watchlists: Annotated[int, Meta(description="Deployments whose watchlist was destroyed")]
    alert_images: Annotated[int, Meta(description="Alerts whose images and notes were erased")]
    access_records: Annotated[
        int,
        Meta(description="Consultations and disclosures whose personal content was destroyed"),
    ]


class RetentionDue(Reply):
    """What a retention run would destroy now, by kind, and what runs recorded lately. A run
    that finds nothing due records nothing, so "last destruction" is the last run that
    destroyed something."""

    as_of: Annotated[datetime, Meta(description="The server's time the backlog is judged by")]
    watchlists: Annotated[int, Meta(description="Watchlists due for destruction")]
    entries: Annotated[int, Meta(description="Watchlist entries those watchlists hold")]
    alert_images: Annotated[int, Meta(description="Alert image sets due for erasure")]
    held: Annotated[int, Meta(description="Alert image sets due but kept under a legal hold")]
    consultations: Annotated[
        int, Meta(description="Consultations whose stated purpose is due for destruction")
    ]
    disclosures: Annotated[
        int, Meta(description="Disclosures whose recipient and record are due for destruction")
    ]
    unsealed_disclosures: Annotated[
        int,
        Meta(description="Disclosures past the period recorded before sealing (text in clear)"),
    ]
    not_ended: Annotated[
        int,
        Meta(description="Deployments whose window closed but nobody ended (an operator must)"),
    ]
    last_destruction_at: Annotated[
        datetime | None,
        Meta(description="When retention last destroyed something; null if it never has"),
    ]
    recent: Annotated[
        RetentionWork, Meta(description="What retention destroyed in the last seven days")
    ]
    sweep_minutes: Annotated[
        int, Meta(description="How often `lfr serve` looks for what is due, in minutes")
    ]


class ViewLag(Reply):
    """One read model's place in the log."""

    name: Annotated[str, Meta(description="The view", examples=["deployments"])]
    position: Annotated[int, Meta(description="The last notification id it applied")]
    lag: Annotated[int, Meta(description="Events recorded that it has not applied yet")]
    skipped: Annotated[int, Meta(description="Events it could not take and skipped")]


class ViewsLag(Reply):
    """Every view's lag behind the log, and the lag beyond which the node is not ready."""

    head: Annotated[int, Meta(description="The log's last notification id")]
    max_lag: Annotated[int, Meta(description="Beyond this many events /health/ready answers 503")]
    views: Annotated[list[ViewLag], Meta(description="Every view, in the order it is fed")]


class CheckpointAge(Reply):
    """The latest checkpoint this node signed, and whether it is older than it should be."""

    signed_at: Annotated[
        datetime | None, Meta(description="When it was signed; null before the first")
    ]
    age_seconds: Annotated[float | None, Meta(description="Seconds since it was signed")]
    last_id: Annotated[int | None, Meta(description="The last event it covers")]
    head: Annotated[int, Meta(description="The log's last notification id")]
    events_since: Annotated[int, Meta(description="Events recorded after it (not yet signed)")]
    stale_after_seconds: Annotated[
        int,
        Meta(
            description="How long events may wait unsigned before the age is a warning (the "
            "server signs every minute when the log grew)"
        ),
    ]
    stale: Annotated[
        bool,
        Meta(
            description="true when events were recorded after it and it is older than "
            "stale_after_seconds, or when the log holds events and none was ever signed"
        ),
    ]


class PolicyText(Reply):
    """The policy in force as its file: what an administrator edits a copy of."""

    version: Annotated[str, Meta(description="Its version", examples=["LFR-POL-2026.3"])]
    content_hash: Annotated[str, Meta(description="SHA-256 of the text")]
    adopted: Annotated[bool, Meta(description="Whether this version is recorded as adopted")]
    toml: Annotated[str, Meta(description="The policy file's text (TOML)")]


class ServiceIndex(Reply):
    """What `/` answers an API client: where things are."""

    console: Annotated[str, Meta(description="The console, for people")]
    api_documentation: Annotated[str, Meta(description="This API's documentation")]
    openapi: Annotated[str, Meta(description="The OpenAPI document")]
    health: Annotated[str, Meta(description="The liveness probe")]
