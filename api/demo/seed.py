"""The seed operation, as Northamptonshire Police's press release tells it: LFR vans in
Northampton (28 November), Kettering (29 November), Northampton (5 December) and Wellingborough
(6 December 2025), during the 16 Days of Activism against violence towards women and girls, on
equipment the force did not own (it plans its own LFR technology in 2026: a mutual-aid case).

13 alerts, all adjudicated match and engaged; 6 arrests and 7 compliance checks, exactly the
release's figures. The release names seven arrested people (four "for a range of offences", then
"three women also arrested") against its own total of six; the seed records the reading of the
force's lead, "four people who were wanted for various offences and two who were in breach of
their Sexual Harm Prevention Orders": the four wanted are the man wanted for a sexual assault on a
child (found with a lock knife) and the three women (failing to appear for drug offences and for
shoplifting, criminal damage); the two SHPO breaches complete the six, and the immigration
offences the release lists are recorded against one of them, the one attribution the release
does not state (README, "The seed, and how its figures reconcile"). Compliance checks fall only
on people subject to court orders.

Which alert fell on which day, the streets, the hours, the faces seen and every subject are
ILLUSTRATIVE: the release does not give them. Subjects are fictional; the seed uses an external
vendor matcher, so entries carry references only and run on the vendor's similarity scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid5

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertClaim, Outcome
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
# The release does not name the force that lent the vans; the seed does not invent one.
EQUIPMENT_OWNER = "Lending force (not named in the release)"
MUTUAL_AID_AGREEMENT = "MA-LFR-2025-01 (illustrative reference)"
MODEL = "nec-neoface-v4"  # the vendor's scale: the policy floor is 0.60
THRESHOLD = 0.64
WATCHLIST_SIZE = 24  # entries per deployment (illustrative)
ILLUSTRATIVE = "illustrative: not given by the press release"

ADMIN = Actor("ADM-001", Role.ADMIN, force=FORCE)
PLANNER = Actor("INSP-1042", Role.PLANNER, rank="inspector", force=FORCE)
WATCHLIST_MANAGER = Actor("SGT-2210", Role.WATCHLIST_MANAGER, rank="sergeant", force=FORCE)
AUTHORISING_OFFICER = Actor(
    "SUPT-0307", Role.AUTHORISING_OFFICER, rank="superintendent", force=FORCE
)
OPERATOR = Actor("PC-3381", Role.OPERATOR, rank="constable", force=FORCE)
OFFICER = Actor("PC-4417", Role.OFFICER, rank="constable", force=FORCE)
# Who the demo signs in to the console (oversight and analysis sit outside the force's chain).
OVERSIGHT = Actor("IOPC-0042", Role.OVERSIGHT)
ANALYST = Actor("ANL-0101", Role.ANALYST, force=FORCE)
CONSOLE_PEOPLE = (
    OPERATOR,
    OFFICER,
    PLANNER,
    AUTHORISING_OFFICER,
    WATCHLIST_MANAGER,
    OVERSIGHT,
    ANALYST,
    ADMIN,
)

WANTED = "wanted_by_courts"
SUSPECTED = "suspected_offender"
UNDER_ORDER = "subject_to_court_order"


def arrest(*offences: str, custody: str) -> Outcome:
    return Outcome(OutcomeType.ARREST, offences=offences, reference=custody)


def compliance(*conditions: str) -> Outcome:
    return Outcome(
        OutcomeType.COMPLIANCE_CHECK, conditions=conditions, result=ComplianceResult.COMPLIED
    )


@dataclass(frozen=True)
class SeedAlert:
    category: str  # the watchlist entry's category: the outcome must fit it
    similarity: float
    minutes_after_start: int
    outcome: Outcome
    camera: str = "cam-1"


@dataclass(frozen=True)
class SeedDeployment:
    town: str
    location_name: str  # illustrative
    day: date
    faces_processed: int  # illustrative
    alerts: tuple[SeedAlert, ...]


SEED_DEPLOYMENTS: tuple[SeedDeployment, ...] = (
    SeedDeployment(
        "Northampton",
        "Abington Street",
        date(2025, 11, 28),
        8412,
        (
            SeedAlert(
                SUSPECTED,
                0.88,
                48,
                arrest(
                    "sexual assault on a child",
                    "possession of an offensive weapon (lock knife)",
                    custody="NN-C-0001",
                ),
            ),
            SeedAlert(UNDER_ORDER, 0.72, 92, compliance("SHPO: notify any change of address")),
            SeedAlert(
                WANTED,
                0.77,
                150,
                arrest("failing to appear at court (drug offences)", custody="NN-C-0002"),
            ),
            SeedAlert(UNDER_ORDER, 0.69, 301, compliance("SHPO: register every device")),
        ),
    ),
    SeedDeployment(
        "Kettering",
        "Gold Street",
        date(2025, 11, 29),
        5287,
        (
            SeedAlert(
                UNDER_ORDER, 0.70, 61, compliance("SHPO: no unsupervised contact with children")
            ),
            SeedAlert(
                UNDER_ORDER,
                0.84,
                133,
                arrest("breach of a Sexual Harm Prevention Order", custody="NN-C-0003"),
            ),
            SeedAlert(UNDER_ORDER, 0.67, 222, compliance("SHPO: exclusion from school grounds")),
        ),
    ),
    SeedDeployment(
        "Northampton",
        "Market Square",
        date(2025, 12, 5),
        6930,
        (
            SeedAlert(
                WANTED,
                0.81,
                35,
                arrest("failing to appear at court (shoplifting)", custody="NN-C-0004"),
            ),
            SeedAlert(UNDER_ORDER, 0.74, 174, compliance("SHPO: notify foreign travel")),
            SeedAlert(SUSPECTED, 0.73, 260, arrest("criminal damage", custody="NN-C-0005")),
        ),
    ),
    SeedDeployment(
        "Wellingborough",
        "Market Street",
        date(2025, 12, 6),
        4116,
        (
            SeedAlert(
                UNDER_ORDER,
                0.79,
                40,
                arrest(
                    "breach of a Sexual Harm Prevention Order",
                    "immigration offences",
                    custody="NN-C-0006",
                ),
            ),
            SeedAlert(UNDER_ORDER, 0.71, 118, compliance("SHPO: internet use monitored")),
            SeedAlert(UNDER_ORDER, 0.66, 245, compliance("SHPO: residence condition")),
        ),
    ),
)

CATEGORIES = (WANTED, UNDER_ORDER, SUSPECTED)
_GIVEN = ("Alex", "Jordan", "Sam", "Chris", "Taylor", "Morgan", "Jamie", "Casey")
_FAMILY = ("Fenwick", "Holloway", "Prentice", "Marsh", "Whitlock", "Duggan")


def alert_entry(seq: int) -> int:
    """The watchlist position of the subject behind a deployment's `seq`-th alert."""
    return 5 * seq + 2


def seed_category(deployment: int, index: int) -> str:
    """The entry's category: the alert's where an alert falls on it, else the lists' mix."""
    if deployment < len(SEED_DEPLOYMENTS):
        for seq, alert in enumerate(SEED_DEPLOYMENTS[deployment].alerts):
            if alert_entry(seq) == index:
                return alert.category
    return CATEGORIES[index % len(CATEGORIES)]


def seed_subject(deployment: int, index: int) -> Enrolment:
    """A fictional subject; the category decides which outcomes make sense for the alert."""
    category = seed_category(deployment, index)
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

    now: datetime = field(default_factory=lambda: datetime(2025, 11, 14, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


@dataclass
class SeedResult:
    operation_id: UUID
    deployment_ids: list[UUID] = field(default_factory=list)
    alert_ids: list[UUID] = field(default_factory=list)


def record_seed_operation(ledger: CaseLedger, set_time: Callable[[datetime], None]) -> SeedResult:
    """Records the whole operation through the ledger's commands, as the roles would."""

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)

    first_day = SEED_DEPLOYMENTS[0].day
    set_time(at(first_day - timedelta(days=7), 9))
    ledger.adopt_policy(ADMIN)
    result = SeedResult(
        ledger.open_operation(
            PLANNER,
            name="LFR town centres: 16 Days of Activism 2025",
            force=FORCE,
            purpose="Locate people wanted for arrest and check the compliance of the most "
            "high-risk sex offenders in three town centres, during the 16 Days of Activism "
            "against violence towards women and girls",
        )
    )
    for number, seed in enumerate(SEED_DEPLOYMENTS):
        day = seed.day
        set_time(at(day - timedelta(days=5), 10))
        deployment_id = ledger.propose_deployment(
            PLANNER,
            DeploymentPlan(
                operation_id=str(result.operation_id),
                location=Location(seed.location_name, seed.town, "town_centre"),
                starts_at=at(day, 10),
                ends_at=at(day, 17),
                purpose="Locate wanted people and check compliance of managed offenders",
                intelligence_case=f"NN-IC-2025-{100 + number}",
                watchlist_categories=CATEGORIES,
                cameras=(Camera("cam-1", "van mast camera"),),
                controlling_force=FORCE,
                equipment_owner_force=EQUIPMENT_OWNER,
                mutual_aid_agreement=MUTUAL_AID_AGREEMENT,
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
            AUTHORISING_OFFICER,
            deployment_id,
            authority_ref=f"AUTH-LFR-2025-{100 + number}",
            necessity_and_proportionality=(
                f"Intelligence case NN-IC-2025-{100 + number}: people wanted for arrest and "
                f"high-risk sex offenders frequent {seed.town} town centre; one overt day of "
                "LFR, with signage and officers present, is the least intrusive means"
            ),
            appropriate_policy_document="APD-LFR-2025-01",
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
                AlertClaim(
                    deployment_id,
                    camera_id=alert.camera,
                    entry_id=entries[alert_entry(seq)],
                    similarity=alert.similarity,
                    captured_at=captured,
                    model_id=MODEL,
                    alert_id=uuid5(LFR_NAMESPACE, f"seed-alert:{number}:{seq}"),
                ),
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
