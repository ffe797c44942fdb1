"""Issue 24: complaints about a deployment. An authorising officer records each one, linked to
the deployment and perhaps to one of its alerts, with its date, channel and a summary sealed as
personal data, and records its resolution once. Every refused input writes nothing (no event,
no key). Reading the complaints is a logged consultation; oversight sees them in the
deployment's history; the CLI does what the routes do. Both backends where the store matters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

import lfr_ledger.api.cli
from lfr_ledger.api.app import create_app
from lfr_ledger.api.demo.sample_deployment import AO, OPERATOR, OVERSIGHT, PLANNER
from lfr_ledger.api.personal_data import PersonalData
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.complaint import Complaint, ComplaintTopic
from lfr_ledger.domain.errors import (
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PolicyViolation,
)
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.key_audit import missing_keys
from lfr_ledger.oversight.access_review import access_review
from tests.conftest import Clock
from tests.test_api import Api, assert_problem
from tests.test_invariants import live, send_alert
from tests.test_retention import cli_env  # noqa: F401
from tests.test_shredding import raw_store_bytes

SUMMARY = "Quentin Zebedee-Marlowe says he was held twenty minutes though not the man sought"
OUTCOME = "Apology sent to Mr Zebedee-Marlowe; officers briefed on the length of a stop"


def ended(ledger: CaseLedger, clock: Clock) -> tuple[UUID, UUID, UUID]:
    """A deployment that ran and ended with one decided alert, and a second deployment live
    with an alert of its own: (ended deployment, its alert, the other's alert)."""
    deployment, entries = live(ledger, clock)
    alert = send_alert(ledger, deployment, entries[0], clock)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    ledger.end_deployment(OPERATOR, deployment)
    other, other_entries = live(ledger, clock)
    other_alert = send_alert(ledger, other, other_entries[0], clock)
    return deployment, alert, other_alert


def head(ledger: CaseLedger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def today(clock: Clock) -> date:
    return clock.now.date()


def record(ledger: CaseLedger, deployment: UUID, clock: Clock, **changes: Any) -> UUID:
    fields: dict[str, Any] = {
        "received_on": today(clock),
        "channel": "email",
        "summary": SUMMARY,
    }
    actor = changes.pop("actor", AO)
    return ledger.record_complaint(actor, deployment, **{**fields, **changes})


def refused_writes_nothing(
    ledger: CaseLedger, deployment: UUID, error: type[DomainError], call: Any, match: str
) -> None:
    """`call` is refused with `error`; no event is written and no key made for the complaint
    the next recording would number."""
    before = head(ledger)
    next_id = Complaint.id_for(deployment, len(ledger.complaint_ids(deployment)) + 1)
    with pytest.raises(error, match=match):
        call()
    assert head(ledger) == before, "a refused command must write nothing"
    assert not ledger.vault.has_key(next_id), "a refused complaint must leave no key"


def test_a_complaint_is_recorded_linked_sealed_numbered_and_resolved_once(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    deployment, alert, _ = ended(ledger, clock)
    first = record(ledger, deployment, clock, alert_id=alert)
    second = record(ledger, deployment, clock, channel="letter", summary="signs too small")
    assert ledger.complaint_ids(deployment) == [first, second]
    assert [ledger.complaint(c).number for c in (first, second)] == [1, 2]
    complaint = ledger.complaint(first)
    assert (complaint.deployment_id, complaint.alert_id) == (deployment, alert)
    assert (complaint.received_on, complaint.channel) == (today(clock).isoformat(), "email")
    assert complaint.recorded_by == AO.id and not complaint.resolved
    # The summary is personal data: sealed in the log, never on disk in clear.
    assert SUMMARY not in complaint.sealed_summary
    assert b"Zebedee" not in raw_store_bytes(settings)
    assert ledger.reveal_complaint(complaint).summary == SUMMARY

    ledger.resolve_complaint(AO, first, outcome=OUTCOME, resolved_on=today(clock))
    resolved = ledger.complaint(first)
    assert (resolved.resolved_on, resolved.resolved_by) == (today(clock).isoformat(), AO.id)
    assert ledger.reveal_complaint(resolved).outcome == OUTCOME
    assert b"briefed" not in raw_store_bytes(settings)
    refused_writes_nothing(
        ledger,
        deployment,
        InvalidTransition,
        lambda: ledger.resolve_complaint(AO, first, outcome="again", resolved_on=today(clock)),
        "recorded once",
    )


def test_a_complaints_key_lost_without_a_recorded_erasure_is_found_by_the_vault_audit(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, _, _ = ended(ledger, clock)
    complaint = record(ledger, deployment, clock)
    assert missing_keys(ledger) == []
    ledger.vault.shred(complaint)  # as tampering with the vault would
    assert [(m.key_id, m.what) for m in missing_keys(ledger)] == [
        (complaint, "summary and outcome of complaint")
    ]
    assert ledger.reveal_complaint(ledger.complaint(complaint)).summary == "[erased]"


def test_each_rule_of_recording_refuses_and_writes_nothing(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, alert, other_alert = ended(ledger, clock)
    cases: list[tuple[type[DomainError], dict[str, Any], str]] = [
        (NotPermitted, {"actor": PLANNER}, "authorising_officer"),
        (NotPermitted, {"actor": OVERSIGHT}, "authorising_officer"),
        (InvalidInput, {"alert_id": other_alert}, "an alert of its own deployment"),
        (PolicyViolation, {"channel": "carrier_pigeon"}, "closed list"),
        (InvalidInput, {"summary": "  "}, "needs its summary"),
        (InvalidInput, {"received_on": today(clock) + timedelta(days=2)}, "after today"),
        (InvalidInput, {"received_on": clock.now}, "must be a date"),
        (NotFound, {"alert_id": UUID(int=9)}, "no alert"),
    ]
    for error, changes, match in cases:
        refused_writes_nothing(
            ledger,
            deployment,
            error,
            lambda c=changes: record(ledger, deployment, clock, **c),
            match,
        )
    refused_writes_nothing(
        ledger,
        deployment,
        NotFound,
        lambda: record(ledger, UUID(int=8), clock),
        "no deployment",
    )
    # The alert of its own deployment is accepted, as is a date up to today somewhere on Earth.
    assert record(ledger, deployment, clock, alert_id=alert)
    assert record(ledger, deployment, clock, received_on=today(clock) + timedelta(days=1))


def test_each_rule_of_resolution_refuses_and_writes_nothing(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, _, _ = ended(ledger, clock)
    complaint = record(ledger, deployment, clock, received_on=today(clock) - timedelta(days=3))
    cases: list[tuple[type[DomainError], Actor, str, date, str]] = [
        (NotPermitted, PLANNER, OUTCOME, today(clock), "authorising_officer"),
        (InvalidInput, AO, " ", today(clock), "needs its outcome"),
        (InvalidInput, AO, OUTCOME, today(clock) - timedelta(days=4), "before the complaint"),
        (InvalidInput, AO, OUTCOME, today(clock) + timedelta(days=2), "after today"),
    ]
    for error, actor, outcome, day, match in cases:
        before = head(ledger)
        with pytest.raises(error, match=match):
            ledger.resolve_complaint(actor, complaint, outcome=outcome, resolved_on=day)
        assert head(ledger) == before
        assert not ledger.complaint(complaint).resolved
    with pytest.raises(NotFound):
        ledger.resolve_complaint(AO, UUID(int=5), outcome=OUTCOME, resolved_on=today(clock))


def test_reading_complaints_is_a_logged_consultation_and_refused_to_other_roles(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, alert, _ = ended(ledger, clock)
    record(ledger, deployment, clock, alert_id=alert)
    before = head(ledger)
    for reader in (PLANNER, OPERATOR, Actor("AN-1", Role.ANALYST)):
        with pytest.raises(NotPermitted):
            PersonalData(ledger, reader).complaints(deployment)
    assert head(ledger) == before, "a refused read logs nothing"
    [read] = PersonalData(ledger, AO).complaints(deployment)
    assert read.revealed.summary == SUMMARY
    [consulted] = [
        r for r in access_review(ledger, after=before).records if r.kind == "consultation"
    ]
    assert (consulted.actor_id, consulted.record, consulted.purpose) == (
        AO.id,
        f"deployment_complaints:{deployment}",
        f"reviewing the complaints of deployment {deployment}",
    )


@pytest.fixture
def http(ledger: CaseLedger, settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, ledger=ledger)) as client:
        yield Api(client, settings)


def test_over_http_an_ao_records_lists_and_resolves_and_oversight_sees_the_history(
    ledger: CaseLedger, clock: Clock, http: Api
) -> None:
    deployment, alert, other_alert = ended(ledger, clock)
    ao = {"claims": {"rank": "superintendent"}}
    body = {
        "deployment_id": str(deployment),
        "alert_id": str(alert),
        "received_on": today(clock).isoformat(),
        "channel": "phone",
        "summary": SUMMARY,
    }
    assert_problem(http.post("/complaints", "planner", body), 403)
    before = head(ledger)
    wrong_alert = http.post(
        "/complaints", "authorising_officer", {**body, "alert_id": str(other_alert)}, **ao
    )
    assert_problem(wrong_alert, 422, "invalid-input")
    assert_problem(
        http.post("/complaints", "authorising_officer", {**body, "channel": "fax"}, **ao), 422
    )
    assert head(ledger) == before
    created = http.post("/complaints", "authorising_officer", body, **ao)
    assert created.status_code == 201, created.text
    complaint = created.json()["id"]

    listed = http.get(f"/deployments/{deployment}/complaints", "authorising_officer", **ao)
    assert listed.status_code == 200, listed.text
    [shown] = listed.json()["complaints"]
    assert (shown["id"], shown["number"], shown["alert_id"], shown["summary"]) == (
        complaint,
        1,
        str(alert),
        SUMMARY,
    )
    assert shown["resolved_on"] is None and shown["outcome"] is None
    assert_problem(http.get(f"/deployments/{deployment}/complaints", "analyst"), 403)

    resolution = {"outcome": OUTCOME, "resolved_on": today(clock).isoformat()}
    path = f"/complaints/{complaint}/resolution"
    done = http.post(path, "authorising_officer", resolution, **ao)
    assert done.status_code == 200 and done.json()["status"] == "resolved", done.text
    assert_problem(http.post(path, "authorising_officer", resolution, **ao), 409)

    history = http.get(
        f"/deployments/{deployment}/history", "oversight", headers={"X-Purpose": "complaint review"}
    )
    assert history.status_code == 200, history.text
    events = [e for e in history.json()["events"] if e["topic"].startswith("lfr/Complaint.")]
    assert [e["topic"] for e in events] == [ComplaintTopic.RECORDED, ComplaintTopic.RESOLVED]
    assert events[0]["data"]["sealed_summary"] == "[sealed]"
    assert events[0]["data"]["alert_id"] == str(alert)
    assert events[1]["data"]["sealed_outcome"] == "[sealed]"
    assert "Zebedee" not in history.text


def lfr(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = lfr_ledger.api.cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_records_lists_and_resolves_as_the_routes_do(
    ledger: CaseLedger,
    clock: Clock,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    deployment, alert, other_alert = ended(ledger, clock)
    day = today(clock).isoformat()
    base = ["complaints", "record", "--deployment", str(deployment), "--received-on", day]
    before = head(ledger)
    code, _, err = lfr(
        capsys, *base, "--channel", "email", "--summary", SUMMARY, "--alert", str(other_alert)
    )
    assert code == 2 and "its own deployment" in err
    assert head(ledger) == before
    code, out, _ = lfr(
        capsys, *base, "--channel", "email", "--summary", SUMMARY, "--alert", str(alert), "--json"
    )
    assert code == 0, out
    complaint = json.loads(out)["id"]
    code, out, _ = lfr(
        capsys, "complaints", "resolve", complaint, "--outcome", OUTCOME, "--resolved-on", day
    )
    assert code == 0 and "resolved" in out
    code, out, _ = lfr(capsys, "complaints", "list", "--deployment", str(deployment), "--json")
    assert code == 0, out
    [listed] = json.loads(out)["complaints"]
    assert (listed["summary"], listed["outcome"], listed["resolved_on"]) == (SUMMARY, OUTCOME, day)
    code, _, err = lfr(
        capsys, "complaints", "resolve", complaint, "--outcome", "x", "--resolved-on", day
    )
    assert code == 2 and "recorded once" in err
    consulted = [r for r in access_review(ledger).records if r.kind == "consultation"]
    assert [r.record for r in consulted][-1] == f"deployment_complaints:{deployment}"
