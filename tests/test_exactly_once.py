"""Issue 10, defects 3 and 11: an Idempotency-Key makes a request exactly-once. The request is
recorded in the transaction of its first change, so a retry after any crash gets the first
reply (kept, or rebuilt from what the request changed) and never runs the command twice.
Both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

import pytest

from lfr_ledger.api.demo.sample_deployment import ADMIN, AUTHORITY, PLANNER
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import AlreadyDone
from lfr_ledger.domain.requests import Request, RequestScope, RequestTopic
from tests.test_api import AO, ENROLMENT, Api, api, assert_problem, deployment  # noqa: F401

OPERATION = {"name": "Op Lamp", "force": "demo", "purpose": "town centre"}


def _ledger(api: Api) -> CaseLedger:  # noqa: F811
    ledger: CaseLedger = api.client.app.state["services"].ledger
    return ledger


def _count(api: Api, topic: str) -> int:  # noqa: F811
    notifications = _ledger(api).recorder.select_notifications(0, 100_000, topics=[topic])
    return len(notifications)


def _lose_kept_reply(api: Api, actor: str, key: str) -> None:  # noqa: F811
    """What a crash between the commit and keeping the reply leaves: the request recorded with
    its changes, no reply kept."""
    api.client.app.state["services"].idempotency.release(actor, key)
    store = api.client.app.state["services"].idempotency
    if hasattr(store, "_conn"):
        store._conn().execute("DELETE FROM idempotency_keys WHERE actor = ?", (actor,))
    else:
        from psycopg import sql

        with store._pool.connection() as conn:
            conn.execute(
                sql.SQL("DELETE FROM {t} WHERE actor = %s").format(t=store._table), (actor,)
            )


def test_a_second_execution_of_one_request_commits_nothing(api: Api) -> None:  # noqa: F811
    ledger = _ledger(api)
    ledger.adopt_policy(ADMIN)
    scope = RequestScope(actor=PLANNER, key="k-1", route="POST /operations", body_hash="h")
    with ledger.request(scope):
        first = ledger.open_operation(PLANNER, **OPERATION)
    again = RequestScope(actor=PLANNER, key="k-1", route="POST /operations", body_hash="h")
    with ledger.request(again), pytest.raises(AlreadyDone):
        ledger.open_operation(PLANNER, **OPERATION)
    assert _count(api, "lfr/Operation.Opened") == 1
    recorded = ledger.recorded_request(PLANNER.id, "k-1")
    assert recorded is not None and recorded.created == first
    assert _count(api, RequestTopic.RECEIVED) == 1


def test_a_retry_after_a_lost_reply_gets_the_first_reply_and_writes_nothing(
    api: Api,  # noqa: F811
) -> None:
    api.post("/policy/adopt", "admin")
    key = {"Idempotency-Key": "op-lamp-1"}
    first = api.post("/operations", "planner", OPERATION, headers=key)
    assert first.status_code == 201
    _lose_kept_reply(api, "planner-1", "op-lamp-1")
    again = api.post("/operations", "planner", OPERATION, headers=key)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotency-replayed"] == "true"
    assert _count(api, "lfr/Operation.Opened") == 1


def test_an_acknowledged_adjudication_retried_gets_its_200_not_already_adjudicated(
    api: Api,  # noqa: F811
) -> None:
    _, dep = deployment(api)
    api.post(
        f"/deployments/{dep}/authorisation",
        "authorising_officer",
        {"authority_ref": "A", **AUTHORITY},
        claims=AO,
    )
    entry = api.post(f"/deployments/{dep}/watchlist/entries", "watchlist_manager", ENROLMENT)
    api.post(
        f"/deployments/{dep}/watchlist/review",
        "authorising_officer",
        {"confirmed_count": 1, "not_excessive": True},
        claims=AO,
    )
    signs = {"signs": "Two A-boards", "locations": "Both ends of Gold Street"}
    assert api.post(f"/deployments/{dep}/signage", "operator", signs).status_code == 200
    assert api.post(f"/deployments/{dep}/start", "operator").status_code == 200
    alert = api.post(
        f"/deployments/{dep}/alerts",
        "matcher",
        {
            "camera_id": "cam-1",
            "entry_id": entry.json()["id"],
            "similarity": 0.9,
            "captured_at": datetime.now(UTC).isoformat(),
        },
        claims={"deployment_id": dep},
    )
    assert alert.status_code == 201, alert.text
    alert_id = alert.json()["id"]
    key = {"Idempotency-Key": "adj-1"}
    decided = api.post(
        f"/alerts/{alert_id}/adjudication",
        "operator",
        {"decision": "match", "reason": "same"},
        headers=key,
    )
    assert decided.status_code == 200, decided.text
    _lose_kept_reply(api, "operator-1", "adj-1")
    # Same request, other JSON spelling and the path's id in capitals: still the same request.
    retried = api.client.post(
        f"/alerts/{alert_id.upper()}/adjudication",
        headers={**api.h("operator"), **key, "content-type": "application/json"},
        content=json.dumps({"reason": "same", "decision": "match"}, indent=2).encode(),
    )
    assert (retried.status_code, retried.json()) == (200, decided.json())
    assert _count(api, "lfr/Alert.Adjudicated") == 1


def test_a_refused_request_is_not_kept_so_the_corrected_one_runs(api: Api) -> None:  # noqa: F811
    _, dep = deployment(api)
    bad = {"authority_ref": "A", **AUTHORITY}
    key = {"Idempotency-Key": "auth-1"}
    # Without the rank claim the authority is refused; the refusal is not kept against the key.
    assert_problem(
        api.post(f"/deployments/{dep}/authorisation", "authorising_officer", bad, headers=key), 403
    )
    corrected = api.post(
        f"/deployments/{dep}/authorisation",
        "authorising_officer",
        bad,
        claims=AO,
        headers=key,
    )
    assert corrected.status_code == 200, corrected.text
    assert "idempotency-replayed" not in corrected.headers


def test_request_ids_are_per_actor_and_key() -> None:
    assert Request.id_for("a", "k") == Request.id_for("a", "k")
    assert Request.id_for("a", "k") != Request.id_for("b", "k")
    assert isinstance(Request.id_for("a", "k"), UUID)


def test_a_key_reused_with_another_query_is_refused_like_another_body(
    api: Api,  # noqa: F811
) -> None:
    """Issue 23, item 7 (f): the query string was no part of the request's fingerprint, so the
    dry run's key sent with `dry_run=false` replayed the dry run's report and destroyed nothing."""
    api.post("/policy/adopt", "admin")
    key = {"Idempotency-Key": "retention-1"}
    dry = api.client.post("/retention/run?dry_run=true", headers={**api.h("admin"), **key})
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    # The same request again, its query spelt another way, is the same request: replayed.
    again = api.client.post("/retention/run?dry_run=%74rue", headers={**api.h("admin"), **key})
    assert again.json() == dry.json() and again.headers["idempotency-replayed"] == "true"
    for query in ("?dry_run=false", "", "?dry_run=true&dry_run=false"):
        real = api.client.post(f"/retention/run{query}", headers={**api.h("admin"), **key})
        problem = assert_problem(real, 422, "idempotency-key-reused")
        assert "query" in problem["detail"]
    done = api.client.post(
        "/retention/run?dry_run=false",
        headers={**api.h("admin"), "Idempotency-Key": "retention-2"},
    )
    assert done.status_code == 200 and done.json()["dry_run"] is False
