"""The publication records: one per deployment that went live, in the shape forces publish,
as structs or CSV."""

from __future__ import annotations

from datetime import date, timedelta

import msgspec

from lfr_ledger.projections.publication import publication_record, records_to_csv
from lfr_ledger.projections.readers.base import PerDeployment, ViewReader
from lfr_ledger.projections.statistics import tally
from lfr_ledger.projections.store import store_for
from lfr_ledger.projections.summaries import PublicationRecord


class PublicationReader(ViewReader):
    """The record forces publish per deployment that went live."""

    def publication_records(
        self, period: tuple[date, date] | None = None
    ) -> list[PublicationRecord]:
        """One record per deployment that went live (in `period`, dates both inclusive, if
        given), in the shape forces publish."""
        went_live = "started_at IS NOT NULL"
        bounds: tuple[str, ...] = ()
        if period is not None:
            went_live += " AND started_at >= ? AND started_at < ?"
            bounds = (period[0].isoformat(), (period[1] + timedelta(days=1)).isoformat())
        with store_for(self.settings).connection() as db, db.snapshot():
            deployments = self._deployments(db, went_live, bounds)
            details = self._details(
                db,
                went_live,
                bounds,
                faces_summed=True,
                ids=[d["deployment_id"] for d in deployments],
            )
        grouped = PerDeployment.of(details)
        sizes, alerts_of, faces_of = grouped.sizes, grouped.alerts, grouped.faces
        now = self.clock()
        records = []
        for d in deployments:
            counts = tally(alerts_of[d["deployment_id"]], faces_of[d["deployment_id"]])
            records.append(
                publication_record(
                    d,
                    watchlist_size=sizes[d["deployment_id"]],
                    counts=counts,
                    operation=self._operation_fields(
                        details["operation"].get(d["deployment_id"]), counts, now, d["ends_at"]
                    ),
                )
            )
        return msgspec.convert(records, list[PublicationRecord])

    def publication_csv(self, period: tuple[date, date] | None = None) -> str:
        return records_to_csv(msgspec.to_builtins(self.publication_records(period)))
