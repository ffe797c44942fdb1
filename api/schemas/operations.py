"""Operations: what a planner opens, and the paged list of operations (built by
`projections/lists.py` from the views; no personal data)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply, ShortText, Struct, Text, one_of
from lfr_ledger.domain.values import DeploymentStatus
from lfr_ledger.projections.lists import (
    DeploymentList,
    DeploymentRow,
    OperationList,
    OperationRow,
)

__all__ = [
    "LIST_DESCRIPTIONS",
    "LIST_ENUMS",
    "DeploymentList",
    "DeploymentRow",
    "OperationClosed",
    "OperationIn",
    "OperationList",
    "OperationRow",
]


class OperationIn(Struct):
    """An operation: the frame a planner proposes deployments in."""

    name: Annotated[
        ShortText, Meta(description="The operation's name", examples=["Operation Harbour"])
    ]
    force: Annotated[
        ShortText, Meta(description="The force running it", examples=["Metropolitan Police"])
    ]
    purpose: Annotated[
        Text,
        Meta(
            description="What it is for",
            examples=["Locate people wanted on warrant in the borough's town centres"],
        ),
    ]


class OperationClosed(Reply):
    """The operation was closed: no deployment may be proposed in it from now on; those
    already in it keep their records."""

    id: Annotated[UUID, Meta(description="The operation's id")]
    status: Annotated[str, Meta(description="Always closed", extra_json_schema=one_of(["closed"]))]
    closed_at: Annotated[datetime, Meta(description="When it was closed (ISO 8601, UTC)")]


# The rows are declared in projections/lists.py; their fields' descriptions are kept here and
# written into the OpenAPI document by api/docs.py (`describe_document`).
PAGE = {
    "total": "Rows matching the filter, all pages",
    "limit": "The page size asked for",
    "offset": "Rows skipped before this page",
    "next_offset": "Pass it as `offset` for the next page; null on the last page",
}
LIST_DESCRIPTIONS: dict[type[msgspec.Struct], dict[str, str]] = {
    OperationRow: {
        "operation_id": "The operation's id",
        "name": "The operation's name",
        "force": "The force running it",
        "status": "open, or closed",
        "opened_at": "When it was opened (ISO 8601, UTC)",
        "closed_at": "When it was closed; null while open",
        "deployment_count": "Deployments proposed in it",
    },
    OperationList: {"operations": "The page's operations, oldest first", **PAGE},
    DeploymentRow: {
        "deployment_id": "The deployment's id",
        "operation_id": "The operation it belongs to",
        "town": "The town or city",
        "location_name": "The place",
        "location_type": "The kind of place (the policy's `location_types`, `GET /policy`)",
        "starts_at": "The window's start (ISO 8601, UTC)",
        "ends_at": "The window's end (ISO 8601, UTC)",
        "status": "Where it stands (DeploymentStatus)",
        "proposed_at": "When it was proposed",
        "authorised_at": "When it was authorised; null before",
        "urgent": "Authorised urgently (orally)",
        "started_at": "When it first went live; null before",
        "ended_at": "When it ended; null before",
    },
    DeploymentList: {"deployments": "The page's deployments, by window start", **PAGE},
}
LIST_ENUMS: dict[type[msgspec.Struct], dict[str, tuple[str | None, ...]]] = {
    OperationRow: {"status": ("open", "closed")},
    DeploymentRow: {"status": tuple(s.value for s in DeploymentStatus)},
}
