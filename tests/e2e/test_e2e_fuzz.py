"""Schemathesis against the served OpenAPI document: over a thousand generated requests with
valid tokens of a permitted role; no 5xx, every error is application/problem+json, and every
reply matches the schema the document declares for its status."""

from __future__ import annotations

from collections import Counter
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from lfr_ledger.api.guards import ACCESS, PUBLIC, route_key
from lfr_ledger.domain.actors import Role
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy, live_deployment, raise_alert

PROBLEM = "application/problem+json"
EXAMPLES = {"random": 16, "real": 16, "negative": 10}  # per operation


def _content_type(response: Any) -> str:
    # Schemathesis responses keep every header as a list of values.
    for name, values in response.headers.items():
        if name.lower() == "content-type":
            return str(values[0] if isinstance(values, list) else values)
    return ""


def _check(response: Any, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert _content_type(response).startswith(PROBLEM), (where, response.text)
        body = response.json()
        assert {"type", "title", "status", "detail"} <= set(body), (where, body)
        assert body["status"] == response.status_code
        assert "Traceback" not in response.text


def _fuzz(
    server: Server,
    session: requests.Session,
    sent: Counter[str],
    statuses: Counter[int],
    key: str,
    mode: str,
    token: str,
    strategy: Any,
    count: int,
    stream: bool,
) -> None:
    @hypothesis.settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        headers["Authorization"] = f"Bearer {token}"
        case.headers = headers
        try:
            response = case.call(base_url=server.url, session=session, timeout=3 if stream else 30)
        except requests.exceptions.ReadTimeout:
            assert stream, key  # a live stream that stays open is the right answer
            return
        except (requests.exceptions.InvalidHeader, UnicodeError, ValueError):
            return  # the client could not even send it (a header that is not latin-1, ...)
        sent[key] += 1
        statuses[response.status_code] += 1
        _check(response, f"{key} [{mode}]")
        if not stream:
            # The reply matches the schema the OpenAPI document declares for its status.
            case.validate_response(response, checks=[response_schema_conformance])

    run()


@pytest.mark.slow
def test_fuzz_openapi(server: Server) -> None:
    with server.client() as client:
        version = adopt_policy(server, client)
        live = live_deployment(server, client, policy_version=version, entries=2)
        alert_id = raise_alert(server, client, live)
    real = {
        "deployment_id": live.deployment_id,
        "operation_id": live.operation_id,
        "entry_id": live.entry_ids[0],
        "alert_id": alert_id,
    }
    schema = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json")
    session = requests.Session()
    sent: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    covered = {route_key(op.method, op.path) for op in operations}
    # The console's pages and sign-in, and `/` (which leads to them), are for browsers, not API
    # clients: not in the document.
    assert covered == {k for k in set(ACCESS) | PUBLIC if " /console" not in k and k != "GET /"}

    for op in operations:
        key = route_key(op.method, op.path)
        roles = sorted(ACCESS.get(key, {Role.ANALYST}))
        role = roles[0]
        claims = {"deployment_id": live.deployment_id} if role == Role.MATCHER else {}
        token = server.token(role.value, f"fuzz-{role.value}", **claims)
        is_stream = key.endswith("/stream")  # alerts and cameras (issue 25)
        params = {k: v for k, v in real.items() if "{" + k + "}" in op.path}

        for mode, count in EXAMPLES.items():
            if mode == "real" and (is_stream or not params):
                continue
            strategy = op.as_strategy(
                GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE,
                **({"path_parameters": params} if mode == "real" else {}),
            )

            _fuzz(server, session, sent, statuses, key, mode, token, strategy, count, is_stream)

    total = sum(sent.values())
    print(f"fuzz: {total} requests over {len(operations)} operations; statuses {dict(statuses)}")
    assert total >= 1000, (total, sent)
    assert "Traceback" not in server.log()


ROLE_EXAMPLES = 3  # per operation and role


@pytest.mark.slow
def test_every_role_on_every_route(server: Server) -> None:
    """Generated requests on every route with a token of every role: a role the table does not
    allow gets a 403 problem whatever it sends (authorisation comes first), a role it allows
    never a 5xx."""
    with server.client() as client:
        version = adopt_policy(server, client)
        live = live_deployment(server, client, policy_version=version, entries=1, number=30)
    schema = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json")
    session = requests.Session()
    refused: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    for op in (result.ok() for result in schema.get_all_operations()):
        key = route_key(op.method, op.path)
        if key in PUBLIC:
            continue
        allowed = ACCESS[key]
        strategy = op.as_strategy(GenerationMode.POSITIVE)
        for role in Role:
            claims = {"deployment_id": live.deployment_id} if role == Role.MATCHER else {}
            token = server.token(role.value, f"roles-{role.value}", **claims)
            statuses: Counter[int] = Counter()
            _fuzz(
                server,
                session,
                answered,
                statuses,
                key,
                role.value,
                token,
                strategy,
                ROLE_EXAMPLES,
                key.endswith("/stream"),
            )
            if role not in allowed:
                assert set(statuses) <= {403}, (key, role, statuses)
                refused[key] += sum(statuses.values())
    total = sum(answered.values())
    print(f"roles: {total} requests, {sum(refused.values())} refused by role as they must be")
    assert sum(refused.values()) >= 300, refused
    assert "Traceback" not in server.log()
