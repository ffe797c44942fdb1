"""Issue 11, human review: every decision has a reason; a mistaken decision or outcome is
corrected by a new event that keeps the original (and read models follow the correction); the
deployment's authoriser may not adjudicate its alerts (policy-driven); an arrest puts the
alert's images under an evidential hold that retention respects until an AO releases it; and
the alert's timeline, its face crop and the entry's enrolled image are served over HTTP, the
images as personal data (purpose required, consultation logged). Both backends."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.bootstrap import build_retention
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    AUTHORITY,
    COMPILER,
    MODEL,
    OFFICER,
    OPERATOR,
    SIGNAGE,
    matcher_for,
    proposed,
    subject,
    train,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertClaim, AlertTopic, HoldKind, Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotPermitted,
    PolicyViolation,
    RoleSeparationViolated,
)
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import (
    ComplianceResult,
    Confirmation,
    Decision,
    OutcomeType,
    PublicNotice,
)
from tests.conftest import Clock
from tests.test_api import Api, assert_problem
from tests.test_invariants import refused
from tests.test_retention import template

ARREST = Outcome(OutcomeType.ARREST, offences=("failing to appear",), reference="CUST-1")
COMPLIED = Outcome(
    OutcomeType.COMPLIANCE_CHECK, conditions=("curfew",), result=ComplianceResult.COMPLIED
)
# Another AO of the same force: not the deployment's authoriser.
OTHER_AO = Actor("SUPT-2", Role.AUTHORISING_OFFICER, rank="superintendent")
JPEG = b"\xff\xd8\xff\xe0"


def topics(ledger: CaseLedger, alert: UUID) -> list[str]:
    return [
        n.topic
        for n in ledger.recorder.select_notifications(0, 10_000)
        if UUID(str(n.originator_id)) == alert
    ]


def live_scene(
    ledger: CaseLedger, clock: Clock, *, alerts: int = 1, crops: bool = True
) -> tuple[UUID, list[UUID], list[UUID]]:
    """A live deployment (window from now for 7 hours) of two entries subject to a court order
    (an arrest and a compliance check both fit), with `alerts` alerts on entry 0, engaged."""
    start = clock.now
    deployment = proposed(
        ledger,
        starts_at=start,
        ends_at=start + timedelta(hours=7),
        public_notice=PublicNotice("signage", start - timedelta(days=1)),
    )
    # Everyone these tests decide or engage as, in process and over HTTP, holds the training.
    for person, duty in (
        (OTHER_AO.id, "adjudicate"),
        (AO.id, "adjudicate"),
        ("operator-1", "adjudicate"),
        ("authorising_officer-1", "adjudicate"),
        ("officer-1", "engage"),
    ):
        train(ledger, person, duty)
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    entries = [
        ledger.enrol(
            COMPILER,
            deployment,
            subject(i, category="subject_to_court_order"),
            image=JPEG + os.urandom(16) + f"portrait-{i}".encode(),
            template=template(i),
            model_id=MODEL,
        )
        for i in range(2)
    ]
    ledger.review_watchlist(AO, deployment, confirmed_count=2, not_excessive=True)
    clock.advance(minutes=5)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    ids = []
    for i in range(alerts):
        clock.advance(minutes=1)
        ids.append(
            ledger.raise_alert(
                matcher_for(deployment),
                AlertClaim(
                    deployment,
                    camera_id="cam-1",
                    entry_id=entries[0],
                    similarity=0.9,
                    captured_at=clock.now,
                    face_crop=(JPEG + os.urandom(16) + f"crop-{i}".encode()) if crops else None,
                ),
            )
        )
    return deployment, entries, ids


def engaged(ledger: CaseLedger, alert: UUID) -> None:
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "likeness confirmed on screen")
    ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)


def edited_policy(old: str, new: str) -> Policy:
    """The shipped policy with one rule edited, under a version of its own."""
    shipped = Policy.load()
    text = shipped.text
    assert old in text, old
    version = shipped.version
    return Policy.parse(
        text.replace(old, new).replace(f'version = "{version}"', f'version = "{version}-edited"')
    )


# --- 1. a match needs a reason ----------------------------------------------------------------


def test_every_decision_needs_a_reason_and_a_refusal_leaves_no_key(
    ledger: CaseLedger, clock: Clock
) -> None:
    _, _, (alert,) = live_scene(ledger, clock)
    # The alert's notes key was made with it (issue 28); a refusal adds no key of its own.
    keys = {k for k, _ in ledger.vault._rows(None, 100_000)}  # type: ignore[attr-defined]
    for decision in Decision:
        with refused(ledger, InvalidInput, "needs a reason"):
            ledger.adjudicate(OPERATOR, alert, decision, "  ")
    assert {k for k, _ in ledger.vault._rows(None, 100_000)} == keys  # type: ignore[attr-defined]
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "likeness confirmed on screen")
    assert ledger.alert(alert).decision == Decision.MATCH


# --- 2. corrections ---------------------------------------------------------------------------


def test_a_corrected_adjudication_keeps_the_original(ledger: CaseLedger, clock: Clock) -> None:
    _, _, (alert,) = live_scene(ledger, clock)
    ledger.adjudicate(OPERATOR, alert, Decision.NO_MATCH, "different nose", ("subject",))
    ledger.close_alert(OPERATOR, alert)
    with refused(ledger, InvalidInput, "reason"):
        ledger.correct_adjudication(OPERATOR, alert, Decision.MATCH, " ")
    with refused(ledger, InvalidInput, "must change"):
        ledger.correct_adjudication(
            OPERATOR, alert, Decision.NO_MATCH, "looked again", ("subject",)
        )
    with refused(ledger, NotPermitted):
        ledger.correct_adjudication(OFFICER, alert, Decision.MATCH, "looked again")
    clock.advance(minutes=10)
    # After closure too: a mistake is often found later.
    ledger.correct_adjudication(OTHER_AO, alert, Decision.MATCH, "the custody photo is him")
    state = ledger.alert(alert)
    assert state.decision == Decision.MATCH and state.corrections == 1
    assert state.adjudicated_by == OPERATOR.id  # the original decision's author stays
    assert topics(ledger, alert)[-2:] == [AlertTopic.CLOSED, AlertTopic.ADJUDICATION_CORRECTED]
    (n,) = ledger.recorder.select_notifications(0, 1, topics=[AlertTopic.ADJUDICATION_CORRECTED])
    event: Any = ledger.mapper.to_domain_event(n)
    assert (event.decision, event.previous) == (Decision.MATCH, Decision.NO_MATCH)
    assert event.actor == OTHER_AO and event.occurred_at == clock.now
    assert "custody photo" not in event.reason  # sealed under the alert's notes key
    notes = ledger.notes_key_id(alert)
    assert ledger.reveal_text(notes, "correction_reason", event.reason) == (
        "the custody photo is him"
    )
    (first,) = ledger.recorder.select_notifications(0, 1, topics=[AlertTopic.ADJUDICATED])
    assert ledger.mapper.to_domain_event(first).decision == Decision.NO_MATCH  # type: ignore[attr-defined]


def test_a_corrected_outcome_keeps_the_original(ledger: CaseLedger, clock: Clock) -> None:
    _, _, (alert,) = live_scene(ledger, clock)
    engaged(ledger, alert)
    ledger.record_outcome(OFFICER, alert, ARREST)
    with refused(ledger, InvalidInput, "no outcome 1"):
        ledger.correct_outcome(OFFICER, alert, 1, COMPLIED, "wrong type")
    with refused(ledger, InvalidInput, "must change"):
        ledger.correct_outcome(OFFICER, alert, 0, ARREST, "same")
    with refused(ledger, InvalidInput, "reason"):
        ledger.correct_outcome(OFFICER, alert, 0, COMPLIED, "")
    with refused(ledger, NotPermitted):
        ledger.correct_outcome(OPERATOR, alert, 0, COMPLIED, "wrong type")
    ledger.correct_outcome(OFFICER, alert, 0, COMPLIED, "he was checked, not arrested")
    # The conditions checked are sealed under the alert's notes key (issue 23): read opened.
    assert [ledger.reveal_outcome(alert, o) for o in ledger.alert(alert).outcomes] == [COMPLIED]
    (n,) = ledger.recorder.select_notifications(0, 1, topics=[AlertTopic.OUTCOME_CORRECTED])
    event: Any = ledger.mapper.to_domain_event(n)
    assert event.outcome.conditions != COMPLIED.conditions, "sealed in the log"
    opened = (
        ledger.reveal_outcome(alert, event.outcome),
        ledger.reveal_outcome(alert, event.previous),
    )
    assert (event.outcome_index, *opened) == (0, COMPLIED, ARREST)
    assert event.actor == OFFICER


def test_a_correction_must_fit_the_entry_and_the_alert(ledger: CaseLedger, clock: Clock) -> None:
    deployment = proposed(
        ledger,
        starts_at=clock.now,
        ends_at=clock.now + timedelta(hours=7),
        public_notice=PublicNotice("signage", clock.now - timedelta(days=1)),
    )
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    entry = ledger.enrol(COMPILER, deployment, subject(1))  # wanted_by_courts
    ledger.review_watchlist(AO, deployment, confirmed_count=1, not_excessive=True)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    alert = ledger.raise_alert(
        matcher_for(deployment),
        AlertClaim(
            deployment,
            camera_id="cam-1",
            entry_id=entry,
            similarity=0.9,
            captured_at=clock.now,
        ),
    )
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)
    ledger.record_outcome(OFFICER, alert, ARREST)
    # A compliance check belongs to someone subject to an order, not to the wanted.
    with refused(ledger, PolicyViolation):
        ledger.correct_outcome(OFFICER, alert, 0, COMPLIED, "wrong type")


def test_corrections_are_refused_once_the_images_and_notes_are_erased(
    ledger: CaseLedger, clock: Clock
) -> None:
    _, _, (alert,) = live_scene(ledger, clock)
    ledger.adjudicate(OPERATOR, alert, Decision.INCONCLUSIVE, "face half covered")
    ledger.erase_alert_images(alert, rule="test")
    with refused(ledger, InvalidTransition, "erased"):
        ledger.correct_adjudication(OPERATOR, alert, Decision.MATCH, "looked again")
    assert not ledger.vault.has_key(ledger.notes_key_id(alert))


# --- 3. separation reaches adjudication -------------------------------------------------------


def test_the_authoriser_may_not_adjudicate_the_deployments_alerts(
    ledger: CaseLedger, clock: Clock
) -> None:
    _, _, (alert,) = live_scene(ledger, clock)
    # The same staff number, now on an operator's shift.
    same_person = Actor(AO.id, Role.OPERATOR, rank="superintendent")
    with refused(ledger, RoleSeparationViolated, "authorise"):
        ledger.adjudicate(same_person, alert, Decision.MATCH, "same face")
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    with refused(ledger, RoleSeparationViolated, "authorise"):
        ledger.correct_adjudication(AO, alert, Decision.NO_MATCH, "looked again", ("subject",))
    ledger.correct_adjudication(OTHER_AO, alert, Decision.NO_MATCH, "looked again", ("subject",))


def test_separation_of_adjudication_is_the_policys(ledger: CaseLedger, clock: Clock) -> None:
    assert ("authorise", "adjudicate") in ledger.policy.forbidden_pairs
    ledger.policy = edited_policy('    ["authorise", "adjudicate"],\n', "")
    assert "adjudicate" not in {d for pair in ledger.policy.forbidden_pairs for d in pair}
    _, _, (alert,) = live_scene(ledger, clock)
    ledger.adjudicate(Actor(AO.id, Role.OPERATOR), alert, Decision.MATCH, "same face")
    assert ledger.alert(alert).adjudicated_by == AO.id


# --- 4. the evidential hold on arrest ---------------------------------------------------------


def test_an_arrest_holds_its_images_until_an_ao_releases_them(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    _, _, (arrested, checked, unheld) = live_scene(ledger, clock, alerts=3)
    for alert in (arrested, checked, unheld):
        engaged(ledger, alert)
    before = ledger.recorder.max_notification_id()
    ledger.record_outcome(OFFICER, arrested, ARREST)
    # One save: the outcome and its hold, nothing else.
    added = ledger.recorder.select_notifications(before or 0, 10, inclusive_of_start=False)
    assert [n.topic for n in added] == [
        AlertTopic.OUTCOME_RECORDED,
        AlertTopic.LEGAL_HOLD_PLACED,
    ]
    hold: Any = ledger.mapper.to_domain_event(added[1])
    assert hold.kind == HoldKind.EVIDENTIAL and hold.actor == OFFICER
    assert hold.proceedings_ref == f"policy {ledger.policy.version}"
    ledger.record_outcome(OFFICER, checked, COMPLIED)
    assert ledger.alert(checked).legal_hold is None
    # A correction to an arrest holds too.
    ledger.record_outcome(OFFICER, unheld, Outcome(OutcomeType.WORDS_OF_ADVICE, note="advised"))
    ledger.correct_outcome(OFFICER, unheld, 0, ARREST, "he was arrested after all")
    assert ledger.alert(unheld).hold_kind == HoldKind.EVIDENTIAL

    retention = build_retention(ledger, settings)
    clock.advance(days=ledger.policy.alert_image_days, hours=1)
    report = retention.run()
    assert report.alert_images_erased == [checked]
    assert set(report.held) == {arrested, unheld}
    assert ledger.reveal_face_crop(arrested) is not None
    assert ledger.reveal_face_crop(checked) is None

    with refused(ledger, NotPermitted):
        ledger.release_legal_hold(OFFICER, arrested, "no further action")
    ledger.release_legal_hold(AO, arrested, "released without charge")
    report = retention.run()
    assert report.alert_images_erased == [arrested]
    assert ledger.reveal_face_crop(arrested) is None
    assert ledger.reveal_face_crop(unheld) is not None


def test_the_evidential_hold_is_the_policys(ledger: CaseLedger, clock: Clock) -> None:
    ledger.policy = edited_policy(
        'evidential_hold_on = ["arrest"]', 'evidential_hold_on = ["compliance_check"]'
    )
    _, _, (arrested, checked) = live_scene(ledger, clock, alerts=2)
    for alert in (arrested, checked):
        engaged(ledger, alert)
    ledger.record_outcome(OFFICER, arrested, ARREST)
    ledger.record_outcome(OFFICER, checked, COMPLIED)
    assert ledger.alert(arrested).legal_hold is None
    assert ledger.alert(checked).hold_kind == HoldKind.EVIDENTIAL
    with pytest.raises(InvalidInput, match="unknown outcome types: caution"):
        edited_policy('evidential_hold_on = ["arrest"]', 'evidential_hold_on = ["caution"]')


# --- 5 and 6 over HTTP ------------------------------------------------------------------------


@pytest.fixture
def http(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings)


def http_scene(api: Api) -> tuple[CaseLedger, UUID, list[UUID], list[UUID]]:
    """A live deployment in the app's own ledger (the server's clock), alerts 0 and 1 with a
    face crop, alert 2 without; entry 1 enrolled without an image."""
    ledger: CaseLedger = api.client.app.state.services.ledger
    clock = Clock(datetime.now(UTC) - timedelta(minutes=30))
    deployment, entries, alerts = live_scene(ledger, clock, alerts=2)
    alerts.append(
        ledger.raise_alert(
            matcher_for(deployment),
            AlertClaim(
                deployment,
                camera_id="cam-1",
                entry_id=entries[1],
                similarity=0.9,
                captured_at=datetime.now(UTC) - timedelta(minutes=1),
            ),
        )
    )
    return ledger, deployment, entries, alerts


def officer(api: Api, path: str, body: Any) -> Any:
    return api.post(path, "officer", body)


def test_http_reasons_and_corrections_flow_into_the_statistics(http: Api) -> None:
    ledger, deployment, _, (first, second, _) = http_scene(http)
    missing = http.post(f"/alerts/{first}/adjudication", "operator", {"decision": "match"})
    assert_problem(missing, 400)
    assert "reason" in missing.json()["detail"]
    blank = http.post(
        f"/alerts/{first}/adjudication", "operator", {"decision": "match", "reason": " "}
    )
    assert_problem(blank, 422, "invalid-input")
    for alert in (first, second):
        ok = http.post(
            f"/alerts/{alert}/adjudication", "operator", {"decision": "match", "reason": "same"}
        )
        assert ok.status_code == 200, ok.text
        officer(http, f"/alerts/{alert}/engagement", {"engaged": True, "confirmed": "true"})
    arrest = {"type": "arrest", "offences": ["failing to appear"]}
    assert officer(http, f"/alerts/{first}/outcomes", arrest).status_code == 200
    check = {"type": "compliance_check", "conditions": ["curfew"], "result": "complied"}
    assert officer(http, f"/alerts/{second}/outcomes", check).status_code == 200
    totals = http.get(f"/deployments/{deployment}/summary", "analyst").json()["totals"]
    assert (totals["arrests"], totals["compliance_complied"], totals["true_alerts"]) == (1, 1, 2)

    # The second alert's check was a breach; the first alert was not him after all.
    corrected = officer(
        http,
        f"/alerts/{second}/outcomes/0/correction",
        {**check, "result": "breach", "reason": "curfew broken, misrecorded"},
    )
    assert corrected.status_code == 200, corrected.text
    no_reason = officer(http, f"/alerts/{second}/outcomes/0/correction", check)
    assert_problem(no_reason, 400)
    absent = officer(http, f"/alerts/{second}/outcomes/5/correction", {**check, "reason": "x"})
    assert_problem(absent, 422, "invalid-input")
    assert_problem(
        http.post(f"/alerts/{second}/outcomes/0/correction", "operator", {**check, "reason": "x"}),
        403,
    )
    body = {
        "decision": "no_match",
        "reason": "a different man, custody photo checked",
        "false_alert_factors": ["subject.lookalike"],
    }
    assert http.post(f"/alerts/{first}/adjudication/correction", "operator", body).json() == {
        "id": str(first),
        "status": "outcome_recorded",
    }
    same = http.post(f"/alerts/{first}/adjudication/correction", "operator", body)
    assert_problem(same, 422, "invalid-input")
    by_ao = http.post(
        f"/alerts/{first}/adjudication/correction",
        "authorising_officer",
        {"decision": "match", "reason": "checked again"},
        claims={"rank": "superintendent"},
    )
    assert by_ao.status_code == 200, by_ao.text
    assert_problem(
        http.post(f"/alerts/{first}/adjudication/correction", "officer", body), 403, "forbidden"
    )
    back = http.post(f"/alerts/{first}/adjudication/correction", "operator", body)
    assert back.status_code == 200
    totals = http.get(f"/deployments/{deployment}/summary", "analyst").json()["totals"]
    assert totals["true_alerts"] == 1 and totals["false_alerts"] == 1
    assert (totals["compliance_complied"], totals["compliance_breach"]) == (0, 1)
    # The arrest stays recorded (the wrong man was arrested): the figures say so.
    assert totals["arrests"] == 1
    listed = http.get(f"/deployments/{deployment}/alerts", "operator").json()["alerts"]
    assert {a["id"]: a["decision"] for a in listed}[str(first)] == "no_match"
    # The first alert's arrest put it under an evidential hold, released by an AO as any hold.
    released = http.post(
        f"/alerts/{first}/legal-hold/release",
        "authorising_officer",
        {"reason": "no proceedings"},
        claims={"rank": "superintendent"},
    )
    assert released.status_code == 200 and released.json()["under_legal_hold"] is False
    assert ledger.alert(first).legal_hold is None


def test_http_the_authoriser_is_refused_as_adjudicator(http: Api) -> None:
    ledger, _, _, (alert, _, _) = http_scene(http)
    refused_reply = http.post(
        f"/alerts/{alert}/adjudication",
        "operator",
        {"decision": "match", "reason": "same face"},
        claims={"sub": AO.id},
    )
    assert_problem(refused_reply, 403, "role-separation")
    assert ledger.alert(alert).decision is None


def test_http_the_alerts_timeline(http: Api) -> None:
    ledger, _, entries, (alert, _, _) = http_scene(http)
    engaged(ledger, alert)
    ledger.record_outcome(OFFICER, alert, ARREST)
    ledger.correct_adjudication(OTHER_AO, alert, Decision.INCONCLUSIVE, "Quentin's twin?")
    ledger.close_alert(OPERATOR, alert)
    for role in ("operator", "officer", "authorising_officer", "oversight"):
        reply = http.get(f"/alerts/{alert}", role)
        assert reply.status_code == 200, (role, reply.text)
    assert_problem(http.get(f"/alerts/{alert}", "analyst"), 403, "forbidden")
    assert_problem(http.get(f"/alerts/{UUID(int=7)}", "operator"), 404)
    body = http.get(f"/alerts/{alert}", "operator").json()
    assert [e["topic"] for e in body["events"]] == [
        AlertTopic.RAISED,
        AlertTopic.ADJUDICATED,
        AlertTopic.ENGAGEMENT_RECORDED,
        AlertTopic.OUTCOME_RECORDED,
        AlertTopic.LEGAL_HOLD_PLACED,
        AlertTopic.ADJUDICATION_CORRECTED,
        AlertTopic.CLOSED,
    ]
    assert [e["version"] for e in body["events"]] == list(range(1, 8))
    corrected = body["events"][5]
    assert corrected["actor"]["id"] == OTHER_AO.id
    assert corrected["data"] == {
        "decision": "inconclusive",
        "previous": "match",
        "reason": "[sealed]",
        "false_alert_factors": [],
    }
    assert body["events"][4]["data"]["kind"] == "evidential"
    assert body["events"][0]["data"]["sealed_face_crop"] == "[sealed]"
    assert body["alert"]["decision"] == "inconclusive" and body["alert"]["status"] == "closed"
    assert (body["corrections"], body["hold"], body["has_face_crop"]) == (1, "evidential", True)
    text = http.get(f"/alerts/{alert}", "operator").text
    assert "Quentin" not in text and "PNC-" not in text and "likeness" not in text
    assert body["alert"]["entry_id"] == str(entries[0])


def consultations(api: Api) -> list[tuple[str, str, str]]:
    log = api.get("/audit/consultations", "oversight").json()["consultations"]
    return [(c["record"], c["purpose"], c["actor_id"]) for c in log]


def test_http_the_face_crop_and_the_enrolled_image_are_logged_reads(http: Api) -> None:
    ledger, _, entries, (alert, _, no_crop) = http_scene(http)
    path = f"/alerts/{alert}/face-crop"
    assert_problem(http.get(path, "operator"), 400, "purpose-required")
    assert_problem(http.get(path, "analyst", headers={"X-Purpose": "x"}), 403, "forbidden")
    matcher = {"X-Purpose": "x"}
    claims = {"deployment_id": str(ledger.alert(alert).deployment_id)}
    assert_problem(http.get(path, "matcher", headers=matcher, claims=claims), 403, "forbidden")
    assert consultations(http) == []
    got = http.get(path, "operator", headers={"X-Purpose": "adjudication"})
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert got.content == ledger.reveal_face_crop(alert)
    for role in ("officer", "authorising_officer", "oversight"):
        assert http.get(path, role, params={"purpose": "review"}).status_code == 200
    none = http.get(f"/alerts/{no_crop}/face-crop", "operator", headers={"X-Purpose": "a"})
    assert_problem(none, 404, "no-face-crop")

    image_path = f"/watchlist/entries/{entries[0]}/image"
    assert_problem(http.get(image_path, "officer", headers={"X-Purpose": "x"}), 403, "forbidden")
    assert_problem(http.get(image_path, "analyst", headers={"X-Purpose": "x"}), 403, "forbidden")
    assert_problem(http.get(image_path, "operator"), 400, "purpose-required")
    image = http.get(image_path, "operator", headers={"X-Purpose": "compare during adjudication"})
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content == ledger.reveal_entry(entries[0]).image
    for role in ("watchlist_manager", "authorising_officer", "oversight"):
        assert http.get(image_path, role, params={"purpose": "review"}).status_code == 200
    log = consultations(http)
    assert log[0] == (f"alert_face_crop:{alert}", "adjudication", "operator-1")
    assert (f"watchlist_image:{entries[0]}", "compare during adjudication", "operator-1") in log
    assert len(log) == 8  # the refused and missing reads logged nothing

    # An alert whose images retention erased.
    ledger.erase_alert_images(alert, rule="test")
    erased = http.get(path, "operator", headers={"X-Purpose": "again"})
    assert_problem(erased, 404, "images-erased")
    assert len(consultations(http)) == 8


def test_http_an_entry_without_an_image_is_a_404_that_says_so(
    http: Api, settings: Settings
) -> None:
    ledger: CaseLedger = http.client.app.state.services.ledger
    now = datetime.now(UTC)
    deployment = proposed(
        ledger,
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
        public_notice=PublicNotice("signage", now - timedelta(days=1)),
    )
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    entry = ledger.enrol(COMPILER, deployment, subject(1))
    reply = http.get(
        f"/watchlist/entries/{entry}/image", "watchlist_manager", params={"purpose": "p"}
    )
    assert_problem(reply, 404, "no-image")


def test_openapi_types_the_timeline_and_the_images(tmp_path: Any) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "var"))) as client:
        doc = client.get("/schema/openapi.json").json()
    for path in ("/alerts/{alert_id}/face-crop", "/watchlist/entries/{entry_id}/image"):
        ok = doc["paths"][path]["get"]["responses"]["200"]
        assert list(ok["content"]) == ["image/jpeg"], path
        params = {p["name"]: p for p in doc["paths"][path]["get"]["parameters"]}
        assert "X-Purpose" in params
    timeline = doc["paths"]["/alerts/{alert_id}"]["get"]["responses"]["200"]
    ref = timeline["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"alert", "corrections", "hold", "events"} <= set(schema["properties"])
    for path in (
        "/alerts/{alert_id}/adjudication/correction",
        "/alerts/{alert_id}/outcomes/{index}/correction",
    ):
        body = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
        assert "reason" in doc["components"]["schemas"][ref]["required"], path
