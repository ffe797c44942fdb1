"""The post-deployment reviews and complaints of a set of deployments, for the period report:
per deployment whether it was reviewed, whether its objectives were met, its lessons, and how
many complaints were recorded against it (and resolved). Read from `view_deployment_reviews`
and `view_complaints`, which hold no personal data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from lfr_ledger.projections.db import Database
from lfr_ledger.projections.readers.base import select_rows
from lfr_ledger.projections.readers.figures import Row
from lfr_ledger.projections.reviews import ReviewsView

_REVIEW_COLUMNS = ReviewsView.tables[0].columns


def period_reviews(
    db: Database, deployments: Sequence[Row], where: str, params: Sequence[Any]
) -> Row:
    """The review figures of `deployments` (those `where` picks from `view_deployments`, in
    the order given): `reviews` (one row each), `reviewed_deployments`, `complaints` and
    `complaints_resolved`."""
    inn = f"deployment_id IN (SELECT deployment_id FROM view_deployments WHERE {where})"
    reviewed = {
        r["deployment_id"]: r
        for r in select_rows(
            db, _REVIEW_COLUMNS, f"FROM view_deployment_reviews WHERE {inn}", params
        )
    }
    complaints: Counter[str] = Counter()
    resolved: Counter[str] = Counter()
    for c in select_rows(
        db, ("deployment_id", "resolved_on"), f"FROM view_complaints WHERE {inn}", params
    ):
        complaints[c["deployment_id"]] += 1
        resolved[c["deployment_id"]] += c["resolved_on"] is not None
    reviews = []
    for d in deployments:
        review = reviewed.get(d["deployment_id"])
        reviews.append(
            {
                "deployment_id": d["deployment_id"],
                "location": f"{d['location_name']}, {d['town']}",
                "started_at": d["started_at"],
                "reviewed": review is not None,
                "reviewed_at": review["reviewed_at"] if review else None,
                "objectives_met": review["objectives_met"] if review else None,
                "lessons": review["lessons"] if review else None,
                "complaints": complaints[d["deployment_id"]],
                "complaints_resolved": resolved[d["deployment_id"]],
            }
        )
    return {
        "reviewed_deployments": len(reviewed),
        "complaints": sum(complaints.values()),
        "complaints_resolved": sum(resolved.values()),
        "reviews": reviews,
    }
