"""A deployment's watchlist: enrolment, review, withdrawal and (logged) reading of an entry."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Response

from lfr_ledger.api.controllers.alerts import IN_ROLE, image_response
from lfr_ledger.api.dependencies import (
    PURPOSE_REQUIRED,
    ActorDep,
    IdempotencyKey,
    LedgerDep,
    PurposeHeader,
    PurposeQuery,
    ReadsDep,
    ServicesDep,
    require_purpose,
)
from lfr_ledger.api.enrolment import compute_template
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.common import Created, Done
from lfr_ledger.api.schemas.watchlist import (
    EnrolmentIn,
    Watchlist,
    WatchlistEntryOut,
    WatchlistReviewed,
    WatchlistReviewIn,
    WatchlistRow,
    WithdrawalIn,
)
from lfr_ledger.domain.application import Enrolment
from lfr_ledger.domain.subject_ref import SubjectRef

WRITE_ERRORS = problem_spec(400, 401, 403, 404, 409, 413, 422)


class WatchlistController(Controller):
    path = "/"
    tags = ("watchlist",)

    @post(
        "/deployments/{deployment_id:uuid}/watchlist/entries",
        sync_to_thread=True,
        summary="Enrol a subject in the deployment's watchlist (watchlist manager)",
        description="`image` (base64, at most 10 MB) is turned into a template by the matching "
        "engine; without it the entry holds references only, for an external matcher.",
        responses=WRITE_ERRORS,
    )
    def enrol(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[EnrolmentIn],
        services: ServicesDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        ledger = services.ledger
        template: bytes | None = None
        model_id: str | None = None
        if data.image is not None:
            # Refuse early what the deployment would refuse anyway, before costly inference.
            SubjectRef.parse(data.subject_ref)
            deployment = ledger.deployment(deployment_id)
            template, model_id = compute_template(
                services.settings, data.image, deployment.plan.model_id
            )
        entry_id = ledger.enrol(
            actor,
            deployment_id,
            Enrolment(
                subject_ref=data.subject_ref,
                name=data.name,
                category=data.category,
                legal_basis=data.legal_basis,
                rationale=data.rationale,
                offence=data.offence,
                image_source=data.image_source,
                image_taken_on=data.image_taken_on,
                under_18=data.under_18,
                under_18_justification=data.under_18_justification,
                description=data.description,
            ),
            image=data.image,
            template=template,
            model_id=model_id,
        )
        return Created(id=entry_id)

    @post(
        "/deployments/{deployment_id:uuid}/watchlist/review",
        status_code=200,
        sync_to_thread=True,
        summary="Review the watchlist: confirm its size and that it is not excessive (AO)",
        responses=WRITE_ERRORS,
    )
    def review_watchlist(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[WatchlistReviewIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> WatchlistReviewed:
        count = ledger.review_watchlist(
            actor,
            deployment_id,
            confirmed_count=data.confirmed_count,
            not_excessive=data.not_excessive,
            note=data.note,
        )
        status = str(ledger.deployment(deployment_id).status)
        return WatchlistReviewed(id=deployment_id, status=status, entry_count=count)

    @post(
        "/watchlist/entries/{entry_id:uuid}/withdrawal",
        status_code=200,
        sync_to_thread=True,
        summary="Withdraw an entry from its watchlist (watchlist manager or AO)",
        responses=WRITE_ERRORS,
    )
    def withdraw_entry(
        self,
        entry_id: FromPath[UUID],
        data: JSONBody[WithdrawalIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.withdraw_entry(actor, entry_id, data.reason)
        return Done(id=entry_id, status=str(ledger.watchlist_entry(entry_id).status))

    @get(
        "/deployments/{deployment_id:uuid}/watchlist",
        sync_to_thread=True,
        summary="A deployment's watchlist entries, for review: category, status, whether an "
        "image is held (no name, reference or image; each entry reads in full on its own route)",
        description=IN_ROLE,
        responses=problem_spec(400, 401, 403, 404),
    )
    def list_entries(self, deployment_id: FromPath[UUID], reads: ReadsDep) -> Watchlist:
        listed = reads.watchlist(deployment_id)
        deployment = listed.deployment
        rows = []
        for entry in listed.entries:
            rows.append(
                WatchlistRow(
                    id=entry.id,
                    category=entry.category,
                    status=str(entry.status),
                    under_18=entry.under_18,
                    model_id=entry.model_id,
                    has_image=entry.sealed_image is not None,
                    enrolled_by=entry.enrolled_by,
                    enrolled_at=entry.enrolled_at,
                    confirmed_at=entry.confirmed_at,
                )
            )
        return Watchlist(
            deployment_id=deployment_id, reviewed=deployment.watchlist_reviewed, entries=rows
        )

    @get(
        "/watchlist/entries/{entry_id:uuid}",
        sync_to_thread=True,
        summary="Read a watchlist entry, personal data included (purpose required, logged)",
        description="Every field of the entry: the subject's reference, name and rationale "
        'unsealed (they read "[erased]" once retention shredded them), and whether an image '
        "and a template are held (the image itself: `GET .../image`).\n\n" + PURPOSE_REQUIRED,
        responses=problem_spec(400, 401, 403, 404),
    )
    def get_entry(
        self,
        entry_id: FromPath[UUID],
        reads: ReadsDep,
        x_purpose: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> WatchlistEntryOut:
        stated = require_purpose(x_purpose, purpose)
        read = reads.entry(entry_id, purpose=stated)
        entry, revealed = read.entry, read.revealed
        return WatchlistEntryOut(
            id=entry_id,
            deployment_id=entry.deployment_id,
            status=str(entry.status),
            subject_ref=revealed.subject_ref,
            name=revealed.name,
            category=entry.category,
            legal_basis=read.legal_basis,
            rationale=revealed.rationale,
            offence=read.offence,
            image_source=read.image_source,
            image_taken_on=entry.image_taken_on,
            under_18=entry.under_18,
            under_18_justification=revealed.under_18_justification,
            model_id=entry.model_id,
            has_image=revealed.image is not None,
            has_template=revealed.template is not None,
            erased=revealed.erased,
            enrolled_by=entry.enrolled_by,
            enrolled_at=entry.enrolled_at,
            description=read.description,
        )

    @get(
        "/watchlist/entries/{entry_id:uuid}/image",
        sync_to_thread=True,
        media_type="image/jpeg",
        summary="An entry's enrolled image, to compare during adjudication or review (logged)",
        description="The image the watchlist manager enrolled, as stored (JPEG or PNG). 404 "
        "`no-image` when the entry was enrolled without one, `image-destroyed` once its "
        "watchlist was destroyed.\n\n" + PURPOSE_REQUIRED,
        response_description="The enrolled image (image/jpeg, or image/png as enrolled)",
        responses=problem_spec(400, 401, 403, 404),
    )
    def get_entry_image(
        self,
        entry_id: FromPath[UUID],
        reads: ReadsDep,
        x_purpose: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> Response[bytes]:
        stated = require_purpose(x_purpose, purpose)
        return image_response(reads.entry_image(entry_id, purpose=stated))
