"""The plain statement an evaluation report carries: what its numbers can show and what they
cannot, worked out from its own counts, so nobody reads 0 of 50 as "never"."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from lfr_ledger.matching.packs.error_rates import RatesAt
from lfr_ledger.matching.packs.intervals import CONFIDENCE, Rate

# The false-positive identification rate the statement asks the data set to be able to show.
FPIR_OF_INTEREST = 0.001


def trials_to_bound(rate: float, confidence: float = CONFIDENCE) -> int:
    """Trials, none of them failing, before the exact interval's upper bound falls to `rate`:
    the Clopper–Pearson upper bound for 0 of n is 1 - ((1 - confidence) / 2) ** (1 / n)."""
    return math.ceil(math.log((1 - confidence) / 2) / math.log(1 - rate))


def _percent(value: float) -> str:
    return f"{value * 100:.2g}%" if value < 0.1 else f"{value * 100:.0f}%"


def statement(
    counts: dict[str, int],
    overall: Sequence[RatesAt],
    groups: Sequence[dict[str, Any]],
    differentials: Sequence[dict[str, Any]],
    labelled: bool,
) -> dict[str, list[str]]:
    can = [
        f"How this pack, at each threshold listed, separates these {counts['people_evaluated']} "
        f"people in these {counts['images'] - counts['images_without_face']} images: the counts, "
        f"and for each rate the range ({round(CONFIDENCE * 100)}%) that its count allows.",
    ]
    cannot = []
    # Thresholds with the same false-positive counts share one sentence.
    alike: dict[tuple[int, int, int, int], list[float]] = {}
    for rates in overall:
        key = (rates.fpir.count, rates.fpir.trials, rates.fmr.count, rates.fmr.trials)
        alike.setdefault(key, []).append(rates.threshold)
    for (fpir, probes, fmr, pairs), thresholds in alike.items():
        if not probes or not pairs:
            continue
        at = ", ".join(f"{t:g}" for t in thresholds[:-1])
        at = f"{at} and {thresholds[-1]:g}" if at else f"{thresholds[-1]:g}"
        cannot.append(
            f"At {at}: {fpir} of {probes} non-mated probes alerted, so the FPIR may be as high "
            f"as {_percent(Rate(fpir, probes).upper)}; {fmr} of {pairs} impostor pairs matched, "
            f"so the FMR may be as high as {_percent(Rate(fmr, pairs).upper)} (95%)."
        )
    cannot.append(
        f"Showing an FPIR below {FPIR_OF_INTEREST:g} needs at least "
        f"{trials_to_bound(FPIR_OF_INTEREST):,} non-mated probes with no alert (from many "
        f"different people); this data set has {counts['non_mated_probes']:,} probes from "
        f"{counts['non_enrolled_people']} people."
    )
    cannot.append(
        "The intervals assume independent trials; these are not (every image is in many pairs, "
        "every person has several images), so the true uncertainty is larger than they show."
    )
    cannot.append(
        "The rates are for these images, not for a deployment's cameras: distance, angle, "
        "light, motion and crowding on a street differ. The watchlist was drawn once; another "
        "draw gives other figures."
    )
    if not labelled:
        cannot.append(
            "No groups file was given: the report says nothing about differences between "
            "demographic groups, neither that there are some nor that there are none."
        )
        return {"can_show": can, "cannot_show": cannot}
    sizes = [row["people"] for row in groups]
    apart = [d for d in differentials if d["intervals_apart"]]
    cannot.append(
        f"Its groups hold {min(sizes)} to {max(sizes)} people. Where the highest and lowest "
        "groups' intervals overlap, the data show neither a demographic differential nor its "
        "absence; to show that a differential is absent, each group's interval would have to "
        "be narrower than the difference that matters, which takes many more people than this."
    )
    if apart:
        can.append(
            f"{len(apart)} comparisons between groups have intervals that do not overlap "
            "(`differentials`, intervals_apart): a differential on this data, to be "
            "investigated on more people before anything is concluded about the pack."
        )
    else:
        cannot.append(
            "No comparison between groups has intervals apart: no differential is shown, and "
            "that is not evidence that there is none."
        )
    return {"can_show": can, "cannot_show": cannot}
