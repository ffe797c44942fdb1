"""Oversight replies: subject access findings, equality monitoring tables, the access review."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from lfr_ledger.api.schemas.base import Reply, ShortText, Struct
from lfr_ledger.projections.summaries import ScoreDistribution, ThresholdSensitivity


class AlertFinding(Reply):
    alert_id: UUID
    deployment_id: UUID
    camera_id: str
    captured_at: datetime
    similarity: float
    threshold: float
    decision: str | None
    engaged: bool | None
    confirmed: str | None
    outcomes: list[str]
    closed: bool
    legal_hold: bool
    image: str


class EntryFinding(Reply):
    """Personal fields (`subject_ref`, `name`, `rationale`) read "[erased]" once shredded."""

    entry_id: UUID
    deployment_id: UUID
    location: str
    window_start: datetime
    window_end: datetime
    deployment_status: str
    enrolled_at: datetime
    category: str
    legal_basis: str
    offence: str
    image_source: str
    status: str
    destroyed_at: datetime | None
    destruction_rule: str | None
    subject_ref: str
    name: str
    rationale: str
    image: str
    alerts: list[AlertFinding]


class SubjectAccess(Reply):
    subject_digest: str
    period_start: datetime
    period_end: datetime
    answered_at: datetime
    on_watchlist: bool
    in_alert: bool
    entries: list[EntryFinding]


class EqualityGroup(Reply):
    value: str
    alerts: int | None
    engagements: int | None
    true_alerts: int | None
    false_alerts: int | None
    false_alert_rate: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool


class EqualityTable(Reply):
    field: str
    groups: list[EqualityGroup]
    total_alerts: int | None


class Equality(Reply):
    audience: str
    minimum_cell_size: int
    deployment_id: UUID | None
    period_start: datetime | None
    period_end: datetime | None
    alerts_with_characteristics: int | None
    tables: list[EqualityTable]


class AccessRecord(Reply):
    kind: str
    notification_id: int
    id: UUID
    actor_id: str
    actor_role: str | None
    record: str
    occurred_at: datetime
    purpose: str | None
    recipient: str | None
    legal_basis: str | None


class AccessReview(Reply):
    records: list[AccessRecord]
    next_after: int | None


# --- disclosures (DPA 2018 s.62: personal data given to someone outside the system) -----------


class DisclosureIn(Struct):
    """`recipient` and `record` are sealed in the log under the disclosure's own key (erased
    after `retention.access_log_years`); the legal basis stays in clear."""

    recipient: ShortText
    record: ShortText
    legal_basis: ShortText


class DisclosureOut(Reply):
    """`recipient` and `record` read "[erased]" once access-log retention destroyed them."""

    notification_id: int
    id: UUID
    recipient: str
    record: str
    legal_basis: str
    actor_id: str
    occurred_at: datetime
    content_destroyed_at: datetime | None


class Disclosures(Reply):
    disclosures: list[DisclosureOut]
    next_after: int | None


# --- scores ------------------------------------------------------------------------------------


class Scores(Reply):
    """`lfr stats scores` over HTTP: alerts per similarity bin and what a higher threshold
    would have kept and lost. From the views: no personal data."""

    distribution: ScoreDistribution
    sensitivity: ThresholdSensitivity
