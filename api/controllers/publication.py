"""Publication records: per-deployment figures in the shape forces publish (no personal data);
figures over a period; the blue watchlist's walk-pasts; the equality trend alarm."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

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
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.base import AwareDateTime
from lfr_ledger.api.schemas.statistics import (
    BlueWalkPastIn,
    BlueWalkPastOut,
    EqualityTrend,
    PeriodFigures,
    PublicationRecord,
)

# What api/guards.py lists for these routes.
ANALYTICS_ROUTES = (
    "GET /statistics/period",
    "POST /deployments/{deployment_id}/blue-walk-pasts",
    "GET /oversight/equality/trend",
)

_DATE = r"^\d{4}-\d{2}-\d{2}$"
FromDate = Annotated[
    str | None,
    QueryParameter(
        name="from", required=False, pattern=_DATE, description="first day (UTC), YYYY-MM-DD"
    ),
]
ToDate = Annotated[
    str | None,
    QueryParameter(
        name="to", required=False, pattern=_DATE, description="last day (UTC, inclusive)"
    ),
]


Year = Annotated[int | None, QueryParameter(required=False, ge=2000, le=2999)]
Month = Annotated[
    str | None,
    QueryParameter(required=False, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM"),
]


def optional_period(
    start: FromDate = None, end: ToDate = None, year: Year = None, month: Month = None
) -> tuple[date, date] | None:
    """The period asked for, if any (`from`/`to`, or `year`, or `month`); None: all time. A
    dependency, so the routes that take a period declare its four parameters once."""
    from lfr_ledger.projections.readers.periods import period_bounds

    if start is None and end is None and year is None and month is None:
        return None
    return period_bounds(start, end, year=year, month=month)


PERIOD_OPTIONAL = (
    " Optionally for one period, as `/statistics/period` takes it (`from` and `to`, or "
    "`year`, or `month`): the deployments that went live in it, so a monthly publication reads "
    "that month only."
)


class PublicationController(Controller):
    path = "/publication"
    tags = ("publication",)
    dependencies = {"period": Provide(optional_period, sync_to_thread=False)}  # noqa: RUF012

    @get(
        "/deployments",
        sync_to_thread=True,
        summary="Publication records of every deployment, or of a period's (JSON)",
        description="One record per deployment that went live." + PERIOD_OPTIONAL,
        responses=problem_spec(400, 401, 403, 422, 503),
    )
    def publication_records(
        self, services: ServicesDep, period: tuple[date, date] | None
    ) -> list[PublicationRecord]:
        return services.statistics().publication_records(period)

    @get(
        "/deployments.csv",
        sync_to_thread=True,
        media_type="text/csv",
        summary="Publication records of every deployment, or of a period's (CSV)",
        description="One row per deployment that went live." + PERIOD_OPTIONAL,
        responses={
            200: ResponseSpec(
                data_container=str, media_type="text/csv", description="One row per deployment"
            ),
            **problem_spec(400, 401, 403, 422, 503),
        },
    )
    def publication_csv(
        self, services: ServicesDep, period: tuple[date, date] | None
    ) -> Response[str]:
        csv: str = services.statistics().publication_csv(period)
        return Response(
            content=csv,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="deployments.csv"'},
        )


class StatisticsController(Controller):
    path = "/statistics"
    tags = ("statistics",)

    @get(
        "/period",
        sync_to_thread=True,
        summary="Figures across operations over a period, for an annual or monthly report",
        description="Every deployment that went live in the period (UTC dates, both inclusive): "
        "give `from` and `to`, or `year`, or `month` (YYYY-MM). Deployments, hours live "
        "(started..ended minus paused), faces as reported by the matcher, alerts, matches, "
        "false alerts, arrests, compliance checks, mutual-aid count, per month. Alerts on blue "
        "(test-subject) entries are in no figure but `blue`.",
        responses=problem_spec(400, 401, 403, 422, 503),
    )
    def period(
        self,
        services: ServicesDep,
        start: FromDate = None,
        end: ToDate = None,
        year: Year = None,
        month: Month = None,
    ) -> PeriodFigures:
        from lfr_ledger.projections.readers.periods import period_bounds

        first, last = period_bounds(start, end, year=year, month=month)
        return services.statistics().period_figures(first, last)


class BlueWalkPastController(Controller):
    path = "/deployments"
    tags = ("statistics",)

    @post(
        "/{deployment_id:uuid}/blue-walk-pasts",
        status_code=201,
        sync_to_thread=True,
        summary="Record a blue walk-past: a consenting test subject passed a camera (operator)",
        description="The entry must be of this deployment and in a blue category of the policy "
        "(`watchlist.blue_categories`); the deployment must be live and `walked_at` within its "
        "live time. The true-positive identification rate is the blue walk-pasts identified "
        "(blue alerts adjudicated match, at most one per walk-past of the entry) over those "
        "recorded; blue alerts count in no operational figure.",
        responses=problem_spec(400, 401, 403, 404, 409, 422),
    )
    def record_blue_walk_past(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[BlueWalkPastIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> BlueWalkPastOut:
        ledger.record_blue_walk_past(
            actor,
            deployment_id,
            entry_id=data.entry_id,
            camera_id=data.camera_id,
            walked_at=data.walked_at,
        )
        deployment = ledger.deployment(deployment_id)
        return BlueWalkPastOut(
            deployment_id=deployment_id,
            entry_id=data.entry_id,
            camera_id=data.camera_id,
            walked_at=data.walked_at,
            walk_pasts=deployment.blue_walk_pasts,
        )


class EqualityTrendController(Controller):
    path = "/oversight"
    tags = ("oversight",)

    @get(
        "/equality/trend",
        sync_to_thread=True,
        summary="The equality trend alarm: each perceived group's share of false alerts, last "
        "window against the one before (oversight; purpose required, logged)",
        description="For each equality field and group: its false alerts in the last "
        "`window_days` (default: the policy's `trend_window_days`) and the window before, its "
        "share, the baseline share (the window before; or, when that had fewer false alerts "
        "than `minimum_cell_size`, the group's share of all alerts now) and their ratio. "
        "`alarm` is raised when a share rose by `trend_alarm_ratio` or more; groups with fewer "
        "false alerts than `minimum_cell_size` are not judged. Blue (test-subject) alerts "
        "are left out.\n\n" + PURPOSE_REQUIRED,
        responses=problem_spec(400, 401, 403, 404, 422),
    )
    def equality_trend(
        self,
        reads: ReadsDep,
        deployment_id: Annotated[UUID | None, QueryParameter(required=False)] = None,
        end: Annotated[
            AwareDateTime | None,
            QueryParameter(
                name="to", required=False, description="end of the last window (default: now)"
            ),
        ] = None,
        window_days: Annotated[int | None, QueryParameter(required=False, ge=1, le=366)] = None,
        x_purpose: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> EqualityTrend:
        from lfr_ledger.domain.clock import recorded_time

        stated = require_purpose(x_purpose, purpose)
        moment: datetime | None = None if end is None else recorded_time(end, "to")
        trend = reads.equality_trend(
            purpose=stated, end=moment, window_days=window_days, deployment_id=deployment_id
        )
        return msgspec.convert(trend, EqualityTrend, from_attributes=True)
