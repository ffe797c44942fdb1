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
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Confirmation
from lfr_ledger.eventlog.reader import notifications
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
    for n in notifications(ledger.recorder, [AlertTopic.DEMOGRAPHICS_PERCEIVED]):
        alert_id = UUID(str(n.originator_id))
        alert = ledger.alert(alert_id)
        if deployment_id is not None and alert.deployment_id != deployment_id:
            continue
        if start is not None and alert.captured_at < start:
            continue
        if end is not None and alert.captured_at >= end:
            continue
        event: Any = ledger.mapper.to_domain_event(n)
        perceived = ledger.reveal_perceived_demographics(alert_id, event.sealed_demographics)
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
