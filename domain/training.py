"""Each operator's and engagement officer's LFR training: what they completed, when, until when.

The College of Policing's APP on LFR wants the people who decide alerts and engage the public
trained for it. A `TrainingRecord` is one person's (by staff number, as their token names
them), one aggregate per person with an id made from that number. An admin or an authorising
officer records each course completed (course, completed on, expires on) and may withdraw one
(a failed reassessment, a course the force no longer recognises). With the policy's switch on
(`[training] required`), adjudication and engagement are refused to anyone whose course for
that duty is not current: `domain/commands/training.py`.

A course is current on a day from its completion up to the day before it expires, unless
withdrawn since; days are UTC days, as every time in the ledger is UTC. Staff numbers and
course names only: no personal data about the public.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role, is_actor_id
from lfr_ledger.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PolicyViolation,
)
from lfr_ledger.domain.records import LFR_NAMESPACE

# Who records and withdraws training: the force's administrators (who keep its records) and
# authorising officers (who answer for the deployments these people staff).
RECORDERS = (Role.ADMIN, Role.AUTHORISING_OFFICER)


class TrainingRecordTopic:
    """The stored topic of each TrainingRecord event. Stable strings, so classes can move
    without breaking stored events; readers of the log filter on these, never on literals."""

    OPENED = "lfr/TrainingRecord.Opened"
    COMPLETED = "lfr/TrainingRecord.TrainingCompleted"
    WITHDRAWN = "lfr/TrainingRecord.TrainingWithdrawn"


@dataclass(frozen=True)
class CourseStanding:
    """One course on a person's record: its latest completion, and its withdrawal if it was
    withdrawn since."""

    course: str
    completed_on: date
    expires_on: date
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdrawal_reason: str | None = None

    def lapse(self, today: date) -> str | None:
        """Why the course is not current on `today`, or None when it is."""
        if self.withdrawn_at is not None:
            return (
                f"their {self.course} training was withdrawn on "
                f"{self.withdrawn_at.date().isoformat()} ({self.withdrawal_reason})"
            )
        if today >= self.expires_on:
            return f"their {self.course} training expired on {self.expires_on.isoformat()}"
        if today < self.completed_on:
            return f"their {self.course} training counts from {self.completed_on.isoformat()}"
        return None

    def status_on(self, today: date) -> str:
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "expired" if today >= self.expires_on else "current"


class TrainingRecord(Aggregate):
    """One person's LFR training, course by course."""

    TOPIC = "lfr/TrainingRecord"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/TrainingRecord.Created"

    @staticmethod
    def id_for(person: str) -> UUID:
        return uuid5(LFR_NAMESPACE, f"training:{person}")

    @classmethod
    def open(cls, *, person: str, actor: Actor, occurred_at: datetime) -> TrainingRecord:
        actor.require(*RECORDERS)
        if not is_actor_id(person):
            raise InvalidInput(
                "person must be a staff number, as their token names them", field="person"
            )
        return cls(id=cls.id_for(person), person=person, actor=actor, occurred_at=occurred_at)

    @event("Opened", topic=TrainingRecordTopic.OPENED)
    def __init__(self, *, id: UUID, person: str, actor: Actor, occurred_at: datetime) -> None:
        self.person = person
        self.opened_at = occurred_at
        self.courses: dict[str, CourseStanding] = {}

    def complete(
        self,
        *,
        course: str,
        completed_on: date,
        expires_on: date,
        courses: Collection[str],
        policy_version: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        """Records a course completed. `courses` are those the policy names; a completion is
        recorded in order (never one earlier than the course's latest on the record)."""
        self._check_recorder(actor)
        if course not in courses:
            raise PolicyViolation(
                f"course {course!r} is not one policy {policy_version} names: "
                + ", ".join(sorted(courses)),
                field="course",
            )
        if completed_on > occurred_at.date():
            raise InvalidInput(
                f"completed_on {completed_on.isoformat()} is in the future", field="completed_on"
            )
        if expires_on <= completed_on:
            raise InvalidInput(
                f"expires_on {expires_on.isoformat()} must be after completed_on "
                f"{completed_on.isoformat()}",
                field="expires_on",
            )
        latest = self.courses.get(course)
        if latest is not None and completed_on < latest.completed_on:
            raise InvalidTransition(
                f"{self.person}'s record already holds {course} completed on "
                f"{latest.completed_on.isoformat()}; an earlier completion would not change "
                "their standing"
            )
        self._completed(
            course=course,
            completed_on=completed_on.isoformat(),
            expires_on=expires_on.isoformat(),
            actor=actor,
            occurred_at=occurred_at,
        )

    # Days travel as ISO strings: the event store's transcoder knows datetimes, not dates.
    @event("TrainingCompleted", topic=TrainingRecordTopic.COMPLETED)
    def _completed(
        self,
        *,
        course: str,
        completed_on: str,
        expires_on: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.courses[course] = CourseStanding(
            course=course,
            completed_on=date.fromisoformat(completed_on),
            expires_on=date.fromisoformat(expires_on),
            recorded_by=actor.id,
            recorded_at=occurred_at,
        )

    def withdraw(self, *, course: str, reason: str, actor: Actor, occurred_at: datetime) -> None:
        """Withdraws the course's latest completion (a later completion reinstates it)."""
        self._check_recorder(actor)
        standing = self.courses.get(course)
        if standing is None:
            raise NotFound(f"{self.person}'s record holds no {course} training to withdraw")
        if standing.withdrawn_at is not None:
            raise InvalidTransition(
                f"{self.person}'s {course} training was already withdrawn on "
                f"{standing.withdrawn_at.date().isoformat()}"
            )
        text = reason.strip()
        if not text or len(text) > 500:
            raise InvalidInput("a withdrawal needs a reason of 1 to 500 characters", field="reason")
        self._withdrawn(course=course, reason=text, actor=actor, occurred_at=occurred_at)

    @event("TrainingWithdrawn", topic=TrainingRecordTopic.WITHDRAWN)
    def _withdrawn(self, *, course: str, reason: str, actor: Actor, occurred_at: datetime) -> None:
        standing = self.courses[course]
        self.courses[course] = CourseStanding(
            course=course,
            completed_on=standing.completed_on,
            expires_on=standing.expires_on,
            recorded_by=standing.recorded_by,
            recorded_at=standing.recorded_at,
            withdrawn_at=occurred_at,
            withdrawn_by=actor.id,
            withdrawal_reason=reason,
        )

    def lapse(self, course: str, today: date) -> str | None:
        """Why this person holds no current `course` training on `today`, or None."""
        standing = self.courses.get(course)
        if standing is None:
            return f"no {course} training is recorded for them"
        return standing.lapse(today)

    def _check_recorder(self, actor: Actor) -> None:
        actor.require(*RECORDERS)
        if actor.id == self.person:
            raise NotPermitted(f"{actor.id} may not record or withdraw their own training")
