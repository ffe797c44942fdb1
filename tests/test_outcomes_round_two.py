"""Issue 24, outcomes round two: safeguarding, voluntary attendance, charge and bail; custody and
crime references as fields of their own; when an engagement began and ended; and why a false
alert was false (factors from the policy's closed list), each counted in the statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec
import pytest

from lfr_ledger.api.demo.sample_deployment import OFFICER, OPERATOR
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertTopic, Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition, PolicyViolation
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import Confirmation, Decision, OutcomeType
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.publication import PUBLICATION_FIELDS
from lfr_ledger.projections.readers.statistics import StatisticsReader
from lfr_ledger.projections.report import deployment_text, period_text
from tests.conftest import Clock
from tests.test_api import Api, assert_problem
from tests.test_human_review import engaged, http, http_scene, live_scene  # noqa: F401
from tests.test_invariants import refused

# The press release's man: arrested for the sexual assault, found with a lock knife, charged
# with carrying an offensive weapon and bailed in connection with the sexual assault.
ARREST = Outcome(
    OutcomeType.ARREST,
    offences=("Sexual assault", "Possession of a bladed article"),
    custody_ref="NN/2025/01234",
    crime_ref="NPT/25/0456789",
)
CHARGE = Outcome(
    OutcomeType.CHARGE,
    offences=("Possession of a bladed article (Criminal Justice Act 1988 s.139)",),
    custody_ref="NN/2025/01234",
)
BAIL = Outcome(
    OutcomeType.BAIL,
    offences=("Sexual assault",),
    conditions=("Not to contact the complainant",),
    custody_ref="NN/2025/01234",
    due_at=datetime(2025, 7, 1, 10, 0, tzinfo=UTC),
)
LOOKALIKE = ("subject.lookalike",)


@pytest.fixture
def backend() -> str:
    # The rules live in the aggregates; the store matters only for the figures (both below).
    return "sqlite"


def alerts_on(ledger: CaseLedger, clock: Clock, count: int = 1) -> list[UUID]:
    _, _, alerts = live_scene(ledger, clock, alerts=count)
    return alerts


def stored_state(ledger: CaseLedger, alert: UUID, topic: str) -> bytes:
    return b"".join(
        bytes(e.state) for e in ledger.recorder.select_events(alert) if e.topic == topic
    )


# --- outcomes: which follows which ---------------------------------------------------------


def test_a_charge_and_a_bail_follow_an_arrest_as_the_release_tells_it(
    ledger: CaseLedger, clock: Clock
) -> None:
    (alert,) = alerts_on(ledger, clock)
    engaged(ledger, alert)
    for outcome in (CHARGE, BAIL):
        with refused(ledger, InvalidTransition, "follows an arrest or a voluntary attendance"):
            ledger.record_outcome(OFFICER, alert, outcome)
    ledger.record_outcome(OFFICER, alert, ARREST)
    ledger.record_outcome(OFFICER, alert, CHARGE)
    ledger.record_outcome(OFFICER, alert, BAIL)
    recorded = [ledger.reveal_outcome(alert, o) for o in ledger.alert(alert).outcomes]
    assert recorded == [ARREST, CHARGE, BAIL]


def test_a_voluntary_attendance_opens_the_way_to_a_charge(ledger: CaseLedger, clock: Clock) -> None:
    (alert,) = alerts_on(ledger, clock)
    engaged(ledger, alert)
    appointment = Outcome(
        OutcomeType.VOLUNTARY_ATTENDANCE,
        offences=("Theft from a shop",),
        due_at=clock.now + timedelta(days=3),
    )
    ledger.record_outcome(OFFICER, alert, appointment)
    ledger.record_outcome(OFFICER, alert, Outcome(OutcomeType.CHARGE, offences=("Theft",)))
    assert [o.type for o in ledger.alert(alert).outcomes] == [
        OutcomeType.VOLUNTARY_ATTENDANCE,
        OutcomeType.CHARGE,
    ]


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome(OutcomeType.SAFEGUARDING, note="Referred to the mental health street triage"),
        Outcome(OutcomeType.VOLUNTARY_ATTENDANCE),
    ],
    ids=["safeguarding", "voluntary_attendance"],
)
def test_new_outcomes_act_on_the_person_only_after_a_match_and_an_engagement(
    ledger: CaseLedger, clock: Clock, outcome: Outcome
) -> None:
    unsure, matched = alerts_on(ledger, clock, 2)
    ledger.adjudicate(OPERATOR, unsure, Decision.INCONCLUSIVE, "crop too dark")
    with refused(ledger, InvalidTransition, "adjudicated match"):
        ledger.record_outcome(OFFICER, unsure, outcome)
    ledger.adjudicate(OPERATOR, matched, Decision.MATCH, "same face")
    with refused(ledger, InvalidTransition, "needs an engagement"):
        ledger.record_outcome(OFFICER, matched, outcome)
    ledger.record_engagement(OFFICER, matched, engaged=True, confirmed=Confirmation.CONFIRMED)
    ledger.record_outcome(OFFICER, matched, outcome)


def test_each_new_outcome_carries_what_it_needs() -> None:
    with pytest.raises(InvalidInput, match="offences charged"):
        Outcome(OutcomeType.CHARGE)
    with pytest.raises(InvalidInput, match="what was done"):
        Outcome(OutcomeType.SAFEGUARDING, note=" ")
    with pytest.raises(InvalidInput, match="due_at belongs to a bail"):
        Outcome(OutcomeType.ARREST, offences=("theft",), due_at=datetime(2025, 7, 1, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="custody_ref must not be blank"):
        Outcome(OutcomeType.BAIL, custody_ref="  ")
    with pytest.raises(InvalidInput, match="time zone"):
        Outcome(OutcomeType.BAIL, due_at=datetime(2025, 7, 1))


def test_bail_is_not_answered_before_it_is_given(ledger: CaseLedger, clock: Clock) -> None:
    (alert,) = alerts_on(ledger, clock)
    engaged(ledger, alert)
    ledger.record_outcome(OFFICER, alert, ARREST)
    early = Outcome(OutcomeType.BAIL, due_at=clock.now - timedelta(minutes=1))
    with refused(ledger, InvalidInput, "due_at"):
        ledger.record_outcome(OFFICER, alert, early)


def test_a_correction_never_leaves_a_charge_without_its_arrest(
    ledger: CaseLedger, clock: Clock
) -> None:
    (alert,) = alerts_on(ledger, clock)
    engaged(ledger, alert)
    ledger.record_outcome(OFFICER, alert, ARREST)
    ledger.record_outcome(OFFICER, alert, CHARGE)
    advice = Outcome(OutcomeType.WORDS_OF_ADVICE)
    with refused(ledger, InvalidTransition, "outcome 1 \\(charge\\) would follow neither"):
        ledger.correct_outcome(OFFICER, alert, 0, advice, "recorded against the wrong alert")
    recharged = Outcome(OutcomeType.CHARGE, offences=("Having an article with a blade",))
    ledger.correct_outcome(OFFICER, alert, 1, recharged, "the charge as the CPS framed it")
    assert ledger.alert(alert).outcomes[1].offences == recharged.offences


# --- custody and crime references ----------------------------------------------------------


def test_custody_and_crime_references_are_sealed_apart_and_read_back(
    ledger: CaseLedger, clock: Clock
) -> None:
    (alert,) = alerts_on(ledger, clock)
    engaged(ledger, alert)
    ledger.record_outcome(OFFICER, alert, ARREST)
    stored = stored_state(ledger, alert, AlertTopic.OUTCOME_RECORDED)
    assert b"NN/2025/01234" not in stored and b"NPT/25/0456789" not in stored
    (outcome,) = ledger.alert(alert).outcomes
    opened = ledger.reveal_outcome(alert, outcome)
    assert (opened.custody_ref, opened.crime_ref, opened.reference) == (
        "NN/2025/01234",
        "NPT/25/0456789",
        None,
    )
    # An outcome recorded with the one free reference of earlier releases still reads back.
    (older,) = alerts_on(ledger, clock)
    engaged(ledger, older)
    legacy = Outcome(OutcomeType.ARREST, offences=("theft",), reference="CUS/2024/77")
    ledger.record_outcome(OFFICER, older, legacy)
    assert ledger.reveal_outcome(older, ledger.alert(older).outcomes[0]).reference == "CUS/2024/77"


# --- engagement times ----------------------------------------------------------------------


def test_an_engagement_is_timed_from_start_to_end(ledger: CaseLedger, clock: Clock) -> None:
    first, second = alerts_on(ledger, clock, 2)
    for alert in (first, second):
        ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    captured = ledger.alert(first).captured_at
    clock.advance(minutes=30)
    begin, end = captured + timedelta(minutes=2), captured + timedelta(minutes=9)

    def engage(**times: datetime | bool) -> None:
        ledger.record_engagement(
            OFFICER,
            first,
            engaged=bool(times.pop("engaged", True)),
            confirmed=Confirmation.UNKNOWN,
            **times,  # type: ignore[arg-type]
        )

    with refused(ledger, InvalidInput, "give both, or neither"):
        engage(engaged_from=begin)
    with refused(ledger, InvalidInput, "engaged_until must be after engaged_from"):
        engage(engaged_from=end, engaged_until=begin)
    with refused(ledger, InvalidInput, "engaged_until lies in the future"):
        engage(engaged_from=begin, engaged_until=clock.now + timedelta(minutes=6))
    with refused(ledger, InvalidInput, "before the alert's face was captured"):
        engage(engaged_from=captured - timedelta(minutes=6), engaged_until=end)
    with refused(ledger, InvalidInput, "not engaged"):
        engage(engaged=False, engaged_from=begin, engaged_until=end)
    engage(engaged_from=begin, engaged_until=end)
    recorded = ledger.alert(first)
    assert (recorded.engaged_from, recorded.engaged_until) == (begin, end)
    # Times stay optional: an engagement recorded without them is an untimed engagement.
    ledger.record_engagement(OFFICER, second, engaged=True, confirmed=Confirmation.CONFIRMED)
    assert ledger.alert(second).engaged_from is None


# --- false-alert factors -------------------------------------------------------------------


def test_a_no_match_names_why_the_alert_was_false(ledger: CaseLedger, clock: Clock) -> None:
    first, second = alerts_on(ledger, clock, 2)
    with refused(ledger, PolicyViolation, "needs its false-alert factors"):
        ledger.adjudicate(OPERATOR, first, Decision.NO_MATCH, "different ears")
    with refused(ledger, InvalidInput, "unknown false-alert factor"):
        ledger.adjudicate(OPERATOR, first, Decision.NO_MATCH, "different ears", ("weather",))
    with refused(ledger, InvalidInput, "unknown false-alert factor"):
        ledger.adjudicate(OPERATOR, first, Decision.NO_MATCH, "different ears", ("subject.hat",))
    with refused(ledger, InvalidInput, "send none"):
        ledger.adjudicate(OPERATOR, first, Decision.MATCH, "same face", LOOKALIKE)
    ledger.adjudicate(
        OPERATOR, first, Decision.NO_MATCH, "different ears", (" subject.lookalike", "system")
    )
    assert ledger.alert(first).false_alert_factors == ("subject.lookalike", "system")
    # A correction to no_match names them too; one away from it clears them.
    ledger.adjudicate(OPERATOR, second, Decision.MATCH, "same face")
    with refused(ledger, PolicyViolation, "a correction to no_match needs"):
        ledger.correct_adjudication(OPERATOR, second, Decision.NO_MATCH, "looked again")
    ledger.correct_adjudication(
        OPERATOR, second, Decision.NO_MATCH, "looked again", ("environment.angle",)
    )
    assert ledger.alert(second).false_alert_factors == ("environment.angle",)
    ledger.correct_adjudication(OPERATOR, first, Decision.MATCH, "second look: it is him")
    assert ledger.alert(first).false_alert_factors == ()


def test_the_alert_itself_keeps_factors_to_false_alerts(ledger: CaseLedger, clock: Clock) -> None:
    # Below the policy's check: the aggregate refuses factors on a decision that is no no_match.
    (alert,) = alerts_on(ledger, clock)
    with pytest.raises(InvalidInput, match="a decision of match names none"):
        ledger.alert(alert).adjudicate(
            decision=Decision.MATCH,
            reason="same face",
            actor=OPERATOR,
            occurred_at=clock.now,
            false_alert_factors=LOOKALIKE,
        )
    with pytest.raises(InvalidInput, match="is not one: send none"):
        ledger.policy.check_false_alert_factors(LOOKALIKE, false_alert=False, what="a match")


def test_an_engagement_that_refutes_the_identity_names_why(
    ledger: CaseLedger, clock: Clock
) -> None:
    refuted, confirmed = alerts_on(ledger, clock, 2)
    for alert in (refuted, confirmed):
        ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    with refused(ledger, PolicyViolation, "needs its false-alert factors"):
        ledger.record_engagement(
            OFFICER, refuted, engaged=True, confirmed=Confirmation.NOT_CONFIRMED
        )
    with refused(ledger, InvalidInput, 'confirmed "false"'):
        ledger.record_engagement(
            OFFICER,
            confirmed,
            engaged=True,
            confirmed=Confirmation.CONFIRMED,
            false_alert_factors=LOOKALIKE,
        )
    ledger.record_engagement(
        OFFICER,
        refuted,
        engaged=True,
        confirmed=Confirmation.NOT_CONFIRMED,
        false_alert_factors=("system.enrolment_image_quality",),
    )
    assert ledger.alert(refuted).engagement_false_alert_factors == (
        "system.enrolment_image_quality",
    )


def test_the_policy_decides_the_factors_and_whether_they_are_required() -> None:
    shipped = Policy.load()
    assert shipped.false_alerts.factors == ("subject", "system", "environment")
    assert shipped.false_alerts.required
    assert "environment.lighting" in shipped.false_alerts.codes()
    relaxed = Policy.parse(
        shipped.text.replace(
            "false_alert_factors_required = true", "false_alert_factors_required = false"
        )
    )
    assert relaxed.check_false_alert_factors((), false_alert=True, what="a no_match") == ()
    with pytest.raises(PolicyViolation):
        shipped.check_false_alert_factors((), false_alert=True, what="a no_match")
    with pytest.raises(InvalidInput, match=r"not 'factor\.reason'"):
        Policy.parse(shipped.text.replace('"subject.lookalike",', '"weather.fog",'))
    with pytest.raises(InvalidInput, match="true or false"):
        Policy.parse(
            shipped.text.replace(
                "false_alert_factors_required = true", 'false_alert_factors_required = "yes"'
            )
        )


# --- the figures ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_figures_give_engagement_durations_new_outcomes_and_false_alerts_by_factor(
    ledger: CaseLedger, clock: Clock, settings: Settings, backend: str
) -> None:
    deployment, _, alerts = live_scene(ledger, clock, alerts=7)
    timed, quick, long_, false_1, false_2, refuted, untimed = alerts
    captured = ledger.alert(timed).captured_at
    clock.advance(hours=1)
    for alert, minutes in ((timed, 2), (quick, 1), (long_, 10)):
        ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
        start = captured + timedelta(minutes=5)
        ledger.record_engagement(
            OFFICER,
            alert,
            engaged=True,
            confirmed=Confirmation.CONFIRMED,
            engaged_from=start,
            engaged_until=start + timedelta(minutes=minutes),
        )
    ledger.record_outcome(OFFICER, timed, ARREST)
    ledger.record_outcome(OFFICER, timed, CHARGE)
    ledger.record_outcome(OFFICER, timed, BAIL)
    ledger.adjudicate(OPERATOR, false_1, Decision.NO_MATCH, "different ears", LOOKALIKE)
    ledger.adjudicate(
        OPERATOR, false_2, Decision.NO_MATCH, "too dark", ("environment.lighting", "subject")
    )
    ledger.adjudicate(OPERATOR, refuted, Decision.MATCH, "same face")
    ledger.record_engagement(
        OFFICER,
        refuted,
        engaged=True,
        confirmed=Confirmation.NOT_CONFIRMED,
        false_alert_factors=("system",),
    )
    engaged(ledger, untimed)

    catch_up(settings)
    reader = StatisticsReader(settings, clock=lambda: clock.now)
    summary = reader.deployment_summary(deployment)
    assert summary is not None
    totals = msgspec.to_builtins(summary.totals)
    assert {k: totals[k] for k in ("arrests", "charges", "bails", "other_outcomes")} == {
        "arrests": 1,
        "charges": 1,
        "bails": 1,
        "other_outcomes": 0,
    }
    # Three timed engagements of 60, 120 and 600 s; the untimed and the refuted are not timed.
    assert totals["timed_engagements"] == 3
    assert (totals["median_engagement_seconds"], totals["p90_engagement_seconds"]) == (120, 600)
    assert totals["false_alerts_by_factor"] == [
        {"factor": "environment", "alerts": 1},
        {"factor": "environment.lighting", "alerts": 1},
        {"factor": "subject", "alerts": 2},
        {"factor": "subject.lookalike", "alerts": 1},
    ]
    assert totals["confirmed_false_by_factor"] == [{"factor": "system", "alerts": 1}]
    text = deployment_text(msgspec.to_builtins(summary))
    assert "Median engagement (s)" in text
    assert "False alerts by factor: environment 1, environment.lighting 1, subject 2" in text

    operation_id = UUID(ledger.deployment(deployment).plan.operation_id)
    operation = reader.operation_summary(operation_id)
    assert operation is not None
    assert operation.totals.p90_engagement_seconds == 600
    assert [(f.factor, f.alerts) for f in operation.by_deployment[0].false_alerts_by_factor][2] == (
        "subject",
        2,
    )
    day = clock.now.date()
    period = reader.period_figures(day - timedelta(days=1), day)
    assert period.totals.median_engagement_seconds == 120
    assert period.totals.charges == 1
    assert "90th percentile engagement (s)" in period_text(msgspec.to_builtins(period))
    (record,) = reader.publication_records((day - timedelta(days=1), day))
    assert record.median_engagement_seconds == 120
    assert "median_engagement_seconds" in PUBLICATION_FIELDS


# --- over HTTP -----------------------------------------------------------------------------


def test_http_records_the_new_outcomes_references_times_and_factors(http: Api) -> None:  # noqa: F811
    _, deployment, _, (first, second, third) = http_scene(http)
    no_factors = {"decision": "no_match", "reason": "different ears"}
    refused_ = http.post(f"/alerts/{first}/adjudication", "operator", no_factors)
    assert "false-alert factors" in assert_problem(refused_, 422, "policy-violation")["detail"]
    decided = http.post(
        f"/alerts/{first}/adjudication",
        "operator",
        {**no_factors, "false_alert_factors": ["subject.lookalike"]},
    )
    assert decided.status_code == 200, decided.text
    match = {"decision": "match", "reason": "same scar"}
    assert http.post(f"/alerts/{second}/adjudication", "operator", match).status_code == 200
    now = datetime.now(UTC)
    engagement = {
        "engaged": True,
        "confirmed": "true",
        "engaged_from": (now - timedelta(minutes=4)).isoformat(),
        "engaged_until": (now - timedelta(minutes=1)).isoformat(),
    }
    done = http.post(f"/alerts/{second}/engagement", "officer", engagement)
    assert done.status_code == 200, done.text
    charge = {"type": "charge", "offences": ["Theft"], "custody_ref": "NN/2026/5"}
    early = http.post(f"/alerts/{second}/outcomes", "officer", charge)
    assert_problem(early, 409, "invalid-transition")
    for body in (
        {"type": "arrest", "offences": ["Theft"], "custody_ref": "NN/2026/5", "crime_ref": "C/9"},
        charge,
        {
            "type": "bail",
            "due_at": (now + timedelta(days=28)).isoformat(),
            "conditions": ["Curfew"],
        },
    ):
        recorded = http.post(f"/alerts/{second}/outcomes", "officer", body)
        assert recorded.status_code == 200, recorded.text
    timeline = http.get(f"/alerts/{second}", "operator").json()
    assert timeline["alert"]["outcomes"] == ["arrest", "charge", "bail"]
    events = {e["topic"]: e["data"] for e in timeline["events"]}
    arrest = next(
        e["data"]["outcome"]
        for e in timeline["events"]
        if e["topic"] == AlertTopic.OUTCOME_RECORDED and e["data"]["outcome"]["type"] == "arrest"
    )
    assert (arrest["custody_ref"], arrest["crime_ref"]) == ("[sealed]", "[sealed]")
    assert events[AlertTopic.ENGAGEMENT_RECORDED]["engaged_from"] == engagement["engaged_from"]
    assert third  # raised without a crop: left undecided here
    totals = http.get(f"/deployments/{deployment}/summary", "analyst").json()["totals"]
    assert totals["false_alerts_by_factor"] == [
        {"factor": "subject", "alerts": 1},
        {"factor": "subject.lookalike", "alerts": 1},
    ]
    assert (totals["charges"], totals["bails"], totals["timed_engagements"]) == (1, 1, 1)
    assert totals["median_engagement_seconds"] == pytest.approx(180, abs=1)
