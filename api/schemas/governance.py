"""The register of governance documents: a version as an authorising officer or admin registers
it, a withdrawal, and the register as read. No personal data: references, titles, dates, the
office that approved each version, and the staff numbers of who registered and withdrew."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import ONE_LINE, Reply, ShortText, Struct, one_of
from lfr_ledger.domain.governance import (
    DOCUMENT_KINDS,
    STANDINGS,
    DocumentKind,
    DocumentVersion,
    GovernanceDocument,
)

KINDS = (
    "The kind of document: dpia, eia (equality impact assessment), appropriate_policy_document "
    "(DPA 2018 s.42), equality_evidence (how the algorithm performs across groups) or "
    "model_evaluation"
)
STANDING = (
    "Where it stands now: current (the only standing a proposal or an authority may cite), "
    "due_for_review (its latest version's review_by day has passed), expired, "
    "not_yet_approved, withdrawn, or no_version"
)
Reference = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=100,
        pattern=ONE_LINE,
        description="The document's reference, as proposals and authorities cite it (trimmed; "
        "otherwise exact)",
        examples=["DPIA-LFR-2025-03"],
    ),
]
Kind = Annotated[DocumentKind, Meta(description=KINDS)]


class DocumentIn(Struct):
    """A version of a governance document, as approved. The same version sent again records
    nothing; a version with other details than those registered is refused (a changed
    document is a new version)."""

    kind: Kind
    reference: Reference
    version: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=40,
            pattern=ONE_LINE,
            description="The version approved, as the document numbers it",
            examples=["2.1"],
        ),
    ]
    title: Annotated[
        ShortText,
        Meta(description="The document's title", examples=["LFR overt deployments: DPIA"]),
    ]
    approved_on: Annotated[date, Meta(description="The day this version was approved")]
    review_by: Annotated[
        date,
        Meta(
            description="The last day before which it must be reviewed: from the next day it is "
            "due for review and may not be cited"
        ),
    ]
    expires_on: Annotated[
        date | None, Meta(description="The day it ceases to have effect, if it does")
    ] = None
    approved_by: (
        Annotated[
            ShortText,
            Meta(
                description="The office or board that approved it (name a role, not a person); "
                "absent: the registering officer vouches for the approval",
                examples=["Chief Officer Group"],
            ),
        ]
        | None
    ) = None
    model_id: (
        Annotated[
            ShortText,
            Meta(description="For a model evaluation: the model evaluated", examples=["buffalo_l"]),
        ]
        | None
    ) = None
    digest: (
        Annotated[
            ShortText,
            Meta(description="For a model evaluation: the digest of the report or data evaluated"),
        ]
        | None
    ) = None


class WithdrawalIn(Struct):
    """Why the document is withdrawn (it is then never current again)."""

    reason: Annotated[
        ShortText,
        Meta(description="Why", examples=["Superseded by DPIA-LFR-2026-01"]),
    ]


class DocumentVersionOut(Reply):
    """One version as registered."""

    version: Annotated[str, Meta(description="The version")]
    title: Annotated[str, Meta(description="The title")]
    approved_on: Annotated[date, Meta(description="When approved")]
    review_by: Annotated[date, Meta(description="The last day before review is due")]
    expires_on: Annotated[date | None, Meta(description="When it ceases to have effect")]
    approved_by: Annotated[str, Meta(description="The office or board that approved it")]
    model_id: Annotated[str | None, Meta(description="For a model evaluation: the model")]
    digest: Annotated[str | None, Meta(description="For a model evaluation: the digest")]
    registered_by: Annotated[str, Meta(description="Who registered it (staff number)")]
    registered_at: Annotated[datetime | None, Meta(description="When it was registered")]

    @classmethod
    def of(cls, version: DocumentVersion) -> DocumentVersionOut:
        return cls(
            version=version.version,
            title=version.title,
            approved_on=version.approved_on,
            review_by=version.review_by,
            expires_on=version.expires_on,
            approved_by=version.approved_by,
            model_id=version.model_id,
            digest=version.digest,
            registered_by=version.registered_by,
            registered_at=version.registered_at,
        )


class DocumentOut(Reply):
    """One document of the register, where it stands now, and every version, oldest first."""

    id: Annotated[UUID, Meta(description="The document's id (one per kind and reference)")]
    kind: Annotated[str, Meta(description=KINDS, extra_json_schema=one_of(DOCUMENT_KINDS))]
    reference: Annotated[str, Meta(description="Its reference")]
    standing: Annotated[str, Meta(description=STANDING, extra_json_schema=one_of(STANDINGS))]
    why_not_current: Annotated[
        str | None, Meta(description="Why it may not be cited now (null when current)")
    ]
    latest_version: Annotated[str | None, Meta(description="Its latest version")]
    review_by: Annotated[date | None, Meta(description="Its latest version's review date")]
    expires_on: Annotated[date | None, Meta(description="Its latest version's expiry")]
    withdrawn_at: Annotated[datetime | None, Meta(description="When withdrawn, if withdrawn")]
    withdrawn_by: Annotated[str | None, Meta(description="Who withdrew it (staff number)")]
    withdrawal_reason: Annotated[str | None, Meta(description="Why, if withdrawn")]
    versions: Annotated[list[DocumentVersionOut], Meta(description="Every version, oldest first")]

    @classmethod
    def of(cls, document: GovernanceDocument, now: datetime) -> DocumentOut:
        latest = document.latest
        return cls(
            id=document.id,
            kind=document.kind,
            reference=document.reference,
            standing=document.standing_at(now),
            why_not_current=document.lapsed(now),
            latest_version=None if latest is None else latest.version,
            review_by=None if latest is None else latest.review_by,
            expires_on=None if latest is None else latest.expires_on,
            withdrawn_at=document.withdrawn_at,
            withdrawn_by=document.withdrawn_by,
            withdrawal_reason=document.withdrawal_reason,
            versions=[DocumentVersionOut.of(v) for v in document.versions],
        )


class Documents(Reply):
    """The register, in the order documents were entered."""

    at: Annotated[datetime, Meta(description="The moment each standing is read at (now)")]
    documents: Annotated[list[DocumentOut], Meta(description="The documents")]


class CitedDocument(msgspec.Struct, forbid_unknown_fields=True):
    """A governance document an event cites, at the exact version in force then (the history's
    `documents` of a proposal and an authority)."""

    kind: Annotated[str, Meta(description=KINDS)]
    reference: Annotated[str, Meta(description="Its reference in the register")]
    version: Annotated[str, Meta(description="The version cited")]


class CitedDocumentOut(Reply):
    """A governance document a deployment cited, at the version in force then."""

    stage: Annotated[
        str,
        Meta(
            description="When it was cited: proposal or authorisation",
            extra_json_schema=one_of(["proposal", "authorisation"]),
        ),
    ]
    kind: Annotated[str, Meta(description=KINDS, extra_json_schema=one_of(DOCUMENT_KINDS))]
    reference: Annotated[str, Meta(description="Its reference")]
    version: Annotated[str, Meta(description="The exact version cited")]

    @classmethod
    def listed(cls, cited: dict[str, list[dict[str, str]]]) -> list[CitedDocumentOut]:
        return [
            cls(stage=stage, kind=d["kind"], reference=d["reference"], version=d["version"])
            for stage, documents in cited.items()
            for d in documents
        ]
