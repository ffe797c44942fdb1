"""What anyone reads without signing in (`/public/deployments.json`): deployments announced and
still to come, results published, results still due. Every time is given twice: the UTC instant
(`starts_at`) and the same instant in UK local time (`starts_at_uk`, Europe/London, with its
offset). Nothing here names or describes a person; the figures are the publication record's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply, one_of
from lfr_ledger.domain.values import DeploymentStatus
from lfr_ledger.projections.summaries import PublicationRecord

UK = "The same instant in UK local time (Europe/London), ISO 8601 with its offset"
UTC_INSTANT = "ISO 8601, UTC"
UPCOMING_STATES = (
    DeploymentStatus.PROPOSED,
    DeploymentStatus.AUTHORISED,
    DeploymentStatus.LIVE,
    DeploymentStatus.PAUSED,
)


class PublicLocation(Reply):
    """Where the deployment is."""

    name: Annotated[str, Meta(description="The place, as the public would name it")]
    town: Annotated[str, Meta(description="The town or city")]
    location_type: Annotated[
        str, Meta(description="The kind of place, from the force policy's closed list")
    ]


class AdvanceNotice(Reply):
    """How and when the public was told before the deployment."""

    method: Annotated[str, Meta(description="How the notice was given (website, press, signs)")]
    issued_at: Annotated[datetime, Meta(description="When it was issued, " + UTC_INSTANT)]
    issued_at_uk: Annotated[str, Meta(description=UK)]


class PublicDeployment(Reply):
    """Where, when and why: what every list says of a deployment."""

    deployment_id: Annotated[str, Meta(description="The deployment's id (no personal data)")]
    location: Annotated[PublicLocation, Meta(description="Where")]
    purpose: Annotated[str, Meta(description="Why: the use case it was authorised for")]
    watchlist_categories: Annotated[
        list[str],
        Meta(description="Who its watchlist may hold: categories of the force policy's list"),
    ]
    starts_at: Annotated[datetime, Meta(description="The window opens, " + UTC_INSTANT)]
    starts_at_uk: Annotated[str, Meta(description=UK)]
    ends_at: Annotated[datetime, Meta(description="The window closes, " + UTC_INSTANT)]
    ends_at_uk: Annotated[str, Meta(description=UK)]
    advance_notice: Annotated[
        AdvanceNotice | None,
        Meta(
            description="The public notice; null when an exemption from notice was recorded "
            "(such a deployment is listed only once it has run)"
        ),
    ]


class UpcomingDeployment(PublicDeployment):
    """A deployment announced (its notice issued) that has not ended."""

    status: Annotated[
        str,
        Meta(
            description="proposed (awaiting authorisation), authorised, live or paused",
            extra_json_schema=one_of(UPCOMING_STATES),
        ),
    ]


class AfterTheDeployment(PublicDeployment):
    """A deployment that went live and ended: when, and when its results are due."""

    went_live_at: Annotated[datetime, Meta(description="When it went live, " + UTC_INSTANT)]
    went_live_at_uk: Annotated[str, Meta(description=UK)]
    ended_at: Annotated[datetime, Meta(description="When it ended, " + UTC_INSTANT)]
    ended_at_uk: Annotated[str, Meta(description=UK)]
    due_by: Annotated[
        datetime,
        Meta(description="Results due: the policy's `results_within_days` after the end, UTC"),
    ]
    due_by_uk: Annotated[str, Meta(description=UK)]


class PublishedResult(AfterTheDeployment):
    """A deployment's results, published."""

    published_at: Annotated[datetime, Meta(description="When published, " + UTC_INSTANT)]
    published_at_uk: Annotated[str, Meta(description=UK)]
    published_late: Annotated[bool, Meta(description="Whether published after `due_by`")]
    record: Annotated[
        PublicationRecord,
        Meta(description="The publication record: the figures forces publish (times in UTC)"),
    ]


class ResultDue(AfterTheDeployment):
    """A deployment that ended and whose results are not published yet."""

    overdue: Annotated[bool, Meta(description="Whether `due_by` has passed")]
    overdue_recorded_at: Annotated[
        datetime | None,
        Meta(description="When the ledger recorded them overdue (UTC); null if it has not"),
    ]
    overdue_recorded_at_uk: Annotated[str | None, Meta(description=UK)]


class PublicFeed(Reply):
    """Everything the public page shows, as data."""

    force_policy: Annotated[str, Meta(description="The version of the force policy in force")]
    generated_at: Annotated[datetime, Meta(description="When this was read, " + UTC_INSTANT)]
    generated_at_uk: Annotated[str, Meta(description=UK)]
    time_zone: Annotated[str, Meta(description="The zone of every `_uk` time: Europe/London")]
    legal_basis: Annotated[
        str, Meta(description="The law LFR is used under, in the force policy's words")
    ]
    complaints: Annotated[str, Meta(description="How to complain, in the force policy's words")]
    results_within_days: Annotated[
        int, Meta(description="Days from a deployment's end within which its results are due")
    ]
    listing_rules: Annotated[
        list[str], Meta(description="What is listed when, in sentences for the reader")
    ]
    upcoming: Annotated[
        list[UpcomingDeployment],
        Meta(description="Announced and not ended, by the window's opening"),
    ]
    results: Annotated[list[PublishedResult], Meta(description="Published, the newest first")]
    results_due: Annotated[
        list[ResultDue], Meta(description="Ended, not published yet, the soonest due first")
    ]


class ResultsPublicationOut(Reply):
    """The results are published: the public page shows them from now on."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    published_at: Annotated[datetime, Meta(description="When, " + UTC_INSTANT)]
    due_by: Annotated[
        datetime, Meta(description="When they were due (the policy's days after the end), UTC")
    ]
    published_late: Annotated[bool, Meta(description="Whether published after `due_by`")]
