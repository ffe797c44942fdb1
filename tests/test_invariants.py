"""Every invariant of DESIGN.md, refused: the typed error, and not one event written.

Runs on SQLite and on the real PostgreSQL server (see conftest.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from lfr_ledger.api.demo.sample_deployment import (
    ADMIN,
    AO,
    AUTHORITY,
    COMPILER,
    OFFICER,
    OPERATOR,
    PLANNER,
    authorised,
    matcher_for,
    plan,
    proposed,
    register_documents,
    register_evaluation,
    reviewed,
    subject,
)
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertClaim, Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import (
    ConcurrentWrite,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PolicyViolation,
    RoleSeparationViolated,
)
from lfr_ledger.domain.values import ComplianceResult, Confirmation, Decision, OutcomeType
from tests.conftest import Clock

ARREST = Outcome(OutcomeType.ARREST, offences=("theft",), reference="C-1")
CHECK = Outcome(
    OutcomeType.COMPLIANCE_CHECK, conditions=("curfew",), result=ComplianceResult.COMPLIED
)


def event_count(ledger: CaseLedger) -> int:
    return ledger.recorder.max_notification_id() or 0


@contextmanager
def refused(
    ledger: CaseLedger, error: type[DomainError], match: str | None = None
) -> Iterator[None]:
    before = event_count(ledger)
    with pytest.raises(error, match=match):
        yield
    assert event_count(ledger) == before, "a refused command must write nothing"


def live(
    ledger: CaseLedger, clock: Clock, entries: int = 2, category: str = "wanted_by_courts"
) -> tuple[UUID, list[UUID]]:
    deployment, ids = reviewed(ledger, entries, category)
    clock.advance(hours=3)  # 11:00, inside the 10:00-17:00 window
    ledger.start_deployment(OPERATOR, deployment)
    return deployment, ids


def send_alert(
    ledger: CaseLedger, deployment: UUID, entry: UUID, clock: Clock, **changes: Any
) -> UUID:
    """The deployment's matcher reports `entry` on cam-1 now; `changes` alter one detail."""
    fields: dict[str, Any] = {
        "camera_id": "cam-1",
        "entry_id": entry,
        "similarity": 0.9,
        "captured_at": clock.now,
    }
    actor = changes.pop("actor", matcher_for(deployment))
    return ledger.raise_alert(actor, AlertClaim(deployment, **{**fields, **changes}))


def raised(ledger: CaseLedger, clock: Clock, similarity: float = 0.7) -> UUID:
    deployment, entries = live(ledger, clock)
    return send_alert(ledger, deployment, entries[0], clock, similarity=similarity)


# --- alerts only from a live deployment, for a known entry ---------------------------------


@pytest.mark.parametrize("state", ["authorised", "paused", "ended"])
def test_no_alert_outside_a_started_deployment(
    ledger: CaseLedger, clock: Clock, state: str
) -> None:
    deployment, entries = reviewed(ledger)
    clock.advance(hours=3)
    if state != "authorised":
        ledger.start_deployment(OPERATOR, deployment)
        if state == "paused":
            ledger.pause_deployment(OPERATOR, deployment, "camera obstructed")
        else:
            ledger.end_deployment(OPERATOR, deployment)
    with refused(ledger, InvalidTransition, "only while it is live"):
        send_alert(ledger, deployment, entries[0], clock)


def test_no_alert_for_an_unknown_entry(ledger: CaseLedger, clock: Clock) -> None:
    deployment, _ = live(ledger, clock)
    with refused(ledger, NotFound, "no watchlist entry"):
        send_alert(ledger, deployment, uuid4(), clock)


def test_no_alert_for_another_deployments_entry(ledger: CaseLedger, clock: Clock) -> None:
    deployment, _ = live(ledger, clock)
    _, other_entries = reviewed(ledger)
    with refused(ledger, NotFound):
        send_alert(ledger, deployment, other_entries[0], clock)


def test_no_alert_for_a_withdrawn_entry(ledger: CaseLedger, clock: Clock) -> None:
    deployment, entries = live(ledger, clock)
    ledger.withdraw_entry(COMPILER, entries[0], "warrant executed")
    with refused(ledger, InvalidTransition, "withdrawn"):
        send_alert(ledger, deployment, entries[0], clock)


def test_no_alert_below_the_threshold_in_force(ledger: CaseLedger, clock: Clock) -> None:
    deployment, entries = live(ledger, clock)
    threshold = ledger.deployment(deployment).threshold
    with refused(ledger, InvalidInput, "below the threshold"):
        send_alert(ledger, deployment, entries[0], clock, similarity=threshold - 0.01)


def test_a_matcher_raises_alerts_only_for_its_own_deployment(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, entries = live(ledger, clock)
    with refused(ledger, NotPermitted, "not bound"):
        send_alert(ledger, deployment, entries[0], clock, actor=matcher_for(uuid4()))


def test_a_score_from_another_model_is_refused(ledger: CaseLedger, clock: Clock) -> None:
    deployment, entries = live(ledger, clock)
    with refused(ledger, PolicyViolation, "another scale"):
        send_alert(ledger, deployment, entries[0], clock, model_id="buffalo_l")


def test_a_retried_alert_with_the_same_id_is_recorded_once(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, entries = live(ledger, clock)
    alert_id = uuid4()

    def send() -> UUID:
        return send_alert(ledger, deployment, entries[0], clock, alert_id=alert_id)

    assert send() == alert_id
    before = event_count(ledger)
    assert send() == alert_id
    assert event_count(ledger) == before


def test_a_refused_alert_with_a_face_crop_leaves_no_key(ledger: CaseLedger, clock: Clock) -> None:
    deployment, entries = live(ledger, clock)
    alert_id = uuid4()
    with refused(ledger, InvalidInput, "below the threshold"):
        send_alert(
            ledger,
            deployment,
            entries[0],
            clock,
            similarity=0.01,
            face_crop=b"\xff\xd8 a crop",
            alert_id=alert_id,
        )
    assert not ledger.vault.has_key(alert_id)


def test_a_refused_enrolment_leaves_no_key(ledger: CaseLedger) -> None:
    deployment = authorised(ledger)
    entry_id = uuid4()
    incomplete = replace(subject(), legal_basis=" ")
    with refused(ledger, InvalidInput, "legal_basis"):
        ledger.enrol(COMPILER, deployment, incomplete, entry_id=entry_id)
    assert not ledger.vault.has_key(entry_id)


# --- adjudication and outcomes --------------------------------------------------------------


def test_no_adjudication_twice(ledger: CaseLedger, clock: Clock) -> None:
    alert = raised(ledger, clock)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    with refused(ledger, InvalidTransition, "already adjudicated"):
        ledger.adjudicate(OPERATOR, alert, Decision.NO_MATCH, "changed my mind")


def test_no_outcome_before_adjudication(ledger: CaseLedger, clock: Clock) -> None:
    alert = raised(ledger, clock)
    with refused(ledger, InvalidTransition, "no adjudication"):
        ledger.record_outcome(OFFICER, alert, Outcome(OutcomeType.WORDS_OF_ADVICE))


@pytest.mark.parametrize("decision", [Decision.NO_MATCH, Decision.INCONCLUSIVE])
@pytest.mark.parametrize("outcome", [ARREST, CHECK], ids=["arrest", "compliance_check"])
def test_arrest_and_compliance_check_need_a_match(
    ledger: CaseLedger, clock: Clock, decision: Decision, outcome: Outcome
) -> None:
    alert = raised(ledger, clock)
    factors = ("subject.lookalike",) if decision == Decision.NO_MATCH else ()
    ledger.adjudicate(OPERATOR, alert, decision, "not the same person", factors)
    with refused(ledger, InvalidTransition, "adjudicated match"):
        ledger.record_outcome(OFFICER, alert, outcome)


def test_no_engagement_after_no_match(ledger: CaseLedger, clock: Clock) -> None:
    alert = raised(ledger, clock)
    ledger.adjudicate(OPERATOR, alert, Decision.NO_MATCH, "different face shape", ("subject",))
    with refused(ledger, InvalidTransition, "must not be engaged"):
        ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.UNKNOWN)


def test_an_arrest_needs_an_engagement(ledger: CaseLedger, clock: Clock) -> None:
    alert = raised(ledger, clock)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    with refused(ledger, InvalidTransition, "needs an engagement"):
        ledger.record_outcome(OFFICER, alert, ARREST)


def test_an_outcome_cannot_precede_the_alert(ledger: CaseLedger, clock: Clock) -> None:
    alert = raised(ledger, clock)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)
    with refused(ledger, InvalidInput, "before the alert"):
        ledger.record_outcome(OFFICER, alert, ARREST, occurred_at=clock.now.replace(hour=9))


def test_an_arrest_recorded_later_keeps_when_it_happened(ledger: CaseLedger, clock: Clock) -> None:
    alert = raised(ledger, clock)
    arrested_at = clock.now
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)
    clock.advance(hours=5)
    ledger.record_outcome(OFFICER, alert, ARREST, occurred_at=arrested_at)
    # The last but one: the arrest's evidential hold (policy) follows it in the same save.
    event = list(ledger.repository.event_store.get(alert))[-2]
    assert type(event).__name__ == "OutcomeRecorded"
    assert event.occurred_at == arrested_at  # type: ignore[attr-defined]
    # Beside it, the library stamps when it was recorded: the real time, not the officer's.
    assert abs(event.timestamp - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        (lambda: Outcome(OutcomeType.ARREST), "at least one offence"),
        (lambda: Outcome(OutcomeType.COMPLIANCE_CHECK, conditions=("x",)), "its result"),
        (lambda: Outcome(OutcomeType.OTHER), "needs a note"),
    ],
)
def test_incomplete_outcomes_are_refused(outcome: Callable[[], Outcome], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        outcome()


# --- the deployment's lifecycle --------------------------------------------------------------


def test_no_enrolment_after_the_deployment_ended(ledger: CaseLedger, clock: Clock) -> None:
    deployment, _ = live(ledger, clock)
    ledger.end_deployment(OPERATOR, deployment)
    with refused(ledger, InvalidTransition, "frozen"):
        ledger.enrol(COMPILER, deployment, subject(9))


@pytest.mark.parametrize("hours", [1, 9.5], ids=["before", "after"])
def test_no_start_outside_the_window(ledger: CaseLedger, clock: Clock, hours: float) -> None:
    deployment, _ = reviewed(ledger)
    clock.advance(hours=hours)  # 09:00 or 17:30 against a 10:00-17:00 window
    with refused(ledger, InvalidTransition, "cannot start"):
        ledger.start_deployment(OPERATOR, deployment)


def test_no_start_before_the_watchlist_review(ledger: CaseLedger, clock: Clock) -> None:
    deployment = authorised(ledger)
    ledger.enrol(COMPILER, deployment, subject())
    clock.advance(hours=3)
    with refused(ledger, InvalidTransition, "not been reviewed"):
        ledger.start_deployment(OPERATOR, deployment)


def test_a_watchlist_changed_after_review_must_be_reviewed_again(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, _ = reviewed(ledger)
    ledger.enrol(COMPILER, deployment, subject(7))
    clock.advance(hours=3)
    with refused(ledger, InvalidTransition, "not been reviewed"):
        ledger.start_deployment(OPERATOR, deployment)


def test_the_review_must_count_the_watchlist_it_saw(ledger: CaseLedger) -> None:
    deployment = authorised(ledger)
    ledger.enrol(COMPILER, deployment, subject())
    with refused(ledger, InvalidTransition, "changed since"):
        ledger.review_watchlist(AO, deployment, confirmed_count=2, not_excessive=True)


def test_the_authorising_officer_is_not_the_watchlist_compiler(ledger: CaseLedger) -> None:
    deployment = proposed(ledger)
    same_person = Actor(COMPILER.id, Role.AUTHORISING_OFFICER, rank="superintendent")
    ledger.enrol(COMPILER, deployment, subject())
    with refused(ledger, RoleSeparationViolated, "compile_watchlist"):
        ledger.authorise_deployment(same_person, deployment, authority_ref="A-1", **AUTHORITY)
    with refused(ledger, RoleSeparationViolated):
        ledger.review_watchlist(same_person, deployment, confirmed_count=1, not_excessive=True)


def test_the_authoriser_cannot_then_compile_the_watchlist(ledger: CaseLedger) -> None:
    deployment = authorised(ledger)
    same_person = Actor(AO.id, Role.WATCHLIST_MANAGER)
    with refused(ledger, RoleSeparationViolated):
        ledger.enrol(same_person, deployment, subject())
    assert ledger.watchlist(deployment) == []


def test_a_planner_does_not_authorise_their_own_proposal(ledger: CaseLedger) -> None:
    deployment = proposed(ledger)
    same_person = Actor(PLANNER.id, Role.AUTHORISING_OFFICER, rank="superintendent")
    with refused(ledger, RoleSeparationViolated, "propose"):
        ledger.authorise_deployment(same_person, deployment, authority_ref="A-1", **AUTHORITY)


def test_authority_needs_the_policy_rank(ledger: CaseLedger) -> None:
    deployment = proposed(ledger)
    inspector = Actor("INSP-9", Role.AUTHORISING_OFFICER, rank="inspector")
    with refused(ledger, NotPermitted, "superintendent"):
        ledger.authorise_deployment(inspector, deployment, authority_ref="A-1", **AUTHORITY)


def test_the_wrong_role_is_refused(ledger: CaseLedger, clock: Clock) -> None:
    alert = raised(ledger, clock)
    with refused(ledger, NotPermitted, "operator"):
        ledger.adjudicate(AO, alert, Decision.MATCH, "same face")


def test_a_threshold_below_the_policy_floor_is_refused(ledger: CaseLedger) -> None:
    floor = ledger.policy.thresholds_for("sface-2021dec").threshold_floor
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    operation = ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p")

    with refused(ledger, PolicyViolation, "below the floor"):
        ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version), floor - 0.01)
    deployment = ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version))
    with refused(ledger, PolicyViolation, "below the floor"):
        ledger.change_threshold(AO, deployment, floor - 0.05, "more alerts wanted")
    evaluation = register_evaluation(ledger)
    with refused(ledger, PolicyViolation, "below the floor"):
        ledger.change_threshold(AO, deployment, floor - 0.05, "more", evaluation_ref=evaluation)
    ledger.change_threshold(AO, deployment, floor + 0.1, "fewer false alerts", evaluation)
    assert ledger.deployment(deployment).threshold == pytest.approx(floor + 0.1)


def test_a_category_outside_the_closed_list_is_refused(ledger: CaseLedger) -> None:
    deployment = proposed(ledger)
    with refused(ledger, PolicyViolation, "closed list"):
        ledger.enrol(COMPILER, deployment, subject(category="protesters"))
    with refused(ledger, PolicyViolation, "authorised categories"):
        ledger.enrol(COMPILER, deployment, subject(category="missing_person"))


def test_a_proposal_must_cite_the_policy_in_force(ledger: CaseLedger) -> None:
    ledger.adopt_policy(ADMIN)
    operation = ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p")
    with refused(ledger, PolicyViolation, "is in force"):
        ledger.propose_deployment(PLANNER, plan(operation, "LFR-POL-1999.1"))


def test_no_proposal_for_an_unknown_operation(ledger: CaseLedger) -> None:
    ledger.adopt_policy(ADMIN)
    with refused(ledger, NotFound, "no operation"):
        ledger.propose_deployment(PLANNER, plan(uuid4(), ledger.policy.version))


def test_no_proposal_before_the_policy_is_adopted(ledger: CaseLedger) -> None:
    operation = ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p")
    with refused(ledger, PolicyViolation, "not been adopted"):
        ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version))


# --- concurrency ----------------------------------------------------------------------------


def test_two_adjudications_of_one_alert_one_wins(
    ledger: CaseLedger, clock: Clock, settings: object
) -> None:
    """Two operators on two API processes load the same alert and decide at once."""
    from lfr_ledger.api.bootstrap import build_ledger

    alert = raised(ledger, clock)
    other_process = build_ledger(settings, clock=clock)  # type: ignore[arg-type]
    try:
        results: list[str] = []
        barrier = threading.Barrier(2)

        def decide(app: CaseLedger, decision: Decision) -> None:
            copy = app.alert(alert)
            barrier.wait()
            copy.adjudicate(decision=decision, reason="seen", actor=OPERATOR, occurred_at=clock.now)
            try:
                app._commit(copy)
                results.append("ok")
            except ConcurrentWrite:
                results.append("conflict")

        threads = [
            threading.Thread(target=decide, args=(ledger, Decision.MATCH)),
            threading.Thread(target=decide, args=(other_process, Decision.NO_MATCH)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["conflict", "ok"]
        events = [e for e in ledger.repository.event_store.get(alert)]
        assert [type(e).__name__ for e in events] == ["Raised", "Adjudicated"]
    finally:
        other_process.close()


# --- equality monitoring ----------------------------------------------------------------------


def test_perceived_characteristics_are_sealed_and_need_an_engagement(
    ledger: CaseLedger, clock: Clock
) -> None:
    alert = raised(ledger, clock)
    fields = {"perceived_sex": "female", "perceived_age_band": "25_34"}
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    with refused(ledger, InvalidTransition, "no engagement"):
        ledger.record_perceived_demographics(OFFICER, alert, fields)
    assert not ledger.vault.has_key(ledger.equality_key_id(alert))
    ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)
    with refused(ledger, InvalidInput, "must be one of"):
        ledger.record_perceived_demographics(OFFICER, alert, {"perceived_sex": "tall"})
    with refused(ledger, NotPermitted):
        ledger.record_perceived_demographics(OPERATOR, alert, fields)
    ledger.record_perceived_demographics(OFFICER, alert, fields)
    event = list(ledger.repository.event_store.get(alert))[-1]
    sealed = event.sealed_demographics  # type: ignore[attr-defined]
    assert b"female" not in sealed
    assert ledger.reveal_perceived_demographics(alert, sealed) == fields
    with refused(ledger, InvalidTransition, "already has"):
        ledger.record_perceived_demographics(OFFICER, alert, fields)


def test_one_subject_is_enrolled_once_per_deployment(ledger: CaseLedger) -> None:
    """Issue 10, defect 11: a watchlist imported twice used to enrol every row twice."""
    deployment = authorised(ledger)
    first = ledger.enrol(COMPILER, deployment, subject(1))
    again = replace(subject(1), subject_ref=subject(1).subject_ref.lower())  # same subject
    with refused(ledger, InvalidTransition, match=f"already on .* as entry {first}"):
        ledger.enrol(COMPILER, deployment, again)
    ledger.withdraw_entry(COMPILER, first, "enrolled in error")
    assert ledger.enrol(COMPILER, deployment, again) != first
