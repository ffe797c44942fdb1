"""What analysts receive: deployment and operation summaries, alert rows and publication
records, every figure typed. The projections build these shapes from the views, so they are
declared in `projections/summaries.py` (the api may import projections, never the reverse)
and named here beside every other route's reply."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import AwareDateTime, Ident, Reply, Struct, one_of
from lfr_ledger.api.schemas.operations import LIST_DESCRIPTIONS, LIST_ENUMS
from lfr_ledger.domain.deployment.review import ObjectivesMet
from lfr_ledger.domain.values import DeploymentStatus
from lfr_ledger.projections.summaries import (
    AlertRow,
    BlueFigures,
    CameraCounts,
    CameraSilence,
    CategoryCounts,
    Counts,
    DayCounts,
    DeploymentCameraCounts,
    DeploymentCounts,
    DeploymentReview,
    DeploymentSummary,
    FactorCount,
    Location,
    MonthFigures,
    OperationSummary,
    PeriodFigures,
    PublicationRecord,
    ScoreBin,
    ScoreDistribution,
    SensitivityRow,
    ThresholdSensitivity,
    TownCounts,
)

__all__ = [
    "FIGURE_DESCRIPTIONS",
    "FIGURE_ENUMS",
    "AlertRow",
    "BlueFigures",
    "BlueWalkPastIn",
    "BlueWalkPastOut",
    "CameraCounts",
    "CategoryCounts",
    "Counts",
    "DayCounts",
    "DeploymentCameraCounts",
    "DeploymentCounts",
    "DeploymentSummary",
    "EqualityTrend",
    "FactorCount",
    "MonthFigures",
    "OperationSummary",
    "PeriodFigures",
    "PublicationRecord",
    "ScoreDistribution",
    "ThresholdSensitivity",
    "TownCounts",
]


# --- the blue watchlist -------------------------------------------------------------------


class BlueWalkPastIn(Struct):
    """A consenting officer on a blue (test-subject) entry walked past a camera."""

    entry_id: Annotated[
        UUID,
        Meta(
            description="The blue entry (a category in the policy's `watchlist.blue_categories`; "
            "the default policy's: test_subject) of this deployment",
            examples=["5f0c3a52-8d1e-4c6f-9b7a-2e4d6f8a0b1c"],
        ),
    ]
    camera_id: Annotated[
        Ident,
        Meta(description="The camera walked past, one of the plan's", examples=["cam-north-1"]),
    ]
    walked_at: Annotated[
        AwareDateTime,
        Meta(
            description="When, within the deployment's live time",
            examples=["2026-06-02T11:05:00Z"],
        ),
    ]


class BlueWalkPastOut(Reply):
    """The walk-past recorded, and how many the deployment has now."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    entry_id: Annotated[UUID, Meta(description="The blue entry")]
    camera_id: Annotated[str, Meta(description="The camera walked past")]
    walked_at: Annotated[datetime, Meta(description="When")]
    walk_pasts: Annotated[int, Meta(description="Walk-pasts the deployment has recorded now")]


# --- the equality trend alarm (oversight) ----------------------------------------


class TrendGroupOut(Reply):
    """One group: its false alerts now and in the window before, its alerts now, its share of
    the false alerts now against the baseline share, their ratio, and whether that is an
    alarm. Shares and ratio are null where the cell is too small to tell (`suppressed`)."""

    value: Annotated[str, Meta(description="The group, a value of the field's list")]
    false_alerts: Annotated[int, Meta(description="Its false alerts in the last window")]
    false_alerts_before: Annotated[int, Meta(description="Its false alerts in the window before")]
    alerts: Annotated[int, Meta(description="Its alerts in the last window")]
    share: Annotated[float | None, Meta(description="share of the false alerts in the last window")]
    baseline_share: Annotated[
        float | None,
        Meta(description="the share it is compared with (see the table's `baseline`)"),
    ]
    ratio: Annotated[
        float | None, Meta(description="share / baseline_share; null when either is unknown")
    ]
    suppressed: Annotated[
        bool, Meta(description="fewer false alerts than minimum_cell_size: not judged")
    ]
    alarm: Annotated[
        bool, Meta(description="Whether its share rose by `trend_alarm_ratio` or more")
    ]


class TrendTableOut(Reply):
    """One equality field's groups."""

    field: Annotated[
        str,
        Meta(
            description="The field (default policy: perceived_sex, perceived_age_band, "
            "perceived_ethnicity)"
        ),
    ]
    baseline: Annotated[
        str,
        Meta(
            description="previous_window: the share in the window before; share_of_alerts: "
            "the group's share of all alerts in the last window (the window before had too "
            "few false alerts)",
            extra_json_schema=one_of(["previous_window", "share_of_alerts"]),
        ),
    ]
    false_alerts: Annotated[int, Meta(description="False alerts in the last window, all groups")]
    false_alerts_before: Annotated[
        int, Meta(description="False alerts in the window before, all groups")
    ]
    alerts: Annotated[int, Meta(description="Alerts in the last window, all groups")]
    groups: Annotated[list[TrendGroupOut], Meta(description="Each group seen")]


class EqualityTrend(Reply):
    """The equality trend alarm: each perceived group's share of false alerts over the last
    window against the window before (or its share of all alerts); `rule` states it."""

    rule: Annotated[str, Meta(description="The alarm's rule, in a sentence")]
    trend_alarm_ratio: Annotated[
        float, Meta(description="The policy's `trend_alarm_ratio`", examples=[1.5])
    ]
    window_days: Annotated[int, Meta(description="The window's length in days", examples=[90])]
    minimum_cell_size: Annotated[
        int, Meta(description="Groups with fewer false alerts are not judged", examples=[10])
    ]
    deployment_id: Annotated[
        UUID | None, Meta(description="The deployment, if one was asked; null: all")
    ]
    window_start: Annotated[datetime, Meta(description="The last window's start")]
    window_end: Annotated[datetime, Meta(description="The last window's end")]
    previous_start: Annotated[datetime, Meta(description="The window before: its start")]
    alarm: Annotated[bool, Meta(description="Whether any group raised the alarm")]
    alarms: Annotated[list[str], Meta(description="Each alarm raised, in a sentence")]
    tables: Annotated[list[TrendTableOut], Meta(description="One table per equality field")]


# --- the figures' fields --------------------------------------------------------------------
# The figures are declared in projections/summaries.py (the api may import projections, never
# the reverse); their fields' descriptions are kept here, by declaring class (subclasses
# inherit them), and written into the OpenAPI document by api/docs.py (`describe_document`).
# Definitions: projections/statistics.py. Times are ISO 8601 strings in UTC.

COUNTS = {
    "faces_processed": "Faces processed, as the matchers reported them; null where faces "
    "cannot be attributed (a watchlist category)",
    "alerts": "Alerts raised",
    "adjudicated": "Alerts adjudicated",
    "true_alerts": "Adjudicated match",
    "false_alerts": "Adjudicated no_match",
    "inconclusive": "Adjudicated inconclusive",
    "unadjudicated": "Not adjudicated yet",
    "engagements": "Alerts where an officer spoke to the person",
    "confirmed_true": "Identities the engagement officer confirmed",
    "confirmed_false": "Identities the engagement officer refuted",
    "arrests": "Arrests (one per outcome, whatever the number of offences)",
    "compliance_checks": "Compliance checks",
    "compliance_complied": "Compliance checks: complied",
    "compliance_breach": "Compliance checks: breach",
    "other_outcomes": "Words of advice, no further action, not located, other",
    "false_alert_rate_per_faces": "false_alerts / faces_processed; null without faces",
    "false_alerts_one_in_faces": 'The same as "1 in N" faces; null without false alerts',
    "false_alert_rate_per_alert": "false_alerts / alerts; null without alerts",
    "alerts_per_1000_faces": "1000 x alerts / faces_processed; null without faces",
    "arrests_per_confirmed_alert": "arrests / confirmed_true; null without confirmations",
    "median_adjudication_seconds": "Median time from raising to decision, in seconds; null "
    "without decisions",
    "charges": "Charges (one per outcome, whatever the number of offences; each follows an "
    "arrest or a voluntary attendance)",
    "bails": "Bails (each follows an arrest or a voluntary attendance)",
    "voluntary_attendances": "Voluntary attendances: interviews by appointment",
    "safeguarding": "Safeguarding outcomes",
    "timed_engagements": "Engagements recorded with their start and end (engaged_from, "
    "engaged_until)",
    "median_engagement_seconds": "Median engagement duration over the timed engagements, in "
    "seconds; null without one",
    "p90_engagement_seconds": "90th percentile of the engagement durations, in seconds "
    "(nearest rank: the smallest duration at least 90% of the timed engagements did not "
    "exceed); null without one",
    "false_alerts_by_factor": "False alerts (no_match) by the factors the operator named, one "
    "row per code: each factor (the policy's `[outcomes] false_alert_factors`: subject, "
    "system, environment) counts the alerts naming it, each `factor.reason` those naming that "
    "reason, `not_recorded` those naming none; an alert naming two factors counts under both",
    "confirmed_false_by_factor": "Engagements that found the identity not confirmed, by the "
    "factors the officer named, counted as false_alerts_by_factor",
}
HEAD = {
    "deployment_id": "The deployment's id",
    "operation_id": "The operation it belongs to",
    "location": "Where it ran",
    "use_case": "The use case (the plan's purpose)",
    "status": "Where it stands (DeploymentStatus)",
    "model_id": "The matching model",
    "policy_version": "The policy it was proposed under",
    "starts_at": "The window's start",
    "ends_at": "The window's end",
    "authorised_at": "When it was authorised; null before",
    "started_at": "When it first went live; null before",
    "ended_at": "When it ended; null before",
    "threshold": "The similarity threshold in force",
    "threshold_changes": "How often the threshold was changed",
    "watchlist_size": "Entries on its watchlist",
    "controlling_force": "The force in control",
    "equipment_owner_force": "The force owning the equipment (code); null: not known",
}
BREAKDOWNS = {
    "totals": "Counts over everything",
    "by_camera": "Counts per camera",
    "by_category": "Counts per watchlist category (faces not attributable: null)",
    "by_day": "Counts per UTC day (alerts by capture, faces by period start)",
    "blue": "The blue watchlist's figures, kept out of every other figure",
}
FIGURE_DESCRIPTIONS: dict[type[msgspec.Struct], dict[str, str]] = {
    **LIST_DESCRIPTIONS,
    Counts: COUNTS,
    FactorCount: {
        "factor": 'A factor, a "factor.reason", or "not_recorded"',
        "alerts": "Alerts naming it",
    },
    CameraCounts: {"camera_id": "The camera's id", "camera_name": "The camera's name"},
    DeploymentCameraCounts: {"deployment_id": "The camera's deployment"},
    CategoryCounts: {
        "category": "The watchlist category",
        "watchlist_size": "Entries of the category",
    },
    DayCounts: {"day": "The UTC date (YYYY-MM-DD)"},
    TownCounts: {"town": "The town", "deployments": "Deployments in the town"},
    Location: {
        "name": "The place",
        "town": "The town or city",
        "location_type": "The kind of place (the policy's `location_types`, `GET /policy`)",
    },
    BlueFigures: {
        "blue_entries": "Entries in a blue category",
        "walk_pasts": "Walk-pasts recorded",
        "alerts": "Alerts on blue entries",
        "true_alerts": "Of those, adjudicated match",
        "identified_walk_pasts": "Walk-pasts identified: blue alerts adjudicated match, at "
        "most one per walk-past of the entry",
        "true_positive_identification_rate": "identified_walk_pasts / walk_pasts; null "
        "without walk-pasts",
    },
    CameraSilence: {
        "camera_id": "The camera",
        "silent_since": "When it was last heard from (or the deployment went live)",
        "recorded_at": "When the scheduled check recorded the silence",
        "until": "When it reported again or the deployment ended; null while it lasts",
        "ended_by": "reporting or deployment_ended; null while it lasts",
        "seconds": "How long it lasted; null while it lasts",
    },
    DeploymentSummary: {
        **HEAD,
        **BREAKDOWNS,
        "cameras": "The plan's camera ids",
        "camera_silences": "When cameras were silent: when they were and were not running",
    },
    DeploymentCounts: HEAD,
    OperationSummary: {
        **BREAKDOWNS,
        "operation_id": "The operation's id",
        "name": "The operation's name",
        "force": "The force running it",
        "purpose": "What it is for",
        "status": "open, or closed",
        "opened_at": "When it was opened",
        "closed_at": "When it was closed; null while open",
        "deployment_count": "Deployments proposed in it",
        "deployments_started": "Deployments that went live",
        "towns": "The towns it ran in",
        "town_count": "How many towns",
        "days": "The UTC days it ran on (YYYY-MM-DD)",
        "day_count": "How many days",
        "watchlist_size": "Entries on all its watchlists",
        "thresholds": "The thresholds its deployments used",
        "by_deployment": "Each deployment: its head beside its counts",
        "by_town": "Counts per town",
        "by_camera": "Counts per camera of each deployment",
        "mutual_aid_deployments": "Deployments on another force's equipment",
        "arrests_per_deployment": "arrests / deployments started; null without one",
    },
    AlertRow: {
        "id": "The alert's id",
        "entry_id": "The watchlist entry the face resembled",
        "camera_id": "The camera that saw the face",
        "category": "The entry's watchlist category",
        "similarity": "The matcher's score",
        "threshold": "The threshold in force when it was raised",
        "status": "Where it stands",
        "captured_at": "When the face was captured",
        "raised_at": "When the ledger recorded the alert",
        "adjudicated_at": "When it was adjudicated; null before",
        "decision": "The operator's decision, as corrected; null before",
        "adjudicated_by": "Staff number of the operator who (first) decided, read from the log "
        "(no view holds it); null before",
    },
    ScoreBin: {
        "lower": "The bin's lower bound (inclusive)",
        "upper": "The bin's upper bound (exclusive)",
        "alerts": "Alerts scored in the bin",
        "true_alerts": "Of those, adjudicated match",
        "false_alerts": "Of those, adjudicated no_match",
        "inconclusive": "Of those, adjudicated inconclusive",
        "unadjudicated": "Of those, not adjudicated yet",
    },
    ScoreDistribution: {
        "deployment_id": "The deployment",
        "threshold": "Its threshold in force",
        "bin_width": "The bins' width",
        "bins": "The bins, lowest first",
    },
    SensitivityRow: {
        "threshold": "The threshold considered",
        "alerts": "Alerts at or above it",
        "true_alerts": "Of those, adjudicated match",
        "false_alerts": "Of those, adjudicated no_match",
        "inconclusive": "Of those, adjudicated inconclusive",
        "unadjudicated": "Of those, not adjudicated yet",
        "arrests": "Arrests from those alerts",
        "alerts_lost": "Alerts this threshold would not have raised",
        "true_alerts_lost": "True alerts it would not have raised",
        "false_alerts_avoided": "False alerts it would not have raised",
    },
    ThresholdSensitivity: {
        "deployment_id": "The deployment",
        "threshold": "Its threshold in force",
        "step": "The increment between rows",
        "rows": "One row per threshold, from the lowest any alert was raised under",
    },
    PublicationRecord: {
        "deployment_id": "The deployment's id",
        "date": "The UTC date it went live (YYYY-MM-DD)",
        "start_time_utc": "When it went live (HH:MM, UTC)",
        "end_time_utc": "When it ended (HH:MM, UTC); null while live",
        "location": "The place",
        "town": "The town or city",
        "use_case": "The use case",
        "watchlist_size": "Entries on its watchlist",
        "faces_processed": COUNTS["faces_processed"],
        "alerts": "Alerts raised",
        "true_alerts": "Adjudicated match",
        "false_alerts": "Adjudicated no_match",
        "engagements": COUNTS["engagements"],
        "arrests": COUNTS["arrests"],
        "compliance_checks": "Compliance checks",
        "other_outcomes": COUNTS["other_outcomes"],
        "threshold": "The similarity threshold in force",
        "controlling_force": "The force in control",
        "equipment_owner_force": "The force owning the equipment (code); null: not known",
        "median_engagement_seconds": COUNTS["median_engagement_seconds"],
    },
    MonthFigures: {
        "month": "The calendar month (YYYY-MM, UTC)",
        "deployments": "Deployments that went live in it",
        "alerts": "Alerts raised",
        "true_alerts": "Adjudicated match",
        "false_alerts": "Adjudicated no_match",
        "arrests": "Arrests",
        "compliance_checks": "Compliance checks",
    },
    PeriodFigures: {
        "from_date": "The period's first day (YYYY-MM-DD, UTC)",
        "to_date": "The period's last day (inclusive)",
        "operations": "Operations with a deployment that went live in the period",
        "deployments": "Deployments that went live in the period",
        "mutual_aid_deployments": "Of those, on another force's equipment",
        "alerts": "Alerts raised (blue alerts excluded)",
        "arrests": "Arrests",
        "compliance_checks": "Compliance checks",
        "arrests_per_deployment": "arrests / deployments; null without one",
        "totals": "Counts over the period",
        "by_month": "Figures per calendar month",
        "blue": BREAKDOWNS["blue"],
    },
}
_DEPLOYMENT_STATES: tuple[str | None, ...] = tuple(s.value for s in DeploymentStatus)
FIGURE_ENUMS: dict[type[msgspec.Struct], dict[str, tuple[str | None, ...]]] = {
    **LIST_ENUMS,
    DeploymentSummary: {"status": _DEPLOYMENT_STATES},
    DeploymentCounts: {"status": _DEPLOYMENT_STATES},
    OperationSummary: {"status": ("open", "closed")},
    CameraSilence: {"ended_by": ("reporting", "deployment_ended", None)},
    DeploymentReview: {"objectives_met": (*(o.value for o in ObjectivesMet), None)},
}
