"""Authority and time: what the authorisation must state, where and when LFR may run, who ends it
when its window closes or its urgent authority lapses, and the policy a force adopts as its own.

Runs on SQLite and on the real PostgreSQL server (see conftest.py).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.cli import main as lfr
from lfr_ledger.api.deadlines import end_deployments_on_deadline
from lfr_ledger.api.demo.sample_deployment import (
    ADMIN,
    AO,
    AUTHORITY,
    COMPILER,
    OFFICER,
    OPERATOR,
    PLANNER,
    REVIEW,
    SIGNAGE,
    WINDOW_END,
    WINDOW_START,
    plan,
    proposed,
    register_documents,
    subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.deployment import DeploymentTopic, EndReason
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition, PolicyViolation
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import (
    ComplianceResult,
    Confirmation,
    Decision,
    DeploymentStatus,
    Location,
    OutcomeType,
    PublicNotice,
)
from tests.conftest import Clock
from tests.test_invariants import event_count, live, refused, send_alert

# --- what the authority states ----------------------------------------------------------------


def test_an_authority_states_necessity_and_proportionality_and_cites_the_apd(
    ledger: CaseLedger,
) -> None:
    deployment = proposed(ledger)
    with refused(ledger, PolicyViolation, "necessary and proportionate"):
        ledger.authorise_deployment(
            AO,
            deployment,
            authority_ref="AUTH-1",
            necessity_and_proportionality="needed",
            appropriate_policy_document="APD-1",
        )
    with refused(ledger, InvalidInput, "appropriate policy document"):
        ledger.authorise_deployment(
            AO,
            deployment,
            authority_ref="AUTH-1",
            necessity_and_proportionality=AUTHORITY["necessity_and_proportionality"],
            appropriate_policy_document="  ",
        )
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    recorded = ledger.deployment(deployment)
    assert recorded.necessity_and_proportionality == AUTHORITY["necessity_and_proportionality"]
    assert recorded.appropriate_policy_document == "APD-LFR-2025-1"


def test_location_types_are_a_closed_list_from_the_policy(ledger: CaseLedger) -> None:
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    operation = ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p")
    march = Location("Abington Street", "Northampton", "protest march")
    with refused(ledger, PolicyViolation, "'protest march' is not in policy .* town_centre"):
        ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version, location=march))
    ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version))


def test_a_public_notice_dated_after_the_window_opens_is_refused(ledger: CaseLedger) -> None:
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    operation = ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p")
    version = ledger.policy.version
    late = PublicNotice("signage", WINDOW_END + timedelta(hours=2))
    with refused(ledger, PolicyViolation, "after the window opens"):
        ledger.propose_deployment(PLANNER, plan(operation, version, public_notice=late))
    during = PublicNotice("signage", WINDOW_START + timedelta(minutes=1))
    with refused(ledger, PolicyViolation, "after the window opens"):
        ledger.propose_deployment(PLANNER, plan(operation, version, public_notice=during))
    # A day's notice (the policy's minimum_notice_hours; tests/test_start_gates.py).
    on_time = PublicNotice("signage", WINDOW_START - timedelta(hours=24))
    ledger.propose_deployment(PLANNER, plan(operation, version, public_notice=on_time))
    exempt = PublicNotice("none", None, exemption="covert: notice would defeat the purpose")
    ledger.propose_deployment(PLANNER, plan(operation, version, public_notice=exempt))


def test_mutual_aid_names_both_forces_and_the_agreement(ledger: CaseLedger) -> None:
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    operation = ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p")
    version = ledger.policy.version
    with pytest.raises(InvalidInput, match="equipment_owner_force must not be empty"):
        plan(operation, version, equipment_owner_force="  ")
    lent = plan(operation, version, equipment_owner_force="Bedfordshire Police")
    with refused(ledger, InvalidInput, "mutual_aid_agreement"):
        ledger.propose_deployment(PLANNER, lent)
    agreed = replace(lent, mutual_aid_agreement="MA-2025-07")
    deployment = ledger.deployment(ledger.propose_deployment(PLANNER, agreed))
    assert deployment.plan.mutual_aid
    assert deployment.plan.mutual_aid_agreement == "MA-2025-07"
    # The same force by its registered name is its code: not mutual aid, and no agreement.
    own = plan(operation, version, equipment_owner_force=" Northamptonshire Police ")
    with refused(ledger, InvalidInput, "another force's equipment"):
        ledger.propose_deployment(PLANNER, replace(own, mutual_aid_agreement="MA-1"))
    assert not ledger.deployment(ledger.propose_deployment(PLANNER, own)).plan.mutual_aid


def test_an_under_18_entry_needs_its_own_justification(ledger: CaseLedger) -> None:
    deployment = proposed(ledger)
    child = replace(subject(1), under_18=True)
    with refused(ledger, PolicyViolation, "under 18 needs under_18_justification of at least 80"):
        ledger.enrol(COMPILER, deployment, child)
    with refused(ledger, InvalidInput, "under_18 false"):
        ledger.enrol(
            COMPILER, deployment, replace(subject(2), under_18_justification="a child at risk")
        )
    why = (
        "Missing 15-year-old assessed at high risk of child sexual exploitation; "
        "last seen in this street twice this week"
    )
    entry_id = ledger.enrol(COMPILER, deployment, replace(child, under_18_justification=why))
    assert ledger.reveal_entry(entry_id).under_18_justification == why
    # Sealed: the justification may identify the child, so the log holds no clear text.
    stored = [n.state for n in ledger.recorder.select_notifications(0, 1000)]
    assert not any(b"sexual exploitation" in state for state in stored)


# --- urgent authority -------------------------------------------------------------------------


def urgent(ledger: CaseLedger, clock: Clock) -> tuple[UUID, list[UUID]]:
    """Urgent (oral) authority at 08:00 for the 10:00-17:00 window, watchlist reviewed, signs
    confirmed."""
    deployment = proposed(ledger)
    ledger.authorise_deployment(AO, deployment, authority_ref="ORAL-1", urgent=True, **AUTHORITY)
    entries = [ledger.enrol(COMPILER, deployment, subject(i)) for i in range(2)]
    ledger.review_watchlist(AO, deployment, confirmed_count=2, not_excessive=True)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    return deployment, entries


def long_window(ledger: CaseLedger, clock: Clock) -> tuple[UUID, list[UUID]]:
    """Urgent authority for a window that outlasts the 24 h written confirmation, started."""
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    operation = ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p")
    deployment = ledger.propose_deployment(
        PLANNER,
        plan(operation, ledger.policy.version, ends_at=WINDOW_START + timedelta(hours=40)),
    )
    ledger.authorise_deployment(AO, deployment, authority_ref="ORAL-1", urgent=True, **AUTHORITY)
    entries = [ledger.enrol(COMPILER, deployment, subject(i)) for i in range(2)]
    ledger.review_watchlist(AO, deployment, confirmed_count=2, not_excessive=True)
    clock.now = WINDOW_START + timedelta(minutes=5)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    return deployment, entries


def test_urgent_authority_confirmed_in_time_keeps_the_deployment_running(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, entries = long_window(ledger, clock)
    clock.advance(hours=20)
    ledger.confirm_urgent_authority(AO, deployment, "WRITTEN-1")
    clock.advance(hours=10)  # past the 24 h deadline: confirmed, so nothing lapses
    assert not ledger.end_on_deadline(deployment)
    assert ledger.deployment(deployment).status == DeploymentStatus.LIVE
    send_alert(ledger, deployment, entries[0], clock)


def test_urgent_authority_confirmed_late_is_refused(ledger: CaseLedger, clock: Clock) -> None:
    deployment, _ = long_window(ledger, clock)
    clock.advance(hours=25)
    with refused(ledger, InvalidTransition, "lapsed, and a late confirmation cannot revive it"):
        ledger.confirm_urgent_authority(AO, deployment, "WRITTEN-LATE")


def test_urgent_authority_never_confirmed_ends_a_live_deployment(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, entries = long_window(ledger, clock)
    pending = send_alert(ledger, deployment, entries[0], clock)
    clock.advance(hours=24)  # 08:05 the next day: the deadline was 08:00
    # Before the deadline job runs, the lapsed authority already stops alerts.
    with refused(ledger, InvalidTransition, "urgent authority that was not confirmed"):
        send_alert(ledger, deployment, entries[1], clock)
    before = event_count(ledger)
    assert ledger.end_on_deadline(deployment)
    assert event_count(ledger) == before + 2
    ended = ledger.deployment(deployment)
    assert ended.status == DeploymentStatus.ENDED
    assert ended.end_reason == EndReason.URGENT_AUTHORITY_LAPSED
    assert ended.undecided_at_end == [pending]
    topics = [n.topic for n in ledger.recorder.select_notifications(before, 10)]
    assert topics[-2:] == [DeploymentTopic.URGENT_AUTHORITY_LAPSED, DeploymentTopic.ENDED]
    assert not ledger.end_on_deadline(deployment), "once ended, the job records nothing more"


def test_a_paused_deployment_cannot_resume_on_lapsed_authority(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, _ = long_window(ledger, clock)
    ledger.pause_deployment(OPERATOR, deployment, "rain")
    clock.advance(hours=25)
    with refused(ledger, InvalidTransition, "not confirmed in writing within 24 h"):
        ledger.resume_deployment(OPERATOR, deployment)


def test_urgent_authority_not_yet_started_cannot_start_after_the_deadline(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, _ = urgent(ledger, clock)
    clock.now = WINDOW_START + timedelta(hours=3)
    ledger.start_deployment(OPERATOR, deployment)  # inside the 24 h: fine
    assert ledger.deployment(deployment).urgent_deadline == WINDOW_START - timedelta(hours=2) + (
        timedelta(hours=24)
    )


# --- the window closes ------------------------------------------------------------------------


def test_the_ledger_ends_a_deployment_when_its_window_closes(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, entries = urgent(ledger, clock)
    ledger.confirm_urgent_authority(AO, deployment, "WRITTEN-1")
    clock.now = WINDOW_START + timedelta(hours=1)
    ledger.start_deployment(OPERATOR, deployment)
    decided = send_alert(ledger, deployment, entries[0], clock)
    ledger.adjudicate(OPERATOR, decided, Decision.NO_MATCH, "different person", ("subject",))
    undecided = send_alert(ledger, deployment, entries[1], clock)
    clock.now = WINDOW_END - timedelta(seconds=1)
    assert not ledger.end_on_deadline(deployment), "the window is still open"
    clock.now = WINDOW_END + timedelta(seconds=30)
    assert ledger.end_on_deadline(deployment)
    ended = ledger.deployment(deployment)
    assert (ended.status, ended.end_reason) == (DeploymentStatus.ENDED, EndReason.WINDOW_CLOSED)
    assert ended.undecided_at_end == [undecided]
    assert ended.ended_at == WINDOW_END + timedelta(seconds=30)


def test_an_authorised_deployment_never_started_ends_with_its_window(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, _ = urgent(ledger, clock)
    ledger.confirm_urgent_authority(AO, deployment, "WRITTEN-1")
    clock.now = WINDOW_END
    assert ledger.end_on_deadline(deployment)
    assert ledger.deployment(deployment).end_reason == EndReason.WINDOW_CLOSED


# --- every alert decided ----------------------------------------------------------------------


def test_an_operator_cannot_end_a_deployment_with_alerts_awaiting_a_decision(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, entries = urgent(ledger, clock)
    ledger.confirm_urgent_authority(AO, deployment, "WRITTEN-1")
    clock.now = WINDOW_START + timedelta(hours=1)
    ledger.start_deployment(OPERATOR, deployment)
    alert = send_alert(ledger, deployment, entries[0], clock)
    with refused(ledger, InvalidTransition, f"1 alert\\(s\\) awaiting .*{alert}"):
        ledger.end_deployment(OPERATOR, deployment)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "likeness confirmed on screen")
    ledger.end_deployment(OPERATOR, deployment)
    assert ledger.deployment(deployment).end_reason == EndReason.OPERATOR


def test_a_deployments_undecided_alerts_are_read_from_the_log_since_it_went_live(
    ledger: CaseLedger, clock: Clock
) -> None:
    # An earlier deployment's alerts (one left undecided) lie before the later one went live.
    earlier, earlier_entries = urgent(ledger, clock)
    ledger.confirm_urgent_authority(AO, earlier, "WRITTEN-0")
    later, entries = urgent(ledger, clock)
    ledger.confirm_urgent_authority(AO, later, "WRITTEN-1")
    clock.now = WINDOW_START + timedelta(hours=1)
    ledger.start_deployment(OPERATOR, earlier)
    left = send_alert(ledger, earlier, earlier_entries[0], clock)
    head = ledger.recorder.max_notification_id()
    ledger.start_deployment(OPERATOR, later)
    assert ledger.deployment(later).log_position_at_start == head
    first = send_alert(ledger, later, entries[0], clock)  # the first event after the start
    second = send_alert(ledger, later, entries[1], clock)
    ledger.adjudicate(OPERATOR, second, Decision.NO_MATCH, "not the person listed", ("subject",))
    assert ledger.undecided_alerts(later) == [first]
    assert ledger.undecided_alerts(earlier) == [left]


def test_the_post_deployment_review_waits_for_every_decision(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, entries = urgent(ledger, clock)
    ledger.confirm_urgent_authority(AO, deployment, "WRITTEN-1")
    clock.now = WINDOW_START + timedelta(hours=1)
    ledger.start_deployment(OPERATOR, deployment)
    alert = send_alert(ledger, deployment, entries[0], clock)
    clock.now = WINDOW_END
    assert ledger.end_on_deadline(deployment)
    with refused(ledger, InvalidTransition, "1 alert\\(s\\) .* still await"):
        ledger.record_post_deployment_review(AO, deployment, REVIEW)
    # A decision is still due after the window: human review does not end with the van.
    ledger.adjudicate(OPERATOR, alert, Decision.INCONCLUSIVE, "face half covered")
    ledger.record_post_deployment_review(AO, deployment, REVIEW)


# --- the deadline job, as the server runs it --------------------------------------------------


def test_the_servers_deadline_job_ends_what_is_due_and_only_that(
    settings: Settings, clock: Clock
) -> None:
    ledger = build_ledger(settings, clock=clock)
    try:
        due, _ = urgent(ledger, clock)
        ledger.confirm_urgent_authority(AO, due, "WRITTEN-1")
        operation = UUID(ledger.deployment(due).plan.operation_id)
        later = ledger.propose_deployment(
            PLANNER,
            plan(
                operation,
                ledger.policy.version,
                starts_at=WINDOW_START + timedelta(days=1),
                ends_at=WINDOW_END + timedelta(days=1),
            ),
        )
        ledger.authorise_deployment(AO, later, authority_ref="AUTH-2", **AUTHORITY)
        clock.now = WINDOW_END + timedelta(minutes=1)
        app = create_app(settings, ledger=ledger)
        with TestClient(app):
            services = app.state.services
            job = {"caught_up": services.statistics}
            assert end_deployments_on_deadline(ledger, settings, **job) == [due]
            assert end_deployments_on_deadline(ledger, settings, **job) == []
            assert ledger.deployment(later).status == DeploymentStatus.AUTHORISED
    finally:
        ledger.close()


def test_authority_over_http_names_the_missing_statement(settings: Settings, clock: Clock) -> None:
    with TestClient(create_app(settings, ledger=build_ledger(settings, clock=clock))) as client:

        def h(role: str, **claims: str) -> dict[str, str]:
            token = issue_token(settings, role=role, sub=f"{role}-1", **claims)
            return {"Authorization": f"Bearer {token}"}

        client.post("/policy/adopt", headers=h("admin"))
        ledger = client.app.state.services.ledger
        register_documents(ledger)
        op = ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p")
        deployment = ledger.propose_deployment(PLANNER, plan(op, ledger.policy.version))
        reply = client.post(
            f"/deployments/{deployment}/authorisation",
            headers=h("authorising_officer", rank="superintendent"),
            json={"authority_ref": "AUTH-1", "appropriate_policy_document": "APD-1"},
        )
        assert reply.status_code == 422, reply.text
        assert "necessary and proportionate" in reply.json()["detail"]
        reply = client.post(
            f"/deployments/{deployment}/authorisation",
            headers=h("authorising_officer", rank="superintendent"),
            json={"authority_ref": "AUTH-1", **AUTHORITY},
        )
        assert reply.status_code == 200, reply.text
        shown = client.get(f"/deployments/{deployment}", headers=h("oversight")).json()
        assert shown["necessity_and_proportionality"] == AUTHORITY["necessity_and_proportionality"]
        assert shown["appropriate_policy_document"] == "APD-LFR-2025-1"
        assert shown["mutual_aid"] is False


# --- a policy the force owns ------------------------------------------------------------------

FORCE_POLICY_CHANGES = {
    'version = "LFR-POL-2026.3"': 'version = "NP-LFR-2026.2"',
    '    "sporting_or_cultural_event",\n]': '    "sporting_or_cultural_event",\n    "protest",\n]',
    "minimum_necessity_statement_length = 40": "minimum_necessity_statement_length = 200",
}


def force_policy(tmp_path: Path) -> Path:
    text = Policy.load().text
    for old, new in FORCE_POLICY_CHANGES.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "force-policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_force_adopts_its_own_policy_and_it_changes_what_is_enforced(
    settings: Settings, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    default = build_ledger(settings, clock=clock)
    try:
        default.adopt_policy(ADMIN)
        register_documents(default)
        op = default.open_operation(PLANNER, name="Op", force="demo", purpose="p")
        before = default.propose_deployment(PLANNER, plan(op, default.policy.version))
    finally:
        default.close()

    with pytest.MonkeyPatch.context() as mp:
        for name, value in cli_env(settings).items():
            mp.setenv(name, value)
        assert lfr(["policy", "adopt", str(force_policy(tmp_path)), "--actor-id", "ADM-1"]) == 0
        assert "NP-LFR-2026.2 is in force" in capsys.readouterr().out
        assert lfr(["policy", "show", "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
    assert (shown["version"], shown["adopted"]) == ("NP-LFR-2026.2", True)

    # A node started without a policy file runs under the policy adopted last.
    ledger = build_ledger(settings, clock=clock)
    try:
        assert ledger.policy.version == "NP-LFR-2026.2"
        protest = Location("Guildhall Road", "Northampton", "protest")
        after = ledger.propose_deployment(PLANNER, plan(op, "NP-LFR-2026.2", location=protest))
        with refused(ledger, PolicyViolation, "at least 200 characters"):
            ledger.authorise_deployment(AO, after, authority_ref="AUTH-2", **AUTHORITY)
        # Each deployment keeps the version it was proposed under.
        assert ledger.deployment(before).policy_version == "LFR-POL-2026.3"
        assert ledger.deployment(after).policy_version == "NP-LFR-2026.2"
        with refused(ledger, PolicyViolation, "cites policy 'LFR-POL-2026.3'"):
            ledger.propose_deployment(PLANNER, plan(op, "LFR-POL-2026.3"))
    finally:
        ledger.close()


def test_a_changed_policy_under_an_adopted_version_is_refused(
    ledger: CaseLedger, tmp_path: Path
) -> None:
    ledger.adopt_policy(ADMIN)
    text = Policy.load().text.replace(
        "minimum_rationale_length = 10", "minimum_rationale_length = 5"
    )
    with refused(ledger, PolicyViolation, "adopted with different content"):
        ledger.adopt_policy(ADMIN, Policy.parse(text))
    assert ledger.policy.content_hash == Policy.load().content_hash, "the old one stays in force"


def test_policy_adoption_over_http_checks_the_file(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(settings)) as client:
        admin = {"Authorization": f"Bearer {issue_token(settings, role='admin', sub='ADM-1')}"}
        bad = client.post("/policy/adopt", headers=admin, json={"toml": "version = 'x'"})
        assert bad.status_code == 422, bad.text
        assert "incomplete or malformed" in bad.json()["detail"]
        text = force_policy(tmp_path).read_text(encoding="utf-8")
        good = client.post("/policy/adopt", headers=admin, json={"toml": text})
        assert good.status_code == 200, good.text
        assert good.json()["version"] == "NP-LFR-2026.2"
        planner = {"Authorization": f"Bearer {issue_token(settings, role='planner', sub='P-1')}"}
        in_force = client.get("/policy", headers=planner).json()
        assert in_force["version"] == "NP-LFR-2026.2" and in_force["adopted"] is True
        assert "protest" in in_force["location_types"]


def test_lfr_deployments_end_due_ends_what_the_server_would(
    settings: Settings, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI runs on the real clock: a deployment whose 2025 window closed long ago is due."""
    ledger = build_ledger(settings, clock=clock)
    try:
        due, _ = urgent(ledger, clock)
        ledger.confirm_urgent_authority(AO, due, "WRITTEN-1")
    finally:
        ledger.close()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in cli_env(settings).items():
            mp.setenv(name, value)
        assert lfr(["deployments", "end-due", "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == {"ended": {str(due): "window_closed"}}
        assert lfr(["deployments", "end-due"]) == 0
        assert "no deployment was past its deadline" in capsys.readouterr().out


# --- outcomes fit the person -----------------------------------------------------------------


def test_a_compliance_check_fits_only_someone_subject_to_an_order(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, wanted = reviewed_live(ledger, clock, "wanted_by_courts")
    alert = send_alert(ledger, deployment, wanted[0], clock)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "likeness confirmed on screen")
    ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)
    check = Outcome(
        OutcomeType.COMPLIANCE_CHECK, conditions=("curfew",), result=ComplianceResult.COMPLIED
    )
    with refused(ledger, PolicyViolation, "compliance check belongs to .*subject_to_court_order"):
        ledger.record_outcome(OFFICER, alert, check)
    ledger.record_outcome(OFFICER, alert, Outcome(OutcomeType.ARREST, offences=("warrant",)))


def test_which_categories_a_compliance_check_fits_is_the_policys(ledger: CaseLedger) -> None:
    text = Policy.load().text.replace(
        'compliance_check_categories = ["subject_to_court_order"]',
        'compliance_check_categories = ["subject_to_court_order", "wanted_by_courts"]',
    )
    wider = Policy.parse(text)
    wider.check_outcome_fits("wanted_by_courts", "compliance_check")
    with pytest.raises(PolicyViolation):
        Policy.load().check_outcome_fits("wanted_by_courts", "compliance_check")
    Policy.load().check_outcome_fits("wanted_by_courts", "arrest")


def reviewed_live(ledger: CaseLedger, clock: Clock, category: str) -> tuple[UUID, list[UUID]]:
    return live(ledger, clock, entries=1, category=category)


def test_lfr_lists_pending_authorisations_and_operations(
    settings: Settings, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = build_ledger(settings, clock=clock)
    try:
        pending = proposed(ledger)
        decided, _ = urgent(ledger, clock)
    finally:
        ledger.close()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in cli_env(settings).items():
            mp.setenv(name, value)
        assert lfr(["deployments", "list", "--status", "proposed", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert [d["deployment_id"] for d in listed] == [str(pending)]
        assert lfr(["deployments", "list"]) == 0
        text = capsys.readouterr().out
        assert str(pending) in text and str(decided) in text and "authorised" in text
        assert lfr(["operations", "list", "--json"]) == 0
        operations = json.loads(capsys.readouterr().out)
        assert sorted(o["deployment_count"] for o in operations) == [1, 1]


def cli_env(settings: Settings) -> dict[str, str]:
    env = {"LFR_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["LFR_DATABASE_URL"] = settings.database_url
    if settings.postgres_schema:
        env["LFR_POSTGRES_SCHEMA"] = settings.postgres_schema
    return env
