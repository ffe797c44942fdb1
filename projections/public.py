"""The read model of the public page (`/public`): per deployment, what its public notice said
(how it was given and when, or that an exemption was recorded: never the exemption's reason),
the watchlist categories it was authorised for, and when its results were published or recorded
overdue. Where, when and why come from `view_deployments`; the figures from the publication
record. Nothing here names or describes a person."""

from __future__ import annotations

from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.projections.rows import Rows, Table
from lfr_ledger.projections.view_base import Event, View, iso, on

PUBLIC_DEPLOYMENTS = "view_public_deployments"


class PublicDeploymentsView(View):
    name = "public_deployments"
    tables = (
        Table(
            PUBLIC_DEPLOYMENTS,
            key=("deployment_id",),
            columns=(
                "deployment_id",
                "watchlist_categories",
                "notice_method",
                "notice_issued_at",
                "notice_exempt",
                "results_published_at",
                "publication_overdue_at",
            ),
            defaults={"notice_exempt": 0},
        ),
    )

    @on(DeploymentTopic.PROPOSED)
    def _proposed(self, e: Event, rows: Rows) -> None:
        notice = e.plan.public_notice
        rows.insert(
            PUBLIC_DEPLOYMENTS,
            deployment_id=str(e.originator_id),
            # Policy codes (closed list, no spaces), joined: one column, read back by split.
            watchlist_categories=" ".join(e.plan.watchlist_categories),
            notice_method=notice.method,
            notice_issued_at=None if notice.issued_at is None else iso(notice.issued_at),
            notice_exempt=int(notice.issued_at is None),
        )

    @on(DeploymentTopic.RESULTS_PUBLISHED)
    def _published(self, e: Event, rows: Rows) -> None:
        rows.update(
            PUBLIC_DEPLOYMENTS, str(e.originator_id), results_published_at=iso(e.occurred_at)
        )

    @on(DeploymentTopic.PUBLICATION_OVERDUE)
    def _overdue(self, e: Event, rows: Rows) -> None:
        rows.update(
            PUBLIC_DEPLOYMENTS, str(e.originator_id), publication_overdue_at=iso(e.occurred_at)
        )
