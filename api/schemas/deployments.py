"""Deployments: proposal, authority, threshold, lifecycle and face counts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import (
    AwareDateTime,
    Ident,
    OptionalText,
    Reply,
    ShortText,
    Struct,
    Text,
    Threshold,
    items_schema,
)


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
    watchlist_categories: Annotated[
        list[Ident], Meta(min_length=1, max_length=20, extra_json_schema=items_schema(Ident))
    ]
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
