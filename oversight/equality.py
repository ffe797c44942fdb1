"""Equality monitoring: alerts, false alerts and engagements by perceived group.

An engagement officer may record what they perceived of an engaged person (the policy's
`[equality]` fields, each from a closed list), sealed under the alert's equality key. Only
engaged people have perceived characteristics, so within a group:

- alerts: alerts whose person was perceived in the group (all of them engaged);
- engagements: the same alerts with `engaged` true (kept apart so the definition can widen);
- true / false alerts: the officer confirmed / refuted the identity on engagement;
- false alert rate: false / (true + false), the alerts whose identity was established, with a
  95 % Wilson score interval (sound for the small counts and rates near 0 these tables have).

Two audiences. Oversight reads every count and the intervals (and the read is logged by the
caller). Analysts read counts only, with small cells suppressed: a group with fewer alerts than
the policy's `minimum_cell_size` is withheld whole, any other count between 1 and the minimum is
withheld, and when a table would withhold exactly one group, the next smallest is withheld too,
so no withheld group can be recovered by subtracting the others from the total.

Alerts on blue (test-subject) entries, the policy's `watchlist.blue_categories`, are left out:
consenting officers walked past the cameras are no part of the public's equality figures.

The trend alarm (`equality_trend`, oversight only) compares, for each group of each field, its
share of the false alerts in the last `trend_window_days` with its share in the window before;
when that window had fewer false alerts than `minimum_cell_size` (too few to compare with), with
the group's share of all alerts in the last window instead. The alarm is raised when the share
rose by the policy's `trend_alarm_ratio` or more (or from nothing); a group with fewer false
alerts than `minimum_cell_size` in the last window is too small to tell and never raises it.
A false alert here: the operator's decision is no_match (as corrected, if it was) or the
engagement officer refuted the identity; only engaged people have a perceived group.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.alert.aggregate import Alert
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.notification_log import notifications
from lfr_ledger.domain.values import Confirmation, Decision
from lfr_ledger.oversight.reports import plain

Z_95 = 1.959963984540054
NOT_AVAILABLE = "not_available"  # the equality key was shredded: the group is unknown now


class Audience(StrEnum):
    OVERSIGHT = "oversight"
    ANALYST = "analyst"


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval for a binomial proportion; None without trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must lie in [0, {trials}], got {successes}")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class GroupRow:
    """One perceived group of one field. Counts are None where suppressed for analysts."""

    value: str
    alerts: int | None
    engagements: int | None
    true_alerts: int | None
    false_alerts: int | None
    false_alert_rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    suppressed: bool = False


@dataclass
class FieldTable:
    field: str
    groups: list[GroupRow]
    total_alerts: int | None


@dataclass
class EqualityReport:
    audience: str
    minimum_cell_size: int
    deployment_id: UUID | None
    period_start: datetime | None
    period_end: datetime | None
    alerts_with_characteristics: int | None
    tables: list[FieldTable] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return plain(asdict(self))


@dataclass
class _Counts:
    alerts: int = 0
    engagements: int = 0
    true_alerts: int = 0
    false_alerts: int = 0


def equality_report(
    ledger: CaseLedger,
    *,
    audience: Audience | str = Audience.ANALYST,
    deployment_id: UUID | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> EqualityReport:
    """Counts by every equality field of the policy, over alerts captured in [start, end)
    (and of one deployment, if given)."""
    audience = Audience(audience)
    policy = ledger.policy
    fields = sorted(policy.equality_fields)
    counts: dict[str, dict[str, _Counts]] = {f: defaultdict(_Counts) for f in fields}
    total = 0
    for alert, perceived in _perceived(ledger, deployment_id, start, end):
        total += 1
        for name in fields:
            value = NOT_AVAILABLE if perceived is None else perceived.get(name, "not_recorded")
            c = counts[name][value]
            c.alerts += 1
            c.engagements += 1 if alert.engaged else 0
            c.true_alerts += 1 if alert.confirmed == Confirmation.CONFIRMED else 0
            c.false_alerts += 1 if alert.confirmed == Confirmation.NOT_CONFIRMED else 0
    report = EqualityReport(
        audience=audience.value,
        minimum_cell_size=policy.minimum_cell_size,
        deployment_id=deployment_id,
        period_start=start,
        period_end=end,
        alerts_with_characteristics=total,
    )
    for name in fields:
        # Every allowed value appears, so an absent group reads as 0, not as a gap.
        values = list(policy.equality_fields[name])
        values += sorted(v for v in counts[name] if v not in values)
        rows = [_row(v, counts[name].get(v, _Counts())) for v in values]
        total_shown = True
        if audience == Audience.ANALYST:
            rows, total_shown = suppress(rows, policy.minimum_cell_size)
            total_shown = total_shown and not 0 < total < policy.minimum_cell_size
        report.tables.append(
            FieldTable(field=name, groups=rows, total_alerts=total if total_shown else None)
        )
    if any(t.total_alerts is None for t in report.tables):
        report.alerts_with_characteristics = None  # the total itself would reveal a cell
    return report


def _perceived(
    ledger: CaseLedger,
    deployment_id: UUID | None,
    start: datetime | None,
    end: datetime | None,
) -> Iterator[tuple[Alert, dict[str, str] | None]]:
    """Each operational alert with perceived characteristics captured in [start, end) (and of
    one deployment, if given), with what was perceived (None once its key was shredded)."""
    blue = set(ledger.policy.blue_categories)
    for n in notifications(ledger.recorder, [AlertTopic.DEMOGRAPHICS_PERCEIVED]):
        alert_id = UUID(str(n.originator_id))
        alert = ledger.alert(alert_id)
        if alert.category in blue:
            continue
        if deployment_id is not None and alert.deployment_id != deployment_id:
            continue
        if start is not None and alert.captured_at < start:
            continue
        if end is not None and alert.captured_at >= end:
            continue
        event: Any = ledger.mapper.to_domain_event(n)
        yield alert, ledger.reveal_perceived_demographics(alert_id, event.sealed_demographics)


def _row(value: str, c: _Counts) -> GroupRow:
    resolved = c.true_alerts + c.false_alerts
    interval = wilson_interval(c.false_alerts, resolved)
    return GroupRow(
        value=value,
        alerts=c.alerts,
        engagements=c.engagements,
        true_alerts=c.true_alerts,
        false_alerts=c.false_alerts,
        false_alert_rate=c.false_alerts / resolved if resolved else None,
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
    )


def suppress(rows: list[GroupRow], minimum: int) -> tuple[list[GroupRow], bool]:
    """The analysts' view of a table: small cells withheld (see the module docstring), and
    whether the table's total may still be shown. Rates and intervals are never given to
    analysts: they would reveal the withheld counts."""

    def withheld(row: GroupRow) -> GroupRow:
        return GroupRow(row.value, None, None, None, None, suppressed=True)

    def small(count: int | None) -> bool:
        return count is not None and 0 < count < minimum

    out: list[GroupRow] = []
    for row in rows:
        if small(row.alerts):
            out.append(withheld(row))
            continue
        # True and false alerts go together: one from the other and the alerts is a sum away.
        identity_small = small(row.true_alerts) or small(row.false_alerts)
        out.append(
            GroupRow(
                row.value,
                row.alerts,
                None if small(row.engagements) else row.engagements,
                None if identity_small else row.true_alerts,
                None if identity_small else row.false_alerts,
            )
        )
    total_shown = True
    hidden = [r for r in out if r.suppressed]
    if len(hidden) == 1:
        # One withheld group equals the total minus the rest: withhold the next smallest too,
        # or the total when no other group has anyone in it.
        shown = [r for r in out if not r.suppressed and r.alerts]
        if shown:
            smallest = min(shown, key=lambda r: r.alerts or 0)
            out = [withheld(r) if r is smallest else r for r in out]
        else:
            total_shown = False
    return out, total_shown


# --- the trend alarm ---------------------------------------------------------------------------

PREVIOUS_WINDOW = "previous_window"
SHARE_OF_ALERTS = "share_of_alerts"


@dataclass
class TrendGroup:
    """One group: its false alerts now and in the window before, its alerts now, its share of
    the false alerts now against the baseline share, their ratio, and whether that is an alarm.
    Shares and ratio are None where the cell is too small to tell (`suppressed`)."""

    value: str
    false_alerts: int
    false_alerts_before: int
    alerts: int
    share: float | None
    baseline_share: float | None
    ratio: float | None
    suppressed: bool
    alarm: bool


@dataclass
class TrendTable:
    field: str
    baseline: str
    false_alerts: int
    false_alerts_before: int
    alerts: int
    groups: list[TrendGroup]


@dataclass
class EqualityTrend:
    rule: str
    trend_alarm_ratio: float
    window_days: int
    minimum_cell_size: int
    deployment_id: UUID | None
    window_start: datetime
    window_end: datetime
    previous_start: datetime
    alarm: bool
    alarms: list[str] = field(default_factory=list)
    tables: list[TrendTable] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return plain(asdict(self))


def _is_false(alert: Alert) -> bool:
    return alert.decision == Decision.NO_MATCH or alert.confirmed == Confirmation.NOT_CONFIRMED


def equality_trend(
    ledger: CaseLedger,
    *,
    end: datetime | None = None,
    window_days: int | None = None,
    deployment_id: UUID | None = None,
) -> EqualityTrend:
    """The trend alarm of the module docstring, over the window ending at `end` (default: now)
    and the window before it."""
    policy = ledger.policy
    days = window_days or policy.trend_window_days
    minimum, ratio_needed = policy.minimum_cell_size, policy.trend_alarm_ratio
    window_end = end or ledger.clock()
    window_start = window_end - timedelta(days=days)
    previous_start = window_start - timedelta(days=days)
    fields = sorted(policy.equality_fields)
    now_false: dict[str, dict[str, int]] = {f: defaultdict(int) for f in fields}
    now_alerts: dict[str, dict[str, int]] = {f: defaultdict(int) for f in fields}
    before_false: dict[str, dict[str, int]] = {f: defaultdict(int) for f in fields}
    for alert, perceived in _perceived(ledger, deployment_id, previous_start, window_end):
        current = alert.captured_at >= window_start
        false = _is_false(alert)
        for name in fields:
            value = NOT_AVAILABLE if perceived is None else perceived.get(name, "not_recorded")
            if current:
                now_alerts[name][value] += 1
                now_false[name][value] += int(false)
            else:
                before_false[name][value] += int(false)
    trend = EqualityTrend(
        rule=f"alarm when a group's share of false alerts in the last {days} days is at least "
        f"{ratio_needed} times its share in the {days} days before (or, with fewer than "
        f"{minimum} false alerts then, its share of all alerts in the last {days} days); "
        f"groups with fewer than {minimum} false alerts in the last {days} days are not judged",
        trend_alarm_ratio=ratio_needed,
        window_days=days,
        minimum_cell_size=minimum,
        deployment_id=deployment_id,
        window_start=window_start,
        window_end=window_end,
        previous_start=previous_start,
        alarm=False,
    )
    for name in fields:
        values = list(policy.equality_fields[name])
        seen = set(now_alerts[name]) | set(before_false[name])
        values += sorted(v for v in seen if v not in values)
        false_now = sum(now_false[name].values())
        false_before = sum(before_false[name].values())
        alerts_now = sum(now_alerts[name].values())
        baseline = PREVIOUS_WINDOW if false_before >= minimum else SHARE_OF_ALERTS
        groups = []
        for value in values:
            count = now_false[name][value]
            suppressed = count < max(minimum, 1)
            share = base = ratio = None
            alarm = False
            if not suppressed:
                share = count / false_now
                if baseline == PREVIOUS_WINDOW:
                    base = before_false[name][value] / false_before
                else:
                    base = now_alerts[name][value] / alerts_now
                ratio = share / base if base else None
                alarm = ratio is None or ratio >= ratio_needed
            groups.append(
                TrendGroup(
                    value=value,
                    false_alerts=count,
                    false_alerts_before=before_false[name][value],
                    alerts=now_alerts[name][value],
                    share=share,
                    baseline_share=base,
                    ratio=ratio,
                    suppressed=suppressed,
                    alarm=alarm,
                )
            )
            if alarm:
                trend.alarms.append(
                    f"{name}={value}: {count} of {false_now} false alerts "
                    f"(share {share:.2f}) against a {baseline.replace('_', ' ')} share of "
                    f"{0.0 if base is None else base:.2f}"
                    + ("" if ratio is None else f" (x{ratio:.2f})")
                )
        trend.tables.append(
            TrendTable(
                field=name,
                baseline=baseline,
                false_alerts=false_now,
                false_alerts_before=false_before,
                alerts=alerts_now,
                groups=groups,
            )
        )
    trend.alarm = bool(trend.alarms)
    return trend
