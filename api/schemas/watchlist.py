"""Watchlist entries: enrolment, review, withdrawal, and what an authorised reader sees."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import (
    Ident,
    Image,
    OptionalText,
    Reply,
    ShortText,
    Struct,
    Text,
    one_of,
)
from lfr_ledger.domain.values import DeploymentStatus, EntryStatus

CATEGORY = (
    "The entry's watchlist category, from the policy's closed list and one of the "
    "deployment's `watchlist_categories`: `GET /policy` lists the allowed values "
    "(`watchlist_categories`); the default policy's are wanted_by_courts, suspected_offender, "
    "subject_to_court_order, missing_person, at_risk, victim_or_witness, test_subject (a blue "
    "category, for consenting test subjects)"
)
ENTRY_STATUS = Meta(
    description="The entry's status (EntryStatus)", extra_json_schema=one_of(EntryStatus)
)


class EnrolmentIn(Struct):
    """A subject enrolled on the deployment's watchlist. The reference, name, rationale and
    image are sealed in the log under the entry's own key (crypto-shredded by retention)."""

    subject_ref: Annotated[
        ShortText,
        Meta(
            description="The force's reference for the person (PNC or case number); one "
            "subject is enrolled once per deployment. After NFKC it may hold only Latin letters "
            "(accents allowed), digits 0-9, spaces and `-` `/` `.`: any other character (a "
            "zero-width space, soft hyphen, no-break space, directional mark, a Cyrillic "
            "look-alike) is refused with a 422 naming its code point",
            examples=["PNC 98/123456X"],
        ),
    ]
    name: Annotated[ShortText, Meta(description="The person's name", examples=["Jordan Example"])]
    category: Annotated[Ident, Meta(description=CATEGORY, examples=["wanted_by_courts"])]
    legal_basis: Annotated[
        Text,
        Meta(
            description="The legal basis for placing them on the watchlist. Sealed in the log",
            examples=["Warrant for arrest, Croydon Magistrates' Court, 2026-05-14"],
        ),
    ]
    rationale: Annotated[
        Text,
        Meta(
            description="Why this person belongs on this deployment's watchlist (the policy "
            "sets the minimum length, and an extra justification for some categories)",
            examples=["Failed to appear; seen in the market area twice this month"],
        ),
    ]
    offence: Annotated[
        Text,
        Meta(
            description="The offence or concern", examples=["Failing to appear (Bail Act 1976 s.6)"]
        ),
    ]
    image_source: Annotated[
        ShortText,
        Meta(
            description="Where the image came from. Sealed in the log",
            examples=["Custody image, 2025-11-03"],
        ),
    ]
    image_taken_on: (
        Annotated[
            date,
            Meta(
                description="When the image was taken; not in the future", examples=["2025-11-03"]
            ),
        ]
        | None
    ) = None
    under_18: Annotated[
        bool,
        Meta(description="The subject is a child: needs `under_18_justification`"),
    ] = False
    under_18_justification: Annotated[
        OptionalText,
        Meta(
            description="Required when under_18: why this child must be on the watchlist at "
            "all (the policy sets the minimum length). Sealed like the rationale."
        ),
    ] = ""
    description: Annotated[
        OptionalText,
        Meta(
            description="How the officer sent to engage knows the person: build, height, "
            "clothing, marks, warning markers (e.g. violent, weapons). Optional; sealed under "
            "the entry's key like the offence, erased with it",
            examples=["Male, about 1.80 m, slim; tattoo of a swallow on the left hand"],
        ),
    ] = ""
    image: (
        Annotated[
            Image,
            Meta(
                description="The face image (base64 JPEG or PNG, at most 10 MB), turned into a "
                "template by the matching engine; without it the entry holds references only, "
                "for an external matcher"
            ),
        ]
        | None
    ) = None


class WatchlistReviewIn(Struct):
    """The authorising officer's review of the watchlist before the deployment starts."""

    confirmed_count: Annotated[
        int,
        Meta(
            ge=0,
            le=1_000_000,
            description="The number of active entries the reviewer counted; must match",
            examples=[40],
        ),
    ]
    not_excessive: Annotated[
        bool,
        Meta(description="The reviewer confirms the watchlist is not excessive (must be true)"),
    ]
    note: Annotated[
        OptionalText,
        Meta(
            description="The reviewer's note",
            examples=["Checked every rationale against the intelligence case"],
        ),
    ] = ""


class WatchlistReviewed(Reply):
    """The review recorded."""

    id: Annotated[UUID, Meta(description="The deployment")]
    status: Annotated[
        str,
        Meta(
            description="The deployment's status (DeploymentStatus)",
            extra_json_schema=one_of(DeploymentStatus),
        ),
    ]
    entry_count: Annotated[int, Meta(description="The entries the review covered")]


class WithdrawalIn(Struct):
    """Why the entry leaves the watchlist."""

    reason: Annotated[
        Text,
        Meta(description="Why", examples=["Arrested on the warrant on 2026-06-01"]),
    ]


class WatchlistEntryOut(Reply):
    """Personal data: every response of this shape is logged as a consultation."""

    id: Annotated[UUID, Meta(description="The entry's id")]
    deployment_id: Annotated[UUID, Meta(description="Its deployment")]
    status: Annotated[str, ENTRY_STATUS]
    subject_ref: Annotated[
        str, Meta(description='The subject\'s reference ("[erased]" once shredded)')
    ]
    name: Annotated[str, Meta(description='The subject\'s name ("[erased]" once shredded)')]
    category: Annotated[str, Meta(description="The watchlist category")]
    legal_basis: Annotated[str, Meta(description="The legal basis for enrolling them")]
    rationale: Annotated[str, Meta(description='Why they were enrolled ("[erased]" once shredded)')]
    offence: Annotated[str, Meta(description="The offence or concern")]
    image_source: Annotated[str, Meta(description="Where the image came from")]
    image_taken_on: Annotated[str | None, Meta(description="When the image was taken (date)")]
    under_18: Annotated[bool, Meta(description="Whether the subject is a child")]
    under_18_justification: Annotated[
        str | None, Meta(description="Why a child is enrolled; null for an adult")
    ]
    model_id: Annotated[str | None, Meta(description="The model of its template, if any")]
    has_image: Annotated[
        bool, Meta(description="Whether an image is held (GET .../image reads it)")
    ]
    has_template: Annotated[bool, Meta(description="Whether a matching template is held")]
    erased: Annotated[bool, Meta(description="Whether retention shredded its personal data")]
    enrolled_by: Annotated[str, Meta(description="The watchlist manager (staff number)")]
    enrolled_at: Annotated[datetime, Meta(description="When it was enrolled")]
    description: Annotated[
        str | None,
        Meta(
            description="What the officer engages by (build, marks, warning markers); null "
            "when none was given"
        ),
    ] = None


class WatchlistRow(Reply):
    """An entry as a watchlist's reviewer lists it: no name, reference, image or reasons."""

    id: Annotated[UUID, Meta(description="The entry's id")]
    category: Annotated[str, Meta(description="The watchlist category")]
    status: Annotated[str, ENTRY_STATUS]
    under_18: Annotated[bool, Meta(description="Whether the subject is a child")]
    model_id: Annotated[str | None, Meta(description="The model of its template, if any")]
    has_image: Annotated[bool, Meta(description="Whether an image is held")]
    enrolled_by: Annotated[str, Meta(description="The watchlist manager (staff number)")]
    enrolled_at: Annotated[datetime, Meta(description="When it was enrolled")]
    confirmed_at: Annotated[
        datetime,
        Meta(
            description="When it was enrolled or last re-confirmed: the start needs it within "
            "the policy's reconfirm_within_hours"
        ),
    ]


class Watchlist(Reply):
    """A deployment's watchlist, for review."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    reviewed: Annotated[bool, Meta(description="Whether the authorising officer reviewed it")]
    entries: Annotated[list[WatchlistRow], Meta(description="Every entry, in enrolment order")]
