"""Issue 24: operators and engagement officers hold current LFR training, or may not decide an
alert or engage on one (APP; `[training] required`, on by default). One record per person,
recorded and withdrawn by an admin or an authorising officer; a refusal names the person, the
course and what is missing, and writes nothing. Both backends; HTTP and the CLI too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

import lfr_ledger.api.cli
from lfr_ledger.api.app import create_app
from lfr_ledger.api.demo.sample_deployment import ADMIN, AO, OFFICER, OPERATOR, trained
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PolicyViolation,
)
from lfr_ledger.domain.training import TrainingRecord
from lfr_ledger.domain.values import Confirmation, Decision, OutcomeType
from tests.conftest import Clock
from tests.test_api import Api, assert_problem
from tests.test_human_review import edited_policy
from tests.test_invariants import raised, refused
from tests.test_retention import cli_env  # noqa: F401

NEW_OPERATOR = Actor("PC-7001", Role.OPERATOR, rank="constable")
NEW_OFFICER = Actor("PC-7002", Role.OFFICER, rank="constable")
WORDS = Outcome(OutcomeType.WORDS_OF_ADVICE)


def record(ledger: CaseLedger, person: str, course: str, **days: Any) -> None:
    today = ledger.clock().date()
    ledger.record_training(
        ADMIN,
        person=person,
        course=course,
        completed_on=days.get("completed_on", today - timedelta(days=10)),
        expires_on=days.get("expires_on", today + timedelta(days=365)),
    )


def test_adjudication_needs_current_operator_training(ledger: CaseLedger, clock: Clock) -> None:
    alert = raised(ledger, clock)
    missing = (
        r"operator PC-7001 may not adjudicate alerts: policy .* requires current LFR training "
        r"\(lfr_operator\), and no lfr_operator training is recorded for them"
    )
    with refused(ledger, NotPermitted, missing):
        ledger.adjudicate(NEW_OPERATOR, alert, Decision.MATCH, "same face")
    # The engagement course does not let anyone adjudicate.
    record(ledger, NEW_OPERATOR.id, "lfr_engagement")
    with refused(ledger, NotPermitted, "no lfr_operator training is recorded"):
        ledger.adjudicate(NEW_OPERATOR, alert, Decision.MATCH, "same face")
    record(ledger, NEW_OPERATOR.id, "lfr_operator")
    ledger.adjudicate(NEW_OPERATOR, alert, Decision.MATCH, "same face")
    assert ledger.alert(alert).adjudicated_by == NEW_OPERATOR.id


def test_expired_and_withdrawn_training_refuse_with_what_is_missing(
    ledger: CaseLedger, clock: Clock
) -> None:
    alert = raised(ledger, clock)
    today = clock.now.date()
    # Current up to the day before it expires: expiring today is expired.
    record(ledger, NEW_OPERATOR.id, "lfr_operator", expires_on=today)
    with refused(ledger, NotPermitted, f"lfr_operator training expired on {today.isoformat()}"):
        ledger.adjudicate(NEW_OPERATOR, alert, Decision.MATCH, "same face")
    record(ledger, NEW_OPERATOR.id, "lfr_operator")
    record_id = TrainingRecord.id_for(NEW_OPERATOR.id)
    ledger.withdraw_training(AO, record_id, course="lfr_operator", reason="Reassessment failed")
    with refused(ledger, NotPermitted, r"withdrawn on .* \(Reassessment failed\)"):
        ledger.correct_adjudication(NEW_OPERATOR, alert, Decision.NO_MATCH, "looked again")
    with refused(ledger, NotPermitted, "withdrawn on"):
        ledger.adjudicate(NEW_OPERATOR, alert, Decision.MATCH, "same face")
    with refused(ledger, InvalidTransition, "already withdrawn"):
        ledger.withdraw_training(AO, record_id, course="lfr_operator", reason="again")
    # A completion recorded later reinstates it.
    record(ledger, NEW_OPERATOR.id, "lfr_operator", completed_on=today)
    ledger.adjudicate(NEW_OPERATOR, alert, Decision.MATCH, "same face")


def test_engagement_and_outcomes_need_current_engagement_training(
    ledger: CaseLedger, clock: Clock
) -> None:
    alert = raised(ledger, clock)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    with refused(ledger, NotPermitted, "PC-7002 may not record engagements and outcomes"):
        ledger.record_engagement(NEW_OFFICER, alert, engaged=True, confirmed=Confirmation.UNKNOWN)
    ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.UNKNOWN)
    with refused(ledger, NotPermitted, "no lfr_engagement training is recorded"):
        ledger.record_outcome(NEW_OFFICER, alert, WORDS)
    ledger.record_outcome(OFFICER, alert, WORDS)
    with refused(ledger, NotPermitted, "lfr_engagement"):
        ledger.correct_outcome(NEW_OFFICER, alert, 0, WORDS, "wrong words")
    record(ledger, NEW_OFFICER.id, "lfr_engagement")
    ledger.record_outcome(NEW_OFFICER, alert, Outcome(OutcomeType.NO_FURTHER_ACTION))


def test_the_gate_is_the_policys_switch(ledger: CaseLedger, clock: Clock) -> None:
    assert ledger.policy.training_required
    alert = raised(ledger, clock)
    ledger.policy = edited_policy(
        'required = true\nadjudicate = "lfr_operator"', 'required = false\nadjudicate = "x"'
    )
    ledger.adjudicate(NEW_OPERATOR, alert, Decision.MATCH, "same face")
    ledger.record_engagement(NEW_OFFICER, alert, engaged=True, confirmed=Confirmation.UNKNOWN)


def test_who_may_record_training_and_what(ledger: CaseLedger, clock: Clock) -> None:
    trained(ledger)
    today = clock.now.date()
    days = {"completed_on": today, "expires_on": today + timedelta(days=365)}
    for actor in (OPERATOR, Actor("INSP-1", Role.PLANNER, rank="inspector")):
        with refused(ledger, NotPermitted):
            ledger.record_training(actor, person="PC-9", course="lfr_operator", **days)
    with refused(ledger, NotPermitted, "their own training"):
        ledger.record_training(AO, person=AO.id, course="lfr_operator", **days)
    with refused(ledger, PolicyViolation, "course 'lfr_driving' is not one policy"):
        ledger.record_training(AO, person="PC-9", course="lfr_driving", **days)
    with refused(ledger, InvalidInput, "must be after completed_on"):
        ledger.record_training(
            AO, person="PC-9", course="lfr_operator", completed_on=today, expires_on=today
        )
    with refused(ledger, InvalidInput, "in the future"):
        ledger.record_training(
            AO,
            person="PC-9",
            course="lfr_operator",
            completed_on=today + timedelta(days=1),
            expires_on=today + timedelta(days=400),
        )
    with refused(ledger, InvalidInput, "staff number"):
        ledger.record_training(AO, person="PC 9 <b>", course="lfr_operator", **days)
    ledger.record_training(AO, person="PC-9", course="lfr_operator", **days)
    with refused(ledger, InvalidTransition, "already holds lfr_operator completed on"):
        ledger.record_training(
            AO,
            person="PC-9",
            course="lfr_operator",
            completed_on=today - timedelta(days=1),
            expires_on=today + timedelta(days=30),
        )
    with pytest.raises(NotFound):
        ledger.withdraw_training(
            AO, TrainingRecord.id_for("PC-10"), course="lfr_operator", reason="x"
        )
    standing = ledger.training_record(TrainingRecord.id_for("PC-9")).courses["lfr_operator"]
    assert (standing.completed_on, standing.recorded_by) == (today, AO.id)
    assert [r.person for r in ledger.training_records()] == [OPERATOR.id, OFFICER.id, "PC-9"]


# --- HTTP and CLI --------------------------------------------------------------------------


@pytest.fixture
def http(ledger: CaseLedger, settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, ledger=ledger)) as client:
        yield Api(client, settings)


def test_training_over_http(http: Api, ledger: CaseLedger, clock: Clock) -> None:
    alert = raised(ledger, clock)
    refusal = http.post(
        f"/alerts/{alert}/adjudication",
        "operator",
        {"decision": "match", "reason": "same face"},
        claims={"sub": "PC-7001"},
    )
    body = assert_problem(refusal, 403, "not-permitted")
    assert "PC-7001" in body["detail"] and "lfr_operator" in body["detail"]

    today = clock.now.date()
    sent = {
        "person": "PC-7001",
        "course": "lfr_operator",
        "completed_on": (today - timedelta(days=3)).isoformat(),
        "expires_on": (today + timedelta(days=365)).isoformat(),
    }
    assert_problem(http.post("/training", "operator", sent), 403, "forbidden")
    created = http.post("/training", "authorising_officer", sent)
    assert created.status_code == 201, created.text
    record_id = created.json()["id"]
    assert record_id == str(TrainingRecord.id_for("PC-7001"))
    assert_problem(
        http.post("/training", "admin", {**sent, "expires_on": sent["completed_on"]}),
        422,
        "invalid-input",
    )
    decided = http.post(
        f"/alerts/{alert}/adjudication",
        "operator",
        {"decision": "match", "reason": "same face"},
        claims={"sub": "PC-7001"},
    )
    assert decided.status_code == 200, decided.text

    listed = http.get("/training", "planner", params={"person": "PC-7001"}).json()["records"]
    assert [(r["person"], [(c["course"], c["status"]) for c in r["courses"]]) for r in listed] == [
        ("PC-7001", [("lfr_operator", "current")])
    ]
    withdrawn = http.post(
        f"/training/{record_id}/withdrawal",
        "admin",
        {"course": "lfr_operator", "reason": "Course no longer recognised"},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    course = withdrawn.json()["courses"][0]
    assert (course["status"], course["withdrawn_by"]) == ("withdrawn", "admin-1")
    assert http.get("/training", "planner", params={"person": "nobody"}).json() == {"records": []}
    everyone = {r["person"] for r in http.get("/training", "oversight").json()["records"]}
    assert {OPERATOR.id, OFFICER.id, "PC-7001"} <= everyone
    policy = http.get("/policy", "planner").json()
    assert policy["training"] == [
        {"duty": "adjudicate", "course": "lfr_operator"},
        {"duty": "engage", "course": "lfr_engagement"},
    ]


def test_lfr_training_record_and_list(
    ledger: CaseLedger,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The commands keep the real time, not the test's clock.
    today = date.today()
    args = ["training", "record", "PC-7001", "--course", "lfr_operator"]
    args += ["--completed", (today - timedelta(days=1)).isoformat()]
    args += ["--expires", (today + timedelta(days=365)).isoformat(), "--actor", "SUPT-9"]
    assert lfr_ledger.api.cli.main(args) == 0
    assert "PC-7001" in capsys.readouterr().out
    assert lfr_ledger.api.cli.main([*args[:-2], "--actor", "PC-7001"]) == 2
    assert "their own training" in capsys.readouterr().err
    assert lfr_ledger.api.cli.main(["training", "list", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"lfr_operator"' in out and '"current"' in out
    withdraw = ["training", "withdraw", "PC-7001", "--course", "lfr_operator"]
    assert lfr_ledger.api.cli.main([*withdraw, "--reason", "Reassessment failed"]) == 0
    assert lfr_ledger.api.cli.main(["training", "list", "--person", "PC-7001"]) == 0
    assert "withdrawn" in capsys.readouterr().out
