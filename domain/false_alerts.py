"""Why an alert was false: the policy's closed lists of false-alert factors (issue 24).

South Wales Police record a false alert's cause as the subject (a lookalike), the system (the
enrolment image, the watchlist, the threshold) or the environment (light, occlusion, angle).
An operator's no_match, and an engagement that found the identity not confirmed, name one or
more of them: a factor ("environment") or a factor and its reason ("environment.lighting"),
from the lists the policy file sets in `[outcomes]`. The policy also says whether at least one
is required. The statistics count false alerts by factor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lfr_ledger.domain.errors import InvalidInput, PolicyViolation

# Where a policy file names no factors: the three, each with the reasons a reviewer most often
# gives.
DEFAULT_REASONS: Mapping[str, tuple[str, ...]] = {
    "subject": ("lookalike", "family_resemblance", "changed_appearance"),
    "system": ("enrolment_image_quality", "watchlist_error", "threshold"),
    "environment": ("lighting", "occlusion", "angle", "distance", "motion_blur"),
}


@dataclass(frozen=True)
class FalseAlertFactors:
    """The closed lists (`factors`, each one's `reasons`) and whether a false alert must name
    at least one (`required`). The default asks for none: a policy file written before these
    lists required nothing."""

    factors: tuple[str, ...] = tuple(DEFAULT_REASONS)
    reasons: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_REASONS))
    required: bool = False

    @classmethod
    def parse(cls, outcomes: Mapping[str, Any]) -> FalseAlertFactors:
        """The `[outcomes]` settings `false_alert_factors`, `false_alert_reasons` (a flat list
        of "factor.reason", so the section stays flat) and `false_alert_factors_required`."""
        factors = tuple(str(f) for f in outcomes.get("false_alert_factors", tuple(DEFAULT_REASONS)))
        if any(not f or "." in f or f != f.strip() for f in factors):
            raise InvalidInput("outcomes.false_alert_factors are names without dots or spaces")
        listed = outcomes.get("false_alert_reasons")
        reasons: dict[str, tuple[str, ...]] = {}
        if listed is None:
            reasons = {f: r for f, r in DEFAULT_REASONS.items() if f in factors}
        for code in (str(c) for c in listed or ()):
            factor, dot, reason = code.partition(".")
            if not dot or factor not in factors or not reason or "." in reason:
                raise InvalidInput(
                    f"outcomes.false_alert_reasons: {code!r} is not 'factor.reason' with a "
                    f"factor of false_alert_factors ({', '.join(factors)})"
                )
            reasons[factor] = (*reasons.get(factor, ()), reason)
        required = outcomes.get("false_alert_factors_required", False)
        # `bool("false")` is True: a switch that refuses records is a TOML boolean.
        if not isinstance(required, bool):
            raise InvalidInput("outcomes.false_alert_factors_required must be true or false")
        return cls(factors=factors, reasons=reasons, required=required)

    def codes(self) -> tuple[str, ...]:
        """Every code a false alert may name: each factor, then each "factor.reason"."""
        return self.factors + tuple(
            f"{factor}.{reason}"
            for factor in self.factors
            for reason in self.reasons.get(factor, ())
        )

    def check(
        self, factors: Sequence[str], *, false_alert: bool, what: str, version: str
    ) -> tuple[str, ...]:
        """`factors` as recorded (trimmed, each once, in the order given), checked against the
        closed lists of policy `version`. `false_alert`: the record says the alert was false
        (a no_match, an identity not confirmed), where at least one may be required; elsewhere
        none is allowed. `what` names the record in a refusal."""
        given = tuple(dict.fromkeys(f.strip() for f in factors))
        if given and not false_alert:
            raise InvalidInput(
                f"false-alert factors belong to a false alert; {what} is not one: send none"
            )
        known = self.codes()
        unknown = [f for f in given if f not in known]
        if unknown:
            raise InvalidInput(
                f"unknown false-alert factor(s) {', '.join(repr(f) for f in unknown)}; policy "
                f"{version} knows: {', '.join(known)}"
            )
        if false_alert and not given and self.required:
            raise PolicyViolation(
                f"{what} needs its false-alert factors: policy {version} requires at least one "
                f"of {', '.join(self.factors)} (or 'factor.reason', e.g. '{known[-1]}') to say "
                "why the alert was false"
            )
        return given
