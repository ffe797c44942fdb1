"""The per-deployment record forces publish after using LFR, as JSON and CSV.

Fields follow published practice: date, times, location, use case, watchlist size, faces
processed, alerts, true alerts, false alerts, engagements, arrests, other outcomes and the
threshold. Compliance checks get a column of their own, so "other outcomes" means the same
here as in the statistics. Then the controlling and equipment-owner forces, whether
that is mutual aid, the hours live (started..ended minus paused intervals) and the arrests per
hour live, and the median engagement duration (over engagements recorded with their start and
end). Alerts on blue (test-subject) entries are left out of every figure. Times are UTC.
The record is built field by field from the views, so nothing personal can reach it.

The CSV is opened in spreadsheets, which run a cell beginning with a formula's lead: every text
cell so beginning is written with a leading single quote, as OWASP's CSV injection advice asks
(numbers are written as numbers, so a negative one stays one). The JSON keeps the text as is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

PUBLICATION_FIELDS: tuple[str, ...] = (
    "deployment_id",
    "date",
    "start_time_utc",
    "end_time_utc",
    "location",
    "town",
    "use_case",
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
    "controlling_force",
    "equipment_owner_force",
    "mutual_aid",
    "hours_live",
    "arrests_per_hour",
    "median_engagement_seconds",
)


def _clock(iso_time: str | None) -> str | None:
    return None if iso_time is None else iso_time[11:16]


def publication_record(
    deployment: Mapping[str, Any],
    *,
    watchlist_size: int,
    counts: Mapping[str, Any],
    operation: Mapping[str, Any],
) -> dict[str, Any]:
    """`operation`: the deployment's forces, mutual aid, hours live and per-hour rates."""
    started = deployment["started_at"]
    return {
        "deployment_id": deployment["deployment_id"],
        "date": started[:10],
        "start_time_utc": _clock(started),
        "end_time_utc": _clock(deployment["ended_at"]),
        "location": deployment["location_name"],
        "town": deployment["town"],
        "use_case": deployment["purpose"],
        "watchlist_size": watchlist_size,
        "faces_processed": counts["faces_processed"],
        "alerts": counts["alerts"],
        "true_alerts": counts["true_alerts"],
        "false_alerts": counts["false_alerts"],
        "engagements": counts["engagements"],
        "arrests": counts["arrests"],
        "compliance_checks": counts["compliance_checks"],
        "other_outcomes": counts["other_outcomes"],
        "threshold": float(deployment["threshold"]),
        "controlling_force": operation["controlling_force"],
        "equipment_owner_force": operation["equipment_owner_force"],
        "mutual_aid": operation["mutual_aid"],
        "hours_live": operation["hours_live"],
        "arrests_per_hour": operation["arrests_per_hour"],
        "median_engagement_seconds": counts["median_engagement_seconds"],
    }


# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """`value` as a CSV cell no spreadsheet runs: text starting like a formula is quoted with a
    leading `'`; numbers, booleans and empty cells are left as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def records_to_csv(records: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=PUBLICATION_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: spreadsheet_cell(record[k]) for k in PUBLICATION_FIELDS})
    return out.getvalue()
