"""Oversight replies: subject access findings, equality monitoring tables, the access review."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.audit import NEXT_AFTER
from lfr_ledger.api.schemas.base import Reply, ShortText, Struct, one_of
from lfr_ledger.domain.values import (
    Confirmation,
    Decision,
    DeploymentStatus,
    EntryStatus,
    OutcomeType,
)
from lfr_ledger.projections.summaries import ScoreDistribution, ThresholdSensitivity

ERASED_NOTE = ' ("[erased]" once shredded)'


class AlertFinding(Reply):
    """An alert on the subject's entry: what happened, and whether its image is still held."""

    alert_id: Annotated[UUID, Meta(description="The alert")]
    deployment_id: Annotated[UUID, Meta(description="The deployment it was raised in")]
    camera_id: Annotated[str, Meta(description="The camera that saw the face")]
    captured_at: Annotated[datetime, Meta(description="When the face was captured")]
    similarity: Annotated[float, Meta(description="The matcher's score")]
    threshold: Annotated[float, Meta(description="The threshold in force")]
    decision: Annotated[
        str | None,
        Meta(
            description="The operator's decision, as corrected; null if none",
            extra_json_schema=one_of(Decision, nullable=True),
        ),
    ]
    engaged: Annotated[bool | None, Meta(description="Whether an officer spoke to the person")]
    confirmed: Annotated[
        str | None,
        Meta(
            description="Whether the identity was confirmed; null if not recorded",
            extra_json_schema=one_of(Confirmation, nullable=True),
        ),
    ]
    outcomes: Annotated[
        list[str],
        Meta(
            description="The type of each outcome recorded, as corrected",
            extra_json_schema=one_of(OutcomeType, items=True),
        ),
    ]
    closed: Annotated[bool, Meta(description="Whether the alert is closed")]
    legal_hold: Annotated[bool, Meta(description="Whether a hold keeps its images")]
    image: Annotated[
        str,
        Meta(
            description="The face crop: held, none (never sent) or erased",
            extra_json_schema=one_of(("held", "none", "erased")),
        ),
    ]


class EntryFinding(Reply):
    """Personal fields (`subject_ref`, `name`, `rationale`) read "[erased]" once shredded."""

    entry_id: Annotated[UUID, Meta(description="The watchlist entry")]
    deployment_id: Annotated[UUID, Meta(description="Its deployment")]
    location: Annotated[str, Meta(description="The deployment's place and town")]
    window_start: Annotated[datetime, Meta(description="The deployment window's start")]
    window_end: Annotated[datetime, Meta(description="The deployment window's end")]
    deployment_status: Annotated[
        str,
        Meta(
            description="The deployment's status",
            extra_json_schema=one_of(DeploymentStatus),
        ),
    ]
    enrolled_at: Annotated[datetime, Meta(description="When the subject was enrolled")]
    category: Annotated[str, Meta(description="The entry's watchlist category")]
    legal_basis: Annotated[
        str, Meta(description="The legal basis for enrolling them" + ERASED_NOTE)
    ]
    offence: Annotated[str, Meta(description="The offence or concern" + ERASED_NOTE)]
    image_source: Annotated[str, Meta(description="Where the image came from" + ERASED_NOTE)]
    status: Annotated[
        str,
        Meta(description="The entry's status", extra_json_schema=one_of(EntryStatus)),
    ]
    destroyed_at: Annotated[datetime | None, Meta(description="When retention destroyed it")]
    destruction_rule: Annotated[
        str | None, Meta(description="The retention rule that destroyed it")
    ]
    subject_ref: Annotated[str, Meta(description="The subject's reference" + ERASED_NOTE)]
    name: Annotated[str, Meta(description="The subject's name" + ERASED_NOTE)]
    rationale: Annotated[str, Meta(description="Why they were enrolled" + ERASED_NOTE)]
    image: Annotated[
        str,
        Meta(
            description='The enrolled image: held, none, or "[erased]"',
            extra_json_schema=one_of(("held", "none", "[erased]")),
        ),
    ]
    alerts: Annotated[list[AlertFinding], Meta(description="The alerts on this entry")]


class SubjectAccess(Reply):
    """A subject access finding: was the person on a watchlist or in an alert in the period."""

    subject_digest: Annotated[
        str,
        Meta(
            description="The keyed digest of the subject reference the search used (the "
            "reference itself is never logged)"
        ),
    ]
    period_start: Annotated[datetime, Meta(description="The period searched: start")]
    period_end: Annotated[datetime, Meta(description="The period searched: end")]
    answered_at: Annotated[datetime, Meta(description="When the answer was made")]
    on_watchlist: Annotated[bool, Meta(description="Whether any entry was found")]
    in_alert: Annotated[bool, Meta(description="Whether any of those entries had an alert")]
    entries: Annotated[list[EntryFinding], Meta(description="Each entry found, oldest first")]
    remit: Annotated[
        str | None,
        Meta(
            description="The oversight body's remit the answer is held to (entries of "
            "deployments outside it are left out); null when the reader's remit is unlimited"
        ),
    ] = None


class EqualityGroup(Reply):
    """One perceived group of one field (every count shown: the oversight view)."""

    value: Annotated[
        str,
        Meta(
            description="The group, a value of the policy's list for the field (not_available "
            "when the equality key was shredded)",
            examples=["25_34"],
        ),
    ]
    alerts: Annotated[int | None, Meta(description="Alerts whose person was in the group")]
    engagements: Annotated[int | None, Meta(description="Of those, engagements")]
    true_alerts: Annotated[
        int | None, Meta(description="Of those, identities the officer confirmed")
    ]
    false_alerts: Annotated[
        int | None, Meta(description="Of those, identities the officer refuted")
    ]
    false_alert_rate: Annotated[
        float | None,
        Meta(description="false / (true + false); null when neither happened"),
    ]
    ci_low: Annotated[
        float | None, Meta(description="The rate's 95% Wilson score interval: lower bound")
    ]
    ci_high: Annotated[
        float | None, Meta(description="The rate's 95% Wilson score interval: upper bound")
    ]
    suppressed: Annotated[
        bool, Meta(description="Whether counts are withheld (analysts' view only)")
    ]


class EqualityTable(Reply):
    """One equality field, group by group."""

    field: Annotated[
        str,
        Meta(
            description="The field, from the policy's `[equality]` lists (default policy: "
            "perceived_sex, perceived_age_band, perceived_ethnicity)",
            examples=["perceived_age_band"],
        ),
    ]
    groups: Annotated[list[EqualityGroup], Meta(description="Each group seen")]
    total_alerts: Annotated[
        int | None, Meta(description="Alerts with perceived characteristics, all groups")
    ]


class Equality(Reply):
    """Equality monitoring, unsuppressed (the oversight body's view)."""

    audience: Annotated[
        str,
        Meta(
            description="Whose view: oversight (every count) here",
            extra_json_schema=one_of(["oversight", "analyst"]),
        ),
    ]
    minimum_cell_size: Annotated[
        int, Meta(description="The policy's minimum cell size for the analysts' view")
    ]
    deployment_id: Annotated[UUID | None, Meta(description="The deployment, if one was asked")]
    period_start: Annotated[datetime | None, Meta(description="The period's start, if given")]
    period_end: Annotated[datetime | None, Meta(description="The period's end, if given")]
    alerts_with_characteristics: Annotated[
        int | None, Meta(description="Alerts with perceived characteristics recorded")
    ]
    tables: Annotated[list[EqualityTable], Meta(description="One table per equality field")]


class AccessRecord(Reply):
    """A consultation (a read of personal data) or a disclosure (personal data given outside
    the system)."""

    kind: Annotated[
        str,
        Meta(
            description="consultation or disclosure",
            extra_json_schema=one_of(["consultation", "disclosure"]),
        ),
    ]
    notification_id: Annotated[int, Meta(description="Its position in the log: page with `after`")]
    id: Annotated[UUID, Meta(description="The consultation's or disclosure's id")]
    actor_id: Annotated[str, Meta(description="Who read or disclosed (staff number)")]
    actor_role: Annotated[str | None, Meta(description="Their role, where recorded")]
    record: Annotated[
        str, Meta(description='What was read or disclosed ("[erased]" after retention)')
    ]
    occurred_at: Annotated[datetime, Meta(description="When")]
    purpose: Annotated[
        str | None,
        Meta(description='A consultation\'s stated purpose ("[erased]" after retention)'),
    ]
    recipient: Annotated[
        str | None,
        Meta(description='A disclosure\'s recipient ("[erased]" after retention)'),
    ]
    legal_basis: Annotated[str | None, Meta(description="A disclosure's legal basis")]
    actor_body: Annotated[
        str | None,
        Meta(description="The oversight body the actor acted for (its code), if any"),
    ] = None


class AccessReview(Reply):
    """A page of the access review, oldest first."""

    records: Annotated[list[AccessRecord], Meta(description="The page's records")]
    next_after: Annotated[int | None, Meta(description=NEXT_AFTER)]


# --- disclosures (DPA 2018 s.62: personal data given to someone outside the system) -----------


class DisclosureIn(Struct):
    """`recipient` and `record` are sealed in the log under the disclosure's own key (erased
    after `retention.access_log_years`); the legal basis stays in clear."""

    recipient: Annotated[
        ShortText,
        Meta(description="Who received it", examples=["Crown Prosecution Service, London"]),
    ]
    record: Annotated[
        ShortText,
        Meta(
            description="What was given",
            examples=["alert 9b2d7c1e: face crop and adjudication"],
        ),
    ]
    legal_basis: Annotated[
        ShortText,
        Meta(
            description="The legal basis for giving it",
            examples=["DPA 2018 s.35: prosecution of an offence"],
        ),
    ]


class DisclosureOut(Reply):
    """`recipient` and `record` read "[erased]" once access-log retention destroyed them."""

    notification_id: Annotated[int, Meta(description="Its position in the log: page with `after`")]
    id: Annotated[UUID, Meta(description="The disclosure's id")]
    recipient: Annotated[str, Meta(description='Who received it ("[erased]" after retention)')]
    record: Annotated[str, Meta(description='What was given ("[erased]" after retention)')]
    legal_basis: Annotated[str, Meta(description="The legal basis (kept in clear)")]
    actor_id: Annotated[str, Meta(description="Who recorded it (staff number)")]
    occurred_at: Annotated[datetime, Meta(description="When it was recorded")]
    content_destroyed_at: Annotated[
        datetime | None, Meta(description="When retention destroyed recipient and record")
    ]


class Disclosures(Reply):
    """A page of the disclosure log, oldest first."""

    disclosures: Annotated[list[DisclosureOut], Meta(description="The page's disclosures")]
    next_after: Annotated[int | None, Meta(description=NEXT_AFTER)]


# --- scores ------------------------------------------------------------------------------------


class Scores(Reply):
    """`lfr stats scores` over HTTP: alerts per similarity bin and what a higher threshold
    would have kept and lost. From the views: no personal data."""

    distribution: Annotated[
        ScoreDistribution, Meta(description="Alerts per similarity bin, by adjudication")
    ]
    sensitivity: Annotated[
        ThresholdSensitivity,
        Meta(description="What each higher threshold would have kept and lost"),
    ]
