"""LFR training records: what an admin or an authorising officer sends to record a course
completed or withdraw one, and the records as listed. No personal data about the public: staff
numbers, course names, days."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply, ShortText, Struct, one_of
from lfr_ledger.domain.actors import ACTOR_ID_RULE
from lfr_ledger.domain.training import CourseStanding, TrainingRecord

# A staff number as a token's `sub` carries it (the domain checks the same rule).
Person = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/+|=~-]*$",
        description=f"The person's staff number, as their token names them ({ACTOR_ID_RULE})",
        examples=["PC-3381"],
    ),
]
COURSE = (
    "A course the policy names (`GET /policy`: `training`); the default policy's are "
    "lfr_operator (to adjudicate) and lfr_engagement (to engage)"
)


class TrainingIn(Struct):
    """A course one person completed, and until when it counts."""

    person: Person
    course: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=64,
            pattern=r"^[a-z0-9_]+$",
            description=COURSE,
            examples=["lfr_operator"],
        ),
    ]
    completed_on: Annotated[
        date, Meta(description="The day it was completed; not after today", examples=["2026-01-12"])
    ]
    expires_on: Annotated[
        date,
        Meta(
            description="The day it no longer counts (it is current up to the day before)",
            examples=["2027-01-12"],
        ),
    ]


class WithdrawalIn(Struct):
    """Which course of the record stops counting now, and why."""

    course: Annotated[str, Meta(min_length=1, max_length=64, description=COURSE)]
    reason: Annotated[
        ShortText,
        Meta(
            description="Why, in training terms (a failed reassessment, a course no longer "
            "recognised), at most 200 characters",
            examples=["Reassessment not passed"],
        ),
    ]


class CourseOut(Reply):
    """One course on a record: its latest completion, and its standing today."""

    course: Annotated[str, Meta(description="The course")]
    completed_on: Annotated[date, Meta(description="The day it was completed")]
    expires_on: Annotated[date, Meta(description="The day it no longer counts")]
    status: Annotated[
        str,
        Meta(
            description="Today: current, expired or withdrawn",
            extra_json_schema=one_of(["current", "expired", "withdrawn"]),
        ),
    ]
    recorded_by: Annotated[str, Meta(description="Who recorded it (staff number)")]
    recorded_at: Annotated[datetime, Meta(description="When")]
    withdrawn_by: Annotated[str | None, Meta(description="Who withdrew it, if withdrawn")]
    withdrawn_at: Annotated[datetime | None, Meta(description="When, if withdrawn")]
    withdrawal_reason: Annotated[str | None, Meta(description="Why, if withdrawn")]

    @classmethod
    def of(cls, standing: CourseStanding, today: date) -> CourseOut:
        return cls(
            course=standing.course,
            completed_on=standing.completed_on,
            expires_on=standing.expires_on,
            status=standing.status_on(today),
            recorded_by=standing.recorded_by,
            recorded_at=standing.recorded_at,
            withdrawn_by=standing.withdrawn_by,
            withdrawn_at=standing.withdrawn_at,
            withdrawal_reason=standing.withdrawal_reason,
        )


class TrainingRecordOut(Reply):
    """One person's LFR training, course by course."""

    id: Annotated[UUID, Meta(description="The record's id")]
    person: Annotated[str, Meta(description="The person's staff number")]
    courses: Annotated[list[CourseOut], Meta(description="Their courses, by name")]

    @classmethod
    def of(cls, record: TrainingRecord, today: date) -> TrainingRecordOut:
        return cls(
            id=record.id,
            person=record.person,
            courses=[CourseOut.of(record.courses[c], today) for c in sorted(record.courses)],
        )


class TrainingRecords(Reply):
    """Training records, in the order they were opened."""

    records: Annotated[list[TrainingRecordOut], Meta(description="The records")]
