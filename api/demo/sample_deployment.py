"""A sample deployment in a few calls: one actor per role, the authority statement, a plan, a
subject to enrol, and the ledger brought to proposed, authorised or reviewed.

The smallest lawful deployment the policy accepts, so a test or a benchmark states only what it
is about. Every name and reference in it is fictional.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypedDict
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger, Enrolment
from lfr_ledger.domain.values import Camera, DeploymentPlan, Location, PublicNotice

ADMIN = Actor("ADM-1", Role.ADMIN)
PLANNER = Actor("INSP-1", Role.PLANNER, rank="inspector")
COMPILER = Actor("SGT-1", Role.WATCHLIST_MANAGER, rank="sergeant")
AO = Actor("SUPT-1", Role.AUTHORISING_OFFICER, rank="superintendent")
OPERATOR = Actor("PC-1", Role.OPERATOR, rank="constable")
OFFICER = Actor("PC-2", Role.OFFICER, rank="constable")
OVERSIGHT = Actor("ICO-1", Role.OVERSIGHT)


class AuthorityStatement(TypedDict):
    """What every authority states beside its reference (the policy sets the minimum)."""

    necessity_and_proportionality: str
    appropriate_policy_document: str


AUTHORITY: AuthorityStatement = {
    "necessity_and_proportionality": "Intelligence case IC-1 shows wanted people frequent "
    "this street; overt LFR for one day is the least intrusive way to locate them",
    "appropriate_policy_document": "APD-LFR-2025-1",
}

WINDOW_START = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
WINDOW_END = datetime(2025, 6, 2, 17, 0, tzinfo=UTC)
MODEL = "sface-2021dec"


def matcher_for(deployment_id: UUID) -> Actor:
    return Actor("matcher-1", Role.MATCHER, deployment_id=str(deployment_id))


def plan(operation_id: UUID, policy_ref: str, **changes: object) -> DeploymentPlan:
    fields: dict[str, object] = {
        "operation_id": str(operation_id),
        "location": Location("Abington Street", "Northampton", "town_centre"),
        "starts_at": WINDOW_START,
        "ends_at": WINDOW_END,
        "purpose": "Locate people wanted by the courts",
        "intelligence_case": "IC-1",
        "watchlist_categories": ("wanted_by_courts", "subject_to_court_order"),
        "cameras": (Camera("cam-1", "van mast"),),
        "controlling_force": "Northamptonshire Police",
        "equipment_owner_force": "Northamptonshire Police",
        "dpia_ref": "DPIA-1",
        "eia_ref": "EIA-1",
        "policy_ref": policy_ref,
        "public_notice": PublicNotice("signage", WINDOW_START - timedelta(days=1)),
        "model_id": MODEL,
    }
    fields.update(changes)
    return DeploymentPlan(**fields)  # type: ignore[arg-type]


def subject(n: int = 1, category: str = "wanted_by_courts") -> Enrolment:
    return Enrolment(
        subject_ref=f"PNC-{n:04d}",
        name=f"Quentin Zebedee-Marlowe {n}",
        category=category,
        legal_basis="DPA 2018 s.35",
        rationale="Wanted on a warrant for failing to appear",
        offence="failing to appear",
        image_source="custody image",
    )


def proposed(ledger: CaseLedger, **changes: object) -> UUID:
    ledger.adopt_policy(ADMIN)
    operation = ledger.open_operation(PLANNER, name="Op", force="NP", purpose="town centre")
    return ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version, **changes))


def authorised(ledger: CaseLedger) -> UUID:
    deployment = proposed(ledger)
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    return deployment


def reviewed(
    ledger: CaseLedger, entries: int = 2, category: str = "wanted_by_courts"
) -> tuple[UUID, list[UUID]]:
    deployment = authorised(ledger)
    ids = [ledger.enrol(COMPILER, deployment, subject(i, category)) for i in range(entries)]
    ledger.review_watchlist(AO, deployment, confirmed_count=entries, not_excessive=True)
    return deployment, ids
