"""The seed operation recorded through the ledger's commands, as each role would record it: the
press release's four deployments (`seed_story.py` tells the story and lists what the seed had to
invent), each reviewed and its results published after it ended, then the operation closed.

Before the first, the force registers the governance documents its plans cite, records its
operator's and engagement officer's training, and adopts its policy: the shipped policy's rules
as LFR-POL-2025.1 (`seed_policy`), so a 2025 deployment does not cite a policy named for 2026.
Whatever comes after the seed on the same ledger (the live demo) adopts its own version.

Each step has the time it would have happened; the steps of the four deployments interleave
(the second is proposed before the first goes live) and are recorded in time order, so the log
reads as the force's weeks did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid5

from lfr_ledger.api.demo.seed_story import (
    ADMIN,
    ANALYST,
    AUTHORISING_OFFICER,
    CATEGORIES,
    CONSOLE_PEOPLE,
    DOCUMENTS,
    DOCUMENTS_APPROVED_BY,
    DOCUMENTS_APPROVED_ON,
    END_HOUR,
    EQUIPMENT_OWNER,
    EQUIPMENT_OWNER_NOTE,
    FORCE,
    ILLUSTRATIVE,
    MODEL,
    MUTUAL_AID_AGREEMENT,
    NOTICE_DAYS_BEFORE,
    NOTICE_HOUR,
    OFFICER,
    OPERATION_NAME,
    OPERATOR,
    OVERSIGHT,
    PLANNER,
    POLICY_VERSION,
    SEED_DEPLOYMENTS,
    SIGNS,
    START_HOUR,
    SUSPECTED,
    THRESHOLD,
    TRAINED_ON,
    UNDER_ORDER,
    WANTED,
    WATCHLIST_MANAGER,
    WATCHLIST_SIZE,
    Document,
    SeedAlert,
    SeedDeployment,
    alert_entry,
    arrest,
    compliance,
    invented,
    seed_category,
    seed_subject,
)
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertClaim, Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.deployment.review import Review
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.records import LFR_NAMESPACE
from lfr_ledger.domain.values import (
    Camera,
    Confirmation,
    Decision,
    DeploymentPlan,
    Location,
    PublicNotice,
)

__all__ = [
    "ADMIN",
    "ANALYST",
    "AUTHORISING_OFFICER",
    "CATEGORIES",
    "CONSOLE_PEOPLE",
    "EQUIPMENT_OWNER",
    "EQUIPMENT_OWNER_NOTE",
    "FORCE",
    "ILLUSTRATIVE",
    "MODEL",
    "MUTUAL_AID_AGREEMENT",
    "OFFICER",
    "OPERATOR",
    "OVERSIGHT",
    "PLANNER",
    "POLICY_VERSION",
    "SEED_DEPLOYMENTS",
    "SIGNS",
    "SUSPECTED",
    "THRESHOLD",
    "UNDER_ORDER",
    "WANTED",
    "WATCHLIST_MANAGER",
    "WATCHLIST_SIZE",
    "DemoClock",
    "SeedAlert",
    "SeedDeployment",
    "SeedResult",
    "alert_entry",
    "arrest",
    "compliance",
    "invented",
    "record_seed_operation",
    "register_documents",
    "seed_category",
    "seed_policy",
    "seed_subject",
    "train",
]


def seed_policy(shipped: Policy | None = None) -> Policy:
    """The shipped policy file's text with its `version` line renamed LFR-POL-2025.1: the
    same rules (the force's own 2025 policy is not public), under a name that fits 2025."""
    text = (shipped or Policy.load()).text
    renamed, count = re.subn(
        r'^version = "[^"]*"$', f'version = "{POLICY_VERSION}"', text, count=1, flags=re.M
    )
    if count != 1:
        raise ValueError("the shipped policy has no version line to rename")
    return Policy.parse(renamed)


def register_documents(
    ledger: CaseLedger, documents: Iterable[Document], approved_on: date
) -> None:
    """The force's register holds each document its plans and authorities cite: version 1.0,
    approved on `approved_on`, due for review a year later."""
    for document in documents:
        ledger.register_document(
            ADMIN,
            kind=document.kind,
            reference=document.reference,
            version="1.0",
            title=document.title,
            approved_on=approved_on,
            review_by=approved_on.replace(year=approved_on.year + 1),
            approved_by=DOCUMENTS_APPROVED_BY,
        )


def train(ledger: CaseLedger, completed_on: date) -> None:
    """The operator holds the course the policy ties to adjudicating, the engagement officer
    the one tied to engaging, each current for a year from `completed_on`."""
    courses = ledger.policy.training_courses
    for person, duty in ((OPERATOR, "adjudicate"), (OFFICER, "engage")):
        if duty in courses:
            ledger.record_training(
                ADMIN,
                person=person.id,
                course=courses[duty],
                completed_on=completed_on,
                expires_on=completed_on.replace(year=completed_on.year + 1),
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


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


# One step of the story: when it happened, and the command(s) recorded then.
Step = tuple[datetime, Callable[[], object]]  # what a step returns is not used


def record_seed_operation(ledger: CaseLedger, set_time: Callable[[datetime], None]) -> SeedResult:
    """Records the whole operation through the ledger's commands, as the roles would, each
    step at its time and the steps in time order."""
    start = _at(SEED_DEPLOYMENTS[0].day - timedelta(days=7), 9)
    set_time(start)
    ledger.adopt_policy(ADMIN, seed_policy())
    register_documents(ledger, DOCUMENTS, DOCUMENTS_APPROVED_ON)
    train(ledger, TRAINED_ON)
    result = SeedResult(
        ledger.open_operation(
            PLANNER,
            name=OPERATION_NAME,
            force=FORCE,
            purpose="Locate people wanted for arrest and check the compliance of the most "
            "high-risk sex offenders in three town centres, during the 16 Days of Activism "
            "against violence towards women and girls",
        )
    )
    steps: list[Step] = []
    for number, seed in enumerate(SEED_DEPLOYMENTS):
        steps += _Deployment(ledger, result, number, seed).steps()
    last = SEED_DEPLOYMENTS[-1].day + timedelta(days=1)
    steps.append((_at(last, 12), lambda: ledger.close_operation(PLANNER, result.operation_id)))
    # Stable: steps at the same moment keep the order they were written in.
    for when, record in sorted(steps, key=lambda step: step[0]):
        set_time(when)
        record()
    return result


@dataclass
class _Deployment:
    """The steps of one deployment, each recording into `result` as it runs."""

    ledger: CaseLedger
    result: SeedResult
    number: int
    seed: SeedDeployment
    id: UUID | None = None
    entries: list[UUID] = field(default_factory=list)
    alerts: list[UUID] = field(default_factory=list)

    def steps(self) -> Iterator[Step]:
        day = self.seed.day
        yield _at(day - timedelta(days=5), 10), self.propose
        yield _at(day - timedelta(days=3), 11), self.authorise
        yield _at(day - timedelta(days=1), 14), self.enrol
        yield _at(day - timedelta(days=1), 16), self.review_watchlist
        yield _at(day, START_HOUR - 1, 30), self.ready_on_the_day
        yield _at(day, START_HOUR), lambda: self.ledger.start_deployment(OPERATOR, self.ident)
        for seq, alert in enumerate(self.seed.alerts):
            yield from self.alert_steps(seq, alert)
        yield _at(day, END_HOUR), self.end
        for seq, alert in enumerate(self.seed.alerts):
            for hours, outcome in enumerate(alert.followed_by, start=2):
                # What followed in custody that evening (the man's charge and bail).
                yield _at(day, END_HOUR + hours), self.outcome(seq, outcome)
            if alert.followed_by:
                yield _at(day, END_HOUR + 1 + len(alert.followed_by)), self.close(seq)
        yield _at(day + timedelta(days=1), 9), self.review
        yield _at(day + timedelta(days=1), 10), self.publish

    @property
    def ident(self) -> UUID:
        assert self.id is not None, "proposed first"
        return self.id

    def propose(self) -> None:
        seed, number, day = self.seed, self.number, self.seed.day
        self.id = self.ledger.propose_deployment(
            PLANNER,
            DeploymentPlan(
                operation_id=str(self.result.operation_id),
                location=Location(seed.location_name, seed.town, "town_centre"),
                starts_at=_at(day, START_HOUR),
                ends_at=_at(day, END_HOUR),
                purpose="Locate wanted people and check compliance of managed offenders",
                intelligence_case=f"NN-IC-2025-{100 + number}",
                watchlist_categories=CATEGORIES,
                cameras=(Camera("cam-1", "van mast camera"),),
                controlling_force=FORCE,
                equipment_owner_force=EQUIPMENT_OWNER,
                equipment_owner_note=EQUIPMENT_OWNER_NOTE,
                mutual_aid_agreement=MUTUAL_AID_AGREEMENT,
                dpia_ref="DPIA-LFR-2025-03",
                eia_ref="EIA-LFR-2025-03",
                policy_ref=self.ledger.policy.version,
                public_notice=PublicNotice(
                    "force website and social media",
                    _at(day - timedelta(days=NOTICE_DAYS_BEFORE), NOTICE_HOUR),
                ),
                model_id=MODEL,
            ),
            threshold=THRESHOLD,
        )
        self.result.deployment_ids.append(self.id)

    def authorise(self) -> None:
        case = f"NN-IC-2025-{100 + self.number}"
        self.ledger.authorise_deployment(
            AUTHORISING_OFFICER,
            self.ident,
            authority_ref=f"AUTH-LFR-2025-{100 + self.number}",
            necessity_and_proportionality=(
                f"Intelligence case {case}: people wanted for arrest and high-risk sex "
                f"offenders frequent {self.seed.town} town centre; one overt day of LFR, with "
                "signage and officers present, is the least intrusive means"
            ),
            appropriate_policy_document="APD-LFR-2025-01",
        )

    def enrol(self) -> None:
        self.entries = [
            self.ledger.enrol(WATCHLIST_MANAGER, self.ident, seed_subject(self.number, i))
            for i in range(WATCHLIST_SIZE)
        ]

    def review_watchlist(self) -> None:
        self.ledger.review_watchlist(
            AUTHORISING_OFFICER,
            self.ident,
            confirmed_count=len(self.entries),
            not_excessive=True,
            note="Proportionate to the intelligence case",
        )

    def ready_on_the_day(self) -> None:
        """That morning: the list checked against the police national computer once more,
        and the signs standing."""
        self.ledger.reconfirm_entries(
            WATCHLIST_MANAGER,
            self.ident,
            still_in_force=True,
            checked="PNC checked this morning: each warrant and order still in force",
        )
        self.ledger.confirm_signage(
            OPERATOR,
            self.ident,
            signs=SIGNS,
            locations=f"{self.seed.location_name}, {self.seed.town}: every approach",
        )

    def alert_steps(self, seq: int, alert: SeedAlert) -> Iterator[Step]:
        captured = _at(self.seed.day, START_HOUR) + timedelta(minutes=alert.minutes_after_start)
        ledger = self.ledger

        def raised() -> None:
            alert_id = ledger.raise_alert(
                Actor(f"matcher-van-{self.number + 1}", Role.MATCHER, deployment_id=str(self.id)),
                AlertClaim(
                    self.ident,
                    camera_id=alert.camera,
                    entry_id=self.entries[alert_entry(seq)],
                    similarity=alert.similarity,
                    captured_at=captured,
                    model_id=MODEL,
                    alert_id=uuid5(LFR_NAMESPACE, f"seed-alert:{self.number}:{seq}"),
                ),
            )
            self.alerts.append(alert_id)
            self.result.alert_ids.append(alert_id)

        def engaged() -> None:
            alert_id = self.alerts[seq]
            ledger.record_engagement(
                OFFICER, alert_id, engaged=True, confirmed=Confirmation.CONFIRMED
            )
            if alert.perceived_sex is not None:
                ledger.record_perceived_demographics(
                    OFFICER, alert_id, {"perceived_sex": alert.perceived_sex}
                )

        yield captured + timedelta(seconds=2), raised
        yield (
            captured + timedelta(seconds=40),
            lambda: ledger.adjudicate(
                OPERATOR, self.alerts[seq], Decision.MATCH, "Likeness confirmed on screen"
            ),
        )
        yield captured + timedelta(minutes=4), engaged
        yield captured + timedelta(minutes=12), self.outcome(seq, alert.outcome)
        if not alert.followed_by:
            yield captured + timedelta(minutes=12), self.close(seq)

    def outcome(self, seq: int, outcome: Outcome) -> Callable[[], None]:
        return lambda: self.ledger.record_outcome(OFFICER, self.alerts[seq], outcome)

    def close(self, seq: int) -> Callable[[], None]:
        return lambda: self.ledger.close_alert(OFFICER, self.alerts[seq])

    def end(self) -> None:
        day = self.seed.day
        self.ledger.report_faces_counted(
            Actor(f"matcher-van-{self.number + 1}", Role.MATCHER, deployment_id=str(self.id)),
            self.ident,
            camera_id="cam-1",
            period_start=_at(day, START_HOUR),
            period_end=_at(day, END_HOUR),
            count=self.seed.faces_processed,
        )
        self.ledger.end_deployment(OPERATOR, self.ident)

    def review(self) -> None:
        """The release's "lessons from this operation" imply the force reviewed each day;
        what the review says is illustrative, from the release where it can be."""
        alerts = self.seed.alerts
        self.ledger.record_post_deployment_review(
            AUTHORISING_OFFICER,
            self.ident,
            Review(
                objectives_met="met",
                objectives_statement=f"{len(alerts)} alerts, each adjudicated and engaged, "
                "each leading to an arrest or a compliance check (illustrative wording)",
                issues="none recorded (illustrative)",
                community_impact="none recorded (illustrative)",
                lessons="carried into the force's own LFR deployments from 2026, as the "
                "release says",
            ),
        )

    def publish(self) -> None:
        self.ledger.publish_results(PLANNER, self.ident)
