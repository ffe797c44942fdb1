"""Error rates with exact binomial (Clopper–Pearson) confidence intervals.

A rate measured on a few hundred trials says little on its own: 0 false matches in 100 impostor
pairs is consistent with a true rate of up to 3.6 % (95 %). Every rate an evaluation reports
carries its interval, so a reader sees how much the count can and cannot show.

Clopper–Pearson is the interval NPL's evaluations and ISO/IEC 19795-1 readers expect: exact
(never narrower than the binomial allows, often wider), from quantiles of the beta distribution
(`scipy.stats.beta`, which insightface and scikit-image already install). It assumes the trials
are independent, which pairs drawn from one set of people are not (`evaluate.py` says so in
every report).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scipy.stats import beta

CONFIDENCE = 0.95


def clopper_pearson(
    successes: int, trials: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The exact two-sided interval for a binomial proportion of `successes` in `trials`."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"no interval for {successes} of {trials}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    tail = (1 - confidence) / 2
    lower = 0.0 if successes == 0 else float(beta.ppf(tail, successes, trials - successes + 1))
    upper = (
        1.0 if successes == trials else float(beta.ppf(1 - tail, successes + 1, trials - successes))
    )
    return lower, upper


@dataclass(frozen=True)
class Rate:
    """`count` of `trials`, as a proportion with its 95 % Clopper–Pearson interval; no trials,
    no rate (None), never a made-up 0."""

    count: int
    trials: int

    @property
    def value(self) -> float | None:
        return self.count / self.trials if self.trials else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return clopper_pearson(self.count, self.trials) if self.trials else None

    @property
    def upper(self) -> float:
        """The interval's upper bound: the highest rate the count does not rule out."""
        interval = self.interval
        return 1.0 if interval is None else interval[1]

    def complement(self) -> Rate:
        """The other outcome's rate over the same trials (misses from hits)."""
        return Rate(self.trials - self.count, self.trials)

    def to_dict(self) -> dict[str, Any]:
        interval = self.interval
        value = self.value
        return {
            "count": self.count,
            "trials": self.trials,
            "rate": None if value is None else round(value, 6),
            "ci95": None if interval is None else [round(interval[0], 6), round(interval[1], 6)],
        }


def ratio_to_lowest(rates: dict[str, Rate]) -> dict[str, Any]:
    """Each group's rate over the lowest group's (the differential NIST and NPL report), and
    whether the intervals of the highest and lowest groups are apart at all: overlapping
    intervals show neither a differential nor its absence. Groups with no trials take no part;
    when the lowest rate is 0 no ratio is defined (null), though the counts may still differ."""
    measured = {name: rate for name, rate in rates.items() if rate.trials}
    if len(measured) < 2:
        return {"lowest": None, "ratios": {}, "intervals_apart": False}
    values = {name: rate.count / rate.trials for name, rate in measured.items()}
    lowest = min(sorted(values), key=values.__getitem__)
    highest = max(sorted(values), key=values.__getitem__)
    low_interval, high_interval = measured[lowest].interval, measured[highest].interval
    assert low_interval is not None and high_interval is not None
    base = values[lowest]
    return {
        "lowest": lowest,
        "ratios": {
            name: (round(value / base, 3) if base > 0 else None)
            for name, value in sorted(values.items())
        },
        "intervals_apart": high_interval[0] > low_interval[1],
    }
