"""Deployments: proposal, authority, the live lifecycle, face counts, review and summary."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from lfr_ledger.api.dependencies import (
    ActorDep,
    IdempotencyKey,
    LedgerDep,
    ServicesDep,
)
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Created, Done
from lfr_ledger.api.schemas.deployment_plans import (
    CameraOut,
    DeploymentIn,
    LocationOut,
    PublicNoticeOut,
)
from lfr_ledger.api.schemas.deployments import (
    AuthorisationIn,
    DeploymentOut,
    FacesCountedIn,
    PauseIn,
    ReviewIn,
    ThresholdEvidenceOut,
    ThresholdIn,
    UrgentConfirmationIn,
)
from lfr_ledger.api.schemas.governance import CitedDocumentOut
from lfr_ledger.api.schemas.statistics import DeploymentSummary
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.errors import InvalidInput, NotFound
from lfr_ledger.domain.values import Camera, DeploymentPlan, Location, PublicNotice

WRITE_ERRORS = problem_spec(400, 401, 403, 404, 409, 422)


def deployment_out(d: Deployment) -> DeploymentOut:
    plan = d.plan
    return DeploymentOut(
        id=d.id,
        operation_id=UUID(plan.operation_id),
        status=str(d.status),
        location=LocationOut(
            name=plan.location.name,
            town=plan.location.town,
            location_type=plan.location.location_type,
            lat=plan.location.lat,
            lon=plan.location.lon,
        ),
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        purpose=plan.purpose,
        intelligence_case=plan.intelligence_case,
        watchlist_categories=list(plan.watchlist_categories),
        cameras=[CameraOut(id=c.id, name=c.name) for c in plan.cameras],
        controlling_force=plan.controlling_force,
        equipment_owner_force=plan.equipment_owner_force,
        equipment_owner_note=plan.equipment_owner_note,
        mutual_aid=plan.mutual_aid,
        mutual_aid_agreement=plan.mutual_aid_agreement,
        dpia_ref=plan.dpia_ref,
        eia_ref=plan.eia_ref,
        policy_ref=plan.policy_ref,
        public_notice=PublicNoticeOut(
            method=plan.public_notice.method,
            issued_at=plan.public_notice.issued_at,
            exemption=plan.public_notice.exemption,
        ),
        model_id=plan.model_id,
        threshold=d.threshold,
        threshold_evidence=_threshold_evidence(d),
        policy_version=d.policy_version,
        proposed_by=d.proposed_by,
        authorised_by=d.authorised_by,
        authorised_at=d.authorised_at,
        authority_ref=d.authority_ref,
        necessity_and_proportionality=d.necessity_and_proportionality,
        appropriate_policy_document=d.appropriate_policy_document,
        governance_documents=CitedDocumentOut.listed(d.documents_cited),
        urgent=d.urgent,
        urgent_confirmed=d.urgent_confirmed,
        urgent_deadline=d.urgent_deadline,
        watchlist_size=len(d.entry_ids),
        watchlist_reviewed=d.watchlist_reviewed,
        signage_confirmed_at=d.signage_confirmed_at,
        started_at=d.started_at,
        ended_at=d.ended_at,
        end_reason=d.end_reason,
        undecided_at_end=list(d.undecided_at_end),
        watchlist_destroyed_at=d.watchlist_destroyed_at,
        post_review_at=d.post_review_at,
    )


def _threshold_evidence(d: Deployment) -> ThresholdEvidenceOut | None:
    cited = d.threshold_evidence
    if cited is None:
        return None
    return ThresholdEvidenceOut(
        reference=str(cited["reference"]), version=cited["version"], digest=cited["digest"]
    )


def _done(ledger: LedgerDep, deployment_id: UUID) -> Done:
    return Done(id=deployment_id, status=str(ledger.deployment(deployment_id).status))


class DeploymentController(Controller):
    path = "/deployments"
    tags = ("deployments",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Propose a deployment (planner)",
        responses=WRITE_ERRORS,
    )
    def propose_deployment(
        self,
        data: JSONBody[DeploymentIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        plan = DeploymentPlan(
            operation_id=str(data.operation_id),
            location=Location(
                name=data.location.name,
                town=data.location.town,
                location_type=data.location.location_type,
                lat=data.location.lat,
                lon=data.location.lon,
            ),
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            purpose=data.purpose,
            intelligence_case=data.intelligence_case,
            watchlist_categories=tuple(data.watchlist_categories),
            cameras=tuple(Camera(id=c.id, name=c.name) for c in data.cameras),
            controlling_force=data.controlling_force,
            equipment_owner_force=data.equipment_owner_force,
            dpia_ref=data.dpia_ref,
            eia_ref=data.eia_ref,
            policy_ref=data.policy_ref,
            public_notice=PublicNotice(
                method=data.public_notice.method,
                issued_at=data.public_notice.issued_at,
                exemption=data.public_notice.exemption,
            ),
            model_id=data.model_id or ledger.policy.default_model,
            mutual_aid_agreement=data.mutual_aid_agreement,
            equipment_owner_note=data.equipment_owner_note,
        )
        return Created(id=ledger.propose_deployment(actor, plan, threshold=data.threshold))

    @get(
        "/{deployment_id:uuid}",
        sync_to_thread=True,
        summary="A deployment's plan and state (no personal data)",
        responses=problem_spec(400, 401, 403, 404),
    )
    def get_deployment(self, deployment_id: FromPath[UUID], ledger: LedgerDep) -> DeploymentOut:
        return deployment_out(ledger.deployment(deployment_id))

    @post(
        "/{deployment_id:uuid}/authorisation",
        status_code=200,
        sync_to_thread=True,
        summary="Authorise (authority_ref, urgent) or refuse (refused: true, reason) a proposal",
        description="Authorising officer of the policy's minimum rank; never the proposer or "
        "the watchlist compiler.",
        responses=WRITE_ERRORS,
    )
    def authorise_deployment(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[AuthorisationIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        if data.refused:
            if (
                data.authority_ref
                or data.urgent
                or data.necessity_and_proportionality
                or data.appropriate_policy_document
            ):
                raise InvalidInput(
                    "a refusal carries a reason, not an authority_ref, urgent, "
                    "necessity_and_proportionality or appropriate_policy_document"
                )
            ledger.refuse_deployment(actor, deployment_id, data.reason or "")
        else:
            if data.reason:
                raise InvalidInput("reason belongs to a refusal; to authorise, send authority_ref")
            ledger.authorise_deployment(
                actor,
                deployment_id,
                authority_ref=data.authority_ref or "",
                necessity_and_proportionality=data.necessity_and_proportionality or "",
                appropriate_policy_document=data.appropriate_policy_document or "",
                urgent=data.urgent,
            )
        return _done(ledger, deployment_id)

    @post(
        "/{deployment_id:uuid}/authorisation/confirmation",
        status_code=200,
        sync_to_thread=True,
        summary="Confirm an urgent (oral) authority in writing",
        responses=WRITE_ERRORS,
    )
    def confirm_urgent_authority(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[UrgentConfirmationIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.confirm_urgent_authority(actor, deployment_id, data.written_ref)
        return _done(ledger, deployment_id)

    @post(
        "/{deployment_id:uuid}/threshold",
        status_code=200,
        sync_to_thread=True,
        summary="Change the similarity threshold (authorising officer; never below the floor)",
        responses=WRITE_ERRORS,
    )
    def change_threshold(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[ThresholdIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.change_threshold(
            actor, deployment_id, data.threshold, data.reason, evaluation_ref=data.evaluation_ref
        )
        return _done(ledger, deployment_id)

    @post(
        "/{deployment_id:uuid}/start",
        status_code=200,
        sync_to_thread=True,
        summary="Start the live deployment (operator; authorised, reviewed, inside the window)",
        responses=WRITE_ERRORS,
    )
    def start_deployment(
        self,
        deployment_id: FromPath[UUID],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.start_deployment(actor, deployment_id)
        return _done(ledger, deployment_id)

    @post(
        "/{deployment_id:uuid}/pause",
        status_code=200,
        sync_to_thread=True,
        summary="Pause the live deployment (operator)",
        responses=WRITE_ERRORS,
    )
    def pause_deployment(
        self,
        deployment_id: FromPath[UUID],
        ledger: LedgerDep,
        actor: ActorDep,
        data: JSONBody[PauseIn | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.pause_deployment(actor, deployment_id, reason=data.reason if data else "")
        return _done(ledger, deployment_id)

    @post(
        "/{deployment_id:uuid}/resume",
        status_code=200,
        sync_to_thread=True,
        summary="Resume a paused deployment (operator)",
        responses=WRITE_ERRORS,
    )
    def resume_deployment(
        self,
        deployment_id: FromPath[UUID],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.resume_deployment(actor, deployment_id)
        return _done(ledger, deployment_id)

    @post(
        "/{deployment_id:uuid}/end",
        status_code=200,
        sync_to_thread=True,
        summary="End the deployment (operator)",
        responses=WRITE_ERRORS,
    )
    def end_deployment(
        self,
        deployment_id: FromPath[UUID],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.end_deployment(actor, deployment_id)
        return _done(ledger, deployment_id)

    @post(
        "/{deployment_id:uuid}/faces-counted",
        sync_to_thread=True,
        summary="Report faces processed by a camera in a period (the deployment's matcher)",
        description="The only trace non-matching faces leave. The report's id derives from "
        "(deployment, camera, period_start): resending the same report records it once.",
        responses=WRITE_ERRORS,
    )
    def faces_counted(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[FacesCountedIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        report_id = ledger.report_faces_counted(
            actor,
            deployment_id,
            camera_id=data.camera_id,
            period_start=data.period_start,
            period_end=data.period_end,
            count=data.count,
        )
        return Created(id=report_id)

    @post(
        "/{deployment_id:uuid}/review",
        status_code=200,
        sync_to_thread=True,
        summary="Record the post-deployment review (authorising officer)",
        description="Once the deployment ended and every alert has its decision: whether its "
        "objectives were met (met, partly_met, not_met) and why, the issues met, its impact on "
        "the community, the lessons, and complaints the records do not hold. The complaints "
        "recorded against the deployment (`POST /complaints`) are counted from their records. "
        "Every part is kept in clear for oversight and the period report, so it names no one.",
        responses=WRITE_ERRORS,
    )
    def post_deployment_review(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[ReviewIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.record_post_deployment_review(actor, deployment_id, data.review())
        return _done(ledger, deployment_id)

    @get(
        "/{deployment_id:uuid}/summary",
        sync_to_thread=True,
        summary="Statistics of one deployment (no personal data)",
        responses=problem_spec(400, 401, 403, 404, 503),
    )
    def deployment_summary(
        self, deployment_id: FromPath[UUID], services: ServicesDep
    ) -> DeploymentSummary:
        summary = services.statistics().deployment_summary(deployment_id)
        if summary is None:
            raise NotFound(f"no statistics for deployment {deployment_id}")
        return summary
