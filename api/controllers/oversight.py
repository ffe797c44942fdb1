"""Oversight: subject access, equality monitoring, the access review, disclosures recorded and
listed, and a deployment's signed bundle as a download."""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Dependency, FromPath, JSONBody, QueryParameter

from lfr_ledger.api.dependencies import (
    PURPOSE_REQUIRED,
    ActorDep,
    IdempotencyKey,
    LedgerDep,
    PurposeHeader,
    PurposeQuery,
    ReadsDep,
    require_purpose,
)
from lfr_ledger.api.personal_data import SubjectRecords
from lfr_ledger.api.problems import ProblemException, problem_spec
from lfr_ledger.api.schemas.base import AwareDateTime
from lfr_ledger.api.schemas.common import Created
from lfr_ledger.api.schemas.grants import BODY_CODE_PATTERN
from lfr_ledger.api.schemas.oversight import (
    AccessReview,
    DisclosureIn,
    DisclosureOut,
    Disclosures,
    Equality,
    SubjectAccess,
)
from lfr_ledger.domain.actors import Role
from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.errors import InvalidInput

# A bundle over HTTP is given to the oversight body that asks for it, on this basis.
BUNDLE_LEGAL_BASIS = "oversight of law enforcement processing (DPA 2018 Part 3)"

# What api/guards.py needs for these routes (kept here for the tests until it lists them).
ACCESS_ROWS: dict[str, frozenset[Role]] = {
    "GET /subject-access": frozenset({Role.OVERSIGHT}),
    "GET /oversight/equality": frozenset({Role.OVERSIGHT}),
    "GET /oversight/access-review": frozenset({Role.OVERSIGHT}),
    "POST /oversight/disclosures": frozenset({Role.AUTHORISING_OFFICER, Role.OVERSIGHT}),
    "GET /audit/disclosures": frozenset({Role.OVERSIGHT}),
    "GET /oversight/bundles/{deployment_id}": frozenset({Role.OVERSIGHT}),
}
PERSONAL_DATA_ROUTES = frozenset(
    {"GET /subject-access", "GET /oversight/equality", "GET /oversight/bundles/{deployment_id}"}
)

From = Annotated[
    AwareDateTime | None,
    QueryParameter(name="from", required=False, description="start (inclusive, ISO 8601)"),
]
To = Annotated[
    AwareDateTime | None,
    QueryParameter(name="to", required=False, description="end (exclusive, ISO 8601)"),
]


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _period(request: Request[Any, Any, Any], start: datetime | None, end: datetime | None) -> None:
    for name, moment in (("from", start), ("to", end)):
        raw = request.query_params.get(name)
        # The parser would read a bare number as seconds since 1970.
        if raw is not None and not _ISO_TIME.match(raw):
            raise ProblemException(
                400,
                "invalid-period",
                "Invalid period",
                f"{name} must be an ISO 8601 time with an offset, e.g. 2025-06-02T10:00:00Z",
            )
        if moment is not None:
            try:
                recorded_time(moment, name)
            except InvalidInput as refused:
                raise ProblemException(
                    400, "invalid-period", "Invalid period", refused.detail
                ) from None
    if start is not None and end is not None and end <= start:
        raise ProblemException(
            400, "invalid-period", "Invalid period", "`to` must be later than `from`"
        )


def provide_subject_index(state: State) -> SubjectRecords:
    """The subject index the composition root built when it assembled the app (`api/app.py`)."""
    index: SubjectRecords = state.subject_index
    return index


# A protocol, which Litestar cannot check an instance against: the composition root vouches for it.
SubjectIndexDep = Annotated[SubjectRecords, Dependency(skip_validation=True)]


class OversightController(Controller):
    path = "/"
    tags = ("oversight",)

    @get(
        "/subject-access",
        sync_to_thread=True,
        summary="Was a person on a watchlist or in an alert in a period (oversight; logged)",
        description="Found by the keyed digest of the subject reference, so the answer stands "
        'after the watchlist was destroyed; personal fields then read "[erased]". The read '
        "is logged as a consultation naming the digest, never the reference. The reference "
        "follows the enrolment's rule (Latin letters, digits, spaces, `-` `/` `.`): any other "
        "character is a 422 naming its code point, not an empty answer.\n\n" + PURPOSE_REQUIRED,
        responses=problem_spec(400, 401, 403),
        dependencies={"subject_index": Provide(provide_subject_index, sync_to_thread=False)},
    )
    def subject_access(
        self,
        request: Request[Any, Any, Any],
        reads: ReadsDep,
        subject_index: SubjectIndexDep,
        subject_ref: Annotated[str, QueryParameter(min_length=1, max_length=200)],
        start: Annotated[AwareDateTime, QueryParameter(name="from")],
        end: Annotated[AwareDateTime, QueryParameter(name="to")],
        x_purpose: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> SubjectAccess:
        stated = require_purpose(x_purpose, purpose)
        _period(request, start, end)
        report = reads.subject_access(
            subject_ref, start=start, end=end, purpose=stated, index=subject_index
        )
        return msgspec.convert(report, SubjectAccess, from_attributes=True)

    @get(
        "/oversight/equality",
        sync_to_thread=True,
        summary="Alerts, false alerts and engagements by perceived group, with 95% CIs "
        "(oversight; logged)",
        description="Every count, unsuppressed, and Wilson score intervals for the false-alert "
        "rate (false / alerts whose identity was established). Analysts get the suppressed "
        "view from `lfr equality`.\n\n" + PURPOSE_REQUIRED,
        responses=problem_spec(400, 401, 403, 404),
    )
    def equality(
        self,
        request: Request[Any, Any, Any],
        reads: ReadsDep,
        deployment_id: Annotated[UUID | None, QueryParameter(required=False)] = None,
        start: From = None,
        end: To = None,
        x_purpose: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> Equality:
        stated = require_purpose(x_purpose, purpose)
        _period(request, start, end)
        report = reads.equality(purpose=stated, deployment_id=deployment_id, start=start, end=end)
        return msgspec.convert(report, Equality, from_attributes=True)

    @get(
        "/oversight/access-review",
        sync_to_thread=True,
        summary="Who consulted or disclosed which records, filtered by actor, oversight body, "
        "record, period",
        description="`body`: only the accesses of readers acting for that oversight body. A "
        "body of limited remit may review only its own (403 `outside-grant` otherwise).",
        responses=problem_spec(400, 401, 403, 422),
    )
    def access_review(
        self,
        request: Request[Any, Any, Any],
        reads: ReadsDep,
        actor_id: Annotated[str | None, QueryParameter(required=False, max_length=200)] = None,
        of_body: Annotated[
            str | None,
            QueryParameter(name="body", required=False, max_length=32, pattern=BODY_CODE_PATTERN),
        ] = None,
        record: Annotated[str | None, QueryParameter(required=False, max_length=200)] = None,
        start: From = None,
        end: To = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> AccessReview:
        _period(request, start, end)
        review = reads.access_review(
            actor_id=actor_id,
            body=of_body,
            record=record,
            start=start,
            end=end,
            after=after,
            limit=limit,
        )
        return msgspec.convert(review, AccessReview, from_attributes=True)

    # --- disclosures --------------------------------------------------------------------------

    @post(
        "/oversight/disclosures",
        sync_to_thread=True,
        summary="Record a disclosure: personal data given outside the system (AO, oversight)",
        description="Who received which record, on which legal basis (DPA 2018 Part 3 s.62). "
        "The recipient and the record are sealed in the log under the disclosure's own key "
        "and erased after `retention.access_log_years`; the fact of the disclosure stays.",
        responses=problem_spec(400, 401, 403, 409, 422),
    )
    def record_disclosure(
        self,
        data: JSONBody[DisclosureIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        disclosure_id = ledger.record_disclosure(
            actor, recipient=data.recipient, record=data.record, legal_basis=data.legal_basis
        )
        return Created(id=disclosure_id)

    @get(
        "/audit/disclosures",
        sync_to_thread=True,
        summary="The disclosure log: who gave which personal data to whom, and why (oversight)",
        description='Recipient and record read "[erased]" once access-log retention '
        "destroyed them. Paged by notification id: pass `next_after` as `after`.",
        responses=problem_spec(400, 401, 403),
    )
    def disclosures(
        self,
        reads: ReadsDep,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> Disclosures:
        batch = reads.disclosures(after, limit)
        items = [
            DisclosureOut(
                notification_id=d.notification_id,
                id=d.id,
                recipient=d.recipient or "",
                record=d.record or "",
                legal_basis=d.event.legal_basis,
                actor_id=d.event.actor_id,
                occurred_at=d.event.occurred_at,
                content_destroyed_at=d.event.content_destroyed_at,
            )
            for d in batch
        ]
        return Disclosures(
            disclosures=items,
            next_after=batch[-1].notification_id if len(batch) == limit else None,
        )

    # --- bundles ------------------------------------------------------------------------------

    @get(
        "/oversight/bundles/{deployment_id:uuid}",
        sync_to_thread=True,
        media_type="application/zip",
        summary="A deployment's signed oversight bundle, as a zip (oversight; purpose required, "
        "logged)",
        description="The bundle `lfr audit export --deployment` writes (events.jsonl, "
        "chain.jsonl, checkpoint.json, public_key.pem, manifest.json) in one zip file; "
        "`lfr audit verify-bundle` checks it offline, zipped or unzipped. It holds personal data "
        "(sealed fields as ciphertext, pseudonymous digests, staff numbers of the actors): "
        "the bundle is also recorded as a disclosure to the caller.\n\n" + PURPOSE_REQUIRED,
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type="application/zip",
                description="A zip archive of the signed bundle",
            ),
            **problem_spec(400, 401, 403, 404, 409),
        },
    )
    def bundle(
        self,
        deployment_id: FromPath[UUID],
        reads: ReadsDep,
        actor: ActorDep,
        x_purpose: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> Response[bytes]:
        from lfr_ledger.eventlog.checkpoint_signature import CheckpointError
        from lfr_ledger.oversight.bundles.format import BundleError

        stated = require_purpose(x_purpose, purpose)
        with tempfile.TemporaryDirectory(prefix="lfr-bundle-") as tmp:
            out = Path(tmp) / "bundle"
            try:
                reads.bundle(
                    out,
                    purpose=stated,
                    recipient=actor.id,
                    legal_basis=BUNDLE_LEGAL_BASIS,
                    deployment_id=deployment_id,
                )
            except (CheckpointError, BundleError) as refused:
                raise ProblemException(
                    409, "bundle-refused", "The bundle could not be made", str(refused)
                ) from None
            archive = io.BytesIO()
            with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
                for path in sorted(out.iterdir()):
                    zipped.write(path, arcname=f"bundle-{deployment_id}/{path.name}")
        return Response(
            content=archive.getvalue(),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="bundle-{deployment_id}.zip"'},
        )
