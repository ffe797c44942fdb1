"""Oversight reads: subject access, equality monitoring and the access review."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.params import QueryParameter

from lfr_ledger.api.controllers.deps import (
    ActorDep,
    LedgerDep,
    PurposeHeader,
    PurposeQuery,
    require_purpose,
)
from lfr_ledger.api.problems import ProblemException, problem_spec
from lfr_ledger.api.schemas.base import AwareDateTime
from lfr_ledger.api.schemas.oversight import AccessReview, Equality, SubjectAccess
from lfr_ledger.domain.actors import Role
from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.errors import InvalidInput

# What api/guards.py needs for these routes (kept here for the tests until it lists them).
ACCESS_ROWS: dict[str, frozenset[Role]] = {
    "GET /subject-access": frozenset({Role.OVERSIGHT}),
    "GET /oversight/equality": frozenset({Role.OVERSIGHT}),
    "GET /oversight/access-review": frozenset({Role.OVERSIGHT}),
}
PERSONAL_DATA_ROUTES = frozenset({"GET /subject-access", "GET /oversight/equality"})

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


class OversightController(Controller):
    path = "/"
    tags = ("oversight",)

    @get(
        "/subject-access",
        sync_to_thread=True,
        summary="Was a person on a watchlist or in an alert in a period (oversight; logged)",
        description="Found by the keyed digest of the subject reference, so the answer stands "
        'after the watchlist was destroyed; personal fields then read "[erased]". The read '
        "is logged as a consultation naming the digest, never the reference.",
        responses=problem_spec(400, 401, 403),
    )
    def subject_access(
        self,
        request: Request[Any, Any, Any],
        ledger: LedgerDep,
        actor: ActorDep,
        subject_ref: Annotated[str, QueryParameter(min_length=1, max_length=200)],
        start: Annotated[AwareDateTime, QueryParameter(name="from")],
        end: Annotated[AwareDateTime, QueryParameter(name="to")],
        x_purpose: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> SubjectAccess:
        from lfr_ledger.oversight.subject_access import subject_access

        stated = require_purpose(x_purpose, purpose)
        _period(request, start, end)
        report = subject_access(ledger, subject_ref, start=start, end=end)
        ledger.record_consultation(
            actor, record=f"subject_access:{report.subject_digest}", purpose=stated
        )
        return msgspec.convert(report, SubjectAccess, from_attributes=True)

    @get(
        "/oversight/equality",
        sync_to_thread=True,
        summary="Alerts, false alerts and engagements by perceived group, with 95% CIs "
        "(oversight; logged)",
        description="Every count, unsuppressed, and Wilson score intervals for the false-alert "
        "rate (false / alerts whose identity was established). Analysts get the suppressed "
        "view from `lfr equality`.",
        responses=problem_spec(400, 401, 403, 404),
    )
    def equality(
        self,
        request: Request[Any, Any, Any],
        ledger: LedgerDep,
        actor: ActorDep,
        deployment_id: Annotated[UUID | None, QueryParameter(required=False)] = None,
        start: From = None,
        end: To = None,
        x_purpose: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> Equality:
        from lfr_ledger.oversight.equality import Audience, equality_report

        stated = require_purpose(x_purpose, purpose)
        _period(request, start, end)
        if deployment_id is not None:
            ledger.deployment(deployment_id)  # 404 for an unknown deployment
        report = equality_report(
            ledger,
            audience=Audience.OVERSIGHT,
            deployment_id=deployment_id,
            start=start,
            end=end,
        )
        ledger.record_consultation(
            actor, record=f"equality:{deployment_id or 'all'}", purpose=stated
        )
        return msgspec.convert(report, Equality, from_attributes=True)

    @get(
        "/oversight/access-review",
        sync_to_thread=True,
        summary="Who consulted or disclosed which records, filtered by actor, record, period",
        responses=problem_spec(400, 401, 403),
    )
    def access_review(
        self,
        request: Request[Any, Any, Any],
        ledger: LedgerDep,
        actor_id: Annotated[str | None, QueryParameter(required=False, max_length=200)] = None,
        record: Annotated[str | None, QueryParameter(required=False, max_length=200)] = None,
        start: From = None,
        end: To = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> AccessReview:
        from lfr_ledger.oversight.access_review import access_review

        _period(request, start, end)
        review = access_review(
            ledger,
            actor_id=actor_id,
            record=record,
            start=start,
            end=end,
            after=after,
            limit=limit,
        )
        return msgspec.convert(review, AccessReview, from_attributes=True)
