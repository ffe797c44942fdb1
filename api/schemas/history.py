"""The log's events as the API shows them: a deployment's history as the oversight body reads
it, and an alert's own timeline. One typed shape per event topic.

Every event carries an envelope (in the history: notification id, originator and its version;
in an alert's timeline: the alert's version) beside times and actor, and a `data` object with
the event's own fields, typed per topic (`event_fields.py`) so the OpenAPI document names each
field an oversight body receives. `topic` tells the shapes apart (a msgspec tag, so it is
written first). The timeline's shapes are the history's alert shapes under the alert's own
envelope, derived from them here, so a topic's shape is written once.
"""

from __future__ import annotations

import typing
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.alert_event_fields import (
    AdjudicatedFields,
    AdjudicationCorrectedFields,
    AlertRaisedFields,
    DemographicsPerceivedFields,
    EngagementRecordedFields,
    LegalHoldPlacedFields,
    OutcomeCorrectedFields,
    OutcomeRecordedFields,
)
from lfr_ledger.api.schemas.base import Reply, one_of
from lfr_ledger.api.schemas.complaints import ComplaintRecordedFields, ComplaintResolvedFields
from lfr_ledger.api.schemas.event_fields import (
    BlueWalkPastRecordedFields,
    CameraReportingFields,
    CameraWentSilentFields,
    DeploymentAuthorisedFields,
    DeploymentEndedFields,
    DeploymentProposedFields,
    EnrolledFields,
    FacesCountedFields,
    NoFields,
    PostDeploymentReviewedFields,
    PublicationOverdueFields,
    ReasonFields,
    ReconfirmedFields,
    ResultsPublishedFields,
    RuleFields,
    SignageConfirmedFields,
    StartedFields,
    ThresholdChangedFields,
    UrgentAuthorityConfirmedFields,
    UrgentAuthorityLapsedFields,
    WatchlistDestroyedFields,
    WatchlistEntryAddedFields,
    WatchlistReviewedFields,
)
from lfr_ledger.domain.actors import Role
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.complaint import ComplaintTopic
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.records import FaceCountTopic
from lfr_ledger.domain.watchlist import WatchlistEntryTopic

DATA = "The event's own fields (see this shape's `data` schema)"


# --- the deployment's history ---------------------------------------------------------------


class ActorOut(Reply):
    """Who gave a command: staff or service number, role, and what the token vouched for."""

    id: Annotated[
        str, Meta(description="Staff or service number (the token's subject)", examples=["PC4711"])
    ]
    role: Annotated[
        str,
        Meta(
            description="The token's role",
            extra_json_schema=one_of(Role),
            examples=["operator"],
        ),
    ]
    rank: Annotated[str | None, Meta(description="Police rank, where the token states one")]
    force: Annotated[str | None, Meta(description="The actor's force, where the token states it")]
    deployment_id: Annotated[
        str | None, Meta(description="For a matcher: the one deployment its token is bound to")
    ]


class HistoryEvent(Reply, tag_field="topic"):
    """One event of the log: the envelope every topic shares. Each topic's class adds `data`."""

    notification_id: Annotated[
        int, Meta(description="The event's position in the log (its notification id)")
    ]
    originator_id: Annotated[
        UUID, Meta(description="The record (deployment, entry, alert, face count) it belongs to")
    ]
    originator_version: Annotated[
        int, Meta(description="That record's version after this event: 1, 2, 3, ...")
    ]
    recorded_at: Annotated[datetime | None, Meta(description="When the ledger recorded it")]
    occurred_at: Annotated[
        datetime | None,
        Meta(description="When it happened, where the command said (null otherwise)"),
    ]
    actor: Annotated[
        ActorOut | None, Meta(description="Who gave the command; null for the ledger itself")
    ]


class DeploymentProposed(HistoryEvent, tag=DeploymentTopic.PROPOSED):
    data: Annotated[DeploymentProposedFields, Meta(description=DATA)]


class DeploymentAuthorised(HistoryEvent, tag=DeploymentTopic.AUTHORISED):
    data: Annotated[DeploymentAuthorisedFields, Meta(description=DATA)]


class DeploymentUrgentAuthorityConfirmed(
    HistoryEvent, tag=DeploymentTopic.URGENT_AUTHORITY_CONFIRMED
):
    data: Annotated[UrgentAuthorityConfirmedFields, Meta(description=DATA)]


class DeploymentRefused(HistoryEvent, tag=DeploymentTopic.REFUSED):
    data: Annotated[ReasonFields, Meta(description=DATA)]


class DeploymentThresholdChanged(HistoryEvent, tag=DeploymentTopic.THRESHOLD_CHANGED):
    data: Annotated[ThresholdChangedFields, Meta(description=DATA)]


class DeploymentWatchlistEntryAdded(HistoryEvent, tag=DeploymentTopic.WATCHLIST_ENTRY_ADDED):
    data: Annotated[WatchlistEntryAddedFields, Meta(description=DATA)]


class DeploymentWatchlistReviewed(HistoryEvent, tag=DeploymentTopic.WATCHLIST_REVIEWED):
    data: Annotated[WatchlistReviewedFields, Meta(description=DATA)]


class DeploymentWatchlistDestroyed(HistoryEvent, tag=DeploymentTopic.WATCHLIST_DESTROYED):
    data: Annotated[WatchlistDestroyedFields, Meta(description=DATA)]


class DeploymentSignageConfirmed(HistoryEvent, tag=DeploymentTopic.SIGNAGE_CONFIRMED):
    data: Annotated[SignageConfirmedFields, Meta(description=DATA)]


class DeploymentStarted(HistoryEvent, tag=DeploymentTopic.STARTED):
    data: Annotated[StartedFields, Meta(description=DATA)]


class DeploymentPaused(HistoryEvent, tag=DeploymentTopic.PAUSED):
    data: Annotated[ReasonFields, Meta(description=DATA)]


class DeploymentResumed(HistoryEvent, tag=DeploymentTopic.RESUMED):
    data: Annotated[NoFields, Meta(description=DATA)]


class DeploymentEnded(HistoryEvent, tag=DeploymentTopic.ENDED):
    data: Annotated[DeploymentEndedFields, Meta(description=DATA)]


class DeploymentUrgentAuthorityLapsed(HistoryEvent, tag=DeploymentTopic.URGENT_AUTHORITY_LAPSED):
    data: Annotated[UrgentAuthorityLapsedFields, Meta(description=DATA)]


class PostDeploymentReviewed(HistoryEvent, tag=DeploymentTopic.POST_DEPLOYMENT_REVIEWED):
    data: Annotated[PostDeploymentReviewedFields, Meta(description=DATA)]


class WatchlistEntryEnrolled(HistoryEvent, tag=WatchlistEntryTopic.ENROLLED):
    data: Annotated[EnrolledFields, Meta(description=DATA)]


class WatchlistEntryWithdrawn(HistoryEvent, tag=WatchlistEntryTopic.WITHDRAWN):
    data: Annotated[ReasonFields, Meta(description=DATA)]


class WatchlistEntryReconfirmed(HistoryEvent, tag=WatchlistEntryTopic.RECONFIRMED):
    data: Annotated[ReconfirmedFields, Meta(description=DATA)]


class WatchlistEntryDestroyed(HistoryEvent, tag=WatchlistEntryTopic.DESTROYED):
    data: Annotated[RuleFields, Meta(description=DATA)]


class AlertRaised(HistoryEvent, tag=AlertTopic.RAISED):
    data: Annotated[AlertRaisedFields, Meta(description=DATA)]


class AlertAdjudicated(HistoryEvent, tag=AlertTopic.ADJUDICATED):
    data: Annotated[AdjudicatedFields, Meta(description=DATA)]


class AlertEngagementRecorded(HistoryEvent, tag=AlertTopic.ENGAGEMENT_RECORDED):
    data: Annotated[EngagementRecordedFields, Meta(description=DATA)]


class AlertOutcomeRecorded(HistoryEvent, tag=AlertTopic.OUTCOME_RECORDED):
    data: Annotated[OutcomeRecordedFields, Meta(description=DATA)]


class AlertDemographicsPerceived(HistoryEvent, tag=AlertTopic.DEMOGRAPHICS_PERCEIVED):
    data: Annotated[DemographicsPerceivedFields, Meta(description=DATA)]


class AlertClosed(HistoryEvent, tag=AlertTopic.CLOSED):
    data: Annotated[NoFields, Meta(description=DATA)]


class AlertLegalHoldPlaced(HistoryEvent, tag=AlertTopic.LEGAL_HOLD_PLACED):
    data: Annotated[LegalHoldPlacedFields, Meta(description=DATA)]


class AlertLegalHoldReleased(HistoryEvent, tag=AlertTopic.LEGAL_HOLD_RELEASED):
    data: Annotated[ReasonFields, Meta(description=DATA)]


class AlertImagesErased(HistoryEvent, tag=AlertTopic.IMAGES_ERASED):
    data: Annotated[RuleFields, Meta(description=DATA)]


class AlertAdjudicationCorrected(HistoryEvent, tag=AlertTopic.ADJUDICATION_CORRECTED):
    data: Annotated[AdjudicationCorrectedFields, Meta(description=DATA)]


class AlertOutcomeCorrected(HistoryEvent, tag=AlertTopic.OUTCOME_CORRECTED):
    data: Annotated[OutcomeCorrectedFields, Meta(description=DATA)]


class DeploymentCameraWentSilent(HistoryEvent, tag=DeploymentTopic.CAMERA_WENT_SILENT):
    data: Annotated[CameraWentSilentFields, Meta(description=DATA)]


class DeploymentCameraReporting(HistoryEvent, tag=DeploymentTopic.CAMERA_REPORTING):
    data: Annotated[CameraReportingFields, Meta(description=DATA)]


class DeploymentBlueWalkPastRecorded(HistoryEvent, tag=DeploymentTopic.BLUE_WALK_PAST_RECORDED):
    data: Annotated[BlueWalkPastRecordedFields, Meta(description=DATA)]


class DeploymentResultsPublished(HistoryEvent, tag=DeploymentTopic.RESULTS_PUBLISHED):
    data: Annotated[ResultsPublishedFields, Meta(description=DATA)]


class DeploymentPublicationOverdue(HistoryEvent, tag=DeploymentTopic.PUBLICATION_OVERDUE):
    data: Annotated[PublicationOverdueFields, Meta(description=DATA)]


class FacesCounted(HistoryEvent, tag=FaceCountTopic.FACES_COUNTED):
    data: Annotated[FacesCountedFields, Meta(description=DATA)]


class ComplaintRecorded(HistoryEvent, tag=ComplaintTopic.RECORDED):
    data: Annotated[ComplaintRecordedFields, Meta(description=DATA)]


class ComplaintResolved(HistoryEvent, tag=ComplaintTopic.RESOLVED):
    data: Annotated[ComplaintResolvedFields, Meta(description=DATA)]


RecordedEvent = (
    DeploymentProposed
    | DeploymentAuthorised
    | DeploymentUrgentAuthorityConfirmed
    | DeploymentRefused
    | DeploymentThresholdChanged
    | DeploymentWatchlistEntryAdded
    | DeploymentWatchlistReviewed
    | DeploymentWatchlistDestroyed
    | DeploymentSignageConfirmed
    | DeploymentStarted
    | DeploymentPaused
    | DeploymentResumed
    | DeploymentEnded
    | DeploymentUrgentAuthorityLapsed
    | PostDeploymentReviewed
    | DeploymentCameraWentSilent
    | DeploymentCameraReporting
    | DeploymentBlueWalkPastRecorded
    | DeploymentResultsPublished
    | DeploymentPublicationOverdue
    | WatchlistEntryEnrolled
    | WatchlistEntryWithdrawn
    | WatchlistEntryReconfirmed
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
    | ComplaintRecorded
    | ComplaintResolved
)


class History(Reply):
    """A deployment's full history, in log order."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    events: Annotated[
        list[RecordedEvent],
        Meta(
            description="Every event of the deployment, its watchlist entries, its alerts, "
            "its face counts and the complaints about it, in log order; `topic` names each "
            "one's shape"
        ),
    ]


def recorded_event(topic: str, data: dict[str, Any], **envelope: Any) -> RecordedEvent:
    """The event of `topic` in its typed shape. `data` is checked against the topic's fields
    (msgspec.ValidationError if they differ); the envelope is taken as given."""
    return msgspec.convert({**envelope, "topic": topic, "data": data}, RecordedEvent)


# --- an alert's own timeline ----------------------------------------------------------------


class TimelineEvent(Reply, tag_field="topic"):
    """One event of the alert, in order: its version, times and who recorded it. Each topic
    adds `data`, the event's own fields as the oversight history shows them (sealed text and
    images read "[sealed]")."""

    version: Annotated[
        int, Meta(description="The alert's version after this event: 1, 2, 3, ... in order")
    ]
    recorded_at: Annotated[datetime | None, Meta(description="When the ledger recorded the event")]
    occurred_at: Annotated[
        datetime | None,
        Meta(description="When it happened, where the command said (null otherwise)"),
    ]
    actor: Annotated[
        ActorOut | None, Meta(description="Who gave the command; null for the ledger itself")
    ]


# The alert's events, in the order its timeline's document lists them.
ALERT_EVENTS: tuple[type[HistoryEvent], ...] = (
    AlertRaised,
    AlertAdjudicated,
    AlertAdjudicationCorrected,
    AlertEngagementRecorded,
    AlertOutcomeRecorded,
    AlertOutcomeCorrected,
    AlertDemographicsPerceived,
    AlertClosed,
    AlertLegalHoldPlaced,
    AlertLegalHoldReleased,
    AlertImagesErased,
)


def _on_the_timeline(shape: type[HistoryEvent]) -> type[TimelineEvent]:
    """The history's shape of an alert event under the timeline's envelope: the same topic,
    the same `data` (AlertRaised -> TimelineRaised)."""
    return typing.cast(
        type[TimelineEvent],
        msgspec.defstruct(
            "Timeline" + shape.__name__.removeprefix("Alert"),
            [("data", typing.get_type_hints(shape, include_extras=True)["data"])],
            bases=(TimelineEvent,),
            tag=shape.__struct_config__.tag,
            module=__name__,
        ),
    )


# Made at import from ALERT_EVENTS, so the type checker sees only their common envelope.
if TYPE_CHECKING:
    AlertTimelineEvent: TypeAlias = TimelineEvent
else:
    AlertTimelineEvent = typing.Union[tuple(_on_the_timeline(s) for s in ALERT_EVENTS)]  # noqa: UP007


def timeline_event(topic: str, data: dict[str, Any], **envelope: Any) -> AlertTimelineEvent:
    """The alert's event of `topic` in its typed shape (msgspec.ValidationError if not)."""
    return msgspec.convert({**envelope, "topic": topic, "data": data}, AlertTimelineEvent)
