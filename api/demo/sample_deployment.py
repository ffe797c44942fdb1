"""A sample deployment in a few calls: one actor per role, the authority statement, a plan, a
subject to enrol, and the ledger brought to proposed, authorised or reviewed (its signs
confirmed, as on the window's day).

The smallest lawful deployment the policy accepts, so a test or a benchmark states only what it
is about. Every name and reference in it is fictional.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger, Enrolment
from lfr_ledger.domain.deployment.review import Review
from lfr_ledger.domain.errors import NotFound
from lfr_ledger.domain.training import TrainingRecord
from lfr_ledger.domain.values import Camera, DeploymentPlan, Location, PublicNotice

if TYPE_CHECKING:
    from lfr_ledger.matching.engines.faces import FaceEngine

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

# What the operator confirms stands on the day, before starting (`confirm_signage`).
SIGNAGE = {
    "signs": "Four A-boards: 'Police are using live facial recognition here today'",
    "locations": "Both ends of Abington Street and at the Market Square entrance",
}

# The governance documents the sample cites (kind, reference, title), in the register with
# version 1.0, approved long before its window and due for review long after any test's clock.
DOCUMENTS = (
    ("dpia", "DPIA-1", "LFR overt deployments: data protection impact assessment"),
    ("eia", "EIA-1", "LFR overt deployments: equality impact assessment"),
    ("appropriate_policy_document", "APD-LFR-2025-1", "Sensitive processing for law enforcement"),
    ("equality_evidence", "EQE-1", "Demographic performance of the matching algorithm"),
)
DOCUMENTS_APPROVED = date(2025, 1, 6)
DOCUMENTS_REVIEW_BY = date(2030, 1, 6)

# A post-deployment review, every part answered (`record_post_deployment_review`).
REVIEW = Review(
    objectives_met="partly_met",
    objectives_statement="One of the two wanted subjects was located and arrested",
    issues="none",
    community_impact="Leaflets handed out at the van; a few questions, no protest",
    lessons="Put the signs up before the van arrives",
)

# When the sample's operator and officer completed their LFR training (`train`).
TRAINED_ON = date(2024, 9, 2)

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
        "controlling_force": "northamptonshire",
        "equipment_owner_force": "northamptonshire",
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


def register_documents(ledger: CaseLedger) -> None:
    """The documents the sample cites, in the governance register (each only if absent)."""
    for kind, reference, title in DOCUMENTS:
        if ledger.registered_document(kind, reference) is None:
            ledger.register_document(
                ADMIN,
                kind=kind,
                reference=reference,
                version="1.0",
                title=title,
                approved_on=DOCUMENTS_APPROVED,
                review_by=DOCUMENTS_REVIEW_BY,
                approved_by="Chief Officer Group",
            )


# The model evaluation the sample's threshold changes cite (`register_evaluation`).
EVALUATION_REF = "EVAL-SFACE-1"


def register_evaluation(
    ledger: CaseLedger, model_id: str = MODEL, reference: str = EVALUATION_REF
) -> str:
    """A current model evaluation of `model_id` in the register (unless there), for a threshold
    change to cite as `evaluation_ref`; returns its reference. Fictional: its digest names no
    report (`lfr models evaluate` makes real ones)."""
    if ledger.registered_document("model_evaluation", reference) is None:
        ledger.register_document(
            ADMIN,
            kind="model_evaluation",
            reference=reference,
            version="1.0",
            title=f"Evaluation of {model_id} on the force's own faces",
            approved_on=DOCUMENTS_APPROVED,
            review_by=DOCUMENTS_REVIEW_BY,
            model_id=model_id,
            digest="0" * 64,
            approved_by="Chief Officer Group",
        )
    return reference


def train(ledger: CaseLedger, person: str, duty: str) -> None:
    """`person` holds the course the policy ties to `duty` (adjudicate, engage), current on
    the ledger's day: completed on `TRAINED_ON` (or a month before the day, if earlier), for
    three years from the day; recorded by the sample's admin unless already current."""
    course = ledger.policy.training_courses[duty]
    today = ledger.clock().date()
    try:
        if ledger.training_record(TrainingRecord.id_for(person)).lapse(course, today) is None:
            return
    except NotFound:
        pass
    ledger.record_training(
        ADMIN,
        person=person,
        course=course,
        # One day for every test's clock, so a clock moved back never needs an earlier one.
        completed_on=min(TRAINED_ON, today - timedelta(days=30)),
        expires_on=today + timedelta(days=3 * 365),
    )


def trained(ledger: CaseLedger) -> None:
    """The sample's operator may adjudicate and its officer engage (the policy's training)."""
    train(ledger, OPERATOR.id, "adjudicate")
    train(ledger, OFFICER.id, "engage")


def proposed(ledger: CaseLedger, **changes: object) -> UUID:
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    trained(ledger)
    operation = ledger.open_operation(
        PLANNER, name="Op", force="northamptonshire", purpose="town centre"
    )
    return ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version, **changes))


def authorised(ledger: CaseLedger, **changes: object) -> UUID:
    deployment = proposed(ledger, **changes)
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    return deployment


def reviewed(
    ledger: CaseLedger, entries: int = 2, category: str = "wanted_by_courts", **changes: object
) -> tuple[UUID, list[UUID]]:
    deployment = authorised(ledger, **changes)
    ids = [ledger.enrol(COMPILER, deployment, subject(i, category)) for i in range(entries)]
    ledger.review_watchlist(AO, deployment, confirmed_count=entries, not_excessive=True)
    # On the window's day (the tests' clock: 08:00), before going live: the policy's start gate.
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    return deployment, ids


def live_around_now(
    ledger: CaseLedger,
    engine: FaceEngine,
    photos: Sequence[bytes],
    *,
    hours_left: float = 3.0,
    start: bool = True,
    **changes: object,
) -> tuple[UUID, list[UUID]]:
    """A deployment for a matcher on real time (a bench's, or a test's subprocess): its window
    from an hour before the ledger's clock to `hours_left` after, its model `engine`'s, one
    watchlist entry enrolled from each JPEG of `photos` (`subject(i)`, templates computed by
    `engine`) and reviewed, its signs confirmed; started unless `start` is false. Returns the
    deployment and the entries, in the order of `photos`."""
    # Imported here: a deployment without photos needs none of the engine's libraries.
    from lfr_ledger.matching.engines.enrolment import enrol_from_image

    now = ledger.clock().replace(microsecond=0)
    deployment = authorised(
        ledger,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=hours_left),
        model_id=engine.model_id,
        **changes,
    )
    entries = [
        enrol_from_image(ledger, engine, COMPILER, deployment, subject(i), photo)
        for i, photo in enumerate(photos)
    ]
    ledger.review_watchlist(AO, deployment, confirmed_count=len(entries), not_excessive=True)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    if start:
        ledger.start_deployment(OPERATOR, deployment)
    return deployment, entries
