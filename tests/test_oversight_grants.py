"""Issue 23, item 5: oversight grants per body, on SQLite and PostgreSQL.

A body (the ICO, the IOPC) reads through grants an authorising officer or an admin makes and
revokes: the deployments of its remit (forces, operations, period), until the grant's end.
Outside it, expired or revoked, a read is a 403 `outside-grant` naming the body and why, and
nothing is logged. Each body's reads are listed apart. An oversight token naming no body reads
as the role did before grants, unless the policy requires a body.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.exceptions import NotAuthorizedException
from litestar.testing import TestClient

import lfr_ledger.api.cli
from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import TokenVerifier, actor_from_claims, issue_token
from lfr_ledger.api.console.sessions import SessionStore
from lfr_ledger.api.demo.sample_deployment import ADMIN, AO, PLANNER
from lfr_ledger.api.personal_data import PersonalData
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import GrantRefused, InvalidInput, NotPermitted
from lfr_ledger.domain.oversight_grant import OversightGrantTopic, Remit
from lfr_ledger.domain.policy import Policy
from lfr_ledger.oversight.access_review import access_review
from tests.conftest import Clock
from tests.test_api import Api, assert_problem
from tests.test_exactly_once import _lose_kept_reply
from tests.test_retention import Scene, cli_env, ran_deployment  # noqa: F401

PURPOSE = {"X-Purpose": "grant test"}
ICO = {"claims": {"body": "ICO"}, "headers": PURPOSE}
IOPC = {"claims": {"body": "IOPC"}, "headers": PURPOSE}


@pytest.fixture
def http(ledger: CaseLedger, settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, ledger=ledger)) as client:
        yield Api(client, settings)


@dataclasses.dataclass
class Two:
    a: Scene
    b: Scene
    op_a: UUID
    op_b: UUID


@pytest.fixture
def two(ledger: CaseLedger, clock: Clock) -> Two:
    """Two deployments that ran, each in an operation of its own, the same subject on both."""
    a = ran_deployment(ledger, clock, alerts=1, entries=1)
    b = ran_deployment(ledger, clock, alerts=1, entries=1, seed=1)
    op_a, op_b = (UUID(ledger.deployment(s.deployment_id).plan.operation_id) for s in (a, b))
    assert op_a != op_b
    return Two(a, b, op_a, op_b)


def grant(http: Api, clock: Clock, body: str, **remit: Any) -> str:
    until = remit.pop("valid_until", clock.now + timedelta(days=30))
    sent = {"body": body, "body_name": f"{body} (test)", "valid_until": until.isoformat()}
    response = http.post("/oversight/grants", "authorising_officer", {**sent, **remit})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def history(http: Api, scene: Scene, **kw: Any) -> Any:
    return http.get(f"/deployments/{scene.deployment_id}/history", "oversight", **kw)


def consultation_count(ledger: CaseLedger) -> int:
    return sum(r.kind == "consultation" for r in access_review(ledger, limit=10_000).records)


def test_a_body_limited_to_one_operation_reads_it_and_is_refused_another(
    http: Api, ledger: CaseLedger, clock: Clock, two: Two
) -> None:
    grant(http, clock, "ICO", operation_ids=[str(two.op_a)])
    assert history(http, two.a, **ICO).status_code == 200
    alert_b = two.b.alert_ids[0]
    before = consultation_count(ledger)
    for path in (
        f"/deployments/{two.b.deployment_id}/history",
        f"/alerts/{alert_b}",
        f"/alerts/{alert_b}/face-crop",
        f"/watchlist/entries/{two.b.entry_ids[0]}",
        f"/deployments/{two.b.deployment_id}/alerts",
    ):
        problem = assert_problem(http.get(path, "oversight", **ICO), 403, "outside-grant")
        assert "oversight body ICO" in problem["detail"], problem
        assert f"leaves out operation {two.op_b}" in problem["detail"], problem
        assert str(two.op_a) in problem["detail"]  # the remit it holds
    # A refused read is not a read: nothing was logged for it.
    assert consultation_count(ledger) == before
    # The same reads of the deployment within the remit pass.
    alert_a = two.a.alert_ids[0]
    assert http.get(f"/alerts/{alert_a}", "oversight", **ICO).status_code == 200
    assert http.get(f"/alerts/{alert_a}/face-crop", "oversight", **ICO).status_code == 200


def test_a_remit_by_force_or_period_leaves_out_the_rest(
    http: Api, ledger: CaseLedger, clock: Clock, two: Two
) -> None:
    start_a = ledger.deployment(two.a.deployment_id).plan.starts_at
    grant(http, clock, "HMICFRS", forces=["Another Constabulary"])
    grant(http, clock, "PCC", period_from=(start_a + timedelta(days=1)).isoformat())
    refused = history(http, two.a, claims={"body": "HMICFRS"}, headers=PURPOSE)
    assert "leaves out force 'northamptonshire'" in assert_problem(refused, 403)["detail"]
    refused = history(http, two.a, claims={"body": "PCC"}, headers=PURPOSE)
    assert f"a deployment starting {start_a.isoformat()}" in assert_problem(refused, 403)["detail"]
    grant(http, clock, "PCC", period_to=(start_a + timedelta(days=1)).isoformat())
    # Any of a body's grants in force opens the deployment.
    assert history(http, two.a, claims={"body": "PCC"}, headers=PURPOSE).status_code == 200


def test_an_expired_grant_refuses_with_the_time_it_expired(
    http: Api, ledger: CaseLedger, clock: Clock, two: Two
) -> None:
    until = clock.now + timedelta(hours=1)
    grant_id = grant(http, clock, "ICO", valid_until=until)
    assert history(http, two.a, **ICO).status_code == 200
    clock.advance(hours=1)
    problem = assert_problem(history(http, two.a, **ICO), 403, "outside-grant")
    assert problem["detail"] == (
        f"oversight body ICO holds no grant in force: grant {grant_id} expired at "
        f"{until.isoformat()}"
    )
    listed = http.get("/oversight/grants", "admin", params={"body": "ico"}).json()["grants"]
    assert [(g["id"], g["status"]) for g in listed] == [(grant_id, "expired")]


def test_a_revoked_grant_refuses(http: Api, ledger: CaseLedger, clock: Clock, two: Two) -> None:
    grant_id = grant(http, clock, "ICO")
    assert history(http, two.a, **ICO).status_code == 200
    revoked = http.post(
        f"/oversight/grants/{grant_id}/revocation", "admin", {"reason": "inquiry closed"}
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"id": grant_id, "status": "revoked"}
    problem = assert_problem(history(http, two.a, **ICO), 403, "outside-grant")
    assert f"grant {grant_id} was revoked at {clock.now.isoformat()}" in problem["detail"]
    again = http.post(f"/oversight/grants/{grant_id}/revocation", "admin", {"reason": "again"})
    assert_problem(again, 409, "invalid-transition")
    [listed] = http.get("/oversight/grants", "oversight").json()["grants"]
    assert listed["status"] == "revoked" and listed["revoked_by"] == "admin-1"
    assert listed["revocation_reason"] == "inquiry closed"


def test_each_bodys_reads_are_listed_apart(
    http: Api, ledger: CaseLedger, clock: Clock, two: Two
) -> None:
    grant(http, clock, "ICO", operation_ids=[str(two.op_a)])
    grant(http, clock, "IOPC", operation_ids=[str(two.op_b)])
    assert history(http, two.a, **ICO).status_code == 200
    assert history(http, two.b, **IOPC).status_code == 200
    assert history(http, two.b, headers=PURPOSE).status_code == 200  # no body: as before

    def listed(role: str, **kw: Any) -> list[tuple[str, str | None]]:
        response = http.get("/audit/consultations", role, **kw)
        assert response.status_code == 200, response.text
        return [(c["record"], c["body"]) for c in response.json()["consultations"]]

    hist_a = f"deployment_history:{two.a.deployment_id}"
    hist_b = f"deployment_history:{two.b.deployment_id}"
    assert listed("oversight", params={"body": "ICO"}) == [(hist_a, "ICO")]
    assert listed("oversight", params={"body": "iopc"}) == [(hist_b, "IOPC")]
    everyone = listed("oversight")
    assert everyone[-3:] == [(hist_a, "ICO"), (hist_b, "IOPC"), (hist_b, None)]
    # A page of one body's reads is filled from further on in the log, and says where to go on.
    ico_again = history(http, two.a, **ICO)
    assert ico_again.status_code == 200
    page = http.get("/audit/consultations", "oversight", params={"body": "ICO", "limit": 1})
    assert page.json()["next_after"] is not None
    rest = http.get(
        "/audit/consultations",
        "oversight",
        params={"body": "ICO", "after": page.json()["next_after"]},
    ).json()
    assert [(c["record"], c["body"]) for c in rest["consultations"]] == [(hist_a, "ICO")]
    assert rest["next_after"] is None
    # A limited body reads its own reads, and no one else's: the log spans every deployment.
    assert listed("oversight", params={"body": "ICO"}, claims={"body": "ICO"}) == [
        (hist_a, "ICO"),
        (hist_a, "ICO"),
    ]
    for params in ({}, {"body": "IOPC"}):
        refused = http.get("/audit/consultations", "oversight", params=params, **ICO)
        assert "may not read access_log" in assert_problem(refused, 403, "outside-grant")["detail"]
    # The access review, the export of the log, separates them the same way.
    review = http.get("/oversight/access-review", "oversight", params={"body": "IOPC"})
    assert [(r["record"], r["actor_body"]) for r in review.json()["records"]] == [(hist_b, "IOPC")]
    assert_problem(http.get("/audit/consultations", "oversight", params={"body": "I C O"}), 400)


def test_subject_access_is_answered_within_the_remit_and_whole_log_reads_are_refused(
    http: Api, ledger: CaseLedger, clock: Clock, two: Two
) -> None:
    grant(http, clock, "ICO", operation_ids=[str(two.op_a)])
    day = clock.now.replace(hour=0, minute=0, second=0, microsecond=0)
    params = {
        "subject_ref": "PNC-0000",
        "from": day.isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
    }
    whole = http.get("/subject-access", "oversight", params=params, headers=PURPOSE).json()
    assert {e["deployment_id"] for e in whole["entries"]} == {
        str(two.a.deployment_id),
        str(two.b.deployment_id),
    }
    assert whole["remit"] is None
    limited = http.get("/subject-access", "oversight", params=params, **ICO).json()
    assert [e["deployment_id"] for e in limited["entries"]] == [str(two.a.deployment_id)]
    assert limited["remit"] == f"oversight body ICO: operations {two.op_a}"
    # The equality tables over every deployment span the log; of one within the remit, not.
    refused = http.get("/oversight/equality", "oversight", **ICO)
    assert "may not read equality" in assert_problem(refused, 403, "outside-grant")["detail"]
    one = {"deployment_id": str(two.a.deployment_id)}
    assert http.get("/oversight/equality", "oversight", params=one, **ICO).status_code == 200
    assert_problem(http.get("/audit/disclosures", "oversight", **ICO), 403, "outside-grant")


def test_an_oversight_token_naming_no_body_reads_as_before_unless_the_policy_requires_one(
    http: Api, ledger: CaseLedger, clock: Clock, two: Two
) -> None:
    # No grant exists at all: the role reads every deployment and the log as a whole.
    assert history(http, two.a, headers=PURPOSE).status_code == 200
    assert history(http, two.b, headers=PURPOSE).status_code == 200
    assert http.get("/oversight/equality", "oversight", headers=PURPOSE).status_code == 200
    assert http.get("/audit/consultations", "oversight").status_code == 200
    # A body holding no grant reads nothing.
    problem = assert_problem(history(http, two.a, **ICO), 403, "outside-grant")
    assert "no grant was ever made to it" in problem["detail"]
    ledger.policy = dataclasses.replace(ledger.policy, oversight_requires_grant=True)
    problem = assert_problem(history(http, two.a, headers=PURPOSE), 403, "outside-grant")
    assert "requires every oversight reader to act for a body" in problem["detail"]
    assert "oversight_body" in problem["detail"]
    grant(http, clock, "ICO")
    assert history(http, two.a, **ICO).status_code == 200


def test_the_policy_switch_is_read_from_the_file_and_must_be_a_boolean() -> None:
    text = Policy.load().text
    assert Policy.parse(text).oversight_requires_grant is False
    on = text.replace("requires_grant = false", "requires_grant = true")
    assert Policy.parse(on).oversight_requires_grant is True
    with pytest.raises(InvalidInput, match=r"oversight\.requires_grant must be true or false"):
        Policy.parse(text.replace("requires_grant = false", 'requires_grant = "false"'))


def test_granting_and_revoking_need_an_authorising_officer_or_an_admin(
    http: Api, ledger: CaseLedger, clock: Clock
) -> None:
    sent = {
        "body": "ICO",
        "body_name": "ICO",
        "valid_until": (clock.now + timedelta(days=1)).isoformat(),
    }
    for role in ("planner", "oversight", "operator", "analyst"):
        assert_problem(http.post("/oversight/grants", role, sent), 403, "forbidden")
    assert http.get("/oversight/grants", "planner").status_code == 403
    assert http.post("/oversight/grants", "admin", sent).status_code == 201
    # The domain refuses the same, whichever door a command comes through.
    remit = Remit.checked()
    until = clock.now + timedelta(days=1)
    for actor in (PLANNER, Actor("ICO-1", Role.OVERSIGHT, body="ICO")):
        with pytest.raises(NotPermitted):
            ledger.grant_oversight(actor, body="ICO", body_name="x", remit=remit, valid_until=until)
    grant_id = ledger.grant_oversight(
        AO, body="IOPC", body_name="x", remit=remit, valid_until=until
    )
    with pytest.raises(NotPermitted):
        ledger.revoke_oversight_grant(PLANNER, grant_id, reason="x")
    refused = http.post(f"/oversight/grants/{grant_id}/revocation", "planner", {"reason": "x"})
    assert_problem(refused, 403, "forbidden")
    ledger.revoke_oversight_grant(ADMIN, grant_id, reason="done")
    # Granted and revoked as events in the log, by whom.
    topics = [
        n.topic
        for n in ledger.recorder.select_notifications(
            0, 1000, topics=[OversightGrantTopic.GRANTED, OversightGrantTopic.REVOKED]
        )
    ]
    assert topics == [OversightGrantTopic.GRANTED] * 2 + [OversightGrantTopic.REVOKED]
    revoked = ledger.oversight_grant(grant_id)
    assert (revoked.granted_by, revoked.revoked_by) == (AO.id, ADMIN.id)


def test_a_grant_is_refused_with_a_problem_naming_what_is_wrong_and_records_nothing(
    http: Api, ledger: CaseLedger, clock: Clock
) -> None:
    until = (clock.now + timedelta(days=1)).isoformat()
    good = {"body": "ICO", "body_name": "ICO", "valid_until": until}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**good, "body": "I C O"}, 400, "body"),
        ({**good, "valid_until": (clock.now - timedelta(days=1)).isoformat()}, 422, "not after"),
        (
            {**good, "period_from": until, "period_to": (clock.now).isoformat()},
            422,
            "period_to must be after its period_from",
        ),
        ({**good, "operation_ids": ["not-a-uuid"]}, 400, "operation_ids"),
        ({**good, "colour": "red"}, 400, "colour"),
    ]
    for body, status, said in cases:
        problem = assert_problem(http.post("/oversight/grants", "admin", body), status)
        assert said in json.dumps(problem), problem
    assert ledger.oversight_grants() == []
    assert_problem(
        http.post(f"/oversight/grants/{UUID(int=7)}/revocation", "admin", {"reason": "x"}), 404
    )


def test_the_body_claim_is_carried_only_by_an_oversight_token(settings: Settings) -> None:
    verifier = TokenVerifier.from_settings(settings)
    actor = verifier.actor(issue_token(settings, role="oversight", sub="ICO-7", body="ico"))
    assert actor.body == "ICO"
    assert verifier.actor(issue_token(settings, role="oversight", sub="DPO-1")).body is None
    with pytest.raises(ValueError, match="only an oversight token"):
        issue_token(settings, role="operator", sub="PC-1", body="ICO")
    # A token minted elsewhere with the claim on another role, or a malformed code: refused.
    for claims in (
        {"sub": "PC-1", "role": "operator", "oversight_body": "ICO"},
        {"sub": "ICO-1", "role": "oversight", "oversight_body": "<b>ICO</b>"},
    ):
        with pytest.raises(NotAuthorizedException, match="oversight_body"):
            actor_from_claims(claims)


def test_an_actor_recorded_before_bodies_decodes_and_one_without_a_body_is_stored_as_before() -> (
    None
):
    old = {"id": "ICO-1", "role": "oversight", "rank": None, "force": None, "deployment_id": None}
    assert Actor.from_dict(old) == Actor("ICO-1", Role.OVERSIGHT)
    assert Actor("ICO-1", Role.OVERSIGHT).as_dict() == old
    assert Actor("ICO-1", Role.OVERSIGHT, body="ICO").as_dict() == {**old, "body": "ICO"}


def test_the_layer_refuses_before_it_logs(
    ledger: CaseLedger, clock: Clock, two: Two, tmp_path: Path
) -> None:
    ledger.grant_oversight(
        AO,
        body="ICO",
        body_name="ICO",
        remit=Remit.checked(operation_ids=[two.op_a]),
        valid_until=clock.now + timedelta(days=1),
    )
    reader = PersonalData(ledger, Actor("ICO-1", Role.OVERSIGHT, body="ICO"))
    before = consultation_count(ledger)
    with pytest.raises(GrantRefused):
        reader.history(two.b.deployment_id, purpose="x")
    with pytest.raises(GrantRefused, match="may not read oversight_bundle"):
        reader.bundle(tmp_path / "all", purpose="x", recipient="ICO", legal_basis="x")
    assert not (tmp_path / "all").exists()
    assert consultation_count(ledger) == before
    assert reader.history(two.a.deployment_id, purpose="x")
    assert consultation_count(ledger) == before + 1


def test_grants_from_the_command_line(
    ledger: CaseLedger,
    clock: Clock,
    two: Two,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    main = lfr_ledger.api.cli.main
    # The commands keep the real time, not the test's clock.
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    grant_cli = ["oversight", "grant", "--body", "iopc", "--name", "IOPC", "--until", until]
    assert (
        main([*grant_cli, "--operation", str(two.op_b), "--as", "authorising_officer", "--json"])
        == 0
    )
    made = json.loads(capsys.readouterr().out)
    assert made["body"] == "IOPC" and made["remit"] == f"operations {two.op_b}"
    assert main(["oversight", "grants", "--body", "IOPC", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)["grants"]
    assert listed["id"] == made["grant_id"] and listed["status"] == "in_force"
    # The CLI reads as the body, held to its grant.
    sar = ["subject-access", "--subject", "PNC-0000", "--purpose", "complaint 7", "--json"]
    day = clock.now.replace(hour=0, minute=0, second=0, microsecond=0)
    period = ["--from", day.isoformat(), "--to", (day + timedelta(days=1)).isoformat()]
    assert main([*sar, *period, "--body", "IOPC"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [e["deployment_id"] for e in answer["entries"]] == [str(two.b.deployment_id)]
    assert main(["access-review", "--by-body", "IOPC", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)["records"]
    assert record["actor_body"] == "IOPC" and record["record"].startswith("subject_access:")
    assert main(["oversight", "revoke", made["grant_id"], "--reason", "closed"]) == 0
    assert main([*sar, *period, "--body", "IOPC"]) == 2
    assert "was revoked at" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: not a grantor's role
        main([*grant_cli, "--as", "planner"])
    capsys.readouterr()
    assert main(["oversight", "grant", "--body", "I C O", "--name", "x", "--until", until]) == 2
    assert "body must be a body's code" in capsys.readouterr().err


def test_a_grant_or_revocation_retried_after_a_lost_reply_gets_its_first_reply(
    http: Api, ledger: CaseLedger, clock: Clock
) -> None:
    sent = {
        "body": "ICO",
        "body_name": "ICO",
        "valid_until": (clock.now + timedelta(days=1)).isoformat(),
    }
    key = {"Idempotency-Key": "grant-ico-1"}
    first = http.post("/oversight/grants", "admin", sent, headers=key)
    assert first.status_code == 201, first.text
    _lose_kept_reply(http, "admin-1", "grant-ico-1")
    again = http.post("/oversight/grants", "admin", sent, headers=key)
    assert (again.status_code, again.json()) == (201, first.json())
    path = f"/oversight/grants/{first.json()['id']}/revocation"
    key = {"Idempotency-Key": "revoke-ico-1"}
    revoked = http.post(path, "admin", {"reason": "closed"}, headers=key)
    assert revoked.json() == {"id": first.json()["id"], "status": "revoked"}
    _lose_kept_reply(http, "admin-1", "revoke-ico-1")
    again = http.post(path, "admin", {"reason": "closed"}, headers=key)
    assert (again.status_code, again.json()) == (200, revoked.json())
    assert len(ledger.oversight_grants()) == 1


def test_a_console_session_opened_from_a_bodys_token_acts_for_the_body(
    settings: Settings,
) -> None:
    store = SessionStore(settings)
    try:
        actor = Actor("ICO-7", Role.OVERSIGHT, body="ICO")
        sid, _ = store.open(actor, expires_at=time.time() + 600)
        resumed = store.resume(sid)
        assert resumed is not None and resumed.actor == actor
    finally:
        store.close()
