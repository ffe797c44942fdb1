"""What retention has destroyed lately, from the `retention_deadlines` view: the time of the
latest destruction and counts by kind since a moment. Counts and times only (the administrator's
page shows them; which records were destroyed is the log's business)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.oversight_indexes import RETENTION_DEADLINES, moment
from lfr_ledger.projections.store import store_for

# (table, column dated by the destruction's event)
_DESTROYED = (
    ("view_retention_watchlists", "destroyed_at"),
    ("view_retention_alert_images", "erased_at"),
    ("view_retention_access_records", "destroyed_at"),
)


class RetentionActivity(NamedTuple):
    latest: datetime | None
    watchlists: int
    alert_images: int
    access_records: int


def retention_activity(settings: Settings, since: datetime) -> RetentionActivity:
    """The latest destruction ever recorded, and how many of each kind at or after `since`.
    The view is caught up first, so a run that has just finished is counted."""
    catch_up(settings, names=[RETENTION_DEADLINES])
    bound = moment(since)
    latest: list[str] = []
    counts: list[int] = []
    with store_for(settings).connection() as db, db.snapshot():
        for table, column in _DESTROYED:
            rows = db.execute(
                f"SELECT MAX({column}), SUM(CASE WHEN {column} >= ? THEN 1 ELSE 0 END) "
                f"FROM {table} WHERE {column} IS NOT NULL",
                (bound,),
            )
            newest, count = rows[0] if rows else (None, 0)
            if newest is not None:
                latest.append(str(newest))
            counts.append(int(count or 0))
    # `moment` writes fixed-width UTC text, so the greatest text is the latest time.
    return RetentionActivity(
        datetime.fromisoformat(max(latest)) if latest else None, counts[0], counts[1], counts[2]
    )
