"""The statistics of DESIGN.md, from view rows: counts are exact integers, rates are derived
from them when read.

Definitions (following published police practice):
- true alert: adjudicated `match`; false alert: adjudicated `no_match`; inconclusive: adjudicated
  `inconclusive`; unadjudicated: no decision yet.
- confirmed true / confirmed false: the engagement officer confirmed / refuted the identity.
- engagement: an engagement recorded with `engaged` true.
- arrests, compliance checks (complied / breach), charges, bails, voluntary attendances,
  safeguarding, other outcomes (words of advice, no further action, not located, other):
  outcomes recorded, each counted once; an arrest for two offences is one arrest, a charge of
  two offences one charge.
- false alert rate per faces: false alerts / faces processed, also given as "1 in N" with
  N = faces / false alerts rounded to the nearest whole face; per alert: false / alerts.
- alerts per 1,000 faces: 1000 × alerts / faces processed.
- arrests per confirmed alert: arrests / confirmed true.
- adjudication time: from the alert being raised (recorded) to the operator's decision; the
  median over adjudicated alerts, in seconds.
- engagement duration: from `engaged_from` to `engaged_until` as the officer recorded them,
  over the engagements recorded with both (`timed_engagements`); the median and the 90th
  percentile (nearest rank: the smallest duration at least 90% of them did not exceed), in
  seconds.
- false alerts by factor: each false alert (adjudicated `no_match`) counts once under each
  factor it names (`subject`, `system`, `environment`: the policy's closed list), once under
  each `factor.reason` it names, and under `not_recorded` when it names none; an alert naming
  two factors counts under both, so the counts may add up to more than the false alerts.
  Confirmed false by factor: the same over engagements that found the identity not confirmed,
  by the factors the officer named.
- A day is a UTC date: alerts count on the day their face was captured, faces on the day their
  reporting period started.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lfr_ledger.domain.values import Confirmation, Decision

COUNTS = (
    "alerts",
    "adjudicated",
    "true_alerts",
    "false_alerts",
    "inconclusive",
    "unadjudicated",
    "engagements",
    "confirmed_true",
    "confirmed_false",
    "arrests",
    "compliance_checks",
    "compliance_complied",
    "compliance_breach",
    "other_outcomes",
    "charges",
    "bails",
    "voluntary_attendances",
    "safeguarding",
    "timed_engagements",
)
# Where a false alert names no factor (recorded before factors, or not required).
NOT_RECORDED = "not_recorded"


def _ratio(numerator: int, denominator: int | None) -> float | None:
    if not denominator:
        return None
    return numerator / denominator


@dataclass
class Tally:
    """Counts over a set of alerts and face reports. `faces_processed` is None where faces
    cannot be attributed (a watchlist category: non-matching faces have none)."""

    faces_processed: int | None = 0
    alerts: int = 0
    adjudicated: int = 0
    true_alerts: int = 0
    false_alerts: int = 0
    inconclusive: int = 0
    unadjudicated: int = 0
    engagements: int = 0
    confirmed_true: int = 0
    confirmed_false: int = 0
    arrests: int = 0
    compliance_checks: int = 0
    compliance_complied: int = 0
    compliance_breach: int = 0
    other_outcomes: int = 0
    charges: int = 0
    bails: int = 0
    voluntary_attendances: int = 0
    safeguarding: int = 0
    timed_engagements: int = 0
    adjudication_ms: list[int] = field(default_factory=list)
    engagement_ms: list[int] = field(default_factory=list)
    false_alerts_by_factor: Counter[str] = field(default_factory=Counter)
    confirmed_false_by_factor: Counter[str] = field(default_factory=Counter)

    def add_faces(self, count: int) -> None:
        if self.faces_processed is not None:
            self.faces_processed += count

    def add_alert(self, alert: Mapping[str, Any]) -> None:
        self.alerts += 1
        decision = alert["decision"]
        if decision is None:
            self.unadjudicated += 1
        else:
            self.adjudicated += 1
            if decision == Decision.MATCH:
                self.true_alerts += 1
            elif decision == Decision.NO_MATCH:
                self.false_alerts += 1
                _count_factors(self.false_alerts_by_factor, alert["false_alert_factors"])
            elif decision == Decision.INCONCLUSIVE:
                self.inconclusive += 1
            if alert["adjudication_ms"] is not None:
                self.adjudication_ms.append(int(alert["adjudication_ms"]))
        if alert["engaged"]:
            self.engagements += 1
        if alert["confirmed"] == Confirmation.CONFIRMED:
            self.confirmed_true += 1
        elif alert["confirmed"] == Confirmation.NOT_CONFIRMED:
            self.confirmed_false += 1
            _count_factors(self.confirmed_false_by_factor, alert["confirmed_false_factors"])
        if alert["engagement_ms"] is not None:
            self.timed_engagements += 1
            self.engagement_ms.append(int(alert["engagement_ms"]))
        self.arrests += int(alert["arrests"])
        complied, breach = int(alert["compliance_complied"]), int(alert["compliance_breach"])
        self.compliance_complied += complied
        self.compliance_breach += breach
        self.compliance_checks += complied + breach
        self.other_outcomes += int(alert["other_outcomes"])
        for column in ("charges", "bails", "voluntary_attendances", "safeguarding"):
            setattr(self, column, getattr(self, column) + int(alert[column]))

    def as_dict(self) -> dict[str, Any]:
        faces = self.faces_processed
        one_in = None
        if faces is not None and self.false_alerts:
            one_in = round(faces / self.false_alerts)
        median = statistics.median(self.adjudication_ms) / 1000 if self.adjudication_ms else None
        return {
            "faces_processed": faces,
            **{name: getattr(self, name) for name in COUNTS},
            "false_alert_rate_per_faces": _ratio(self.false_alerts, faces),
            "false_alerts_one_in_faces": one_in,
            "false_alert_rate_per_alert": _ratio(self.false_alerts, self.alerts),
            "alerts_per_1000_faces": None if not faces else 1000 * self.alerts / faces,
            "arrests_per_confirmed_alert": _ratio(self.arrests, self.confirmed_true),
            "median_adjudication_seconds": median,
            "median_engagement_seconds": (
                statistics.median(self.engagement_ms) / 1000 if self.engagement_ms else None
            ),
            "p90_engagement_seconds": _nearest_rank(self.engagement_ms, 0.9),
            "false_alerts_by_factor": _factor_rows(self.false_alerts_by_factor),
            "confirmed_false_by_factor": _factor_rows(self.confirmed_false_by_factor),
        }


def _factor_rows(counts: Counter[str]) -> list[dict[str, Any]]:
    """Counts by factor as rows, in the order of their codes (a factor before its reasons)."""
    return [{"factor": code, "alerts": n} for code, n in sorted(counts.items())]


def _nearest_rank(values_ms: list[int], share: float) -> float | None:
    """The `share` percentile of `values_ms` by nearest rank, in seconds: the smallest value
    that at least `share` of them do not exceed (None without values)."""
    if not values_ms:
        return None
    ordered = sorted(values_ms)
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[rank - 1] / 1000


def _count_factors(counts: Counter[str], codes: str | None) -> None:
    """One false alert's factors (the view's comma-separated codes) added to `counts`: once
    under each factor it names, once under each "factor.reason", or under `not_recorded`."""
    named = [c for c in (codes or "").split(",") if c]
    if not named:
        counts[NOT_RECORDED] += 1
        return
    for factor in {code.partition(".")[0] for code in named}:
        counts[factor] += 1
    for code in {code for code in named if "." in code}:
        counts[code] += 1


def tally(
    alerts: Iterable[Mapping[str, Any]], faces: Iterable[int] | None = (), **extra: Any
) -> dict[str, Any]:
    """Counts and rates of `alerts` and face reports; `faces=None` means not attributable."""
    t = Tally(faces_processed=None if faces is None else 0)
    for count in faces or ():
        t.add_faces(count)
    for alert in alerts:
        t.add_alert(alert)
    return {**extra, **t.as_dict()}
