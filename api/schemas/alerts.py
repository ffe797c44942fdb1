"""Alerts: what the matcher raises, what the operator and officers record, and the alert's
state as the stream and lists show it (no personal data)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
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
    Text,
    items_schema,
)
from lfr_ledger.api.schemas.history import (
    ActorOut,
    AdjudicatedFields,
    AdjudicationCorrectedFields,
    AlertRaisedFields,
    DemographicsPerceivedFields,
    EngagementRecordedFields,
    LegalHoldPlacedFields,
    NoFields,
    OutcomeCorrectedFields,
    OutcomeRecordedFields,
    ReasonFields,
    RuleFields,
)
from lfr_ledger.domain.alert import AlertTopic
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
    # Every decision says why, a match too: what the operator saw.
    reason: Text


class AdjudicationCorrectionIn(Struct):
    """The decision the alert should have had, and why the first one was wrong."""

    decision: Decision
    reason: Text


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


class OutcomeCorrectionIn(Struct):
    """The outcome as it should have been recorded (it replaces the one numbered `index`,
    from 0, in recording order; its time stays the original's), and why."""

    type: OutcomeType
    reason: Text
    offences: Annotated[
        list[ShortText], Meta(max_length=50, extra_json_schema=items_schema(ShortText))
    ] = msgspec.field(default_factory=list)
    reference: ShortText | None = None
    conditions: Annotated[
        list[ShortText], Meta(max_length=50, extra_json_schema=items_schema(ShortText))
    ] = msgspec.field(default_factory=list)
    result: ComplianceResult | None = None
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
    adjudicated_by: Annotated[
        str | None,
        Meta(description="staff number of the operator who decided (shared queues show it)"),
    ]
    engaged: bool | None
    confirmed: str | None
    outcomes: list[str]
    closed_at: datetime | None


class AlertList(Reply):
    deployment_id: UUID
    alerts: list[AlertRow]
    stream_from: Annotated[
        int,
        Meta(
            description="a position read before the list: open `/alerts/stream` with "
            "`last_event_id` set to it and nothing raised since the list is missed (events "
            "already in the list may come again; apply them by alert id)"
        ),
    ]


# --- an alert's own timeline ----------------------------------------------------------------


class TimelineEvent(Reply, tag_field="topic"):
    """One event of the alert, in order: its version, times and who recorded it. Each topic
    adds `data`, the event's own fields as the oversight history shows them (sealed text and
    images read "[sealed]")."""

    version: int
    recorded_at: datetime | None
    occurred_at: datetime | None
    actor: ActorOut | None


class TimelineRaised(TimelineEvent, tag=AlertTopic.RAISED):
    data: AlertRaisedFields


class TimelineAdjudicated(TimelineEvent, tag=AlertTopic.ADJUDICATED):
    data: AdjudicatedFields


class TimelineAdjudicationCorrected(TimelineEvent, tag=AlertTopic.ADJUDICATION_CORRECTED):
    data: AdjudicationCorrectedFields


class TimelineEngagementRecorded(TimelineEvent, tag=AlertTopic.ENGAGEMENT_RECORDED):
    data: EngagementRecordedFields


class TimelineOutcomeRecorded(TimelineEvent, tag=AlertTopic.OUTCOME_RECORDED):
    data: OutcomeRecordedFields


class TimelineOutcomeCorrected(TimelineEvent, tag=AlertTopic.OUTCOME_CORRECTED):
    data: OutcomeCorrectedFields


class TimelineDemographicsPerceived(TimelineEvent, tag=AlertTopic.DEMOGRAPHICS_PERCEIVED):
    data: DemographicsPerceivedFields


class TimelineClosed(TimelineEvent, tag=AlertTopic.CLOSED):
    data: NoFields


class TimelineLegalHoldPlaced(TimelineEvent, tag=AlertTopic.LEGAL_HOLD_PLACED):
    data: LegalHoldPlacedFields


class TimelineLegalHoldReleased(TimelineEvent, tag=AlertTopic.LEGAL_HOLD_RELEASED):
    data: ReasonFields


class TimelineImagesErased(TimelineEvent, tag=AlertTopic.IMAGES_ERASED):
    data: RuleFields


AlertTimelineEvent = (
    TimelineRaised
    | TimelineAdjudicated
    | TimelineAdjudicationCorrected
    | TimelineEngagementRecorded
    | TimelineOutcomeRecorded
    | TimelineOutcomeCorrected
    | TimelineDemographicsPerceived
    | TimelineClosed
    | TimelineLegalHoldPlaced
    | TimelineLegalHoldReleased
    | TimelineImagesErased
)


def timeline_event(topic: str, data: dict[str, Any], **envelope: Any) -> AlertTimelineEvent:
    """The alert's event of `topic` in its typed shape (msgspec.ValidationError if not)."""
    return msgspec.convert({**envelope, "topic": topic, "data": data}, AlertTimelineEvent)


class AlertTimeline(Reply):
    """An alert's own record: where it stands now (the corrected values), and every event that
    brought it there, corrections beside the originals they correct."""

    alert: AlertState
    corrections: int
    hold: Annotated[
        str | None, Meta(description='null, "legal" (an AO\'s) or "evidential" (by policy)')
    ]
    has_face_crop: bool
    images_erased_at: datetime | None
    events: list[AlertTimelineEvent]
