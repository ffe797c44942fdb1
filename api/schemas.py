"""The HTTP API's request and response bodies (msgspec), kept apart from the domain's types.

Field names are the words of the event model. Constraints here are a first, cheap filter that
names the field at fault (HTTP 400); the domain still decides everything it owns (HTTP 4xx).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.values import AlertStatus, ComplianceResult, Confirmation, Decision, OutcomeType
from projections.summaries import AlertRow

MAX_IMAGE_BYTES = 10 * 1024 * 1024

Text = Annotated[str, Meta(min_length=1, max_length=2000)]
ShortText = Annotated[str, Meta(min_length=1, max_length=200)]
OptionalText = Annotated[str, Meta(max_length=2000)]
Ident = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
AwareDateTime = Annotated[datetime, Meta(tz=True)]
Similarity = Annotated[float, Meta(ge=-1.0, le=1.0)]
Threshold = Annotated[float, Meta(gt=0.0, le=1.0)]
Image = Annotated[bytes, Meta(max_length=MAX_IMAGE_BYTES, description="base64, at most 10 MB")]


class Struct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Request bodies refuse unknown fields, so a misspelt field is an error, not a no-op."""


class Reply(msgspec.Struct, omit_defaults=False):
    """Response bodies."""


# --- problems ---------------------------------------------------------------------------------


class FieldError(msgspec.Struct, omit_defaults=True):
    message: str
    field: str | None = None
    source: str | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


# --- generic replies --------------------------------------------------------------------------


class Created(Reply):
    id: UUID


class Done(Reply):
    """A command was recorded. `status` is the record's state after it."""

    id: UUID
    status: str


class Health(Reply):
    status: str


# --- policy and operations --------------------------------------------------------------------


class PolicyAdopted(Reply):
    id: UUID
    version: str
    content_hash: str


class OperationIn(Struct):
    name: ShortText
    force: ShortText
    purpose: Text


# --- deployments ------------------------------------------------------------------------------


class LocationIn(Struct):
    name: ShortText
    town: Annotated[str, Meta(min_length=1, max_length=100)]
    location_type: Annotated[str, Meta(min_length=1, max_length=100)]
    lat: Annotated[float, Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, Meta(ge=-180, le=180)] | None = None


class CameraIn(Struct):
    id: Ident
    name: ShortText


class PublicNoticeIn(Struct):
    method: ShortText
    issued_at: AwareDateTime | None = None
    exemption: Text | None = None


class DeploymentIn(Struct):
    operation_id: UUID
    location: LocationIn
    starts_at: AwareDateTime
    ends_at: AwareDateTime
    purpose: Text
    intelligence_case: Text
    watchlist_categories: Annotated[list[Ident], Meta(min_length=1, max_length=20)]
    cameras: Annotated[list[CameraIn], Meta(min_length=1, max_length=100)]
    controlling_force: ShortText
    equipment_owner_force: ShortText
    dpia_ref: ShortText
    eia_ref: ShortText
    policy_ref: ShortText
    public_notice: PublicNoticeIn
    threshold: Threshold | None = None
    model_id: Ident | None = None


class LocationOut(Reply):
    name: str
    town: str
    location_type: str
    lat: float | None
    lon: float | None


class CameraOut(Reply):
    id: str
    name: str


class PublicNoticeOut(Reply):
    method: str
    issued_at: datetime | None
    exemption: str | None


class DeploymentOut(Reply):
    id: UUID
    operation_id: UUID
    status: str
    location: LocationOut
    starts_at: datetime
    ends_at: datetime
    purpose: str
    intelligence_case: str
    watchlist_categories: list[str]
    cameras: list[CameraOut]
    controlling_force: str
    equipment_owner_force: str
    dpia_ref: str
    eia_ref: str
    policy_ref: str
    public_notice: PublicNoticeOut
    model_id: str
    threshold: float
    policy_version: str
    proposed_by: str
    authorised_by: str | None
    authorised_at: datetime | None
    urgent: bool
    urgent_confirmed: bool
    watchlist_size: int
    watchlist_reviewed: bool
    started_at: datetime | None
    ended_at: datetime | None
    watchlist_destroyed_at: datetime | None
    post_review_at: datetime | None


class AuthorisationIn(Struct):
    """Authorise (`authority_ref`, optionally `urgent`), or refuse (`refused: true`, `reason`)."""

    authority_ref: ShortText | None = None
    urgent: bool = False
    refused: bool = False
    reason: Text | None = None


class UrgentConfirmationIn(Struct):
    written_ref: ShortText


class ThresholdIn(Struct):
    threshold: Threshold
    reason: Text


class PauseIn(Struct):
    reason: OptionalText = ""


class ReviewIn(Struct):
    findings: Text


class FacesCountedIn(Struct):
    camera_id: Ident
    period_start: AwareDateTime
    period_end: AwareDateTime
    count: Annotated[int, Meta(ge=0, le=1_000_000_000)]


# --- watchlist --------------------------------------------------------------------------------


class EnrolmentIn(Struct):
    subject_ref: ShortText
    name: ShortText
    category: Ident
    legal_basis: Text
    rationale: Text
    offence: Text
    image_source: ShortText
    image_taken_on: date | None = None
    under_18: bool = False
    image: Image | None = None


class WatchlistReviewIn(Struct):
    confirmed_count: Annotated[int, Meta(ge=0, le=1_000_000)]
    not_excessive: bool
    note: OptionalText = ""


class WatchlistReviewed(Reply):
    id: UUID
    status: str
    entry_count: int


class WithdrawalIn(Struct):
    reason: Text


class WatchlistEntryOut(Reply):
    """Personal data: every response of this shape is logged as a consultation."""

    id: UUID
    deployment_id: UUID
    status: str
    subject_ref: str
    name: str
    category: str
    legal_basis: str
    rationale: str
    offence: str
    image_source: str
    image_taken_on: str | None
    under_18: bool
    model_id: str | None
    has_image: bool
    has_template: bool
    erased: bool
    enrolled_by: str
    enrolled_at: datetime


# --- alerts -----------------------------------------------------------------------------------


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
    offences: Annotated[list[ShortText], Meta(max_length=50)] = msgspec.field(default_factory=list)
    reference: ShortText | None = None
    conditions: Annotated[list[ShortText], Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )
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


# --- history and audit ------------------------------------------------------------------------


class HistoryEvent(Reply):
    notification_id: int
    topic: str
    originator_id: UUID
    originator_version: int
    recorded_at: datetime | None
    occurred_at: datetime | None
    actor: dict[str, str | None] | None
    data: dict[str, Any]


class History(Reply):
    deployment_id: UUID
    events: list[HistoryEvent]


class Consultation(Reply):
    notification_id: int
    id: UUID
    record: str
    purpose: str
    actor_id: str
    occurred_at: datetime


class Consultations(Reply):
    consultations: list[Consultation]
    next_after: int | None


class Verification(Reply):
    ok: bool
    events_checked: int
    last_id: int
    head: str
    first_bad_id: int | None
    reason: str | None
    detail: str
