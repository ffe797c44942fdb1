"""Issue 11, oversight over HTTP and the logs' own retention, on SQLite and PostgreSQL: the
operation and deployment lists, disclosures recorded and read, a deployment's bundle as a zip,
the score sensitivity table, the access and disclosure logs' retention period, and the dry run
that now counts the entries it would destroy."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from litestar.testing import TestClient

import lfr_ledger.api.cli
from lfr_ledger.api.app import create_app
from lfr_ledger.api.bootstrap import build_retention
from lfr_ledger.api.demo.sample_deployment import (
    ADMIN,
    AO,
    AUTHORITY,
    OPERATOR,
    OVERSIGHT,
    PLANNER,
    plan,
    proposed,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import InvalidInput, NotPermitted
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.records import ConsultationTopic, Disclosure, DisclosureTopic
from lfr_ledger.domain.values import ERASED, Decision
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.eventlog.key_audit import missing_keys
from lfr_ledger.oversight.access_review import access_review
from lfr_ledger.oversight.bundles.verify import verify_bundle
from lfr_ledger.oversight.retention.destruction import ACCESS_LOG_RULE
from tests.conftest import Clock
from tests.test_api import Api, _reply_schema, _resolved, assert_problem
from tests.test_invariants import live, send_alert
from tests.test_retention import cli_env, ran_deployment  # noqa: F401
from tests.test_shredding import raw_store_bytes

SUPT = {"claims": {"rank": "superintendent"}}


@pytest.fixture
def http(ledger: CaseLedger, settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, ledger=ledger)) as client:
        yield Api(client, settings)


def events(ledger: CaseLedger, topic: str) -> list[object]:
    return [
        ledger.mapper.to_domain_event(n)
        for n in ledger.recorder.select_notifications(0, 10_000, topics=[topic])
    ]


# --- 1. lists ------------------------------------------------------------------------------


def test_operations_and_deployments_are_listed_paged_and_filtered(
    http: Api, ledger: CaseLedger
) -> None:
    first = proposed(ledger)
    operation = UUID(ledger.deployment(first).plan.operation_id)
    ledger.authorise_deployment(AO, first, authority_ref="AUTH-1", **AUTHORITY)
    pending = ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version))
    other_op = ledger.open_operation(PLANNER, name="Op Two", force="demo", purpose="night")
    ledger.close_operation(PLANNER, other_op)

    ops = http.get("/operations", "analyst")
    assert ops.status_code == 200, ops.text
    body = ops.json()
    assert body["total"] == 2 and body["next_offset"] is None
    by_id = {o["operation_id"]: o for o in body["operations"]}
    assert by_id[str(operation)] == {
        **by_id[str(operation)],
        "name": "Op",
        "force": "northamptonshire",
        "status": "open",
        "deployment_count": 2,
    }
    assert by_id[str(other_op)]["status"] == "closed"
    assert by_id[str(other_op)]["deployment_count"] == 0
    paged = http.get("/operations", "planner", params={"limit": 1}).json()
    assert len(paged["operations"]) == 1 and paged["next_offset"] == 1
    rest = http.get("/operations", "planner", params={"limit": 1, "offset": 1}).json()
    assert rest["next_offset"] is None
    assert {paged["operations"][0]["operation_id"], rest["operations"][0]["operation_id"]} == {
        str(operation),
        str(other_op),
    }
    assert http.get("/operations", "operator").status_code == 403

    every = http.get("/deployments", "operator").json()
    assert every["total"] == 2
    row = next(d for d in every["deployments"] if d["deployment_id"] == str(first))
    assert row["status"] == "authorised" and row["town"] == "Northampton"
    assert row["location_name"] == "Abington Street"
    assert row["operation_id"] == str(operation)
    assert row["starts_at"].startswith("2025-06-02T10:00")
    waiting = http.get("/deployments", "authorising_officer", params={"status": "proposed"})
    assert [d["deployment_id"] for d in waiting.json()["deployments"]] == [str(pending)]
    mine = http.get("/deployments", "planner", params={"operation_id": str(other_op)}).json()
    assert mine["deployments"] == [] and mine["total"] == 0
    paged = http.get("/deployments", "oversight", params={"limit": 1}).json()
    assert len(paged["deployments"]) == 1 and paged["next_offset"] == 1
    assert_problem(http.get("/deployments", "planner", params={"status": "bogus"}), 400)
    assert_problem(http.get("/deployments", "planner", params={"limit": 0}), 400)
    assert http.get("/deployments", "analyst").status_code == 403


# --- 2. disclosures -----------------------------------------------------------------------------


def test_disclosures_are_recorded_sealed_and_listed_over_http(
    http: Api, ledger: CaseLedger, settings: Settings
) -> None:
    body = {
        "recipient": "Harriet Quillfeather, solicitor",
        "record": "alert:A-77",
        "legal_basis": "DPA 2018 s.35 (CPS file)",
    }
    assert http.post("/oversight/disclosures", "operator", body).status_code == 403
    assert http.post("/oversight/disclosures", "analyst", body).status_code == 403
    key = {"Idempotency-Key": "disclose-1"}
    made = http.post("/oversight/disclosures", "authorising_officer", body, headers=key, **SUPT)
    assert made.status_code == 201, made.text
    again = http.post("/oversight/disclosures", "authorising_officer", body, headers=key, **SUPT)
    assert again.status_code == 201 and again.json() == made.json()
    assert len(events(ledger, DisclosureTopic.RECORDED)) == 1, "the retry recorded nothing new"
    by_ov = http.post("/oversight/disclosures", "oversight", {**body, "record": "alert:A-78"})
    assert by_ov.status_code == 201

    assert_problem(http.post("/oversight/disclosures", "oversight", {**body, "recipient": ""}), 400)
    assert_problem(http.post("/oversight/disclosures", "oversight", {"record": "x"}), 400)
    with pytest.raises(InvalidInput):
        ledger.record_disclosure(OVERSIGHT, recipient="CPS", record=" ", legal_basis="s.35")
    with pytest.raises(NotPermitted):
        ledger.record_disclosure(OPERATOR, recipient="CPS", record="x", legal_basis="s.35")
    assert len(events(ledger, DisclosureTopic.RECORDED)) == 2, "refusals write nothing"

    # Recipient and record are sealed in the log; the legal basis is not personal.
    raw = raw_store_bytes(settings)
    assert b"Quillfeather" not in raw and b"A-77" not in raw

    assert http.get("/audit/disclosures", "authorising_officer", **SUPT).status_code == 403
    listed = http.get("/audit/disclosures", "oversight")
    assert listed.status_code == 200, listed.text
    rows = listed.json()["disclosures"]
    assert [(r["recipient"], r["record"], r["legal_basis"]) for r in rows] == [
        ("Harriet Quillfeather, solicitor", "alert:A-77", "DPA 2018 s.35 (CPS file)"),
        ("Harriet Quillfeather, solicitor", "alert:A-78", "DPA 2018 s.35 (CPS file)"),
    ]
    assert [r["actor_id"] for r in rows] == ["authorising_officer-1", "oversight-1"]
    assert rows[0]["id"] == made.json()["id"] and rows[0]["content_destroyed_at"] is None
    page = http.get("/audit/disclosures", "oversight", params={"limit": 1}).json()
    assert page["next_after"] == rows[0]["notification_id"]
    # The access review still finds a disclosure by the record it names, now sealed.
    assert [r.recipient for r in access_review(ledger, record="A-78").records] == [
        "Harriet Quillfeather, solicitor"
    ]


# --- 3. bundles ---------------------------------------------------------------------------------


def test_a_deployments_bundle_downloads_as_a_zip_that_verifies_and_is_logged(
    http: Api, ledger: CaseLedger, clock: Clock, tmp_path: Path
) -> None:
    deployment, entries = live(ledger, clock)
    alert = send_alert(ledger, deployment, entries[0], clock)
    path = f"/oversight/bundles/{deployment}"
    assert_problem(http.get(path, "oversight"), 400, "purpose-required")
    assert http.get(path, "analyst", headers={"X-Purpose": "x"}).status_code == 403
    assert http.get(path, "authorising_officer", headers={"X-Purpose": "x"}).status_code == 403
    assert_problem(
        http.get(f"/oversight/bundles/{uuid4()}", "oversight", params={"purpose": "p"}), 404
    )

    got = http.get(path, "oversight", headers={"X-Purpose": "IOPC review 2025/9"})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    assert f'filename="bundle-{deployment}.zip"' in got.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(got.content)) as zipped:
        zipped.extractall(tmp_path)
    bundle = tmp_path / f"bundle-{deployment}"
    assert {p.name for p in bundle.iterdir()} == {
        "events.jsonl",
        "chain.jsonl",
        "checkpoint.json",
        "public_key.pem",
        "manifest.json",
    }
    report = verify_bundle(bundle)
    assert report.ok, report.summary()
    exported = (bundle / "events.jsonl").read_text()
    assert str(alert) in exported and "Quentin" not in exported

    # The read is a consultation with the stated purpose; the bundle a disclosure to the caller.
    review = access_review(ledger, record=str(deployment)).records
    assert [(r.kind, r.actor_id) for r in review] == [
        ("consultation", "oversight-1"),
        ("disclosure", "oversight-1"),
    ]
    assert review[0].purpose == "IOPC review 2025/9"
    assert review[0].record == f"oversight_bundle:deployment:{deployment}"
    assert review[1].recipient == "oversight-1"
    assert '"oversight_bundle:deployment:' in exported, "the bundle carries its own read"


# --- 4. scores ----------------------------------------------------------------------------------


def test_the_score_sensitivity_table_over_http(http: Api, ledger: CaseLedger, clock: Clock) -> None:
    deployment, entries = live(ledger, clock)
    high = send_alert(ledger, deployment, entries[0], clock, similarity=0.91)
    low = send_alert(ledger, deployment, entries[1], clock, similarity=0.72)
    ledger.adjudicate(OPERATOR, high, Decision.MATCH, "same face")
    ledger.adjudicate(OPERATOR, low, Decision.NO_MATCH, "different person", ("subject",))

    path = f"/deployments/{deployment}/scores"
    assert http.get(path, "operator").status_code == 403
    got = http.get(path, "analyst")
    assert got.status_code == 200, got.text
    body = got.json()
    bins = body["distribution"]["bins"]
    assert sum(b["alerts"] for b in bins) == 2
    assert sum(b["true_alerts"] for b in bins) == 1 and sum(b["false_alerts"] for b in bins) == 1
    assert body["distribution"]["threshold"] == ledger.deployment(deployment).threshold
    rows = {round(r["threshold"], 2): r for r in body["sensitivity"]["rows"]}
    assert rows[0.8]["alerts"] == 1 and rows[0.8]["false_alerts_avoided"] == 1
    assert rows[0.8]["true_alerts_lost"] == 0
    assert rows[0.92]["alerts"] == 0 and rows[0.92]["true_alerts_lost"] == 1
    coarse = http.get(path, "planner", params={"bin_width": 0.5}).json()
    assert len(coarse["distribution"]["bins"]) == 1
    assert_problem(http.get(path, "planner", params={"bin_width": 0.000001}), 400)
    assert_problem(http.get(f"/deployments/{uuid4()}/scores", "oversight"), 404)


# --- 5. the access and disclosure logs' own retention -------------------------------------------


def test_access_log_retention_destroys_what_is_six_years_old_and_keeps_the_rest(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    assert ledger.policy.access_log_years == 6
    old = ledger.record_consultation(OVERSIGHT, record="alert:A-1", purpose="Purpose Ravensworth")
    told = ledger.record_disclosure(
        OVERSIGHT, recipient="Recipient Ravensworth", record="alert:A-1", legal_basis="s.35"
    )
    started = clock.now
    clock.advance(days=366)
    recent = ledger.record_consultation(OVERSIGHT, record="alert:A-2", purpose="Purpose Lindqvist")
    retention = build_retention(ledger, settings)

    # One second short of six years: nothing is due.
    clock.now = started.replace(year=started.year + 6) - timedelta(seconds=1)
    assert not retention.run().changed

    clock.now = started.replace(year=started.year + 6)
    dry = retention.run(dry_run=True)
    assert dry.consultation_purposes_destroyed == [old]
    assert dry.disclosure_contents_destroyed == [told]
    assert ledger.reveal_text(old, "purpose", ledger.consultation(old).purpose) != ERASED

    report = retention.run()
    assert report.consultation_purposes_destroyed == [old]
    assert report.disclosure_contents_destroyed == [told]
    assert "access log: destroyed the purpose of 1 consultation(s)" in report.summary()
    # The record of the access remains; its personal content is gone, the 5-year-old one kept.
    records = {r.id: r for r in access_review(ledger).records}
    assert records[old].purpose == ERASED and records[old].record == "alert:A-1"
    assert records[old].actor_id == OVERSIGHT.id
    assert records[told].recipient == ERASED and records[told].record == ERASED
    assert records[told].legal_basis == "s.35"
    assert records[recent].purpose == "Purpose Lindqvist"
    assert not ledger.vault.has_key(old) and not ledger.vault.has_key(told)
    assert ledger.vault.has_key(recent)
    raw = raw_store_bytes(settings)
    assert b"Ravensworth" not in raw

    [destroyed] = events(ledger, ConsultationTopic.PURPOSE_DESTROYED)
    assert destroyed.originator_id == old  # type: ignore[attr-defined]
    assert destroyed.rule == f"{ACCESS_LOG_RULE}=6 (policy {ledger.policy.version})"  # type: ignore[attr-defined]
    assert destroyed.occurred_at == clock.now  # type: ignore[attr-defined]
    assert destroyed.actor.id == "system:retention"  # type: ignore[attr-defined]
    [gone] = events(ledger, DisclosureTopic.CONTENT_DESTROYED)
    assert gone.originator_id == told  # type: ignore[attr-defined]
    assert ledger.disclosure(told).content_destroyed_at == clock.now

    assert not retention.run().changed, "a second run changes nothing"
    assert verify_ledger(settings).ok, "the chain still verifies"
    assert missing_keys(ledger) == [], "the shredded keys are accounted for by their events"

    clock.now = started.replace(year=started.year + 7) + timedelta(days=1)
    assert retention.run().consultation_purposes_destroyed == [recent]


def test_a_disclosure_recorded_before_sealing_is_reported_not_claimed_destroyed(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    legacy = Disclosure(
        id=uuid4(),
        recipient="CPS",
        record="alert:A-9",
        legal_basis="s.35",
        actor=OVERSIGHT,
        occurred_at=clock.now,
    )
    ledger.save(legacy)
    clock.now = clock.now.replace(year=clock.now.year + 6)
    report = build_retention(ledger, settings).run()
    assert report.unsealed_disclosures == [legacy.id]
    assert report.disclosure_contents_destroyed == [] and report.failures == []
    assert "recorded before sealing" in report.summary()
    assert events(ledger, DisclosureTopic.CONTENT_DESTROYED) == []
    [row] = access_review(ledger).records
    assert row.recipient == "CPS" and row.record == "alert:A-9"


def test_the_access_log_period_is_the_policy_files(ledger: CaseLedger) -> None:
    text = ledger.policy.text.replace("access_log_years = 6", "access_log_years = 10")
    assert Policy.parse(text).access_log_years == 10
    assert Policy.parse(text.replace("access_log_years = 10\n", "")).access_log_years == 6
    with pytest.raises(InvalidInput):
        Policy.parse(text.replace("access_log_years = 10", "access_log_years = 0"))


def test_http_retention_run_reports_the_access_log(
    http: Api, ledger: CaseLedger, clock: Clock
) -> None:
    consulted = ledger.record_consultation(OVERSIGHT, record="alert:A-3", purpose="audit")
    clock.now = clock.now.replace(year=clock.now.year + 6)
    ran = http.post("/retention/run", "admin")
    assert ran.status_code == 200, ran.text
    assert ran.json()["consultation_purposes_destroyed"] == [str(consulted)]
    [destroyed] = events(ledger, ConsultationTopic.PURPOSE_DESTROYED)
    assert destroyed.actor.id == "admin-1"  # type: ignore[attr-defined]
    listed = http.get("/audit/consultations", "oversight").json()["consultations"]
    assert [c["purpose"] for c in listed] == [ERASED]


# --- CLI: `lfr retention run` wires the access log in; the dry run counts entries -----------


def test_cli_retention_run_shreds_old_purposes_and_its_dry_run_counts_entries(
    ledger: CaseLedger,
    clock: Clock,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Long enough ago that six years later is still in the past (retention never runs ahead).
    clock.now = datetime(2019, 3, 1, 9, 0, tzinfo=UTC)
    ledger.adopt_policy(ADMIN)
    consulted = ledger.record_consultation(OVERSIGHT, record="alert:A-4", purpose="audit")
    clock.now = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    scene = ran_deployment(ledger, clock, entries=3, alerts=1)
    assert scene.ended_at is not None
    due = (scene.ended_at + timedelta(hours=25)).isoformat()

    cli = lfr_ledger.api.cli.main
    assert cli(["retention", "run", "--as-of", due, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would destroy 1 watchlist(s) (3 entries)" in out
    assert "would destroy the purpose of 1 consultation(s)" in out
    assert ledger.vault.has_key(consulted) and ledger.vault.has_key(scene.entry_ids[0])

    assert cli(["retention", "run", "--as-of", due]) == 0
    out = capsys.readouterr().out
    assert "destroyed 1 watchlist(s) (3 entries)" in out
    assert "destroyed the purpose of 1 consultation(s)" in out
    assert not ledger.vault.has_key(consulted)
    assert ledger.reveal_text(consulted, "purpose", ledger.consultation(consulted).purpose) == (
        ERASED
    )


def test_cli_disclose_logs_a_sealed_disclosure(
    ledger: CaseLedger,
    settings: Settings,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli = lfr_ledger.api.cli.main
    argv = ["disclose", "--recipient", "Ottoline Brackenbury", "--record", "alert:A-5"]
    assert cli([*argv, "--legal-basis", "s.35", "--actor", "ICO-7"]) == 0
    assert "recorded" in capsys.readouterr().out
    assert cli([*argv, "--legal-basis", " "]) == 2, "a blank legal basis is refused"
    [row] = access_review(ledger).records
    assert (row.kind, row.actor_id, row.recipient, row.record) == (
        "disclosure",
        "ICO-7",
        "Ottoline Brackenbury",
        "alert:A-5",
    )
    assert b"Brackenbury" not in raw_store_bytes(settings)


def test_openapi_types_the_new_replies(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "var"))) as client:
        doc = client.get("/schema/openapi.json").json()
    expected = {
        "/operations": {"operations", "total", "next_offset"},
        "/deployments": {"deployments", "total", "next_offset"},
        "/deployments/{deployment_id}/scores": {"distribution", "sensitivity"},
        "/audit/disclosures": {"disclosures", "next_after"},
    }
    for path, fields in expected.items():
        assert fields <= set(_reply_schema(doc, path)["properties"]), path
    rows = _resolved(doc, _reply_schema(doc, "/deployments")["properties"]["deployments"])
    row = _resolved(doc, rows["items"])
    assert {"deployment_id", "operation_id", "town", "location_name", "status"} <= set(
        row["properties"]
    )
    sensitivity = _resolved(
        doc, _reply_schema(doc, "/deployments/{deployment_id}/scores")["properties"]["sensitivity"]
    )
    assert "rows" in sensitivity["properties"]
    bundle = doc["paths"]["/oversight/bundles/{deployment_id}"]["get"]
    assert set(bundle["responses"]["200"]["content"]) == {"application/zip"}
    assert "X-Purpose" in {p["name"] for p in bundle["parameters"]}
    disclose = doc["paths"]["/oversight/disclosures"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in disclose["parameters"]}
