"""Every route x every role, against the real server: allowed, or 403 from the guard.

Generated from the one table in api/guards.py; real ids fill the path so routes resolve, and
bodies are empty so that a role the guard lets through is stopped by validation, not by luck.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from lfr_ledger.api.guards import ACCESS, PERSONAL_DATA, PUBLIC
from lfr_ledger.domain.actors import Role
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy, is_problem, live_deployment, raise_alert

FORBIDDEN = "urn:lfr-ledger:problem:forbidden"


@pytest.fixture(scope="module")
def ids(server: Server) -> dict[str, str]:
    with server.client() as client:
        version = adopt_policy(server, client)
        live = live_deployment(server, client, policy_version=version, entries=1)
        alert_id = raise_alert(server, client, live)
    return {
        "deployment_id": live.deployment_id,
        "operation_id": live.operation_id,
        "entry_id": live.entry_ids[0],
        "alert_id": alert_id,
        "index": "0",  # an alert's outcome, numbered from 0
        # No such grant: a role the guard admits gets a 404 from the ledger, not a 403.
        "grant_id": "00000000-0000-4000-8000-000000000023",
        # No such governance document either: a 404 for a role the guard admits.
        "document_id": "00000000-0000-4000-8000-000000000024",
        # Nor such a complaint, nor such a training record.
        "complaint_id": "00000000-0000-4000-8000-000000000025",
        "record_id": "00000000-0000-4000-8000-000000000026",
    }


def _cases() -> Iterator[tuple[str, Role]]:
    for key in sorted(ACCESS):
        for role in Role:
            yield key, role


def _send(
    server: Server, client: httpx.Client, key: str, role: Role | None, ids: dict[str, str]
) -> httpx.Response:
    method, template = key.split(" ", 1)
    path = template.format(**ids)
    headers = {"X-Purpose": "role matrix test"}
    if role is not None:
        claims = {"deployment_id": ids["deployment_id"]} if role == Role.MATCHER else {}
        headers |= server.headers(role.value, f"{role.value}-matrix", **claims)
    params = {"deployment_id": ids["deployment_id"]} if template == "/alerts/stream" else None
    if template.endswith("/stream"):  # the alerts' and the cameras' (issue 25)
        # A permitted subscriber gets a stream that never ends: read the status, then leave.
        with client.stream("GET", path, headers=headers, params=params) as response:
            if response.status_code != 200:
                response.read()
            return response
    if method == "POST":
        headers["Content-Type"] = "application/json"
        return client.post(path, headers=headers, content=b"{}")
    return client.get(path, headers=headers, params=params)


@pytest.mark.parametrize(("key", "role"), list(_cases()), ids=lambda v: str(v))
def test_role_matrix(
    server: Server, client: httpx.Client, ids: dict[str, str], key: str, role: Role
) -> None:
    response = _send(server, client, key, role, ids)
    assert response.status_code < 500
    if role in ACCESS[key]:
        assert response.status_code not in (401, 403) or (response.json()["type"] != FORBIDDEN), (
            response.text
        )
    else:
        assert response.status_code == 403, (key, role, response.text)
        assert is_problem(response)
        assert response.json()["type"] == FORBIDDEN


@pytest.mark.parametrize("key", sorted(ACCESS))
def test_every_route_but_public_needs_a_token(
    server: Server, client: httpx.Client, ids: dict[str, str], key: str
) -> None:
    response = _send(server, client, key, None, ids)
    assert response.status_code == 401
    assert is_problem(response)
    assert response.headers["www-authenticate"].startswith("Bearer")


# A public route's parameters, where its template is not a request of its own.
PUBLIC_EXAMPLES = {
    "GET /console/static/{file_path}": "/console/static/console.js",
    "GET /console/sign-in/{code}": "/console/sign-in/any-code",
}


def test_public_routes_answer_everyone(server: Server) -> None:
    with server.client() as client:
        for key in PUBLIC:
            method, path = key.split(" ", 1)
            response = client.request(method, PUBLIC_EXAMPLES.get(key, path))
            if key == "POST /console/sign-in":
                # Open to all, but it opens a session only for a verified token.
                assert response.status_code == 400 and is_problem(response), response.text
            else:
                # `/` leads a browser on to the console; a link nobody made is refused, in words;
                # so is OIDC sign-in on a ledger with no provider configured (api/oidc).
                expected = {
                    "GET /": 303,
                    "GET /console/sign-in/{code}": 404,
                    "GET /console/oidc/start": 404,
                    "GET /console/oidc/callback": 404,
                }.get(key, 200)
                assert response.status_code == expected, key


def test_table_keeps_the_principles() -> None:
    for key, roles in ACCESS.items():
        method = key.split(" ", 1)[0]
        if key in PERSONAL_DATA:
            assert Role.ANALYST not in roles and Role.MATCHER not in roles
            assert Role.ADMIN not in roles
        if method == "POST" and key != "POST /console/sign-out":  # ends a session, no data
            assert Role.ANALYST not in roles
            # Oversight writes no case data; it does log what it discloses (DPA 2018 s.62).
            if key != "POST /oversight/disclosures":
                assert Role.OVERSIGHT not in roles
        if Role.MATCHER in roles:
            # A matcher raises alerts and reports; it reads only what matching needs (its
            # deployment's terms and templates), through routes no person may call.
            assert roles == {Role.MATCHER}
            if method == "POST":
                assert key.endswith(("/alerts", "/faces-counted", "/heartbeat"))
            else:
                assert key.endswith(("/live-terms", "/watchlist/changes"))
    analyst_routes = {k for k, r in ACCESS.items() if Role.ANALYST in r}
    # Statistics only: summaries, publication records, score tables, period figures, the list
    # of operations; and the console's shells that show them (a page reads only these routes).
    assert all(
        k.endswith(
            ("/summary", "/publication/deployments", "/publication/deployments.csv", "/scores")
        )
        or k in {"GET /operations", "GET /statistics/period"}
        or k in {"GET /console", "GET /console/analyst", "POST /console/sign-out"}
        for k in analyst_routes
    )
