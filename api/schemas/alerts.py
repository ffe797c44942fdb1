"""Alerts: what the matcher raises, what the operator and officers record, and the alert's
state as the stream and lists show it (no personal data)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import (
    AwareDateTime,
    Ident,
    Image,
    OptionalText,
    Reply,
    ShortText,
    Similarity,
    Struct,
    items_schema,
)
from lfr_ledger.domain.values import (
    AlertStatus,
    ComplianceResult,
    Confirmation,
    Decision,
    OutcomeType,
)
from lfr_ledger.projections.summaries import AlertRow


class AlertIn(Struct):
    camera_id: Ident
    entry_id: UUID
    similarity: Similarity
    captured_at: AwareDateTime
    track_id: Ident | None = None
    alert_id: UUID | None = None
    model_id: Ident | None = None
    face_crop: Image | None = None


class AdjudicationIn(Struct):
    decision: Decision
    reason: OptionalText = ""


class EngagementIn(Struct):
    engaged: bool
    confirmed: Confirmation


class PerceivedCharacteristicsIn(Struct):
    fields: Annotated[dict[ShortText, ShortText], Meta(max_length=10)]


class OutcomeIn(Struct):
    type: OutcomeType
    offences: Annotated[
        list[ShortText], Meta(max_length=50, extra_json_schema=items_schema(ShortText))
    ] = msgspec.field(default_factory=list)
    reference: ShortText | None = None
    conditions: Annotated[
        list[ShortText], Meta(max_length=50, extra_json_schema=items_schema(ShortText))
    ] = msgspec.field(default_factory=list)
    result: ComplianceResult | None = None
    occurred_at: AwareDateTime | None = None
    note: OptionalText | None = None


class AlertState(Reply):
    """An alert without personal data: what the live stream and alert lists carry."""

    id: UUID
    deployment_id: UUID
    entry_id: UUID
    camera_id: str
    category: str
    similarity: float
    threshold: float
    state: AlertStatus
    captured_at: datetime
    raised_at: datetime
    decision: str | None
    adjudicated_at: datetime | None
    engaged: bool | None
    confirmed: str | None
    outcomes: list[str]
    closed_at: datetime | None


class AlertList(Reply):
    deployment_id: UUID
    alerts: list[AlertRow]
