"""Oversight replies: subject access findings, equality monitoring tables, the access review."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from lfr_ledger.api.schemas.base import Reply


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
