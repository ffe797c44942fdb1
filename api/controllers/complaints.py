"""Complaints about a deployment: an authorising officer records one and its resolution; the
deployment's complaints are read back through the query layer (their summaries are personal
data, so each read is logged)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from lfr_ledger.api.dependencies import ActorDep, IdempotencyKey, LedgerDep, ReadsDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Created, Done
from lfr_ledger.api.schemas.complaints import (
    ComplaintIn,
    ComplaintList,
    ComplaintOut,
    ResolutionIn,
)

WRITE_ERRORS = problem_spec(400, 401, 403, 404, 409, 422)
LOGGED = (
    "**Logged.** The summaries and outcomes are personal data: the read is recorded as a "
    "consultation (DPA 2018 s.62) with the purpose the caller's role implies: an authorising "
    "officer reviewing the deployment, oversight."
)


class ComplaintController(Controller):
    path = "/"
    tags = ("complaints",)

    @post(
        "/complaints",
        sync_to_thread=True,
        summary="Record a complaint about a deployment (authorising officer)",
        description="Linked to the deployment and, if it is about one, to one of its alerts "
        "(an alert of another deployment is refused). `channel` is one of the policy's "
        "`complaint_channels`; `received_on` is not after today. The summary is sealed under "
        "the complaint's own key. The post-deployment review counts the deployment's "
        "complaints from these records.",
        responses=WRITE_ERRORS,
    )
    def record_complaint(
        self,
        data: JSONBody[ComplaintIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        complaint_id = ledger.record_complaint(
            actor,
            data.deployment_id,
            received_on=data.received_on,
            channel=data.channel,
            summary=data.summary,
            alert_id=data.alert_id,
        )
        return Created(id=complaint_id)

    @post(
        "/complaints/{complaint_id:uuid}/resolution",
        status_code=200,
        sync_to_thread=True,
        summary="Record how a complaint was resolved (authorising officer)",
        description="Once: a second resolution is a 409. `resolved_on` lies between the day "
        "it was received and today. The outcome is sealed like the summary.",
        responses=WRITE_ERRORS,
    )
    def resolve_complaint(
        self,
        complaint_id: FromPath[UUID],
        data: JSONBody[ResolutionIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.resolve_complaint(
            actor, complaint_id, outcome=data.outcome, resolved_on=data.resolved_on
        )
        return Done(id=complaint_id, status="resolved")

    @get(
        "/deployments/{deployment_id:uuid}/complaints",
        sync_to_thread=True,
        summary="A deployment's complaints, summaries and outcomes opened (logged)",
        description=LOGGED,
        responses=problem_spec(400, 401, 403, 404, 409),
    )
    def list_complaints(self, deployment_id: FromPath[UUID], reads: ReadsDep) -> ComplaintList:
        return ComplaintList(
            deployment_id=deployment_id,
            complaints=[
                ComplaintOut.of(r.complaint, r.revealed) for r in reads.complaints(deployment_id)
            ],
        )
