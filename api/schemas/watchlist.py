"""Watchlist entries: enrolment, review, withdrawal, and what an authorised reader sees."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Ident, Image, OptionalText, Reply, ShortText, Struct, Text


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
    under_18_justification: Annotated[
        OptionalText,
        Meta(
            description="Required when under_18: why this child must be on the watchlist at "
            "all (the policy sets the minimum length). Sealed like the rationale."
        ),
    ] = ""
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
    under_18_justification: str | None
    model_id: str | None
    has_image: bool
    has_template: bool
    erased: bool
    enrolled_by: str
    enrolled_at: datetime


class WatchlistRow(Reply):
    """An entry as a watchlist's reviewer lists it: no name, reference, image or reasons."""

    id: UUID
    category: str
    status: str
    under_18: bool
    model_id: str | None
    has_image: bool
    enrolled_by: str
    enrolled_at: datetime


class Watchlist(Reply):
    deployment_id: UUID
    reviewed: bool
    entries: list[WatchlistRow]
