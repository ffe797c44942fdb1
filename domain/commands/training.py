"""LFR training: recorded and withdrawn by an admin or an authorising officer, and the gate the
alert commands pass before an adjudication, an engagement or an outcome (`_require_training`)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.errors import NotFound, NotPermitted
from lfr_ledger.domain.training import RECORDERS, TrainingRecord, TrainingRecordTopic

# What each duty the policy ties to a course is, in a refusal's words.
DUTY_WORDS = {"adjudicate": "adjudicate alerts", "engage": "record engagements and outcomes"}


class TrainingCommands(LedgerBase):
    def record_training(
        self,
        actor: Actor,
        *,
        person: str,
        course: str,
        completed_on: date,
        expires_on: date,
    ) -> UUID:
        """Records `person`'s completion of `course` (a course the policy names), opening
        their record with it if they have none. Returns the record's id."""
        actor.require(*RECORDERS)
        now = self.clock()
        record_id = TrainingRecord.id_for(person)
        record = (
            self._load(TrainingRecord, record_id, "training record")
            if self._exists(record_id)
            else TrainingRecord.open(person=person, actor=actor, occurred_at=now)
        )
        record.complete(
            course=course,
            completed_on=completed_on,
            expires_on=expires_on,
            courses=set(self.policy.training_courses.values()),
            policy_version=self.policy.version,
            actor=actor,
            occurred_at=now,
        )
        # Two first recordings for one person at once both open the record: the second save
        # is a ConcurrentWrite (409), and its sender tries again.
        self._commit(record)
        return record.id

    def withdraw_training(self, actor: Actor, record_id: UUID, *, course: str, reason: str) -> None:
        """The course's latest completion on the record stops counting now (a completion
        recorded later counts again)."""
        actor.require(*RECORDERS)
        record = self.training_record(record_id)
        record.withdraw(course=course, reason=reason, actor=actor, occurred_at=self.clock())
        self._commit(record)

    def training_record(self, record_id: UUID) -> TrainingRecord:
        """A record by id (`TrainingRecord.id_for(staff number)` for a person's)."""
        return self._load(TrainingRecord, record_id, "training record")

    def training_records(self) -> list[TrainingRecord]:
        """Every person's record, in the order they were opened (a scan of the records'
        opening topic: a rare read, by those who manage training)."""
        return [
            self._load(TrainingRecord, UUID(str(n.originator_id)), "training", to_change=False)
            for n in self._scan([TrainingRecordTopic.OPENED])
        ]

    def _require_training(self, actor: Actor, duty: str) -> None:
        """Refuses `actor` the `duty` (adjudicate, engage) unless they hold the course the
        policy ties to it, current today; the refusal names the person, the course and what
        is missing. One cached read of their record; nothing when the policy's switch is off."""
        if not self.policy.training_required:
            return
        course = self.policy.training_courses.get(duty)
        if course is None:
            return
        try:
            record = self._load(
                TrainingRecord, TrainingRecord.id_for(actor.id), "training", to_change=False
            )
        except NotFound:
            why: str | None = f"no {course} training is recorded for them"
        else:
            why = record.lapse(course, self.clock().date())
        if why is not None:
            raise NotPermitted(
                f"{actor.role} {actor.id} may not {DUTY_WORDS.get(duty, duty)}: policy "
                f"{self.policy.version} requires current LFR training ({course}), and {why}; "
                "an admin or an authorising officer records it (POST /training)"
            )
