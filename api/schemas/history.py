"""A deployment's history as the oversight body reads it: one typed shape per event topic.

Every event carries the same envelope (notification id, originator, times, actor) and a
`data` object with the event's own fields, typed per topic so the OpenAPI document names
each field an oversight body receives. `topic` tells the shapes apart (a msgspec tag, so it
is written first). Sealed personal fields are never shown: they read "[sealed]", or null
where nothing was sealed. Times inside `data` are ISO 8601 strings exactly as recorded.

`tests/test_history_schema.py` holds these shapes to the domain's events, field by field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.records import FaceCountTopic
from lfr_ledger.domain.values import ComplianceResult, Confirmation, Decision, OutcomeType
from lfr_ledger.domain.watchlist import WatchlistEntryTopic

SEALED = "[sealed]"

Sealed = Annotated[
    Literal["[sealed]"], Meta(description="Sealed personal data: present, never shown")
]
# Litestar adds what sits under "extra" to the field's schema.
RecordedTime = Annotated[
    str,
    Meta(
        description="ISO 8601 with its UTC offset, as recorded",
        extra_json_schema={"extra": {"format": "date-time"}},
    ),
]
AggregateTopic = Annotated[str, Meta(description="The stored topic of the record's class")]


class Fields(msgspec.Struct, forbid_unknown_fields=True):
    """An event's own fields. Unknown fields are refused: the history shows every field an
    event has, so a field added to an event needs its place here too."""


# --- values inside events -------------------------------------------------------------------


class PlanLocation(Fields):
    name: str
    town: str
    location_type: str
    lat: float | None
    lon: float | None


class PlanCamera(Fields):
    id: str
    name: str


class PlanNotice(Fields):
    method: str
    issued_at: RecordedTime | None
    exemption: str | None


class Plan(Fields):
    """The deployment as proposed: authorisation is given for exactly this."""

    operation_id: str
    location: PlanLocation
    starts_at: RecordedTime
    ends_at: RecordedTime
    purpose: str
    intelligence_case: str
    watchlist_categories: list[str]
    cameras: list[PlanCamera]
    controlling_force: str
    equipment_owner_force: str
    dpia_ref: str
    eia_ref: str
    policy_ref: str
    public_notice: PlanNotice
    model_id: str
    mutual_aid_agreement: str | None = None  # absent before release 3


class RecordedOutcome(Fields):
    type: OutcomeType
    offences: list[str]
    reference: str | None
    conditions: list[str]
    result: ComplianceResult | None
    note: str | None


# --- the fields of each event ---------------------------------------------------------------


class NoFields(Fields):
    """The topic says it all: started, resumed, ended, closed."""


class ReasonFields(Fields):
    reason: str


class RuleFields(Fields):
    """The retention rule that destroyed or erased the record."""

    rule: str


class DeploymentProposedFields(Fields):
    originator_topic: AggregateTopic
    plan: Plan
    threshold: float
    policy_version: str


class DeploymentAuthorisedFields(Fields):
    authority_ref: str
    urgent: bool
    rank: str | None
    # The three below are absent from authorisations recorded before release 3.
    necessity_and_proportionality: str = ""
    appropriate_policy_document: str = ""
    urgent_deadline: RecordedTime | None = None


class UrgentAuthorityLapsedFields(Fields):
    deadline: RecordedTime | None


class DeploymentEndedFields(Fields):
    reason: Annotated[
        str,
        Meta(description="operator, window_closed or urgent_authority_lapsed"),
    ] = "operator"
    undecided_alerts: Annotated[
        list[UUID], Meta(description="Alerts awaiting a decision when the ledger ended it")
    ] = []


class UrgentAuthorityConfirmedFields(Fields):
    written_ref: str


class ThresholdChangedFields(Fields):
    threshold: float
    previous: float
    reason: str


class WatchlistEntryAddedFields(Fields):
    entry_id: UUID
    category: str
    # The subject's pseudonym, so one subject is enrolled once (null before release 2).
    subject_digest: Sealed | None = None


class WatchlistReviewedFields(Fields):
    entry_count: int
    note: str


class WatchlistDestroyedFields(Fields):
    manifest: list[UUID]
    rule: str


class PostDeploymentReviewedFields(Fields):
    findings: str


class EnrolledFields(Fields):
    originator_topic: AggregateTopic
    deployment_id: UUID
    subject_digest: Sealed
    sealed_subject_ref: Sealed
    sealed_name: Sealed
    sealed_rationale: Sealed
    category: str
    legal_basis: str
    offence: str
    image_source: str
    image_taken_on: str | None
    under_18: bool
    model_id: str | None
    sealed_image: Sealed | None
    sealed_template: Sealed | None
    under_18_justification: str | None = None  # sealed text; absent before release 3


class AlertRaisedFields(Fields):
    originator_topic: AggregateTopic
    deployment_id: UUID
    camera_id: str
    entry_id: UUID
    category: str
    similarity: float
    threshold: float
    model_id: str
    captured_at: RecordedTime
    track_id: str | None
    sealed_face_crop: Sealed | None


class AdjudicatedFields(Fields):
    decision: Decision
    reason: str


class EngagementRecordedFields(Fields):
    engaged: bool
    confirmed: Confirmation


class OutcomeRecordedFields(Fields):
    outcome: RecordedOutcome


class DemographicsPerceivedFields(Fields):
    sealed_demographics: Sealed


class LegalHoldPlacedFields(Fields):
    reason: str
    proceedings_ref: str
    kind: Annotated[
        str, Meta(description='"legal" (placed by an AO) or "evidential" (by policy, on arrest)')
    ] = "legal"  # absent before release 3


class AdjudicationCorrectedFields(Fields):
    decision: Decision
    previous: Decision
    reason: str


class OutcomeCorrectedFields(Fields):
    outcome_index: int
    outcome: RecordedOutcome
    previous: RecordedOutcome
    reason: str


class CameraWentSilentFields(Fields):
    """Nothing heard from the camera (heartbeat or face count) since `last_seen_at` (or since
    the deployment went live), for longer than the policy allows."""

    camera_id: str
    last_seen_at: RecordedTime


class BlueWalkPastRecordedFields(Fields):
    """A consenting test subject on a blue entry walked past `camera_id` at `walked_at`
    (analytics: the true-positive identification rate)."""

    entry_id: UUID
    camera_id: str
    walked_at: RecordedTime


class CameraReportingFields(Fields):
    """The camera reported again: its silence ran from `silent_since` to this event."""

    camera_id: str
    silent_since: RecordedTime


class FacesCountedFields(Fields):
    originator_topic: AggregateTopic
    deployment_id: UUID
    camera_id: str
    period_start: RecordedTime
    period_end: RecordedTime
    count: int


# --- the events -----------------------------------------------------------------------------


class ActorOut(Reply):
    """Who gave a command: staff or service number, role, and what the token vouched for."""

    id: str
    role: str
    rank: str | None
    force: str | None
    deployment_id: str | None


class HistoryEvent(Reply, tag_field="topic"):
    """One event of the log: the envelope every topic shares. Each topic's class adds `data`."""

    notification_id: int
    originator_id: UUID
    originator_version: int
    recorded_at: datetime | None
    occurred_at: datetime | None
    actor: ActorOut | None


class DeploymentProposed(HistoryEvent, tag=DeploymentTopic.PROPOSED):
    data: DeploymentProposedFields


class DeploymentAuthorised(HistoryEvent, tag=DeploymentTopic.AUTHORISED):
    data: DeploymentAuthorisedFields


class DeploymentUrgentAuthorityConfirmed(
    HistoryEvent, tag=DeploymentTopic.URGENT_AUTHORITY_CONFIRMED
):
    data: UrgentAuthorityConfirmedFields


class DeploymentRefused(HistoryEvent, tag=DeploymentTopic.REFUSED):
    data: ReasonFields


class DeploymentThresholdChanged(HistoryEvent, tag=DeploymentTopic.THRESHOLD_CHANGED):
    data: ThresholdChangedFields


class DeploymentWatchlistEntryAdded(HistoryEvent, tag=DeploymentTopic.WATCHLIST_ENTRY_ADDED):
    data: WatchlistEntryAddedFields


class DeploymentWatchlistReviewed(HistoryEvent, tag=DeploymentTopic.WATCHLIST_REVIEWED):
    data: WatchlistReviewedFields


class DeploymentWatchlistDestroyed(HistoryEvent, tag=DeploymentTopic.WATCHLIST_DESTROYED):
    data: WatchlistDestroyedFields


class DeploymentStarted(HistoryEvent, tag=DeploymentTopic.STARTED):
    data: NoFields


class DeploymentPaused(HistoryEvent, tag=DeploymentTopic.PAUSED):
    data: ReasonFields


class DeploymentResumed(HistoryEvent, tag=DeploymentTopic.RESUMED):
    data: NoFields


class DeploymentEnded(HistoryEvent, tag=DeploymentTopic.ENDED):
    data: DeploymentEndedFields


class DeploymentUrgentAuthorityLapsed(HistoryEvent, tag=DeploymentTopic.URGENT_AUTHORITY_LAPSED):
    data: UrgentAuthorityLapsedFields


class PostDeploymentReviewed(HistoryEvent, tag=DeploymentTopic.POST_DEPLOYMENT_REVIEWED):
    data: PostDeploymentReviewedFields


class WatchlistEntryEnrolled(HistoryEvent, tag=WatchlistEntryTopic.ENROLLED):
    data: EnrolledFields


class WatchlistEntryWithdrawn(HistoryEvent, tag=WatchlistEntryTopic.WITHDRAWN):
    data: ReasonFields


class WatchlistEntryDestroyed(HistoryEvent, tag=WatchlistEntryTopic.DESTROYED):
    data: RuleFields


class AlertRaised(HistoryEvent, tag=AlertTopic.RAISED):
    data: AlertRaisedFields


class AlertAdjudicated(HistoryEvent, tag=AlertTopic.ADJUDICATED):
    data: AdjudicatedFields


class AlertEngagementRecorded(HistoryEvent, tag=AlertTopic.ENGAGEMENT_RECORDED):
    data: EngagementRecordedFields


class AlertOutcomeRecorded(HistoryEvent, tag=AlertTopic.OUTCOME_RECORDED):
    data: OutcomeRecordedFields


class AlertDemographicsPerceived(HistoryEvent, tag=AlertTopic.DEMOGRAPHICS_PERCEIVED):
    data: DemographicsPerceivedFields


class AlertClosed(HistoryEvent, tag=AlertTopic.CLOSED):
    data: NoFields


class AlertLegalHoldPlaced(HistoryEvent, tag=AlertTopic.LEGAL_HOLD_PLACED):
    data: LegalHoldPlacedFields


class AlertLegalHoldReleased(HistoryEvent, tag=AlertTopic.LEGAL_HOLD_RELEASED):
    data: ReasonFields


class AlertImagesErased(HistoryEvent, tag=AlertTopic.IMAGES_ERASED):
    data: RuleFields


class AlertAdjudicationCorrected(HistoryEvent, tag=AlertTopic.ADJUDICATION_CORRECTED):
    data: AdjudicationCorrectedFields


class AlertOutcomeCorrected(HistoryEvent, tag=AlertTopic.OUTCOME_CORRECTED):
    data: OutcomeCorrectedFields


class DeploymentCameraWentSilent(HistoryEvent, tag=DeploymentTopic.CAMERA_WENT_SILENT):
    data: CameraWentSilentFields


class DeploymentCameraReporting(HistoryEvent, tag=DeploymentTopic.CAMERA_REPORTING):
    data: CameraReportingFields


class DeploymentBlueWalkPastRecorded(HistoryEvent, tag=DeploymentTopic.BLUE_WALK_PAST_RECORDED):
    data: BlueWalkPastRecordedFields


class FacesCounted(HistoryEvent, tag=FaceCountTopic.FACES_COUNTED):
    data: FacesCountedFields


RecordedEvent = (
    DeploymentProposed
    | DeploymentAuthorised
    | DeploymentUrgentAuthorityConfirmed
    | DeploymentRefused
    | DeploymentThresholdChanged
    | DeploymentWatchlistEntryAdded
    | DeploymentWatchlistReviewed
    | DeploymentWatchlistDestroyed
    | DeploymentStarted
    | DeploymentPaused
    | DeploymentResumed
    | DeploymentEnded
    | DeploymentUrgentAuthorityLapsed
    | PostDeploymentReviewed
    | DeploymentCameraWentSilent
    | DeploymentCameraReporting
    | DeploymentBlueWalkPastRecorded
    | WatchlistEntryEnrolled
    | WatchlistEntryWithdrawn
    | WatchlistEntryDestroyed
    | AlertRaised
    | AlertAdjudicated
    | AlertEngagementRecorded
    | AlertOutcomeRecorded
    | AlertDemographicsPerceived
    | AlertClosed
    | AlertLegalHoldPlaced
    | AlertLegalHoldReleased
    | AlertImagesErased
    | AlertAdjudicationCorrected
    | AlertOutcomeCorrected
    | FacesCounted
)


class History(Reply):
    deployment_id: UUID
    events: list[RecordedEvent]


def recorded_event(topic: str, data: dict[str, Any], **envelope: Any) -> RecordedEvent:
    """The event of `topic` in its typed shape. `data` is checked against the topic's fields
    (msgspec.ValidationError if they differ); the envelope is taken as given."""
    return msgspec.convert({**envelope, "topic": topic, "data": data}, RecordedEvent)
