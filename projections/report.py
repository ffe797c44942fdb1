"""Summaries as readable text tables, for the terminal (`lfr stats`) and plain-text exports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# (key in a tally, column heading) for the breakdown tables.
BREAKDOWN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("faces_processed", "faces"),
    ("alerts", "alerts"),
    ("true_alerts", "true"),
    ("false_alerts", "false"),
    ("inconclusive", "inconcl."),
    ("unadjudicated", "unadjud."),
    ("engagements", "engaged"),
    ("confirmed_true", "conf. true"),
    ("confirmed_false", "conf. false"),
    ("arrests", "arrests"),
    ("compliance_complied", "complied"),
    ("compliance_breach", "breach"),
    ("other_outcomes", "other"),
    ("false_alerts_one_in_faces", "FA 1 in N"),
    ("alerts_per_1000_faces", "alerts/1k"),
)

TOTAL_LINES: tuple[tuple[str, str], ...] = (
    ("faces_processed", "Faces processed"),
    ("alerts", "Alerts"),
    ("true_alerts", "True alerts (adjudicated match)"),
    ("false_alerts", "False alerts (adjudicated no match)"),
    ("inconclusive", "Inconclusive"),
    ("unadjudicated", "Unadjudicated (awaiting a decision)"),
    ("engagements", "Engagements"),
    ("confirmed_true", "Confirmed true"),
    ("confirmed_false", "Confirmed false"),
    ("arrests", "Arrests"),
    ("compliance_checks", "Compliance checks"),
    ("compliance_complied", "  complied"),
    ("compliance_breach", "  breach"),
    ("other_outcomes", "Other outcomes"),
    ("charges", "Charges"),
    ("bails", "Bails"),
    ("voluntary_attendances", "Voluntary attendances"),
    ("safeguarding", "Safeguarding"),
    ("false_alerts_one_in_faces", "False alert rate (1 in N faces)"),
    ("false_alert_rate_per_alert", "False alert rate per alert"),
    ("alerts_per_1000_faces", "Alerts per 1,000 faces"),
    ("arrests_per_confirmed_alert", "Arrests per confirmed alert"),
    ("median_adjudication_seconds", "Median adjudication time (s)"),
)
# Engagement durations, from the engagements recorded with their start and end.
ENGAGEMENT_LINES: tuple[tuple[str, str], ...] = (
    ("timed_engagements", "Timed engagements"),
    ("median_engagement_seconds", "Median engagement (s)"),
    ("p90_engagement_seconds", "90th percentile engagement (s)"),
)


def cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    texts = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in texts]) for i, h in enumerate(headers)]
    # Numbers read best right-aligned; the first column names the row, text stays left.
    numeric = [
        i > 0 and all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out += [line(r) for r in texts]
    return "\n".join(out)


def totals_table(totals: Mapping[str, Any]) -> str:
    lines = TOTAL_LINES + ENGAGEMENT_LINES
    measures = table(("measure", "value"), [(label, totals[key]) for key, label in lines])
    return f"{measures}\n{factors_text(totals)}"


def factors_text(totals: Mapping[str, Any]) -> str:
    """False alerts by the factors named (an alert naming two counts under both)."""
    out = []
    for key, label in (
        ("false_alerts_by_factor", "False alerts by factor"),
        ("confirmed_false_by_factor", "Confirmed false by factor"),
    ):
        named = ", ".join(f"{r['factor']} {r['alerts']}" for r in totals[key])
        out.append(f"{label}: {named or 'none'}")
    return "\n".join(out)


def engagement_text(totals: Mapping[str, Any]) -> str:
    """Engagement durations and false alerts by factor, for the period's report."""
    rows = [(label, totals[key]) for key, label in ENGAGEMENT_LINES]
    return f"Engagements and false alerts\n{table(('measure', 'value'), rows)}\n" + factors_text(
        totals
    )


def breakdown_table(title: str, key: str, rows: Sequence[Mapping[str, Any]]) -> str:
    headers = (key, *(heading for _, heading in BREAKDOWN_COLUMNS))
    body = [(r[key], *(r[k] for k, _ in BREAKDOWN_COLUMNS)) for r in rows]
    return f"{title}\n{table(headers, body)}"


def deployment_text(s: Mapping[str, Any]) -> str:
    loc = s["location"]
    head = [
        f"Deployment {s['deployment_id']}",
        f"  location   {loc['name']}, {loc['town']} ({loc['location_type']})",
        f"  use case   {s['use_case']}",
        f"  status     {s['status']}",
        f"  window     {s['starts_at']} to {s['ends_at']}",
        f"  live       {s['started_at'] or '–'} to {s['ended_at'] or '–'}",
        f"  model      {s['model_id']}, threshold {cell(s['threshold'])} "
        f"({s['threshold_changes']} change(s))",
        f"  watchlist  {s['watchlist_size']} entries",
        f"  cameras    {', '.join(s['cameras'])}",
        f"  forces     {forces_line(s)}",
        f"  hours live {cell(s['hours_live'])} (started..ended minus paused); "
        f"alerts/hour {cell(s['alerts_per_hour'])}, arrests/hour {cell(s['arrests_per_hour'])}",
    ]
    return "\n\n".join(
        [
            "\n".join(head),
            totals_table(s["totals"]),
            blue_text(s["blue"]),
            breakdown_table("By camera", "camera_id", s["by_camera"]),
            breakdown_table("By watchlist category", "category", s["by_category"]),
            breakdown_table("By day (UTC)", "day", s["by_day"]),
        ]
    )


def operation_text(s: Mapping[str, Any]) -> str:
    head = [
        f"Operation {s['name']} ({s['operation_id']})",
        f"  force        {s['force']}",
        f"  purpose      {s['purpose']}",
        f"  status       {s['status']}",
        f"  deployments  {s['deployment_count']} ({s['deployments_started']} went live)",
        f"  towns        {s['town_count']}: {', '.join(s['towns'])}",
        f"  days         {s['day_count']}: {', '.join(s['days'])}",
        f"  watchlists   {s['watchlist_size']} entries in all",
        f"  thresholds   {', '.join(cell(t) for t in s['thresholds'])}",
        f"  mutual aid   {s['mutual_aid_deployments']} deployment(s) on another force's kit",
        f"  hours live   {cell(s['hours_live'])} (started..ended minus paused); "
        f"arrests/deployment {cell(s['arrests_per_deployment'])}, "
        f"arrests/hour {cell(s['arrests_per_hour'])}",
    ]
    deployments = [
        {**d, "deployment": f"{d['started_at'] or d['starts_at']:.10} {d['location']['town']}"}
        for d in s["by_deployment"]
    ]
    cameras = [{**c, "camera": f"{c['deployment_id']:.8}/{c['camera_id']}"} for c in s["by_camera"]]
    return "\n\n".join(
        [
            "\n".join(head),
            totals_table(s["totals"]),
            blue_text(s["blue"]),
            breakdown_table("By deployment", "deployment", deployments),
            breakdown_table("By town", "town", s["by_town"]),
            breakdown_table("By camera (deployment/camera)", "camera", cameras),
            breakdown_table("By watchlist category", "category", s["by_category"]),
            breakdown_table("By day (UTC)", "day", s["by_day"]),
        ]
    )


def forces_line(s: Mapping[str, Any]) -> str:
    if s["mutual_aid"]:
        return (
            f"mutual aid: {s['controlling_force']} in control, equipment of "
            f"{s['equipment_owner_force'] or 'a force not named'}"
        )
    return f"{s['controlling_force']} (own equipment)"


def blue_text(b: Mapping[str, Any]) -> str:
    """The blue watchlist's figures, kept apart from every operational one."""
    return "Blue watchlist (test subjects; not in any figure above)\n" + table(
        ("measure", "value"),
        [
            ("Blue entries", b["blue_entries"]),
            ("Walk-pasts recorded", b["walk_pasts"]),
            ("Blue alerts", b["alerts"]),
            ("  adjudicated match", b["true_alerts"]),
            ("Walk-pasts identified", b["identified_walk_pasts"]),
            ("True-positive identification rate", b["true_positive_identification_rate"]),
        ],
    )


PERIOD_LINES: tuple[tuple[str, str], ...] = (
    ("operations", "Operations"),
    ("deployments", "Deployments (went live in the period)"),
    ("mutual_aid_deployments", "  on another force's equipment (mutual aid)"),
    ("hours_live", "Hours live (started..ended minus paused)"),
    ("faces_reported_by_matcher", "Faces (as reported by the matcher)"),
    ("alerts", "Alerts"),
    ("true_alerts", "Matches (adjudicated match)"),
    ("false_alerts", "False alerts (adjudicated no match)"),
    ("arrests", "Arrests"),
    ("compliance_checks", "Compliance checks"),
    ("arrests_per_deployment", "Arrests per deployment"),
    ("alerts_per_hour", "Alerts per hour live"),
    ("arrests_per_hour", "Arrests per hour live"),
)


def period_text(p: Mapping[str, Any]) -> str:
    months = table(
        ("month", "deployments", "hours", "alerts", "matches", "false", "arrests", "checks"),
        [
            (
                m["month"],
                m["deployments"],
                m["hours_live"],
                m["alerts"],
                m["true_alerts"],
                m["false_alerts"],
                m["arrests"],
                m["compliance_checks"],
            )
            for m in p["by_month"]
        ],
    )
    return "\n\n".join(
        [
            f"Period {p['from_date']} to {p['to_date']} (UTC, both inclusive)",
            table(("measure", "value"), [(label, p[key]) for key, label in PERIOD_LINES]),
            f"By month\n{months}",
            engagement_text(p["totals"]),
            blue_text(p["blue"]),
            reviews_text(p),
        ]
    )


def reviews_text(p: Mapping[str, Any]) -> str:
    """Each deployment of the period and its post-deployment review (no personal data)."""
    head = (
        f"Post-deployment reviews: {p['reviewed_deployments']} of {p['deployments']} "
        f"deployment(s) reviewed; {p['complaints']} complaint(s), "
        f"{p['complaints_resolved']} resolved"
    )
    rows = [
        (
            f"{r['started_at'] or '':.10} {r['location']}",
            ("yes" if r["reviewed"] else "no"),
            r["objectives_met"] or ("not stated" if r["reviewed"] else "–"),
            r["complaints"],
        )
        for r in p["reviews"]
    ]
    lessons = [
        f"  {r['started_at'] or '':.10} {r['location']}: {r['lessons']}"
        for r in p["reviews"]
        if r["lessons"]
    ]
    parts = [head, table(("deployment", "reviewed", "objectives", "complaints"), rows)]
    if lessons:
        parts.append("Lessons\n" + "\n".join(lessons))
    return "\n".join(parts)


def status_text(views: Sequence[Mapping[str, Any]]) -> str:
    text = table(
        ("projection", "position", "head", "lag", "skipped", "tables"),
        [
            (
                v["name"],
                v["position"],
                v["head"],
                v["lag"],
                len(v["failures"]),
                ", ".join(v["tables"]),
            )
            for v in views
        ],
    )
    skipped = [f for v in views for f in v["failures"]]
    if skipped:
        text += "\n\nEvents a projection could not take (fix, then `lfr projections rebuild`):\n"
        text += table(
            ("projection", "notification", "topic", "error"),
            [(f["name"], f["notification_id"], f["topic"], f["error"]) for f in skipped],
        )
    return text
