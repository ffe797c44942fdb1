"""The shapes analysts and operators receive: every field typed, so the OpenAPI document
describes each figure an analyst reads. Built from the views only, so nothing here can hold
personal data; times are ISO 8601 strings in UTC, as the views keep them.

msgspec structs cannot inherit from two bases with fields, so a deployment's head (where,
when, under which threshold) is written out twice: once for a deployment's own summary and
once beside its counts in an operation's summary.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from lfr_ledger.domain.values import AlertStatus, Decision


class Figures(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every reply here: a field the builder does not know is a bug, not noise."""


class FactorCount(Figures):
    """False alerts naming one false-alert factor (or "factor.reason", or "not_recorded")."""

    factor: str
    alerts: int


class Counts(Figures):
    """Counts over a set of alerts and face reports, and the rates derived from them.
    Definitions: `projections/statistics.py`. `faces_processed` is null where faces cannot be
    attributed (a watchlist category: non-matching faces have none); a rate is null when its
    denominator is zero."""

    faces_processed: int | None
    alerts: int
    adjudicated: int
    true_alerts: int
    false_alerts: int
    inconclusive: int
    unadjudicated: int
    engagements: int
    confirmed_true: int
    confirmed_false: int
    arrests: int
    compliance_checks: int
    compliance_complied: int
    compliance_breach: int
    other_outcomes: int
    charges: int
    bails: int
    voluntary_attendances: int
    safeguarding: int
    timed_engagements: int
    false_alert_rate_per_faces: float | None
    false_alerts_one_in_faces: int | None
    false_alert_rate_per_alert: float | None
    alerts_per_1000_faces: float | None
    arrests_per_confirmed_alert: float | None
    median_adjudication_seconds: float | None
    median_engagement_seconds: float | None
    p90_engagement_seconds: float | None
    false_alerts_by_factor: list[FactorCount]
    confirmed_false_by_factor: list[FactorCount]


class CameraCounts(Counts):
    camera_id: str
    camera_name: str | None


class DeploymentCameraCounts(CameraCounts):
    deployment_id: str


class CategoryCounts(Counts):
    category: str
    watchlist_size: int


class DayCounts(Counts):
    day: str


class TownCounts(Counts):
    town: str
    deployments: int


class Location(Figures):
    name: str
    town: str
    location_type: str


# --- hours live, rates per hour, mutual aid, the blue watchlist --------------------------------

HoursLive = Annotated[
    float,
    msgspec.Meta(
        description="Hours of operation: the sum of the intervals the deployment was live, each "
        "from started (or resumed) to paused (or ended); paused time is not counted. A "
        "deployment still live counts up to the time of reading (at most to its "
        "window's end)."
    ),
]
AlertsPerHour = Annotated[
    float | None,
    msgspec.Meta(
        description="Alerts (operational: blue test-subject alerts excluded) per hour live "
        "(`hours_live`: started..ended minus paused intervals); null with no time live."
    ),
]
ArrestsPerHour = Annotated[
    float | None,
    msgspec.Meta(
        description="Arrests per hour live (`hours_live`: started..ended minus paused "
        "intervals); null with no time live."
    ),
]
MutualAid = Annotated[
    bool,
    msgspec.Meta(
        description="Mutual aid: the equipment belongs to another force than the one in control "
        "(names compared ignoring case and spacing)."
    ),
]


class BlueFigures(Figures):
    """The blue watchlist: consenting officers enrolled in a blue category (policy
    `watchlist.blue_categories`) and walked past the cameras to measure identification. None of
    these alerts counts in any operational figure. The true-positive identification rate is
    `identified_walk_pasts` / `walk_pasts`, where a blue entry's walk-pasts identified are its
    alerts adjudicated match, at most one per walk-past recorded for it; null without
    walk-pasts."""

    blue_entries: int
    walk_pasts: int
    alerts: int
    true_alerts: int
    identified_walk_pasts: int
    true_positive_identification_rate: float | None


class CameraSilence(Figures):
    """A time a camera of a live deployment was not heard from: from `silent_since`
    (its last heartbeat or face count, or when the deployment went live) `until` it reported
    again (`ended_by` "reporting") or the deployment ended ("deployment_ended"); `until` is
    null while it lasts. `recorded_at`: when the scheduled check recorded it."""

    camera_id: str
    silent_since: str
    recorded_at: str
    until: str | None
    ended_by: str | None
    seconds: int | None


class DeploymentSummary(Figures):
    """One deployment: where and when it ran, under what threshold, and what it produced."""

    deployment_id: str
    operation_id: str
    location: Location
    use_case: str
    status: str
    model_id: str | None
    policy_version: str | None
    starts_at: str
    ends_at: str
    authorised_at: str | None
    started_at: str | None
    ended_at: str | None
    threshold: float
    threshold_changes: int
    watchlist_size: int
    cameras: list[str]
    totals: Counts
    by_camera: list[CameraCounts]
    by_category: list[CategoryCounts]
    by_day: list[DayCounts]
    controlling_force: str
    equipment_owner_force: str | None
    mutual_aid: MutualAid
    hours_live: HoursLive
    alerts_per_hour: AlertsPerHour
    arrests_per_hour: ArrestsPerHour
    blue: BlueFigures
    # When cameras were silent: the record of when they were and were not running.
    camera_silences: list[CameraSilence] = []


class DeploymentCounts(Counts):
    """One deployment of an operation, its head beside its counts."""

    deployment_id: str
    operation_id: str
    location: Location
    use_case: str
    status: str
    model_id: str | None
    policy_version: str | None
    starts_at: str
    ends_at: str
    authorised_at: str | None
    started_at: str | None
    ended_at: str | None
    threshold: float
    threshold_changes: int
    watchlist_size: int
    controlling_force: str
    equipment_owner_force: str | None
    mutual_aid: MutualAid
    hours_live: HoursLive
    alerts_per_hour: AlertsPerHour
    arrests_per_hour: ArrestsPerHour


class OperationSummary(Figures):
    """An operation across its deployments, towns and days: the figures a press release gives."""

    operation_id: str
    name: str
    force: str
    purpose: str
    status: str
    opened_at: str
    closed_at: str | None
    deployment_count: int
    deployments_started: int
    towns: list[str]
    town_count: int
    days: list[str]
    day_count: int
    watchlist_size: int
    thresholds: list[float]
    totals: Counts
    by_deployment: list[DeploymentCounts]
    by_town: list[TownCounts]
    by_camera: list[DeploymentCameraCounts]
    by_category: list[CategoryCounts]
    by_day: list[DayCounts]
    mutual_aid_deployments: int
    hours_live: HoursLive
    arrests_per_deployment: float | None
    alerts_per_hour: AlertsPerHour
    arrests_per_hour: ArrestsPerHour
    blue: BlueFigures


class AlertRow(Figures):
    """An alert as operators list it: no personal data, its state read from `AlertStatus`."""

    id: str
    entry_id: str
    camera_id: str
    category: str
    similarity: float
    threshold: float
    status: AlertStatus
    captured_at: str
    raised_at: str
    adjudicated_at: str | None
    decision: Decision | None
    # Not a column of the view (views hold no staff numbers): the query layer fills it from
    # the alert itself, for the operator's queue.
    adjudicated_by: str | None = None


class ScoreBin(Figures):
    lower: float
    upper: float
    alerts: int
    true_alerts: int
    false_alerts: int
    inconclusive: int
    unadjudicated: int


class ScoreDistribution(Figures):
    """Alerts per similarity bin [lower, upper), split by adjudication."""

    deployment_id: str
    threshold: float
    bin_width: float
    bins: list[ScoreBin]


class SensitivityRow(Figures):
    threshold: float
    alerts: int
    true_alerts: int
    false_alerts: int
    inconclusive: int
    unadjudicated: int
    arrests: int
    alerts_lost: int
    true_alerts_lost: int
    false_alerts_avoided: int


class ThresholdSensitivity(Figures):
    """The alerts that would remain had the threshold been each higher value."""

    deployment_id: str
    threshold: float
    step: float
    rows: list[SensitivityRow]


class PublicationRecord(Figures):
    """The per-deployment record forces publish (`projections/publication.py`)."""

    deployment_id: str
    date: str
    start_time_utc: str | None
    end_time_utc: str | None
    location: str
    town: str
    use_case: str
    watchlist_size: int
    faces_processed: int | None
    alerts: int
    true_alerts: int
    false_alerts: int
    engagements: int
    arrests: int
    compliance_checks: int
    other_outcomes: int
    threshold: float
    controlling_force: str
    equipment_owner_force: str | None
    mutual_aid: MutualAid
    hours_live: HoursLive
    arrests_per_hour: ArrestsPerHour
    median_engagement_seconds: float | None


class MonthFigures(Figures):
    """One calendar month (UTC) of a period: deployments that went live in it."""

    month: str
    deployments: int
    hours_live: HoursLive
    alerts: int
    true_alerts: int
    false_alerts: int
    arrests: int
    compliance_checks: int


class DeploymentReview(Figures):
    """One deployment of a period and its post-deployment review: whether it was reviewed,
    whether its objectives were met, its lessons (kept in clear because they name no one), and
    the complaints recorded against it. No personal data."""

    deployment_id: Annotated[str, msgspec.Meta(description="The deployment's id")]
    location: Annotated[str, msgspec.Meta(description="The place and town")]
    started_at: Annotated[str, msgspec.Meta(description="When it first went live (UTC)")]
    reviewed: Annotated[bool, msgspec.Meta(description="Whether it has its post-deployment review")]
    reviewed_at: Annotated[
        str | None, msgspec.Meta(description="When the review was recorded; null before")
    ]
    objectives_met: Annotated[
        str | None,
        msgspec.Meta(
            description="met, partly_met or not_met; null before the review, or for a review "
            "recorded before structured reviews (its findings alone)"
        ),
    ]
    lessons: Annotated[str | None, msgspec.Meta(description="The review's lessons; null before")]
    complaints: Annotated[int, msgspec.Meta(description="Complaints recorded against it")]
    complaints_resolved: Annotated[int, msgspec.Meta(description="Of those, resolved")]


class PeriodFigures(Figures):
    """Figures across operations over a period, for an annual or monthly report: every
    deployment that went live (its start) from `from_date` to `to_date`, both inclusive, UTC.
    Blue test-subject alerts are kept out of every operational figure and given in `blue`."""

    from_date: str
    to_date: str
    operations: int
    deployments: int
    mutual_aid_deployments: int
    hours_live: HoursLive
    faces_reported_by_matcher: Annotated[
        int,
        msgspec.Meta(
            description="Faces processed, as reported by the matchers (their own counts, "
            "not verified by the ledger)."
        ),
    ]
    alerts: int
    true_alerts: Annotated[int, msgspec.Meta(description="Matches: adjudicated match.")]
    false_alerts: Annotated[int, msgspec.Meta(description="Adjudicated no match.")]
    arrests: int
    compliance_checks: int
    arrests_per_deployment: float | None
    alerts_per_hour: AlertsPerHour
    arrests_per_hour: ArrestsPerHour
    totals: Counts
    by_month: list[MonthFigures]
    blue: BlueFigures
    reviewed_deployments: Annotated[
        int, msgspec.Meta(description="Deployments of the period with a post-deployment review")
    ]
    complaints: Annotated[
        int, msgspec.Meta(description="Complaints recorded against the period's deployments")
    ]
    complaints_resolved: Annotated[int, msgspec.Meta(description="Of those, resolved")]
    reviews: Annotated[
        list[DeploymentReview],
        msgspec.Meta(description="Each deployment of the period and its review, in start order"),
    ]
