"""The words the console shows for the ledger's codes: one table, handed to every page.

A code is what the ledger records (`wanted_by_courts`, `no_match`, `kent`); a label is what a
person reads ("Wanted by the courts", "No match", "Kent Police"). The closed vocabularies of
the event model and the policy in force are all here, so a page never shows a slug; a code
with no entry of its own is read by `plain` (underscores become spaces, first letter capital).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from lfr_ledger.domain.actors import Role
from lfr_ledger.domain.governance import LABELS as DOCUMENT_LABELS
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import (
    AlertStatus,
    ComplianceResult,
    Decision,
    DeploymentStatus,
    EntryStatus,
    OutcomeType,
)

# Where the plain reading of a code would be wrong or stiff.
WORDING: dict[str, str] = {
    "wanted_by_courts": "Wanted by the courts",
    "at_risk": "At risk",
    "test_subject": "Test subject (blue list)",
    "no_match": "No match",
    "match": "Match",
    "engagement_recorded": "Engaged",
    "outcome_recorded": "Outcome recorded",
    "compliance_check": "Compliance check",
    "no_further_action": "No further action",
    "not_located": "Not located",
    "voluntary_attendance": "Voluntary attendance",
    "town_centre": "Town centre",
    "sporting_or_cultural_event": "Sporting or cultural event",
    "night_time_economy": "Night-time economy",
    "never_reported": "Never reported",
    "not_recorded": "Not recorded",
    "under_18": "Under 18",
    "65_plus": "65 and over",
    "online_form": "Online form",
    "in_person": "In person",
    "lfr_operator": "LFR operator course",
    "lfr_engagement": "LFR engagement course",
    "authorising_officer": "Authorising officer",
    "watchlist_manager": "Watchlist manager",
    "admin": "Administrator",
    "demo": "Demonstration force",
}

_AGE_BAND = re.compile(r"^(\d+)_(\d+)$")


def plain(code: str) -> str:
    """A code read aloud: "suspected_offender" -> "Suspected offender", "18_24" -> "18–24"."""
    if band := _AGE_BAND.match(code):
        return f"{band[1]}–{band[2]}"
    words = code.replace(".", ": ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _false_alert_label(code: str) -> str:
    factor, _, reason = code.partition(".")
    return f"{plain(factor)}: {plain(reason).lower()}" if reason else plain(factor)


def labels(policy: Policy) -> dict[str, str]:
    """Every code a page may show under the policy in force, with the words it shows instead."""
    enums: Iterable[type[StrEnum]] = (
        DeploymentStatus,
        Decision,
        OutcomeType,
        AlertStatus,
        ComplianceResult,
        EntryStatus,
        Role,
    )
    codes: list[str] = [member.value for enum in enums for member in enum]
    codes += [*policy.location_types, *policy.categories, *policy.complaint_channels]
    codes += [value for values in policy.equality_fields.values() for value in values]
    codes += list(policy.training_courses.values())
    table = {code: WORDING.get(code, plain(code)) for code in codes}
    table |= {code: _false_alert_label(code) for code in policy.false_alerts.codes()}
    table |= {str(kind): text[:1].upper() + text[1:] for kind, text in DOCUMENT_LABELS.items()}
    table |= dict(policy.forces.names)
    return table
