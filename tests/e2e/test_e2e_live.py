"""Against the real server: idempotent retries, concurrent adjudications, live alert stream."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lfr_ledger.api.demo.seed import OPERATOR, PLANNER
from tests.e2e.conftest import Server
from tests.e2e.flows import (
    adopt_policy,
    auth,
    is_problem,
    live_deployment,
    matcher,
    now,
    ok,
    raise_alert,
)


@pytest.fixture(scope="module")
def version(server: Server) -> str:
    with server.client() as client:
        return adopt_policy(server, client)


def events_recorded(server: Server, client: httpx.Client) -> int:
    report = ok(client.get("/audit/verify", headers=server.headers("oversight", "ICO-1")), 200)
    assert report["ok"], report
    return int(report["events_checked"])


# --- idempotency --------------------------------------------------------------------------


def test_idempotent_retry_returns_first_response_and_writes_nothing(
    server: Server, version: str
) -> None:
    with server.client() as client:
        key = str(uuid.uuid4())
        body = {"name": "Operation Retry", "force": "Northamptonshire Police", "purpose": "test"}
        headers = {**auth(server, PLANNER), "Idempotency-Key": key}
        first = client.post("/operations", headers=headers, json=body)
        assert first.status_code == 201
        before = events_recorded(server, client)
        for _ in range(3):
            again = client.post("/operations", headers=headers, json=body)
            assert again.status_code == 201
            assert again.json() == first.json()
            assert again.headers["idempotency-replayed"] == "true"
        assert events_recorded(server, client) == before

        changed = client.post("/operations", headers=headers, json={**body, "name": "Other"})
        assert changed.status_code == 422 and is_problem(changed)
        assert changed.json()["type"].endswith("idempotency-key-reused")
        assert events_recorded(server, client) == before

        # Keys are per actor: another planner's identical key is a different request.
        other = {**server.headers("planner", "INSP-9999"), "Idempotency-Key": key}
        assert client.post("/operations", headers=other, json=body).json() != first.json()


def test_idempotent_refusal_is_replayed_too(server: Server, version: str) -> None:
    with server.client() as client:
        live = live_deployment(server, client, policy_version=version, entries=1, number=7)
        headers = {**auth(server, OPERATOR), "Idempotency-Key": str(uuid.uuid4())}
        first = client.post(f"/deployments/{live.deployment_id}/start", headers=headers)
        assert first.status_code == 409 and is_problem(first)  # already live
        again = client.post(f"/deployments/{live.deployment_id}/start", headers=headers)
        assert again.status_code == 409 and again.json()["detail"] == first.json()["detail"]


def test_concurrent_retries_with_one_key_record_one_alert(server: Server, version: str) -> None:
    with server.client() as client:
        live = live_deployment(server, client, policy_version=version, entries=1, number=8)
        before = events_recorded(server, client)
    key = str(uuid.uuid4())
    body = {
        "camera_id": "cam-1",
        "entry_id": live.entry_ids[0],
        "similarity": 0.9,
        "captured_at": now().isoformat(),
    }
    headers = {**auth(server, matcher(live.deployment_id)), "Idempotency-Key": key}
    results = _concurrently(
        server,
        4,
        lambda c: c.post(f"/deployments/{live.deployment_id}/alerts", headers=headers, json=body),
    )
    created = [r for r in results if r.status_code == 201]
    assert created and len({r.json()["id"] for r in created}) == 1
    assert all(r.status_code == 201 or (r.status_code == 409 and is_problem(r)) for r in results)
    with server.client() as client:
        # One alert, and the record of the one request that raised it.
        assert events_recorded(server, client) == before + 2


# --- concurrent decisions -----------------------------------------------------------------


def _concurrently(server: Server, n: int, call: Any) -> list[httpx.Response]:
    barrier = threading.Barrier(n)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def worker() -> None:
        with server.client() as client:
            client.get("/health")  # connect before the race starts
            barrier.wait()
            response = call(client)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _rival_operators(server: Server, alert_id: str) -> Any:
    """Two operators deciding the same alert differently, one call each."""
    calls = iter(
        [
            (server.headers("operator", "PC-0"), {"decision": "match", "reason": "same face"}),
            (
                server.headers("operator", "PC-1"),
                {"decision": "no_match", "reason": "not him", "false_alert_factors": ["subject"]},
            ),
        ]
    )
    lock = threading.Lock()

    def adjudicate(client: httpx.Client) -> httpx.Response:
        with lock:
            headers, body = next(calls)
        return client.post(f"/alerts/{alert_id}/adjudication", headers=headers, json=body)

    return adjudicate


def test_concurrent_adjudications_one_wins_one_conflicts(server: Server, version: str) -> None:
    with server.client() as client:
        live = live_deployment(server, client, policy_version=version, entries=1, number=9)
        alerts = [raise_alert(server, client, live) for _ in range(5)]
    for alert_id in alerts:
        adjudicate = _rival_operators(server, alert_id)
        results = _concurrently(server, 2, adjudicate)
        assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409)
        assert is_problem(loser)


# --- live alerts --------------------------------------------------------------------------


@dataclass
class Event:
    id: int
    event: str
    data: dict[str, Any]


class SSE:
    """A minimal server-sent-events reader over an httpx streaming response."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        self.lines: Iterator[str] = response.iter_lines()
        self.comments: list[str] = []

    def next(self) -> Event:
        fields: dict[str, str] = {}
        for line in self.lines:
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            if not line:
                if "data" in fields:
                    return Event(int(fields["id"]), fields["event"], json.loads(fields["data"]))
                continue
            name, _, value = line.partition(":")
            fields[name] = value.lstrip(" ")
        raise EOFError

    def wait_subscribed(self) -> None:
        for line in self.lines:
            if line.startswith(": subscribed"):
                return
        raise EOFError


def _stream(
    client: httpx.Client, server: Server, deployment_id: str, last: int | None = None
) -> Any:
    headers = server.headers("officer", "PC-4417")
    if last is not None:
        headers["Last-Event-ID"] = str(last)
    return client.stream(
        "GET",
        "/alerts/stream",
        params={"deployment_id": deployment_id},
        headers=headers,
        timeout=httpx.Timeout(10, read=2.0),
    )


def test_alert_stream_live_and_resume(server: Server, version: str) -> None:
    with server.client() as client:
        live = live_deployment(server, client, policy_version=version, entries=2, number=10)
        elsewhere = live_deployment(server, client, policy_version=version, entries=1, number=11)
        operator = auth(server, OPERATOR)

        with server.client() as listener, _stream(listener, server, live.deployment_id) as r:
            sse = SSE(r)
            sse.wait_subscribed()
            first = raise_alert(server, client, live, entry=0)
            event = sse.next()
        assert event.event == "alert.raised"
        assert event.data["id"] == first and event.data["status"] == "raised"
        assert event.data["entry_id"] == live.entry_ids[0]
        assert set(event.data) >= {"camera_id", "similarity", "captured_at", "raised_at"}
        assert "name" not in event.data and "face_crop" not in event.data

        # Disconnected: these happen while nobody listens.
        ok(
            client.post(
                f"/alerts/{first}/adjudication",
                headers=operator,
                json={"decision": "match", "reason": "same face"},
            ),
            200,
        )
        raise_alert(server, client, elsewhere)  # another deployment: never on this stream
        second = raise_alert(server, client, live, entry=1)

        with (
            server.client() as listener,
            _stream(listener, server, live.deployment_id, last=event.id) as r,
        ):
            sse = SSE(r)
            missed = [sse.next(), sse.next()]
            with pytest.raises(httpx.ReadTimeout):
                sse.next()  # and nothing more
        assert [(e.event, e.data["id"]) for e in missed] == [
            ("alert.adjudicated", first),
            ("alert.raised", second),
        ]
        assert missed[0].data["decision"] == "match"
        assert missed[0].id > event.id and missed[1].id > missed[0].id


def test_alert_stream_refuses_unknown_deployment(server: Server) -> None:
    with server.client() as client:
        response = client.get(
            "/alerts/stream",
            params={"deployment_id": str(uuid.uuid4())},
            headers=server.headers("operator", "PC-1"),
        )
    assert response.status_code == 404 and is_problem(response)


OUTCOMES: list[dict[str, Any]] = [
    {"type": "arrest", "offences": ["failing to appear"], "reference": "CUST-1"},
    {"type": "compliance_check", "conditions": ["curfew"], "result": "complied"},
    {"type": "words_of_advice"},
    {"type": "no_further_action"},
    {"type": "not_located"},
    {"type": "other", "note": "referred to the local team"},
]


def test_alert_status_is_one_enum_through_post_stream_and_list(
    server: Server, version: str
) -> None:
    """The alert's state after each step reads the same in the POST reply, on the live stream
    and in the deployment's alert list, with every outcome type recorded while an operator
    listens; a reconnect with Last-Event-ID replays the whole history without dying."""
    with server.client() as client:
        # Entry 1 of a non-seed deployment is subject to a court order: every outcome fits it.
        live = live_deployment(server, client, policy_version=version, entries=2, number=12)
        operator, officer = auth(server, OPERATOR), server.headers("officer", "PC-4417")

        def listed(alert_id: str) -> str:
            alerts = ok(client.get(f"/deployments/{live.deployment_id}/alerts", headers=officer))
            return str(next(a["status"] for a in alerts["alerts"] if a["id"] == alert_id))

        with server.client() as listener, _stream(listener, server, live.deployment_id) as r:
            sse = SSE(r)
            sse.wait_subscribed()
            alert_id = raise_alert(server, client, live, entry=1)
            raised = sse.next()
            assert (raised.event, raised.data["status"], listed(alert_id)) == (
                "alert.raised",
                "raised",
                "raised",
            )
            steps: list[tuple[str, dict[str, Any], str]] = [
                ("adjudication", {"decision": "match", "reason": "same face"}, "adjudicated"),
                ("engagement", {"engaged": True, "confirmed": "true"}, "engagement_recorded"),
                *[("outcomes", body, "outcome_recorded") for body in OUTCOMES],
            ]
            seen = [raised]
            for route, body, state in steps:
                headers = operator if route == "adjudication" else officer
                reply = ok(client.post(f"/alerts/{alert_id}/{route}", headers=headers, json=body))
                event = sse.next()
                seen.append(event)
                assert (reply["status"], event.data["status"], listed(alert_id)) == (
                    state,
                    state,
                    state,
                ), route
                if body.get("type") == "arrest":
                    # The policy's evidential hold on arrest, recorded in the same save.
                    hold = sse.next()
                    assert hold.event == "alert.legal_hold_placed"
                    seen.append(hold)
            assert [o for o in seen[-1].data["outcomes"]] == [o["type"] for o in OUTCOMES]

        with (
            server.client() as listener,
            _stream(listener, server, live.deployment_id, last=raised.id - 1) as r,
        ):
            sse = SSE(r)
            replayed = [sse.next() for _ in seen]
        assert [(e.id, e.event, e.data["status"]) for e in replayed] == [
            (e.id, e.event, e.data["status"]) for e in seen
        ]


def test_an_oversized_header_is_a_problem_too(server: Server) -> None:
    """Issue 10, defect 4: uvicorn used to answer a header it cannot parse in plain text."""
    host, port = server.url.removeprefix("http://").split(":")
    # Headers that never end within uvicorn's limit: it refuses them before the app runs.
    start = f"GET /health HTTP/1.1\r\nHost: {host}\r\nX-Padding: {'a' * 200_000}".encode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        with contextlib.suppress(OSError):  # the server may close while we still send
            conn.sendall(start)
        reply = b""
        with contextlib.suppress(OSError):
            while chunk := conn.recv(65536):
                reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), reply[:300]
    assert b"content-type: application/problem+json" in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 400 and "could not be read as HTTP" in problem["detail"]
