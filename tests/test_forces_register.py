"""Issue 24: forces are a closed register in the policy (code -> name). An operation's force and
a deployment's controlling and equipment-owner forces are given by code or exact registered
name and recorded by code, so "Northants Police" against "Northamptonshire Police" is refused
instead of read as mutual aid. An owner not known is declared (null, with a note): mutual aid,
with its agreement, and published as null. Plans stored with free-text names still read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import msgspec
import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.demo.sample_deployment import OPERATOR, PLANNER, plan, proposed, reviewed
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import InvalidInput, PolicyViolation
from lfr_ledger.domain.forces import DEFAULT_FORCES
from lfr_ledger.domain.oversight_grant import Remit
from lfr_ledger.domain.policy import Policy
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock
from tests.test_analytics import reader_for
from tests.test_api import Api, assert_problem
from tests.test_invariants import refused
from tests.test_oversight_grants import AO as GRANTOR

UNKNOWN = {"equipment_owner_force": None, "equipment_owner_note": "not named in the release"}


@pytest.fixture(autouse=True)
def _close_projection_connections() -> Iterator[None]:
    yield
    close_stores()


def test_an_operations_force_is_registered_and_recorded_by_code(ledger: CaseLedger) -> None:
    proposed(ledger)  # the policy adopted
    with refused(ledger, PolicyViolation, r"'Northants Police' is not in the register.*"
                 r"nearest: .*northamptonshire \(Northamptonshire Police\)"):  # fmt: skip
        ledger.open_operation(PLANNER, name="Op", force="Northants Police", purpose="p")
    for given in ("Northamptonshire Police", " NORTHAMPTONSHIRE ", "northamptonshire"):
        operation = ledger.open_operation(PLANNER, name="Op", force=given, purpose="p")
        assert ledger.operation(operation).force == "northamptonshire"
    # Names compare exactly: another spelling of a registered name is not that force.
    with refused(ledger, PolicyViolation, "register of forces"):
        ledger.open_operation(PLANNER, name="Op", force="northamptonshire police", purpose="p")


def test_mutual_aid_is_decided_by_codes(ledger: CaseLedger) -> None:
    own = proposed(ledger, equipment_owner_force="Northamptonshire Police")
    assert ledger.deployment(own).plan.equipment_owner_force == "northamptonshire"
    assert not ledger.deployment(own).plan.mutual_aid
    operation = ledger.deployment(own).plan.operation_id
    version = ledger.policy.version
    # The case: a name the register does not hold is refused, not read as mutual aid.
    with refused(ledger, PolicyViolation, "equipment_owner_force 'Northants Police'"):
        ledger.propose_deployment(
            PLANNER, plan(operation, version, equipment_owner_force="Northants Police")
        )
    with refused(ledger, PolicyViolation, "controlling_force 'Met'"):
        ledger.propose_deployment(PLANNER, plan(operation, version, controlling_force="Met"))
    with refused(ledger, InvalidInput, "needs mutual_aid_agreement"):
        ledger.propose_deployment(PLANNER, plan(operation, version, equipment_owner_force="essex"))
    lent = ledger.propose_deployment(
        PLANNER,
        plan(operation, version, equipment_owner_force="Essex Police", mutual_aid_agreement="MA"),
    )
    assert ledger.deployment(lent).plan.equipment_owner_force == "essex"
    assert ledger.deployment(lent).plan.mutual_aid


def test_an_owner_not_known_is_declared_and_counts_as_mutual_aid(ledger: CaseLedger) -> None:
    proposed(ledger)
    operation = ledger.open_operation(PLANNER, name="Op", force="northamptonshire", purpose="p")
    version = ledger.policy.version
    with refused(ledger, InvalidInput, "equipment_owner_note must say why"):
        ledger.propose_deployment(
            PLANNER, plan(operation, version, equipment_owner_force=None, mutual_aid_agreement="M")
        )
    with refused(ledger, InvalidInput, "a mutual-aid deployment needs mutual_aid_agreement"):
        ledger.propose_deployment(PLANNER, plan(operation, version, **UNKNOWN))
    with refused(ledger, InvalidInput, "explains an owner not known"):
        ledger.propose_deployment(
            PLANNER,
            plan(operation, version, equipment_owner_note="not named", mutual_aid_agreement="M"),
        )
    deployment = ledger.propose_deployment(
        PLANNER, plan(operation, version, **UNKNOWN, mutual_aid_agreement="MA-LFR-2025-01")
    )
    stored = ledger.deployment(deployment).plan
    assert (stored.equipment_owner_force, stored.equipment_owner_note) == (
        None,
        "not named in the release",
    )
    assert stored.mutual_aid


def test_an_unknown_owner_is_published_as_null(
    settings: Settings, ledger: CaseLedger, clock: Clock
) -> None:
    deployment, _ = reviewed(ledger, **UNKNOWN, mutual_aid_agreement="MA-LFR-2025-01")
    clock.advance(hours=3)  # inside the window
    ledger.start_deployment(OPERATOR, deployment)
    reader = reader_for(settings, ledger)
    [record] = msgspec.to_builtins(reader.publication_records())
    assert (record["mutual_aid"], record["equipment_owner_force"]) == (True, None)
    assert record["controlling_force"] == "northamptonshire"
    summary = msgspec.to_builtins(reader.deployment_summary(deployment))
    assert (summary["mutual_aid"], summary["equipment_owner_force"]) == (True, None)


def test_stored_plans_with_names_still_read() -> None:
    """A plan as decoded from a release-3 event: names as typed, compared as they were then
    (case and spacing aside); no register is asked when a stored plan is read back."""
    named = replace(
        plan(uuid4(), "LFR-POL-2025.2"),
        controlling_force="Northamptonshire Police",
        equipment_owner_force=" northamptonshire  POLICE",
    )
    assert not named.mutual_aid
    assert replace(named, equipment_owner_force="Northants Police").mutual_aid


def test_the_register_is_the_policys() -> None:
    shipped = Policy.load()
    assert dict(shipped.forces.names) == dict(DEFAULT_FORCES)
    assert {"northamptonshire", "metropolitan", "south_wales", "demo"} <= set(shipped.forces.names)
    text = shipped.text
    start = text.index("\n[forces]\n")
    only_two = text[:start] + '\n[forces]\nessex = "Essex Police"\nkent = "Kent Police"\n'
    assert dict(Policy.parse(only_two).forces.names) == {
        "essex": "Essex Police",
        "kent": "Kent Police",
    }
    with pytest.raises(InvalidInput, match="not a force code"):
        Policy.parse(text[:start] + '\n[forces]\n"Essex Police" = "Essex Police"\n')
    with pytest.raises(InvalidInput, match="given to two codes"):
        Policy.parse(text[:start] + '\n[forces]\nessex = "Essex Police"\nex = "Essex Police"\n')
    # A policy file without the section gets the default register.
    assert dict(Policy.parse(text[:start]).forces.names) == dict(DEFAULT_FORCES)


def test_a_grants_forces_are_recorded_by_code(ledger: CaseLedger, clock: Clock) -> None:
    remit = Remit.checked(forces=["Northamptonshire Police", "Another Constabulary"])
    grant = ledger.grant_oversight(
        GRANTOR,
        body="ICO",
        body_name="ICO",
        remit=remit,
        valid_until=clock.now + timedelta(days=1),
    )
    forces = ledger.oversight_grant(grant).remit.forces
    assert forces == ("northamptonshire", "Another Constabulary")


# --- HTTP ----------------------------------------------------------------------------------


@pytest.fixture
def http(ledger: CaseLedger, settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, ledger=ledger)) as client:
        yield Api(client, settings)


def test_forces_over_http(http: Api, ledger: CaseLedger, clock: Clock) -> None:
    proposed(ledger)
    forces = http.get("/policy", "planner").json()["forces"]
    assert {"code": "northamptonshire", "name": "Northamptonshire Police"} in forces
    refusal = http.post(
        "/operations", "planner", {"name": "Op", "force": "Northants Police", "purpose": "p"}
    )
    assert "northamptonshire" in assert_problem(refusal, 422, "policy-violation")["detail"]
    operation = http.post(
        "/operations", "planner", {"name": "Op", "force": "Essex Police", "purpose": "p"}
    ).json()["id"]
    start = clock.now + timedelta(days=2)
    body = {
        "operation_id": operation,
        "location": {"name": "High Street", "town": "Chelmsford", "location_type": "town_centre"},
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=6)).isoformat(),
        "purpose": "Locate wanted people",
        "intelligence_case": "IC-1",
        "watchlist_categories": ["wanted_by_courts"],
        "cameras": [{"id": "cam-1", "name": "mast"}],
        "controlling_force": "essex",
        "dpia_ref": "DPIA-1",
        "eia_ref": "EIA-1",
        "policy_ref": ledger.policy.version,
        "public_notice": {"method": "signage", "issued_at": clock.now.isoformat()},
    }
    # The owner is stated, if only as not known.
    assert_problem(http.post("/deployments", "planner", body), 400, "validation")
    unknown = {**body, **UNKNOWN}
    assert_problem(http.post("/deployments", "planner", unknown), 422, "invalid-input")
    created = http.post("/deployments", "planner", {**unknown, "mutual_aid_agreement": "MA-7"})
    assert created.status_code == 201, created.text
    shown = http.get(f"/deployments/{created.json()['id']}", "planner").json()
    assert (shown["controlling_force"], shown["equipment_owner_force"]) == ("essex", None)
    assert (shown["equipment_owner_note"], shown["mutual_aid"]) == (
        "not named in the release",
        True,
    )
