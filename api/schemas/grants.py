"""Oversight bodies' grants: what an authorising officer or admin sends to grant or revoke
one, and the grants as listed. No personal data: bodies, forces, operations, times, and the
staff numbers of who granted and revoked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import AwareDateTime, Reply, ShortText, Struct, one_of
from lfr_ledger.domain.oversight_grant import BODY_CODE_RULE, MAX_REMIT_ITEMS, OversightGrant

# A body's code as sent: the domain upper-cases it (`body_code`).
BODY_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
BodyCode = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=32,
        pattern=BODY_CODE_PATTERN,
        description=f"The body's code ({BODY_CODE_RULE}; upper-cased), as its readers' tokens "
        "name it in the claim `oversight_body`",
        examples=["ICO"],
    ),
]
REMIT = (
    "Each dimension given limits what the body reads; one left empty does not. A deployment "
    "lies within the remit when its controlling force is one of `forces`, its operation one "
    "of `operation_ids`, and its planned start within [`period_from`, `period_to`)."
)


class GrantIn(Struct):
    """A grant to an oversight body: its remit, and until when."""

    body: BodyCode
    body_name: Annotated[
        ShortText,
        Meta(description="The body's name", examples=["Information Commissioner's Office"]),
    ]
    valid_until: Annotated[
        AwareDateTime, Meta(description="When the grant ends (exclusive); after now")
    ]
    forces: Annotated[
        list[ShortText],
        Meta(
            max_length=MAX_REMIT_ITEMS,
            description="Controlling forces, as deployment plans name them; empty: any",
            examples=[["Northamptonshire Police"]],
        ),
    ] = msgspec.field(default_factory=list)
    operation_ids: Annotated[
        list[UUID],
        Meta(max_length=MAX_REMIT_ITEMS, description="Operations; empty: any"),
    ] = msgspec.field(default_factory=list)
    period_from: Annotated[
        AwareDateTime | None,
        Meta(description="Deployments planned to start at or after this; absent: any"),
    ] = None
    period_to: Annotated[
        AwareDateTime | None,
        Meta(description="Deployments planned to start before this; absent: any"),
    ] = None


class RevocationIn(Struct):
    """Why the grant ends now. An institutional reason (the inquiry closed, the panel was
    reconstituted): name no person."""

    reason: Annotated[
        ShortText, Meta(description="Why", examples=["The ethics panel's review concluded"])
    ]


class GrantOut(Reply):
    """One grant, as made, and whether it is in force."""

    id: Annotated[UUID, Meta(description="The grant's id")]
    body: Annotated[str, Meta(description="The body's code", examples=["ICO"])]
    body_name: Annotated[str, Meta(description="The body's name")]
    forces: Annotated[list[str], Meta(description="Controlling forces; empty: any")]
    operation_ids: Annotated[list[UUID], Meta(description="Operations; empty: any")]
    period_from: Annotated[datetime | None, Meta(description="Planned start from; null: any")]
    period_to: Annotated[datetime | None, Meta(description="Planned start before; null: any")]
    remit: Annotated[str, Meta(description="The remit in words")]
    valid_until: Annotated[datetime, Meta(description="When the grant ends")]
    status: Annotated[
        str,
        Meta(
            description="in_force, expired or revoked, now",
            extra_json_schema=one_of(["in_force", "expired", "revoked"]),
        ),
    ]
    granted_by: Annotated[str, Meta(description="Who granted it (staff number)")]
    granted_at: Annotated[datetime, Meta(description="When")]
    revoked_by: Annotated[str | None, Meta(description="Who revoked it, if revoked")]
    revoked_at: Annotated[datetime | None, Meta(description="When, if revoked")]
    revocation_reason: Annotated[str | None, Meta(description="Why, if revoked")]

    @classmethod
    def of(cls, grant: OversightGrant, now: datetime) -> GrantOut:
        remit = grant.remit
        return cls(
            id=grant.id,
            body=grant.body,
            body_name=grant.body_name,
            forces=list(remit.forces),
            operation_ids=list(remit.operation_ids),
            period_from=remit.period_from,
            period_to=remit.period_to,
            remit=remit.describe(),
            valid_until=grant.valid_until,
            status=grant.status_at(now),
            granted_by=grant.granted_by,
            granted_at=grant.granted_at,
            revoked_by=grant.revoked_by,
            revoked_at=grant.revoked_at,
            revocation_reason=grant.revocation_reason,
        )


class Grants(Reply):
    """Grants, oldest first."""

    grants: Annotated[list[GrantOut], Meta(description="The grants")]
