"""What followed an alert (`Outcome`), and the rules its kinds follow among themselves.

An outcome is checked twice: alone, when it is made (and when a stored one is read back, so a
rule here must hold for every outcome ever recorded: new rules bind only new types and new
fields), and beside the alert's other outcomes (`check_outcome_order`), when it is recorded
or corrected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition
from lfr_ledger.domain.values import ComplianceResult, OutcomeType

# Outcomes that act on the person the alert named: only after an operator's `match` and an
# officer's engagement.
NEEDS_ENGAGED_MATCH = frozenset(
    {
        OutcomeType.ARREST,
        OutcomeType.COMPLIANCE_CHECK,
        OutcomeType.SAFEGUARDING,
        OutcomeType.VOLUNTARY_ATTENDANCE,
        OutcomeType.CHARGE,
        OutcomeType.BAIL,
    }
)
# A person is charged or bailed once arrested or interviewed by appointment: each follows one
# of these, recorded before it on the same alert.
OPENS_PROCEEDINGS = frozenset({OutcomeType.ARREST, OutcomeType.VOLUNTARY_ATTENDANCE})
FOLLOWS_PROCEEDINGS = frozenset({OutcomeType.CHARGE, OutcomeType.BAIL})
# The outcomes with a time the person must come back: to answer bail, to attend the interview.
HAS_DUE_TIME = frozenset({OutcomeType.BAIL, OutcomeType.VOLUNTARY_ATTENDANCE})


@dataclass(frozen=True)
class Outcome:
    """What followed an alert. As recorded, `note`, `reference`, `custody_ref`, `crime_ref`
    and each of `conditions` are sealed text under the alert's notes key
    (`OutcomeCommands.reveal_outcome` opens them); `offences` are the law's words, in clear.

    `offences`: an arrest's or a charge's (required there), or what a bail or a voluntary
    attendance is in connection with. `conditions`: a compliance check's conditions checked, or
    a bail's conditions. `custody_ref` (the custody record) and `crime_ref` (the crime report)
    replace `reference`, one free field for both, which outcomes recorded before release 4 keep.
    `due_at`: when the person must answer bail, or attend the voluntary interview."""

    type: OutcomeType
    offences: tuple[str, ...] = ()
    reference: str | None = None
    conditions: tuple[str, ...] = ()
    result: ComplianceResult | None = None
    note: str | None = None
    # Absent from outcomes recorded before release 4.
    custody_ref: str | None = None
    crime_ref: str | None = None
    due_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.type == OutcomeType.ARREST and not self.offences:
            raise InvalidInput("an arrest needs at least one offence")
        if self.type == OutcomeType.CHARGE and not self.offences:
            raise InvalidInput("a charge needs the offences charged (at least one)")
        if self.type == OutcomeType.COMPLIANCE_CHECK:
            if not self.conditions:
                raise InvalidInput("a compliance check needs the conditions that were checked")
            if self.result is None:
                raise InvalidInput("a compliance check needs its result: complied or breach")
        elif self.result is not None:
            raise InvalidInput("only a compliance check has a result")
        if self.type == OutcomeType.OTHER and not (self.note or "").strip():
            raise InvalidInput("an outcome of type other needs a note saying what happened")
        if self.type == OutcomeType.SAFEGUARDING and not (self.note or "").strip():
            raise InvalidInput(
                "a safeguarding outcome needs a note saying what was done (e.g. the referral "
                "made, to whom)"
            )
        if any(not o.strip() for o in self.offences):
            raise InvalidInput("offences must not be empty strings")
        for name in ("custody_ref", "crime_ref"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                raise InvalidInput(f"{name} must not be blank: leave it out instead")
        if self.due_at is not None:
            if self.type not in HAS_DUE_TIME:
                raise InvalidInput(
                    "due_at belongs to a bail (when to answer it) or a voluntary attendance "
                    f"(when to attend), not to {self.type.value}"
                )
            object.__setattr__(self, "due_at", recorded_time(self.due_at, "due_at"))


def check_outcome_order(outcomes: Sequence[Outcome]) -> None:
    """Every charge and bail follows an arrest or a voluntary attendance recorded before it on
    the same alert (`outcomes` in recording order, as they would stand)."""
    opened = False
    for index, outcome in enumerate(outcomes):
        if outcome.type in OPENS_PROCEEDINGS:
            opened = True
        elif outcome.type in FOLLOWS_PROCEEDINGS and not opened:
            raise InvalidTransition(
                f"a {outcome.type.value} follows an arrest or a voluntary attendance recorded "
                f"before it on the same alert; outcome {index} ({outcome.type.value}) would "
                "follow neither: record the arrest or the voluntary attendance first"
            )
