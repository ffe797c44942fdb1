"""The register of governance documents: versions registered and documents withdrawn by an
authorising officer or an admin; read by those who plan, authorise and oversee deployments, and
by analysts (it holds no personal data). A proposal and an authority cite only documents
current here (`domain/deployment/documents.py`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from lfr_ledger.api.dependencies import ActorDep, IdempotencyKey, LedgerDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Created, Done
from lfr_ledger.api.schemas.governance import (
    KINDS,
    DocumentIn,
    DocumentOut,
    Documents,
    Kind,
    WithdrawalIn,
)

WRITE_ERRORS = problem_spec(400, 401, 403, 404, 409, 422)


class GovernanceController(Controller):
    path = "/governance/documents"
    tags = ("governance",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Register a version of a governance document (authorising officer or admin)",
        description="Enters the document (its kind and reference) in the register with this "
        "version, or adds the version to it. Versions are registered in the order of their "
        "approval (an earlier `approved_on` than the latest is a 422); the latest approved by "
        "a day is in force that day: it may be cited up to `review_by` inclusive, and not "
        "from `expires_on`. Sending the same version again records nothing; the same version "
        "with other details is a 409. A proposal's `dpia_ref` and `eia_ref` and an "
        "authority's `appropriate_policy_document` must name a current document, and a "
        "current `equality_evidence` must be registered (policy `[governance]`).",
        responses=WRITE_ERRORS,
    )
    def register(
        self,
        data: JSONBody[DocumentIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        document_id = ledger.register_document(
            actor,
            kind=data.kind,
            reference=data.reference,
            version=data.version,
            title=data.title,
            approved_on=data.approved_on,
            review_by=data.review_by,
            expires_on=data.expires_on,
            model_id=data.model_id,
            digest=data.digest,
            approved_by=data.approved_by,
        )
        return Created(id=document_id)

    @post(
        "/{document_id:uuid}/withdrawal",
        status_code=200,
        sync_to_thread=True,
        summary="Withdraw a governance document now (authorising officer or admin)",
        description="From now on it is never current, whatever its dates: proposals and "
        "authorities citing it are refused. Deployments that cited it keep the version they "
        "cited. A document already withdrawn is a 409.",
        responses=WRITE_ERRORS,
    )
    def withdraw(
        self,
        document_id: FromPath[UUID],
        data: JSONBody[WithdrawalIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.withdraw_document(actor, document_id, reason=data.reason)
        return Done(id=document_id, status=ledger.governance_document(document_id).status)

    @get(
        "/",
        sync_to_thread=True,
        summary="The register: every document, where it stands now, when it is due for review",
        responses=problem_spec(400, 401, 403),
    )
    def documents(
        self,
        ledger: LedgerDep,
        kind: Annotated[
            Kind | None,
            QueryParameter(required=False, description="Only documents of this kind. " + KINDS),
        ] = None,
    ) -> Documents:
        now = ledger.clock()
        listed = ledger.documents(None if kind is None else kind.value)
        return Documents(at=now, documents=[DocumentOut.of(d, now) for d in listed])

    @get(
        "/{document_id:uuid}",
        sync_to_thread=True,
        summary="One governance document and all its versions",
        responses=problem_spec(401, 403, 404),
    )
    def document(self, document_id: FromPath[UUID], ledger: LedgerDep) -> DocumentOut:
        return DocumentOut.of(ledger.governance_document(document_id), ledger.clock())
