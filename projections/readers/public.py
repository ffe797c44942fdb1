"""What the public reads (`/public`): deployments announced and still to come, results
published, and results still due, each deployment with its times in UTC and in UK local time.

Built from the deployments view, the public notices view and the publication record, so nothing
in it names or describes a person. Rules:
- upcoming: the public notice has been issued (its date is not in the future), and the
  deployment is neither refused, ended, nor past its window. A deployment whose notice was
  exempted is never listed before it runs (the exemption's reason is never shown);
- results: a deployment that went live, ended, and whose results were published, with its
  publication record (`projections/publication.py`, the one definition);
- results due: a deployment that went live and ended, not yet published, with the day they are
  due (`publication.results_within_days` after its end) and whether that has passed.

UK local time is Europe/London through the standard library's `zoneinfo`, which reads the
system's time-zone database (Debian's `tzdata` package); without one it needs the PyPI `tzdata`
package, and this module refuses to load rather than print UTC as if it were local.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lfr_ledger.projections.public import PUBLIC_DEPLOYMENTS, PublicDeploymentsView
from lfr_ledger.projections.publication import spreadsheet_cell
from lfr_ledger.projections.readers.base import ViewReader, select_rows
from lfr_ledger.projections.store import store_for

if TYPE_CHECKING:
    from datetime import date

    from lfr_ledger.projections.summaries import PublicationRecord

UK = ZoneInfo("Europe/London")
Row = dict[str, Any]

_HEAD = (
    "deployment_id",
    "location_name",
    "town",
    "location_type",
    "purpose",
    "starts_at",
    "ends_at",
    "status",
    "refused_at",
    "started_at",
    "ended_at",
)
_NOTICE = tuple(c for c in PublicDeploymentsView.tables[0].columns if c != "deployment_id")


def uk_time(moment: datetime) -> str:
    """The instant in UK local time, ISO 8601 with its offset (+00:00 GMT, +01:00 BST)."""
    return moment.astimezone(UK).isoformat()


def _instant(row: Row, column: str) -> datetime | None:
    text = row.get(column)
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _times(**moments: datetime | None) -> Row:
    """Each moment in UTC, and beside it (`<name>_uk`) in UK local time."""
    out: Row = {}
    for name, moment in moments.items():
        out[name] = moment
        out[f"{name}_uk"] = None if moment is None else uk_time(moment)
    return out


class PublicReader(ViewReader):
    """The public feed. Mixed into `StatisticsReader`, whose publication records it reads."""

    if TYPE_CHECKING:  # `PublicationReader` gives it to the `StatisticsReader`

        def publication_records(
            self, period: tuple[date, date] | None = None
        ) -> list[PublicationRecord]: ...

    def _public_rows(self) -> list[Row]:
        with store_for(self.settings).connection() as db, db.snapshot():
            return select_rows(
                db,
                (*_HEAD, *_NOTICE),
                f"FROM view_deployments JOIN {PUBLIC_DEPLOYMENTS} USING (deployment_id) "
                "ORDER BY starts_at, deployment_id",
            )

    def _lists(
        self, now: datetime, results_within_days: int
    ) -> tuple[list[Row], list[Row], list[Row]]:
        """Upcoming, published (without their records yet) and due, as of `now`."""
        upcoming: list[Row] = []
        published: list[Row] = []
        due: list[Row] = []
        for row in self._public_rows():
            if _is_upcoming(row, now):
                upcoming.append({**_head(row), "status": row["status"]})
                continue
            went_live, ended = _instant(row, "started_at"), _instant(row, "ended_at")
            if went_live is None or ended is None:
                continue
            due_by = ended + timedelta(days=results_within_days)
            after = {
                **_head(row),
                **_times(went_live_at=went_live, ended_at=ended, due_by=due_by),
            }
            published_at = _instant(row, "results_published_at")
            if published_at is not None:
                published.append(
                    {
                        **after,
                        **_times(published_at=published_at),
                        "published_late": published_at > due_by,
                    }
                )
            else:
                due.append(
                    {
                        **after,
                        "overdue": now > due_by,
                        **_times(overdue_recorded_at=_instant(row, "publication_overdue_at")),
                    }
                )
        # The newest result first; upcoming and due in the order they come.
        published.sort(key=lambda r: r["ended_at"], reverse=True)
        due.sort(key=lambda r: r["due_by"])
        return upcoming, published, due

    def public_feed(self, *, results_within_days: int) -> Row:
        """`upcoming`, `results` and `results_due` as of the reader's clock (see the module)."""
        now = self.clock()
        upcoming, published, due = self._lists(now, results_within_days)
        if published:
            records = {r.deployment_id: r for r in self.publication_records()}
            # Both read the same deployments view; a record missing would be a view behind.
            published = [
                {**r, "record": records[r["deployment_id"]]}
                for r in published
                if r["deployment_id"] in records
            ]
        return {
            "generated_at": now.astimezone(UTC),
            "generated_at_uk": uk_time(now),
            "results_within_days": results_within_days,
            "upcoming": upcoming,
            "results": published,
            "results_due": due,
        }

    def overdue_results(self, *, results_within_days: int) -> list[Row]:
        """Results due whose day has passed, as of the reader's clock: what the deadline check
        records and the metric counts."""
        _, _, due = self._lists(self.clock(), results_within_days)
        return [r for r in due if r["overdue"]]


def _is_upcoming(row: Row, now: datetime) -> bool:
    issued = _instant(row, "notice_issued_at")
    ends = _instant(row, "ends_at")
    return (
        issued is not None
        and issued <= now
        and row["refused_at"] is None
        and row["ended_at"] is None
        and ends is not None
        and now < ends
    )


def _head(row: Row) -> Row:
    """Where, when and why, and how the public was told: the same for every list."""
    issued = _instant(row, "notice_issued_at")
    return {
        "deployment_id": row["deployment_id"],
        "location": {
            "name": row["location_name"],
            "town": row["town"],
            "location_type": row["location_type"],
        },
        "purpose": row["purpose"],
        "watchlist_categories": row["watchlist_categories"].split(),
        **_times(starts_at=_instant(row, "starts_at"), ends_at=_instant(row, "ends_at")),
        "advance_notice": None
        if issued is None
        else {"method": row["notice_method"], **_times(issued_at=issued)},
    }


# --- the CSV ------------------------------------------------------------------------------

CSV_FIELDS: tuple[str, ...] = (
    "section",
    "deployment_id",
    "location",
    "town",
    "location_type",
    "purpose",
    "watchlist_categories",
    "starts_at_utc",
    "starts_at_uk",
    "ends_at_utc",
    "ends_at_uk",
    "notice_issued_at_utc",
    "notice_issued_at_uk",
    "notice_method",
    "status",
    "went_live_at_utc",
    "went_live_at_uk",
    "ended_at_utc",
    "ended_at_uk",
    "results_due_by_utc",
    "results_due_by_uk",
    "results_published_at_utc",
    "results_published_at_uk",
    "overdue",
    "watchlist_size",
    "faces_processed",
    "alerts",
    "true_alerts",
    "false_alerts",
    "engagements",
    "arrests",
    "compliance_checks",
    "other_outcomes",
    "threshold",
    "hours_live",
)
# The publication record's figures the CSV repeats, by the record's own field names.
_FIGURES = CSV_FIELDS[CSV_FIELDS.index("watchlist_size") :]


def _csv_row(section: str, item: Mapping[str, Any]) -> Row:
    notice = item["advance_notice"] or {}
    record = item.get("record") or {}
    row: Row = {
        "section": section,
        "deployment_id": item["deployment_id"],
        "location": item["location"]["name"],
        "town": item["location"]["town"],
        "location_type": item["location"]["location_type"],
        "purpose": item["purpose"],
        "watchlist_categories": " ".join(item["watchlist_categories"]),
        "notice_issued_at_utc": notice.get("issued_at"),
        "notice_issued_at_uk": notice.get("issued_at_uk"),
        "notice_method": notice.get("method"),
        "status": item.get("status"),
        "overdue": item.get("overdue"),
    }
    for name, column in (
        ("starts_at", "starts_at"),
        ("ends_at", "ends_at"),
        ("went_live_at", "went_live_at"),
        ("ended_at", "ended_at"),
        ("due_by", "results_due_by"),
        ("published_at", "results_published_at"),
    ):
        row[f"{column}_utc"] = item.get(name)
        row[f"{column}_uk"] = item.get(f"{name}_uk")
    for name in _FIGURES:
        row[name] = record.get(name)
    return row


def public_csv(feed: Mapping[str, Any]) -> str:
    """The feed as JSON has it (times as ISO strings), one row per deployment listed, `section`
    saying in which list (upcoming, result, result_due); text that a spreadsheet would run as a
    formula is quoted, as the publication records' CSV does."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for section, key in (
        ("upcoming", "upcoming"),
        ("result", "results"),
        ("result_due", "results_due"),
    ):
        for item in feed[key]:
            writer.writerow({k: spreadsheet_cell(v) for k, v in _csv_row(section, item).items()})
    return out.getvalue()
