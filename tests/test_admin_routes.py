"""The administrator's read routes (retention's backlog and recent work, views' lag, the latest
checkpoint's age, the policy's text), `/`, and what a sign-in link's state says without using
it. Both backends, through the real app."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.console.sessions import SessionStore
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from tests.conftest import Clock
from tests.test_access_review import Api
from tests.test_retention import ran_deployment

ADMIN_ROUTES = ("/retention/due", "/projections", "/checkpoints/latest", "/policy/text")


@pytest.fixture
def http(ledger: CaseLedger, settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, ledger=ledger)) as client:
        yield Api(client, settings)


def head(ledger: CaseLedger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def test_only_an_admin_reads_the_admin_routes(http: Api) -> None:
    for path in ADMIN_ROUTES:
        assert http.get(path, "admin").status_code == 200, path
        for role in ("planner", "oversight", "analyst", "operator"):
            refused = http.get(path, role)
            assert refused.status_code == 403, (path, role)
            assert refused.headers["content-type"].startswith("application/problem+json")
        assert http.client.get(path).status_code == 401


def test_retention_due_counts_what_is_due_and_a_dry_run_writes_nothing(
    http: Api, ledger: CaseLedger, clock: Clock
) -> None:
    quiet = http.get("/retention/due", "admin").json()
    assert (quiet["watchlists"], quiet["alert_images"], quiet["last_destruction_at"]) == (
        0,
        0,
        None,
    )
    scene = ran_deployment(ledger, clock, entries=2, alerts=2)
    assert scene.ended_at is not None
    clock.now = scene.ended_at + timedelta(days=40)
    due = http.get("/retention/due", "admin").json()
    assert (due["watchlists"], due["entries"], due["alert_images"]) == (1, 2, 2)
    assert due["sweep_minutes"] == 15 and due["recent"]["watchlists"] == 0
    # Counts only: no record's id, no person, in the reply.
    assert str(scene.deployment_id) not in str(due)
    before = head(ledger)
    dry = http.post("/retention/run?dry_run=true", "admin").json()
    assert dry["dry_run"] and len(dry["alert_images_erased"]) == 2
    assert head(ledger) == before, "a dry run wrote to the log"
    assert http.get("/retention/due", "admin").json()["alert_images"] == 2
    ran = http.post("/retention/run", "admin").json()
    assert ran["watchlists_destroyed"] == [str(scene.deployment_id)]
    assert head(ledger) > before
    after = http.get("/retention/due", "admin").json()
    assert (after["watchlists"], after["alert_images"]) == (0, 0)
    assert after["last_destruction_at"] is not None
    assert after["recent"] == {**after["recent"], "watchlists": 1, "alert_images": 2}


def test_views_lag_is_read_without_catching_up(http: Api, ledger: CaseLedger, clock: Clock) -> None:
    ran_deployment(ledger, clock, alerts=1)
    state = http.get("/projections", "admin").json()
    assert state["head"] == head(ledger) and state["max_lag"] == 1000
    by_name = {v["name"]: v for v in state["views"]}
    assert "retention_deadlines" in by_name
    assert all(v["lag"] == state["head"] - v["position"] for v in state["views"])
    # Nothing read the views since the events were recorded: they trail the log.
    assert by_name["deployments"]["lag"] > 0


def test_checkpoint_age_and_staleness(http: Api, ledger: CaseLedger, clock: Clock) -> None:
    from lfr_ledger.domain.clock import utcnow
    from lfr_ledger.eventlog.checkpoint import (
        latest_checkpoint_path,
        read_checkpoint,
        sign_if_moved,
        write_checkpoint,
    )

    http.post("/policy/adopt", "admin")
    none = http.get("/checkpoints/latest", "admin").json()
    assert none["signed_at"] is None and none["stale"] and none["events_since"] == head(ledger)
    sign_if_moved(http.settings)
    signed = http.get("/checkpoints/latest", "admin").json()
    assert signed["last_id"] == head(ledger) and signed["events_since"] == 0
    assert not signed["stale"]
    # Events recorded after it: not yet a warning while it is young.
    ran_deployment(ledger, clock, alerts=0, end=False)
    young = http.get("/checkpoints/latest", "admin").json()
    assert young["events_since"] > 0 and not young["stale"]
    # Older than ten minutes (the signer dates it by the machine's clock: its file is aged
    # here, which the route reads and does not verify; GET /audit/verify does).
    path = latest_checkpoint_path(http.settings)
    assert path is not None
    checkpoint = read_checkpoint(path)
    checkpoint["created_at"] = (utcnow() - timedelta(minutes=11)).isoformat(timespec="seconds")
    write_checkpoint(path, checkpoint)
    late = http.get("/checkpoints/latest", "admin").json()
    assert late["age_seconds"] > 600 and late["stale"]


def test_policy_text_is_the_policy_in_force(http: Api, ledger: CaseLedger) -> None:
    text = http.get("/policy/text", "admin").json()
    assert text["toml"] == ledger.policy.text and text["version"] == ledger.policy.version
    assert not text["adopted"]
    edited = (
        text["toml"]
        .replace(f'version = "{text["version"]}"', 'version = "LFR-POL-TEST-2"')
        .replace("minimum_notice_hours = 24", "minimum_notice_hours = 12")
    )
    adopted = http.post("/policy/adopt", "admin", {"toml": edited})
    assert adopted.status_code == 200, adopted.text
    now = http.get("/policy/text", "admin").json()
    assert now["version"] == "LFR-POL-TEST-2" and now["adopted"]
    assert "minimum_notice_hours = 12" in now["toml"]
    # Changed text under the same version: refused, and the policy in force stays.
    refused = http.post("/policy/adopt", "admin", {"toml": edited.replace("= 12", "= 6")})
    assert refused.status_code == 422 and "new version" in refused.json()["detail"]
    assert http.get("/policy", "admin").json()["version"] == "LFR-POL-TEST-2"


def test_root_leads_to_the_console(http: Api) -> None:
    page = http.client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console"
    bare = http.client.get("/", follow_redirects=False)
    assert bare.status_code == 303
    index = http.client.get("/", headers={"Accept": "application/json"})
    assert index.status_code == 200 and index.json()["console"] == "/console"
    # Followed by a browser without a session: the sign-in.
    followed = http.client.get("/", headers={"Accept": "text/html"})
    assert followed.url.path == "/console/sign-in"


def link_store(settings: Settings, clock: Any) -> SessionStore:
    return SessionStore(settings, clock=clock)


def test_link_state_tells_used_expired_and_unknown_without_using_it(settings: Settings) -> None:
    now = [1_000_000.0]
    store = link_store(settings, lambda: now[0])
    try:
        code = store.add_link("token-a", lifetime_seconds=60)
        for _ in range(3):  # a chat preview, a second look: nothing is used
            assert store.link_state(code).state == "valid"
        assert store.take_link(code) == "token-a"
        used = store.link_state(code)
        assert used.state == "used" and used.at == now[0]
        late = store.add_link("token-b", lifetime_seconds=60)
        now[0] += 61
        expired = store.link_state(late)
        assert expired.state == "expired" and expired.at == 1_000_060.0
        assert store.link_state("made-up").state == "unknown"
    finally:
        store.close()


def test_a_bad_link_says_why_at_once_and_a_good_one_survives_a_preview(http: Api) -> None:
    store = SessionStore(http.settings)
    try:
        token = http.headers("oversight")["Authorization"].removeprefix("Bearer ")
        code = store.add_link(token)
        gone = store.add_link(token, lifetime_seconds=-1)
    finally:
        store.close()
    html = {"Accept": "text/html"}
    for _ in range(2):
        assert http.client.get(f"/console/sign-in/{code}", headers=html).status_code == 200
    origin = {"Origin": str(http.client.base_url).rstrip("/")}
    signed = http.client.post("/console/sign-in", json={"code": code}, headers=origin)
    assert signed.status_code == 200, signed.text
    again = http.client.get(f"/console/sign-in/{code}", headers=html)
    assert again.status_code == 410 and "used already" in again.text
    assert "lfr console-link" in again.text
    reused = http.client.post("/console/sign-in", json={"code": code}, headers=origin)
    assert reused.status_code == 401 and reused.json()["type"].endswith("sign-in-link-used")
    expired = http.client.get(f"/console/sign-in/{gone}", headers=html)
    assert expired.status_code == 410 and "has expired" in expired.text
    unknown = http.client.get("/console/sign-in/not-a-code", headers=html)
    assert unknown.status_code == 404 and "does not know this sign-in link" in unknown.text
