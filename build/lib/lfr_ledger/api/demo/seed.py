"""The seed operation: four days of LFR vans in Northampton (x2), Kettering and Wellingborough.

13 alerts, all adjudicated match and engaged; 6 arrests (one for two offences) and 7
compliance checks. Subjects are fictional; the seed uses an external vendor matcher, so
entries carry references only and the deployment runs on the vendor's similarity scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid5

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import Outcome
from lfr_ledger.domain.application import CaseLedger, Enrolment
from lfr_ledger.domain.records import LFR_NAMESPACE
from lfr_ledger.domain.values import (
    Camera,
    ComplianceResult,
    Confirmation,
    Decision,
    DeploymentPlan,
    Location,
    OutcomeType,
    PublicNotice,
)

FORCE = "Northamptonshire Police"
MODEL = "nec-neoface-v4"  # the vendor's scale: the policy floor is 0.60
THRESHOLD = 0.64
WATCHLIST_SIZE = 24  # entries per deployment

ADMIN = Actor("ADM-001", Role.ADMIN, force=FORCE)
PLANNER = Actor("INSP-1042", Role.PLANNER, rank="inspector", force=FORCE)
WATCHLIST_MANAGER = Actor("SGT-2210", Role.WATCHLIST_MANAGER, rank="sergeant", force=FORCE)
AUTHORISING_OFFICER = Actor(
    "SUPT-0307", Role.AUTHORISING_OFFICER, rank="superintendent", force=FORCE
)
OPERATOR = Actor("PC-3381", Role.OPERATOR, rank="constable", force=FORCE)
OFFICER = Actor("PC-4417", Role.OFFICER, rank="constable", force=FORCE)


def arrest(*offences: str, custody: str) -> Outcome:
    return Outcome(OutcomeType.ARREST, offences=offences, reference=custody)


def compliance(*conditions: str) -> Outcome:
    return Outcome(
        OutcomeType.COMPLIANCE_CHECK, conditions=conditions, result=ComplianceResult.COMPLIED
    )


@dataclass(frozen=True)
class SeedAlert:
    entry: int  # index into the deployment's watchlist
    similarity: float
    minutes_after_start: int
    outcome: Outcome
    camera: str = "cam-1"


@dataclass(frozen=True)
class SeedDeployment:
    town: str
    location_name: str
    day: int  # 0..3 within the operation
    faces_processed: int
    alerts: tuple[SeedAlert, ...]


SEED_DEPLOYMENTS: tuple[SeedDeployment, ...] = (
    SeedDeployment(
        "Northampton",
        "Abington Street",
        0,
        8412,
        (
            SeedAlert(0, 0.81, 35, arrest("shoplifting", custody="NN-C-0001")),
            SeedAlert(5, 0.72, 92, compliance("SHPO: notify address changes")),
            SeedAlert(9, 0.77, 150, arrest("failing to appear", custody="NN-C-0002")),
            SeedAlert(12, 0.69, 301, compliance("licence: exclusion zone")),
        ),
    ),
    SeedDeployment(
        "Northampton",
        "Gold Street",
        1,
        6930,
        (
            SeedAlert(
                2,
                0.88,
                48,
                arrest(
                    "sexual assault",
                    "possession of an offensive weapon (lock knife)",
                    custody="NN-C-0003",
                ),
            ),
            SeedAlert(7, 0.70, 133, compliance("SHPO: no unsupervised contact with children")),
            SeedAlert(14, 0.74, 260, compliance("bail: curfew 19:00-07:00")),
        ),
    ),
    SeedDeployment(
        "Kettering",
        "Gold Street",
        2,
        5287,
        (
            SeedAlert(1, 0.79, 61, arrest("immigration offences", custody="NN-C-0004")),
            SeedAlert(6, 0.67, 174, compliance("licence: report weekly")),
            SeedAlert(11, 0.73, 222, arrest("criminal damage", custody="NN-C-0005")),
        ),
    ),
    SeedDeployment(
        "Wellingborough",
        "Market Street",
        3,
        4116,
        (
            SeedAlert(
                3,
                0.84,
                40,
                arrest("breach of Sexual Harm Prevention Order", custody="NN-C-0006"),
            ),
            SeedAlert(8, 0.71, 118, compliance("SHPO: device monitoring")),
            SeedAlert(13, 0.66, 245, compliance("licence: residence condition")),
        ),
    ),
)

CATEGORIES = ("wanted_by_courts", "subject_to_court_order", "suspected_offender")
_GIVEN = ("Alex", "Jordan", "Sam", "Chris", "Taylor", "Morgan", "Jamie", "Casey")
_FAMILY = ("Fenwick", "Holloway", "Prentice", "Marsh", "Whitlock", "Duggan")


def seed_subject(deployment: int, index: int) -> Enrolment:
    """A fictional subject; the category decides which outcomes make sense for the alert."""
    category = CATEGORIES[index % len(CATEGORIES)]
    return Enrolment(
        subject_ref=f"SEED-{deployment}-{index:03d}",
        name=f"{_GIVEN[index % len(_GIVEN)]} {_FAMILY[(index + deployment) % len(_FAMILY)]}",
        category=category,
        legal_basis="DPA 2018 Part 3, s.35; common law policing purpose",
        rationale=f"High-risk subject ({category}); intelligence case NN-IC-2025-{index:03d}",
        offence="warrant, order or offence as recorded on the police national computer",
        image_source="custody image",
        image_taken_on=date(2024, 1 + index % 12, 1 + index % 28),
    )


@dataclass
class DemoClock:
    """The seed happened in 2025; the ledger is told what time it was for each step."""

    now: datetime = field(default_factory=lambda: datetime(2025, 5, 26, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


@dataclass
class SeedResult:
    operation_id: UUID
    deployment_ids: list[UUID] = field(default_factory=list)
    alert_ids: list[UUID] = field(default_factory=list)


def record_seed_operation(
    ledger: CaseLedger,
    set_time: Callable[[datetime], None],
    first_day: date = date(2025, 6, 2),
) -> SeedResult:
    """Records the whole operation through the ledger's commands, as the roles would."""

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)

    set_time(at(first_day - timedelta(days=7), 9))
    ledger.adopt_policy(ADMIN)
    result = SeedResult(
        ledger.open_operation(
            PLANNER,
            name="Operation Town Centres 2025",
            force=FORCE,
            purpose="Locate people wanted by the courts and manage high-risk sex offenders "
            "in three town centres",
        )
    )
    for number, seed in enumerate(SEED_DEPLOYMENTS):
        day = first_day + timedelta(days=seed.day)
        set_time(at(day - timedelta(days=5), 10))
        deployment_id = ledger.propose_deployment(
            PLANNER,
            DeploymentPlan(
                operation_id=str(result.operation_id),
                location=Location(seed.location_name, seed.town, "town centre"),
                starts_at=at(day, 10),
                ends_at=at(day, 17),
                purpose="Locate wanted people and check compliance of managed offenders",
                intelligence_case=f"NN-IC-2025-{100 + number}",
                watchlist_categories=CATEGORIES,
                cameras=(Camera("cam-1", "van mast camera"),),
                controlling_force=FORCE,
                equipment_owner_force=FORCE,
                dpia_ref="DPIA-LFR-2025-03",
                eia_ref="EIA-LFR-2025-03",
                policy_ref=ledger.policy.version,
                public_notice=PublicNotice("signage and force website", at(day, 8)),
                model_id=MODEL,
            ),
            threshold=THRESHOLD,
        )
        result.deployment_ids.append(deployment_id)
        set_time(at(day - timedelta(days=3), 11))
        ledger.authorise_deployment(
            AUTHORISING_OFFICER, deployment_id, authority_ref=f"AUTH-LFR-2025-{100 + number}"
        )
        set_time(at(day - timedelta(days=1), 14))
        entries = [
            ledger.enrol(WATCHLIST_MANAGER, deployment_id, seed_subject(number, i))
            for i in range(WATCHLIST_SIZE)
        ]
        set_time(at(day - timedelta(days=1), 16))
        ledger.review_watchlist(
            AUTHORISING_OFFICER,
            deployment_id,
            confirmed_count=len(entries),
            not_excessive=True,
            note="Proportionate to the intelligence case",
        )
        set_time(at(day, 10))
        ledger.start_deployment(OPERATOR, deployment_id)
        matcher = Actor(f"matcher-van-{number + 1}", Role.MATCHER, deployment_id=str(deployment_id))
        for seq, alert in enumerate(seed.alerts):
            captured = at(day, 10) + timedelta(minutes=alert.minutes_after_start)
            set_time(captured + timedelta(seconds=2))
            alert_id = ledger.raise_alert(
                matcher,
                deployment_id,
                camera_id=alert.camera,
                entry_id=entries[alert.entry],
                similarity=alert.similarity,
                captured_at=captured,
                model_id=MODEL,
                alert_id=uuid5(LFR_NAMESPACE, f"seed-alert:{number}:{seq}"),
            )
            result.alert_ids.append(alert_id)
            set_time(captured + timedelta(seconds=40))
            ledger.adjudicate(OPERATOR, alert_id, Decision.MATCH, "Likeness confirmed on screen")
            set_time(captured + timedelta(minutes=4))
            ledger.record_engagement(
                OFFICER, alert_id, engaged=True, confirmed=Confirmation.CONFIRMED
            )
            set_time(captured + timedelta(minutes=12))
            ledger.record_outcome(OFFICER, alert_id, alert.outcome)
            ledger.close_alert(OFFICER, alert_id)
        set_time(at(day, 17))
        ledger.report_faces_counted(
            matcher,
            deployment_id,
            camera_id="cam-1",
            period_start=at(day, 10),
            period_end=at(day, 17),
            count=seed.faces_processed,
        )
        ledger.end_deployment(OPERATOR, deployment_id)
    return result
