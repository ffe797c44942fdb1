"""Issue 10, defect 4: malformed requests get a 400 problem naming what is wrong, and write
nothing; none reaches a parser that would answer 500."""

from __future__ import annotations

import uuid

import pytest

from lfr_ledger.api.body_guard import MAX_DEPTH, json_depth
from tests.test_api import Api, assert_problem, sqlite_api  # noqa: F401


def _head(api: Api) -> int:
    return int(api.client.app.state["services"].ledger.recorder.max_notification_id() or 0)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[" * 1000 + b"]" * 1000, f"nests deeper than {MAX_DEPTH} levels"),
        (b'{"name": "\xff\xfe", "force": "NP", "purpose": "x"}', "not valid UTF-8"),
    ],
    ids=["nested-1000-deep", "invalid-utf8"],
)
def test_malformed_json_bodies_are_400_problems(
    sqlite_api: Api,  # noqa: F811
    body: bytes,
    detail: str,
) -> None:
    before = _head(sqlite_api)
    headers = {**sqlite_api.h("planner"), "content-type": "application/json"}
    response = sqlite_api.client.post("/operations", headers=headers, content=body)
    assert detail in assert_problem(response, 400)["detail"]
    assert _head(sqlite_api) == before


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(b"") == 0


@pytest.mark.parametrize("value", ["²", "٣", "9223372036854775808", "-1", "1e3"])
def test_a_bad_last_event_id_is_a_400_problem(
    sqlite_api: Api,  # noqa: F811
    value: str,
) -> None:
    headers = [
        (b"authorization", sqlite_api.h("operator")["Authorization"].encode()),
        (b"last-event-id", value.encode()),
    ]
    response = sqlite_api.client.get(
        "/alerts/stream", params={"deployment_id": str(uuid.uuid4())}, headers=headers
    )
    assert "Last-Event-ID" in assert_problem(response, 400)["detail"]


def test_a_last_event_id_beyond_64_bits_in_the_query_is_a_400_problem(
    sqlite_api: Api,  # noqa: F811
) -> None:
    response = sqlite_api.client.get(
        "/alerts/stream",
        params={"deployment_id": str(uuid.uuid4()), "last_event_id": str(2**63)},
        headers=sqlite_api.h("operator"),
    )
    assert "last_event_id" in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize("value", ["0.5", "1700000000", "0001-01-01T00:00:00+00:30"])
def test_a_period_bound_outside_the_ledgers_window_is_a_400_problem(
    sqlite_api: Api,  # noqa: F811
    value: str,
) -> None:
    # A bare number used to be read as seconds since 1970 and accepted as a time.
    response = sqlite_api.get("/oversight/access-review", "oversight", params={"to": value})
    detail = assert_problem(response, 400)["detail"]
    assert "to must be an ISO 8601 time" in detail or "to must lie between 2000 and 2099" in detail
