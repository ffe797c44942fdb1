"""A deployment's scores: alerts per similarity bin, and what each higher threshold would
have kept."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal
from uuid import UUID

import msgspec

from lfr_ledger.projections.readers.base import ViewReader
from lfr_ledger.projections.readers.figures import Row
from lfr_ledger.projections.statistics import tally
from lfr_ledger.projections.summaries import ScoreDistribution, ThresholdSensitivity


def _decimal(value: float) -> Decimal:
    # The shortest repr is the number the matcher sent (0.29, not 0.28999…), so bins and
    # threshold comparisons fall where a person reading the score expects.
    return Decimal(repr(float(value)))


class ScoreReader(ViewReader):
    """Similarity scores of a deployment's operational (not blue) alerts."""

    def score_distribution(
        self, deployment_id: UUID, bin_width: float = 0.05
    ) -> ScoreDistribution | None:
        """Alerts per similarity bin [lower, upper), split by adjudication."""
        deployment, alerts = self._alerts(deployment_id)
        if deployment is None:
            return None
        width = _decimal(bin_width)
        binned: dict[int, list[Row]] = defaultdict(list)
        for a in alerts:
            index = int((_decimal(a["similarity"]) / width).to_integral_value(ROUND_FLOOR))
            binned[index].append(a)
        bins = []
        if binned:
            for index in range(min(binned), max(binned) + 1):
                counts = tally(binned.get(index, []), None)
                bins.append(
                    {
                        "lower": float(index * width),
                        "upper": float((index + 1) * width),
                        **{
                            k: counts[k]
                            for k in (
                                "alerts",
                                "true_alerts",
                                "false_alerts",
                                "inconclusive",
                                "unadjudicated",
                            )
                        },
                    }
                )
        distribution = {
            "deployment_id": deployment["deployment_id"],
            "threshold": float(deployment["threshold"]),
            "bin_width": float(width),
            "bins": bins,
        }
        return msgspec.convert(distribution, ScoreDistribution)

    def threshold_sensitivity(
        self, deployment_id: UUID, step: float = 0.01
    ) -> ThresholdSensitivity | None:
        """The alerts that would remain had the threshold been each higher value, from the
        lowest threshold any alert was raised under up to the first that removes them all."""
        deployment, alerts = self._alerts(deployment_id)
        if deployment is None:
            return None
        increment = _decimal(step)
        base = min([_decimal(deployment["threshold"])] + [_decimal(a["threshold"]) for a in alerts])
        scored = [(_decimal(a["similarity"]), a) for a in alerts]
        top = max((s for s, _ in scored), default=base)
        all_counts = tally(alerts, None)
        rows = []
        threshold = base
        while True:
            kept = [a for s, a in scored if s >= threshold]
            counts = tally(kept, None)
            rows.append(
                {
                    "threshold": float(threshold),
                    "alerts": counts["alerts"],
                    "true_alerts": counts["true_alerts"],
                    "false_alerts": counts["false_alerts"],
                    "inconclusive": counts["inconclusive"],
                    "unadjudicated": counts["unadjudicated"],
                    "arrests": counts["arrests"],
                    "alerts_lost": all_counts["alerts"] - counts["alerts"],
                    "true_alerts_lost": all_counts["true_alerts"] - counts["true_alerts"],
                    "false_alerts_avoided": all_counts["false_alerts"] - counts["false_alerts"],
                }
            )
            if threshold > top or threshold >= 1:
                break
            threshold += increment
        sensitivity = {
            "deployment_id": deployment["deployment_id"],
            "threshold": float(deployment["threshold"]),
            "step": float(increment),
            "rows": rows,
        }
        return msgspec.convert(sensitivity, ThresholdSensitivity)
