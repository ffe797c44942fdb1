"""Closing an operation: a planner closes it over HTTP or with `lfr operations close`; a second
close, an unknown id or another role is refused and writes nothing; a closed operation takes
no new deployment, and its list row says closed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.cli import main
from lfr_ledger.api.demo.sample_deployment import ADMIN, PLANNER, plan, proposed
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import InvalidTransition

PROBLEM = "application/problem+json"
OPERATION = {"name": "Operation Close", "force": "Northamptonshire Police", "purpose": "a test"}


def headers(settings: Settings, role: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, role=role, sub=f'{role}-1')}", **extra}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def events(client: TestClient[Litestar], settings: Settings) -> int:
    report = client.get("/audit/verify", headers=headers(settings, "oversight")).json()
    assert report["ok"], report
    return int(report["events_checked"])


def problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:lfr-ledger:problem:{kind}", body
    return body


def test_a_planner_closes_an_operation_once_over_http(
    client: TestClient[Litestar], settings: Settings
) -> None:
    planner = headers(settings, "planner")
    operation_id = client.post("/operations", headers=planner, json=OPERATION).json()["id"]
    close = f"/operations/{operation_id}/close"

    # Another role is refused by the guard, and nothing is written.
    before = events(client, settings)
    problem(client.post(close, headers=headers(settings, "operator")), 403, "forbidden")
    assert events(client, settings) == before

    first = client.post(close, headers=planner)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["id"] == operation_id and body["status"] == "closed"
    assert datetime.fromisoformat(body["closed_at"]) <= datetime.now(UTC)
    closed = events(client, settings)
    assert closed == before + 1

    again = problem(client.post(close, headers=planner), 409, "invalid-transition")
    assert "already closed" in again["detail"]
    unknown = problem(
        client.post(f"/operations/{uuid.uuid4()}/close", headers=planner), 404, "not-found"
    )
    assert "operation" in unknown["detail"]
    assert events(client, settings) == closed

    rows = client.get("/operations", headers=headers(settings, "analyst")).json()["operations"]
    row = next(r for r in rows if r["operation_id"] == operation_id)
    assert row["status"] == "closed" and row["closed_at"] is not None


def test_a_retried_close_with_its_idempotency_key_gets_the_first_reply(
    client: TestClient[Litestar], settings: Settings
) -> None:
    planner = headers(settings, "planner")
    operation_id = client.post("/operations", headers=planner, json=OPERATION).json()["id"]
    keyed = {**planner, "Idempotency-Key": str(uuid.uuid4())}
    first = client.post(f"/operations/{operation_id}/close", headers=keyed)
    assert first.status_code == 200, first.text
    written = events(client, settings)
    retry = client.post(f"/operations/{operation_id}/close", headers=keyed)
    assert retry.status_code == 200 and retry.json() == first.json()
    assert retry.headers["idempotency-replayed"] == "true"
    assert events(client, settings) == written


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_closed_operation_takes_no_new_deployment(ledger: CaseLedger) -> None:
    deployment_id = proposed(ledger)
    operation_id = uuid.UUID(ledger.deployment(deployment_id).plan.operation_id)
    ledger.close_operation(PLANNER, operation_id)
    with pytest.raises(InvalidTransition, match="is closed"):
        ledger.propose_deployment(PLANNER, plan(operation_id, ledger.policy.version))
    # The deployment proposed before the close keeps its record.
    assert ledger.deployment(deployment_id).plan.operation_id == str(operation_id)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_lfr_operations_close(
    settings: Settings,
    ledger: CaseLedger,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger.adopt_policy(ADMIN)
    operation_id = ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p")
    ledger.close()
    monkeypatch.setenv("LFR_DATA_DIR", str(settings.data_dir))
    assert main(["operations", "close", str(operation_id), "--actor", "INSP-1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["id"] == str(operation_id) and out["status"] == "closed"

    assert main(["operations", "close", str(operation_id)]) == 2
    assert "already closed" in capsys.readouterr().err
    assert main(["operations", "close", str(uuid.uuid4())]) == 2
    assert "operation" in capsys.readouterr().err

    assert main(["operations", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == "closed"
    assert datetime.fromisoformat(row["closed_at"]) - datetime.fromisoformat(
        out["closed_at"]
    ) < timedelta(seconds=1)
