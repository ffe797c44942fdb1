"""LFR training records: recorded and withdrawn by an admin or an authorising officer, listed for
them, planners and oversight. With the policy's `[training] required`, an adjudication or an
engagement by someone without current training is refused (403, naming what is missing)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from lfr_ledger.api.dependencies import ActorDep, IdempotencyKey, LedgerDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Created
from lfr_ledger.api.schemas.training import (
    TrainingIn,
    TrainingRecordOut,
    TrainingRecords,
    WithdrawalIn,
)
from lfr_ledger.domain.errors import NotFound
from lfr_ledger.domain.training import TrainingRecord

WRITE_ERRORS = problem_spec(400, 401, 403, 404, 409, 422)


class TrainingController(Controller):
    path = "/training"
    tags = ("training",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Record a course one person completed (admin or authorising officer)",
        description="Opens the person's record with it if they have none (the reply names "
        "the record). A course counts from `completed_on` up to the day before `expires_on`. "
        "Nobody records their own training; a completion earlier than the course's latest on "
        "the record is refused (409).",
        responses=WRITE_ERRORS,
    )
    def record(
        self,
        data: JSONBody[TrainingIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        record_id = ledger.record_training(
            actor,
            person=data.person,
            course=data.course,
            completed_on=data.completed_on,
            expires_on=data.expires_on,
        )
        return Created(id=record_id)

    @post(
        "/{record_id:uuid}/withdrawal",
        status_code=200,
        sync_to_thread=True,
        summary="Withdraw a course from a record now (admin or authorising officer)",
        description="The course stops counting now; a completion recorded later counts again. "
        "A course already withdrawn is a 409.",
        responses=WRITE_ERRORS,
    )
    def withdraw(
        self,
        record_id: FromPath[UUID],
        data: JSONBody[WithdrawalIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> TrainingRecordOut:
        ledger.withdraw_training(actor, record_id, course=data.course, reason=data.reason)
        return TrainingRecordOut.of(ledger.training_record(record_id), ledger.clock().date())

    @get(
        "/",
        sync_to_thread=True,
        summary="Training records, with each course's standing today",
        responses=problem_spec(400, 401, 403, 422),
    )
    def records(
        self,
        ledger: LedgerDep,
        person: Annotated[
            str | None,
            QueryParameter(
                required=False,
                max_length=128,
                description="Only this person's record (staff number); empty if they have none",
            ),
        ] = None,
    ) -> TrainingRecords:
        today = ledger.clock().date()
        if person is None:
            records = ledger.training_records()
        else:
            try:
                records = [ledger.training_record(TrainingRecord.id_for(person))]
            except NotFound:
                records = []
        return TrainingRecords(records=[TrainingRecordOut.of(r, today) for r in records])
