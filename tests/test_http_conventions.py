"""HTTP conventions a newcomer relies on: a refused body names every field at fault (not "data"
and only the first), so a proposal is fixed in one try, not six; a 201 says where the new record
is (`Location`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.config.settings import Settings


@pytest.fixture
def planner(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(data_dir=tmp_path)
    token = issue_token(settings, role="planner", sub="INSP-1", rank="inspector")
    with TestClient(create_app(settings)) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def fields_of(reply: dict) -> list[str]:  # type: ignore[type-arg]
    return [e["field"] for e in reply["errors"]]


def test_every_missing_field_is_named(planner: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = planner
    reply = client.post("/operations", json={"name": "Operation X"}, headers=headers)
    assert reply.status_code == 400
    assert fields_of(reply.json()) == ["force", "purpose"]
    assert (
        "force: required field missing; purpose: required field missing" in (reply.json()["detail"])
    )
    everything = client.post("/deployments", json={}, headers=headers).json()
    assert {"operation_id", "location", "starts_at", "cameras", "public_notice"} <= set(
        fields_of(everything)
    )
    assert "data" not in fields_of(everything)


def test_a_nested_field_is_named_by_its_path(planner: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = planner
    wrong = client.post("/deployments", json={"location": {"name": 1}}, headers=headers).json()
    assert fields_of(wrong) == ["location.name"]
    absent = client.post(
        "/operations", json={"name": "X", "force": "demo", "purpose": 7}, headers=headers
    ).json()
    assert fields_of(absent) == ["purpose"]


def test_a_created_record_says_where_it_is(planner: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = planner
    created = client.post(
        "/operations",
        json={"name": "Operation Where", "force": "Northamptonshire Police", "purpose": "Test"},
        headers=headers,
    )
    assert created.status_code == 201
    location = created.headers["location"]
    assert location == f"/operations/{created.json()['id']}/summary"
    assert client.get(location, headers=headers).json()["name"] == "Operation Where"
    refused = client.post("/operations", json={}, headers=headers)
    assert "location" not in refused.headers
