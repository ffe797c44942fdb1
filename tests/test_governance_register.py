"""Issue 24: the register of governance documents. A proposal cites a current DPIA and EIA and
needs current equality evidence, an authority a current appropriate policy document; a missing,
withdrawn, expired or overdue document refuses it (naming the document and its date), and the
deployment records the exact versions it cited.

Runs on SQLite and on the real PostgreSQL server (see conftest.py).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.cli import main as lfr
from lfr_ledger.api.cli.governance import KINDS
from lfr_ledger.api.demo.sample_deployment import (
    ADMIN,
    AO,
    AUTHORITY,
    DOCUMENTS,
    PLANNER,
    plan,
    register_documents,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotPermitted,
    PolicyViolation,
)
from lfr_ledger.domain.governance import DOCUMENT_KINDS, GovernanceDocumentTopic
from lfr_ledger.domain.policy import Policy
from tests.conftest import Clock
from tests.test_invariants import event_count, refused

# The tests' clock reads 2025-06-02.
FORCE = "Northamptonshire Police"
APPROVED = date(2025, 1, 6)
REVIEW_BY = date(2026, 1, 6)


def register(ledger: CaseLedger, kind: str, reference: str, **changes: Any) -> UUID:
    fields: dict[str, Any] = {
        "version": "1.0",
        "title": f"{kind} {reference}",
        "approved_on": APPROVED,
        "review_by": REVIEW_BY,
        "approved_by": "Chief Officer Group",
    }
    fields.update(changes)
    return ledger.register_document(ADMIN, kind=kind, reference=reference, **fields)


def ready(ledger: CaseLedger, *, leave_out: str | None = None) -> UUID:
    """The policy adopted, an operation open, and every document the sample cites registered
    (but `leave_out`): returns the operation."""
    ledger.adopt_policy(ADMIN)
    for kind, reference, _ in DOCUMENTS:
        if kind != leave_out:
            register(ledger, kind, reference)
    return ledger.open_operation(PLANNER, name="Op", force=FORCE, purpose="p")


def propose(ledger: CaseLedger, operation: UUID) -> UUID:
    return ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version))


# --- the proposal ---------------------------------------------------------------------------


def test_a_proposal_citing_a_dpia_not_in_the_register_is_refused(ledger: CaseLedger) -> None:
    operation = ready(ledger, leave_out="dpia")
    with refused(ledger, PolicyViolation, "DPIA 'DPIA-1' is not in the governance register"):
        propose(ledger, operation)
    # Another document of the same reference, of another kind, is not the DPIA.
    register(ledger, "eia", "DPIA-1")
    with refused(ledger, PolicyViolation, "DPIA 'DPIA-1' is not in the governance register"):
        propose(ledger, operation)
    register(ledger, "dpia", "DPIA-1")
    deployment = ledger.deployment(propose(ledger, operation))
    assert deployment.documents_cited == {
        "proposal": [
            {"kind": "dpia", "reference": "DPIA-1", "version": "1.0"},
            {"kind": "eia", "reference": "EIA-1", "version": "1.0"},
            {"kind": "equality_evidence", "reference": "EQE-1", "version": "1.0"},
        ]
    }


def test_the_refusal_names_the_field_at_fault(ledger: CaseLedger) -> None:
    operation = ready(ledger, leave_out="eia")
    with pytest.raises(PolicyViolation) as refusal:
        propose(ledger, operation)
    assert refusal.value.field == "eia_ref"
    assert "equality impact assessment 'EIA-1'" in refusal.value.detail


def test_a_dpia_due_for_review_expired_or_withdrawn_refuses_the_proposal(
    ledger: CaseLedger, clock: Clock
) -> None:
    operation = ready(ledger, leave_out="dpia")
    today = clock().date()
    yesterday = today - timedelta(days=1)
    dpia = register(ledger, "dpia", "DPIA-1", review_by=yesterday)
    with refused(ledger, PolicyViolation, f"'1.0' was due for review by {yesterday}"):
        propose(ledger, operation)
    # Its review day itself is still in time.
    register(ledger, "dpia", "DPIA-1", version="1.1", approved_on=yesterday, review_by=today)
    first = ledger.deployment(propose(ledger, operation))
    assert first.documents_cited["proposal"][0]["version"] == "1.1"
    register(ledger, "dpia", "DPIA-1", version="2.0", approved_on=yesterday, expires_on=today)
    with refused(ledger, PolicyViolation, f"DPIA 'DPIA-1' version '2.0' expired on {today}"):
        propose(ledger, operation)
    register(ledger, "dpia", "DPIA-1", version="2.1", approved_on=today)
    propose(ledger, operation)
    ledger.withdraw_document(AO, dpia, reason="superseded")
    with refused(ledger, PolicyViolation, f"DPIA 'DPIA-1' was withdrawn on {today}"):
        propose(ledger, operation)
    # The deployment proposed under the withdrawn DPIA keeps the version it cited.
    assert ledger.deployment(first.id).documents_cited["proposal"][0]["version"] == "1.1"


def test_a_version_approved_after_today_is_not_yet_in_force(
    ledger: CaseLedger, clock: Clock
) -> None:
    operation = ready(ledger, leave_out="dpia")
    tomorrow = clock().date() + timedelta(days=1)
    register(ledger, "dpia", "DPIA-1", approved_on=tomorrow, review_by=REVIEW_BY)
    with refused(ledger, PolicyViolation, f"approved only from {tomorrow}"):
        propose(ledger, operation)


def test_a_proposal_needs_current_equality_evidence(ledger: CaseLedger, clock: Clock) -> None:
    operation = ready(ledger, leave_out="equality_evidence")
    none = "no current equality evidence is in the governance register \\(none was ever"
    with refused(ledger, PolicyViolation, none):
        propose(ledger, operation)
    lapsed = clock().date() - timedelta(days=3)
    register(ledger, "equality_evidence", "NPL-2023", review_by=lapsed)
    with refused(
        ledger, PolicyViolation, f"'NPL-2023' version '1.0' was due for review by {lapsed}"
    ):
        propose(ledger, operation)
    register(ledger, "equality_evidence", "NPL-2025")
    cited = ledger.deployment(propose(ledger, operation)).documents_cited["proposal"]
    assert {"kind": "equality_evidence", "reference": "NPL-2025", "version": "1.0"} in cited
    assert all(c["reference"] != "NPL-2023" for c in cited)


def test_a_policy_may_require_fewer_documents(ledger: CaseLedger, clock: Clock) -> None:
    text = Policy.load().text
    for old, new in (
        ('version = "LFR-POL-2026.3"', 'version = "NP-LFR-2026.9"'),
        (
            'required_at_proposal = ["dpia", "eia", "equality_evidence"]',
            'required_at_proposal = ["dpia"]',
        ),
    ):
        assert old in text, old
        text = text.replace(old, new)
    ledger.adopt_policy(ADMIN, Policy.parse(text))
    register(ledger, "dpia", "DPIA-1")
    operation = ledger.open_operation(PLANNER, name="Op", force=FORCE, purpose="p")
    cited = ledger.deployment(propose(ledger, operation)).documents_cited
    assert cited == {"proposal": [{"kind": "dpia", "reference": "DPIA-1", "version": "1.0"}]}
    misspelt = text.replace('required_at_proposal = ["dpia"]', 'required_at_proposal = ["dpai"]')
    with pytest.raises(InvalidInput, match="kinds the register does not know: dpai"):
        Policy.parse(misspelt)


# --- the authority --------------------------------------------------------------------------


def test_an_authority_needs_a_current_apd_and_records_what_it_cited(
    ledger: CaseLedger, clock: Clock
) -> None:
    operation = ready(ledger, leave_out="appropriate_policy_document")
    deployment = propose(ledger, operation)
    apd = AUTHORITY["appropriate_policy_document"]
    with refused(ledger, PolicyViolation, f"appropriate policy document '{apd}' is not in the"):
        ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    register(ledger, "appropriate_policy_document", apd)
    # A DPIA reviewed between proposal and authority: the authority cites the new version.
    register(ledger, "dpia", "DPIA-1", version="1.1", approved_on=clock().date())
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    cited = ledger.deployment(deployment).documents_cited
    assert cited["proposal"][0] == {"kind": "dpia", "reference": "DPIA-1", "version": "1.0"}
    assert cited["authorisation"] == [
        {"kind": "dpia", "reference": "DPIA-1", "version": "1.1"},
        {"kind": "eia", "reference": "EIA-1", "version": "1.0"},
        {"kind": "equality_evidence", "reference": "EQE-1", "version": "1.0"},
        {"kind": "appropriate_policy_document", "reference": apd, "version": "1.0"},
    ]


def test_a_dpia_withdrawn_after_the_proposal_refuses_the_authority(
    ledger: CaseLedger, clock: Clock
) -> None:
    operation = ready(ledger)
    deployment = propose(ledger, operation)
    dpia = ledger.registered_document("dpia", "DPIA-1")
    assert dpia is not None
    ledger.withdraw_document(AO, dpia.id, reason="the ICO found it deficient")
    with refused(ledger, PolicyViolation, "DPIA 'DPIA-1' was withdrawn on 2025-06-02"):
        ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)


# --- the register ---------------------------------------------------------------------------


def test_who_registers_and_what_a_version_must_hold(ledger: CaseLedger, clock: Clock) -> None:
    with refused(ledger, NotPermitted):
        ledger.register_document(
            PLANNER, kind="dpia", reference="D", version="1", title="t",
            approved_on=APPROVED, review_by=REVIEW_BY,
        )  # fmt: skip
    with refused(ledger, InvalidInput, "kind must be one of"):
        register(ledger, "privacy_notice", "P-1")
    with refused(ledger, InvalidInput, "review_by must be after approved_on"):
        register(ledger, "dpia", "D-1", review_by=APPROVED)
    with refused(ledger, InvalidInput, "expires_on must be after approved_on"):
        register(ledger, "dpia", "D-1", expires_on=APPROVED)
    with refused(ledger, InvalidInput, "belong to a model evaluation"):
        register(ledger, "dpia", "D-1", model_id="sface-2021dec")
    with refused(ledger, InvalidInput, "reference is 1 to 100"):
        register(ledger, "dpia", "  ")
    # An authorising officer registers too; the approval defaults to who registered it.
    document = ledger.register_document(
        AO, kind="dpia", reference=" D-1 ", version="1", title="DPIA", approved_on=APPROVED,
        review_by=REVIEW_BY,
    )  # fmt: skip
    assert ledger.governance_document(document).reference == "D-1"
    current = ledger.current_document("dpia", "D-1")
    assert current is not None and (current.approved_by, current.registered_by) == (AO.id, AO.id)


def test_the_same_version_again_records_nothing_and_a_changed_one_is_refused(
    ledger: CaseLedger, clock: Clock
) -> None:
    first = register(ledger, "eia", "EIA-9")
    before = event_count(ledger)
    assert register(ledger, "eia", "EIA-9") == first
    assert event_count(ledger) == before
    with refused(ledger, InvalidTransition, "a changed document is registered as a new version"):
        register(ledger, "eia", "EIA-9", title="Another title")
    with refused(ledger, InvalidInput, "before the latest registered"):
        register(ledger, "eia", "EIA-9", version="0.9", approved_on=APPROVED - timedelta(days=1))
    ledger.withdraw_document(ADMIN, first, reason="replaced")
    with refused(ledger, InvalidTransition, "was withdrawn on"):
        register(ledger, "eia", "EIA-9", version="2.0")
    with refused(ledger, InvalidTransition, "already withdrawn"):
        ledger.withdraw_document(ADMIN, first, reason="again")


def test_the_register_reads_each_document_at_a_time(ledger: CaseLedger, clock: Clock) -> None:
    dpia = register(ledger, "dpia", "DPIA-7", review_by=date(2025, 7, 1))
    clock.advance(days=1)
    register(ledger, "dpia", "DPIA-7", version="2", approved_on=date(2025, 6, 3))
    register(ledger, "model_evaluation", "EVAL-1", model_id="sface-2021dec", digest="ab" * 32)
    now = clock()
    assert ledger.current_document("dpia", "DPIA-7") == ledger.current_document(
        "dpia", "DPIA-7", now
    )
    assert ledger.current_document("dpia", "DPIA-7").version == "2"  # type: ignore[union-attr]
    # Asked about yesterday: the version then in force.
    yesterday = ledger.current_document("dpia", "DPIA-7", now - timedelta(days=1))
    assert yesterday is not None and yesterday.version == "1.0"
    assert ledger.current_document("dpia", "NO-SUCH") is None
    assert [d.reference for d in ledger.documents("dpia")] == ["DPIA-7"]
    assert [d.kind for d in ledger.documents()] == ["dpia", "model_evaluation"]
    assert [len(d.versions) for d in ledger.documents()] == [2, 1]
    assert ledger.governance_document(dpia).standing_at(now) == "current"
    later = now.replace(year=2027)
    assert ledger.governance_document(dpia).standing_at(later) == "due_for_review"
    assert ledger.current_document("dpia", "DPIA-7", later) is None
    with pytest.raises(InvalidInput):
        ledger.documents("dpai")


def test_the_kinds_are_one_closed_list() -> None:
    assert KINDS == DOCUMENT_KINDS


# --- over HTTP and the CLI ------------------------------------------------------------------


def _h(settings: Settings, role: str, **claims: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {issue_token(settings, role=role, sub=f'{role}-1', **claims)}"
    }


def test_the_register_over_http(settings: Settings, clock: Clock) -> None:
    ledger = build_ledger(settings, clock=clock)
    with TestClient(create_app(settings, ledger=ledger)) as client:
        body = {
            "kind": "dpia",
            "reference": "DPIA-1",
            "version": "1.0",
            "title": "LFR DPIA",
            "approved_on": "2025-01-06",
            "review_by": "2025-05-31",
        }
        refused_to = client.post(
            "/governance/documents", json=body, headers=_h(settings, "planner")
        )
        assert refused_to.status_code == 403
        created = client.post("/governance/documents", json=body, headers=_h(settings, "admin"))
        assert created.status_code == 201, created.text
        document_id = created.json()["id"]
        assert created.headers["location"] == f"/governance/documents/{document_id}"
        wrong = client.post(
            "/governance/documents", json={**body, "kind": "privacy"}, headers=_h(settings, "admin")
        )
        assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "kind"

        analyst = client.get("/governance/documents", headers=_h(settings, "analyst"))
        assert analyst.status_code == 403  # the analyst reads statistics only
        listed = client.get("/governance/documents", headers=_h(settings, "planner"))
        assert listed.status_code == 200, listed.text
        [shown] = listed.json()["documents"]
        assert (shown["standing"], shown["review_by"]) == ("due_for_review", "2025-05-31")
        assert "was due for review by 2025-05-31" in shown["why_not_current"]
        assert shown["versions"][0]["registered_by"] == "admin-1"
        one = client.get(f"/governance/documents/{document_id}", headers=_h(settings, "oversight"))
        assert one.json()["reference"] == "DPIA-1"
        operator = client.get("/governance/documents", headers=_h(settings, "operator"))
        assert operator.status_code == 403

        # A proposal over HTTP under the overdue DPIA: 422, naming it, its date and the field.
        register_documents(ledger)  # the others (DPIA-1 stays as registered above)
        client.post("/policy/adopt", headers=_h(settings, "admin"))
        operation = ledger.open_operation(PLANNER, name="Op", force=FORCE, purpose="p")
        proposal = plan(operation, ledger.policy.version)
        with pytest.raises(PolicyViolation) as refusal:
            ledger.propose_deployment(PLANNER, proposal)
        assert "due for review by 2025-05-31" in refusal.value.detail
        client.post(
            "/governance/documents",
            json={**body, "version": "1.1", "approved_on": "2025-06-01", "review_by": "2026-06-01"},
            headers=_h(settings, "authorising_officer", rank="superintendent"),
        ).raise_for_status()
        deployment = ledger.propose_deployment(PLANNER, proposal)
        ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
        shown = client.get(f"/deployments/{deployment}", headers=_h(settings, "planner")).json()
        cited = shown["governance_documents"]
        assert {
            "stage": "proposal",
            "kind": "dpia",
            "reference": "DPIA-1",
            "version": "1.1",
        } in cited
        assert {
            "stage": "authorisation",
            "kind": "appropriate_policy_document",
            "reference": AUTHORITY["appropriate_policy_document"],
            "version": "1.0",
        } in cited

        withdrawn = client.post(
            f"/governance/documents/{document_id}/withdrawal",
            json={"reason": "superseded"},
            headers=_h(settings, "admin"),
        )
        assert withdrawn.json() == {"id": document_id, "status": "withdrawn"}
        again = client.post(
            f"/governance/documents/{document_id}/withdrawal",
            json={"reason": "superseded"},
            headers=_h(settings, "admin"),
        )
        assert again.status_code == 409
    ledger.close()


def test_the_register_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LFR_DATABASE_URL", raising=False)
    monkeypatch.delenv("LFR_POSTGRES_SCHEMA", raising=False)
    registered = [
        "governance", "register", "--kind", "appropriate_policy_document", "--reference",
        "APD-1", "--version", "3", "--title", "APD", "--approved-on", "2025-01-06",
        "--review-by", "2099-01-06", "--actor", "SUPT-9", "--as", "authorising_officer",
        "--json",
    ]  # fmt: skip
    assert lfr(registered) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["standing"] == "current"
    assert lfr(["governance", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)["documents"]
    assert (listed["reference"], listed["latest_version"]) == ("APD-1", "3")
    assert listed["versions"][0]["approved_by"] == "SUPT-9"
    assert lfr(["governance", "withdraw", made["document_id"], "--reason", "replaced"]) == 0
    capsys.readouterr()
    assert lfr(["governance", "list"]) == 0
    assert "withdrawn" in capsys.readouterr().out
    # A planner's role is not offered; a malformed date is the user's to fix.
    with pytest.raises(SystemExit):
        lfr([*registered[:-5], "--as", "planner"])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        lfr([*registered[:11], "2025-13-01", *registered[12:]])


def test_register_events_keep_their_stored_topics(ledger: CaseLedger) -> None:
    document = register(ledger, "dpia", "DPIA-1")
    ledger.withdraw_document(Actor("ADM-2", Role.ADMIN), document, reason="replaced")
    topics = [
        n.topic for n in ledger.recorder.select_notifications(0, 100) if n.originator_id == document
    ]
    assert topics == [
        GovernanceDocumentTopic.REGISTERED,
        GovernanceDocumentTopic.VERSION_REGISTERED,
        GovernanceDocumentTopic.WITHDRAWN,
    ]
    assert GovernanceDocumentTopic.VERSION_REGISTERED == "lfr/GovernanceDocument.VersionRegistered"
