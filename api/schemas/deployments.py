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
    mutual_aid_agreement: Annotated[
        ShortText | None,
        Meta(
            description="Required when equipment_owner_force is not controlling_force (mutual "
            "aid): the reference of the agreement the equipment is lent under."
        ),
    ] = None


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
    mutual_aid: bool
    mutual_aid_agreement: str | None
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
    authority_ref: str | None
    necessity_and_proportionality: str | None
    appropriate_policy_document: str | None
    urgent: bool
    urgent_confirmed: bool
    urgent_deadline: datetime | None
    watchlist_size: int
    watchlist_reviewed: bool
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: Annotated[
        str | None,
        Meta(
            description="operator; window_closed or urgent_authority_lapsed when the ledger "
            "ended it on a deadline"
        ),
    ]
    undecided_at_end: list[UUID]
    watchlist_destroyed_at: datetime | None
    post_review_at: datetime | None


class AuthorisationIn(Struct):
    """Authorise (`authority_ref`, `necessity_and_proportionality`,
    `appropriate_policy_document`, optionally `urgent`), or refuse (`refused: true`, `reason`)."""

    authority_ref: ShortText | None = None
    necessity_and_proportionality: Annotated[
        Text | None,
        Meta(
            description="Why LFR is necessary and proportionate here, against the intelligence "
            "case (the policy sets the minimum length)."
        ),
    ] = None
    appropriate_policy_document: Annotated[
        ShortText | None,
        Meta(description="Reference of the appropriate policy document (DPA 2018 s.42)."),
    ] = None
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
