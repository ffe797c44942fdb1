"""Complaints about a deployment: the bodies an authorising officer sends to record one and its
resolution, and the list read back (its summaries opened, so a personal-data read, logged)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Ident, Reply, Struct, Text
from lfr_ledger.api.schemas.event_fields import AggregateTopic, Fields, Sealed
from lfr_ledger.domain.commands.complaints import RevealedComplaint
from lfr_ledger.domain.complaint import Complaint

SEALED_TEXT = (
    "Sealed in the log under the complaint's own key (it may identify the complainant or the "
    "person stopped); shown only through the logged read of the deployment's complaints"
)
DAY = "A calendar date (YYYY-MM-DD), not after today"


class ComplaintIn(Struct):
    """A complaint received about a deployment, and perhaps about one of its alerts."""

    deployment_id: Annotated[UUID, Meta(description="The deployment it is about")]
    received_on: Annotated[
        date, Meta(description="When the force received it. " + DAY, examples=["2025-11-30"])
    ]
    channel: Annotated[
        Ident,
        Meta(
            description="How it reached the force: one of the policy's `complaint_channels` "
            "(the default policy's: in_person, phone, email, letter, online_form, social_media, "
            "referred)",
            examples=["email"],
        ),
    ]
    summary: Annotated[
        Text,
        Meta(
            description="What the complaint says. " + SEALED_TEXT,
            examples=["Stopped after an alert and held for 20 minutes although not the person"],
        ),
    ]
    alert_id: Annotated[
        UUID | None,
        Meta(description="The alert it is about, if one: an alert of this deployment"),
    ] = None


class ResolutionIn(Struct):
    """How a complaint was resolved."""

    outcome: Annotated[
        Text,
        Meta(
            description="The outcome: what was found, what was done. " + SEALED_TEXT,
            examples=["Apology sent; engagement officers briefed on the time limits of a stop"],
        ),
    ]
    resolved_on: Annotated[
        date,
        Meta(
            description="When it was resolved: on or after it was received. " + DAY,
            examples=["2025-12-12"],
        ),
    ]


class ComplaintOut(Reply):
    """A complaint, its sealed text opened ("[erased]" once its key is shredded)."""

    id: Annotated[UUID, Meta(description="The complaint's id")]
    deployment_id: Annotated[UUID, Meta(description="The deployment it is about")]
    number: Annotated[int, Meta(description="Its number among the deployment's complaints: 1, 2…")]
    alert_id: Annotated[UUID | None, Meta(description="The alert it is about; null if none")]
    received_on: Annotated[str, Meta(description="When it was received (YYYY-MM-DD)")]
    channel: Annotated[str, Meta(description="How it reached the force")]
    summary: Annotated[str, Meta(description="What it says (personal data)")]
    recorded_by: Annotated[str, Meta(description="The authorising officer who recorded it")]
    recorded_at: Annotated[datetime, Meta(description="When it was recorded")]
    resolved_on: Annotated[
        str | None, Meta(description="When it was resolved (YYYY-MM-DD); null while open")
    ]
    outcome: Annotated[
        str | None, Meta(description="How it was resolved (personal data); null while open")
    ]
    resolved_by: Annotated[
        str | None, Meta(description="Who recorded the resolution; null while open")
    ]

    @classmethod
    def of(cls, complaint: Complaint, revealed: RevealedComplaint) -> ComplaintOut:
        """The complaint with its sealed text as the query layer opened it."""
        return cls(
            id=complaint.id,
            deployment_id=complaint.deployment_id,
            number=complaint.number,
            alert_id=complaint.alert_id,
            received_on=complaint.received_on,
            channel=complaint.channel,
            summary=revealed.summary,
            recorded_by=complaint.recorded_by,
            recorded_at=complaint.recorded_at,
            resolved_on=complaint.resolved_on,
            outcome=revealed.outcome,
            resolved_by=complaint.resolved_by,
        )


class ComplaintList(Reply):
    """A deployment's complaints, in the order recorded."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    complaints: Annotated[list[ComplaintOut], Meta(description="Its complaints, 1 first")]


# --- the complaint's events, as the deployment's history shows them (`history.py`) ---------


class ComplaintRecordedFields(Fields):
    """A complaint about the deployment recorded by an authorising officer: its summary
    sealed, the rest in clear."""

    originator_topic: AggregateTopic
    deployment_id: Annotated[UUID, Meta(description="The deployment it is about")]
    number: Annotated[int, Meta(description="Its number among the deployment's complaints")]
    alert_id: Annotated[UUID | None, Meta(description="The alert it is about; null if none")]
    received_on: Annotated[str, Meta(description="When it was received (YYYY-MM-DD)")]
    channel: Annotated[str, Meta(description="How it reached the force")]
    sealed_summary: Annotated[Sealed, Meta(description="What it says (sealed)")]


class ComplaintResolvedFields(Fields):
    """How the complaint was resolved: its outcome sealed."""

    sealed_outcome: Annotated[Sealed, Meta(description="The outcome (sealed)")]
    resolved_on: Annotated[str, Meta(description="When it was resolved (YYYY-MM-DD)")]
