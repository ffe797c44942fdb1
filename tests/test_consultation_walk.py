"""Issue 23, item 4: every look at personal data is logged, by construction (DPA 2018 s.62).

Every route of `ACCESS` declares what its reply holds about people (`api/guards.py`); this walk
calls each route that returns personal or pseudonymous personal data, with every role the table
opens it to, over the real app, and finds exactly one consultation for each call: the caller as
actor and role, the record read and the purpose (stated, or named by the query layer for the
role's own work). The access log's own routes are walked too, and log nothing (see
docs/decisions.md, issue 23). Both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.demo.sample_deployment import subject
from lfr_ledger.api.guards import (
    ACCESS,
    ACCESS_LOG,
    NO_PERSONAL_DATA,
    PERSONAL_DATA,
    PERSONAL_DATA_IN_ROLE,
    PUBLIC,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.records import ConsultationTopic
from lfr_ledger.oversight.access_review import AccessRecord, access_review
from tests.test_api import Api
from tests.test_human_review import http_scene

STATED = "walk: stated purpose"


@pytest.fixture
def http(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings)


def test_every_route_declares_whether_its_reply_holds_personal_data() -> None:
    kinds = (PERSONAL_DATA, PERSONAL_DATA_IN_ROLE, ACCESS_LOG, NO_PERSONAL_DATA)
    for key in ACCESS:
        assert sum(key in kind for kind in kinds) == 1, key
    assert set().union(*kinds) == set(ACCESS), "a declaration names a route that is gone"
    assert not set().union(*kinds) & PUBLIC


def test_the_app_refuses_to_start_with_a_route_that_does_not_say_what_it_returns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import lfr_ledger.api.guards as guards

    undeclared = NO_PERSONAL_DATA - {"GET /deployments/{deployment_id}/cameras"}
    monkeypatch.setattr(
        guards, "READ_KINDS", (PERSONAL_DATA, PERSONAL_DATA_IN_ROLE, ACCESS_LOG, undeclared)
    )
    with pytest.raises(RuntimeError, match="cameras"):
        create_app(Settings(data_dir=tmp_path / "var"))


@dataclass
class Read:
    """How to call one route, and the consultation each call must leave."""

    path: str
    record: str
    # The purpose the layer names for a role's own work; None: the caller states it.
    purpose: Callable[[Role], str] | None = None
    params: dict[str, str] = field(default_factory=dict)


def role_purpose(**by_role: str) -> Callable[[Role], str]:
    return lambda role: by_role[role.value]


def walk(scene: dict[str, Any]) -> dict[str, Read]:
    dep, alert, entry = scene["deployment"], scene["alert"], scene["entry"]
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    period = {"from": today.isoformat(), "to": (today + timedelta(days=2)).isoformat()}
    on_alerts = role_purpose(
        operator=f"adjudicating the alerts of deployment {dep}",
        officer=f"engaging on the alerts of deployment {dep}",
        authorising_officer=f"reviewing the alerts of deployment {dep}",
        oversight=f"oversight of the alerts of deployment {dep}",
    )
    return {
        "GET /watchlist/entries/{entry_id}": Read(
            f"/watchlist/entries/{entry}", f"watchlist_entry:{entry}"
        ),
        "GET /watchlist/entries/{entry_id}/image": Read(
            f"/watchlist/entries/{entry}/image", f"watchlist_image:{entry}"
        ),
        "GET /alerts/{alert_id}/face-crop": Read(
            f"/alerts/{alert}/face-crop", f"alert_face_crop:{alert}"
        ),
        "GET /deployments/{deployment_id}/history": Read(
            f"/deployments/{dep}/history", f"deployment_history:{dep}"
        ),
        "GET /subject-access": Read(
            "/subject-access",
            f"subject_access:{scene['digest']}",
            params={"subject_ref": scene["subject_ref"], **period},
        ),
        "GET /oversight/equality": Read(
            "/oversight/equality", f"equality:{dep}", params={"deployment_id": str(dep)}
        ),
        "GET /oversight/equality/trend": Read("/oversight/equality/trend", "equality_trend:all"),
        "GET /oversight/bundles/{deployment_id}": Read(
            f"/oversight/bundles/{dep}", f"oversight_bundle:deployment:{dep}"
        ),
        "GET /alerts/{alert_id}": Read(
            f"/alerts/{alert}",
            f"alert_timeline:{alert}",
            role_purpose(
                operator=f"adjudicating alert {alert}",
                officer=f"engaging on alert {alert}",
                authorising_officer=f"reviewing alert {alert}",
                oversight=f"oversight of alert {alert}",
            ),
        ),
        "GET /deployments/{deployment_id}/alerts": Read(
            f"/deployments/{dep}/alerts", f"deployment_alerts:{dep}", on_alerts
        ),
        "GET /alerts/stream": Read(
            "/alerts/stream",
            f"alert_stream:{dep}",
            role_purpose(
                operator=f"adjudicating the alerts of deployment {dep}",
                officer=f"engaging on the alerts of deployment {dep}",
            ),
            params={"deployment_id": str(dep), "last_event_id": "0"},
        ),
        "GET /deployments/{deployment_id}/watchlist": Read(
            f"/deployments/{dep}/watchlist",
            f"deployment_watchlist:{dep}",
            role_purpose(
                watchlist_manager=f"compiling the watchlist of deployment {dep}",
                authorising_officer=f"reviewing the watchlist of deployment {dep}",
                oversight=f"oversight of the watchlist of deployment {dep}",
            ),
        ),
        "GET /deployments/{deployment_id}/complaints": Read(
            f"/deployments/{dep}/complaints",
            f"deployment_complaints:{dep}",
            role_purpose(
                authorising_officer=f"reviewing the complaints of deployment {dep}",
                oversight=f"oversight of the complaints of deployment {dep}",
            ),
        ),
        "GET /deployments/{deployment_id}/watchlist/changes": Read(
            f"/deployments/{dep}/watchlist/changes",
            f"watchlist_templates:{dep}",
            role_purpose(matcher="live matching: 2 watchlist templates for the matcher's index"),
        ),
        # The officer engaging on the match (alert 0, decided a match by the scene): the entry
        # read as the entry, for that alert.
        "GET /alerts/{alert_id}/entry": Read(
            f"/alerts/{alert}/entry",
            f"watchlist_entry:{entry}",
            role_purpose(officer=f"engaging on alert {alert}"),
        ),
        "GET /alerts/{alert_id}/entry/image": Read(
            f"/alerts/{alert}/entry/image",
            f"watchlist_image:{entry}",
            role_purpose(officer=f"engaging on alert {alert}"),
        ),
    }


def scene_of(api: Api) -> dict[str, Any]:
    """A live deployment whose two entries hold an image and a template, and alerts with a
    face crop (`http_scene`, in the app's own ledger), the first decided a match."""
    ledger, deployment, entries, alerts = http_scene(api)
    # Decided a match, so the officer sent to engage on it may read who to look for.
    ledger.adjudicate(Actor("operator-1", Role.OPERATOR), alerts[0], "match", "same person")
    return {
        "ledger": ledger,
        "deployment": deployment,
        "alert": alerts[0],
        "entry": entries[0],
        "subject_ref": subject(0).subject_ref,
        "digest": ledger.vault.subject_digest(subject(0).subject_ref),
    }


def position(ledger: CaseLedger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def consultations_since(ledger: CaseLedger, after: int) -> list[AccessRecord]:
    return [r for r in access_review(ledger, after=after).records if r.kind == "consultation"]


def headers_for(api: Api, role: Role, deployment: UUID) -> dict[str, str]:
    claims: dict[str, Any] = {"deployment_id": str(deployment)} if role == Role.MATCHER else {}
    if role == Role.AUTHORISING_OFFICER:
        claims["rank"] = "superintendent"
    token = issue_token(api.settings, role=role.value, sub=f"{role.value}-walk", **claims)
    return {"Authorization": f"Bearer {token}"}


def subscribe(api: Api, path: str, params: dict[str, str], headers: dict[str, str]) -> int:
    """Opens the SSE stream over the app, reads up to its first alert event, then hangs up (the
    test client would wait for a stream that never ends). Returns the status."""
    query = "&".join(f"{k}={v}" for k, v in params.items()).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
    }
    status: list[int] = []

    async def run() -> None:
        done = anyio.Event()
        received: list[bytes] = []
        asked = False

        async def receive() -> dict[str, Any]:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                received.append(message.get("body", b""))
                if b"event: alert." in b"".join(received) or not message.get("more_body"):
                    done.set()

        with anyio.fail_after(20):
            await api.client.app(scope, receive, send)  # type: ignore[arg-type]

    api.client.blocking_portal.call(run)
    return status[0]


def call(api: Api, read: Read, role: Role, deployment: UUID) -> int:
    headers = headers_for(api, role, deployment)
    if read.purpose is None:
        headers["X-Purpose"] = STATED
    if read.path == "/alerts/stream":
        return subscribe(api, read.path, read.params, headers)
    response = api.client.get(read.path, headers=headers, params=read.params)
    assert response.status_code == 200, (read.path, role, response.text)
    return int(response.status_code)


def test_every_route_that_returns_personal_data_logs_each_read_with_actor_purpose_and_record(
    http: Api,
) -> None:
    scene = scene_of(http)
    ledger: CaseLedger = scene["ledger"]
    reads = walk(scene)
    logged = PERSONAL_DATA | PERSONAL_DATA_IN_ROLE
    # A route that returns personal data needs its line here: the walk covers every one.
    assert set(reads) == logged
    calls = 0
    for key, read in sorted(reads.items()):
        for role in sorted(ACCESS[key], key=lambda r: r.value):
            before = position(ledger)
            assert call(http, read, role, scene["deployment"]) == 200, (key, role)
            found = [
                (c.actor_id, c.actor_role, c.record, c.purpose)
                for c in consultations_since(ledger, before)
            ]
            purpose = STATED if read.purpose is None else read.purpose(role)
            assert found == [(f"{role.value}-walk", role.value, read.record, purpose)], key
            calls += 1
    print(f"consultation walk: {len(reads)} routes, {calls} calls, each logged once")
    assert len(reads) == 16


def test_the_access_logs_own_routes_are_read_without_logging_a_consultation(http: Api) -> None:
    scene = scene_of(http)
    ledger: CaseLedger = scene["ledger"]
    ledger.record_consultation(
        _oversight(), record=f"alert_face_crop:{scene['alert']}", purpose="seed"
    )
    paths = {
        "GET /audit/consultations": "/audit/consultations",
        "GET /audit/disclosures": "/audit/disclosures",
        "GET /oversight/access-review": "/oversight/access-review",
    }
    assert set(paths) == ACCESS_LOG
    for key, path in paths.items():
        before = position(ledger)
        headers = headers_for(http, Role.OVERSIGHT, scene["deployment"])
        assert http.client.get(path, headers=headers).status_code == 200, key
        assert consultations_since(ledger, before) == [], key


def _oversight() -> Any:
    return Actor("ICO-walk", Role.OVERSIGHT)


def test_a_stream_logs_one_consultation_per_subscription_not_per_event(http: Api) -> None:
    scene = scene_of(http)
    ledger: CaseLedger = scene["ledger"]
    dep = scene["deployment"]
    headers = headers_for(http, Role.OPERATOR, dep)
    before = position(ledger)
    params = {"deployment_id": str(dep), "last_event_id": "0"}
    # From the start of the log: every alert event of the deployment is sent on this one.
    assert subscribe(http, "/alerts/stream", params, headers) == 200
    assert subscribe(http, "/alerts/stream", params, headers) == 200
    records = [c.record for c in consultations_since(ledger, before)]
    assert records == [f"alert_stream:{dep}", f"alert_stream:{dep}"]
    consulted = ledger.recorder.select_notifications(
        before, 100, topics=[ConsultationTopic.RECORDED], inclusive_of_start=False
    )
    assert len(consulted) == 2


def test_a_refused_or_missing_read_logs_nothing(http: Api) -> None:
    scene = scene_of(http)
    ledger: CaseLedger = scene["ledger"]
    before = position(ledger)
    missing = UUID(int=7)
    for path, role in (
        (f"/alerts/{missing}", Role.OPERATOR),
        (f"/deployments/{missing}/alerts", Role.OPERATOR),
        (f"/deployments/{missing}/watchlist", Role.WATCHLIST_MANAGER),
        (f"/alerts/{scene['alert']}", Role.ANALYST),
    ):
        headers = headers_for(http, role, scene["deployment"])
        assert http.client.get(path, headers=headers).status_code in (403, 404), path
    assert consultations_since(ledger, before) == []
