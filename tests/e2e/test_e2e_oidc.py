"""OpenID Connect sign-in against a real, certified OpenID Provider (`oidc-provider` from npm,
`tests/e2e/oidc_provider.py`), in a real Chromium, with a real `lfr serve`.

The browser signs in through the provider's own login page; the provider's tokens reach the
API as a force's API client would get them. The provider is restarted with a rotated key set
to show that the ledger picks the new key up without a restart. Nothing is mocked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.browser import ARTIFACTS, PHONE, Visit, accessibility_violations
from tests.e2e.conftest import Server, free_port, start_server, stop_server
from tests.e2e.oidc_provider import (
    API_AUDIENCE,
    RealProvider,
    ledger_mapping,
    node_modules_ready,
    signing_key,
)

pytestmark = pytest.mark.timeout(180)

OPERATOR = "op-3381"  # the provider's login name; the ledger records the staff number
NO_ROLE = "hr-4410"
TWO_ROLES = "sgt-5120"
ACCOUNTS = {
    TWO_ROLES: {"employee_id": "PS-5120", "groups": ["lfr-officers", "lfr-operators"]},
    OPERATOR: {"employee_id": "PC-3381", "groups": ["lfr-operators", "all-staff"]},
    NO_ROLE: {"employee_id": "PS-4410", "groups": ["all-staff", "hr"]},
}
LOOPBACK = ("http://127.0.0.1:", "http://localhost:")


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealProvider]:
    node_modules_ready()
    work = tmp_path_factory.mktemp("oidc")
    lfr_port = free_port()
    found = RealProvider(free_port(), f"http://127.0.0.1:{lfr_port}", work, ACCOUNTS)
    found.start([signing_key("key-1")])
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture(scope="module")
def server(provider: RealProvider) -> Iterator[Server]:
    mapping = provider.work / "oidc.toml"
    mapping.write_text(ledger_mapping(provider))
    srv = start_server(
        provider.work / "var",
        port=int(provider.lfr_url.rsplit(":", 1)[1]),
        extra_env={
            "LFR_OIDC_CONFIG": str(mapping),
            "LFR_TEST_OIDC_SECRET": provider.console_secret,
        },
    )
    try:
        yield srv
    finally:
        stop_server(srv)
    log = srv.log()
    assert "Traceback" not in log, log
    # Nothing personal in the server's log: no staff number, no group, no token.
    for account in ACCOUNTS.values():
        assert account["employee_id"] not in log
    assert "eyJ" not in log


def _stay_on_loopback(route: Route) -> None:
    # The provider's stock pages import a web font; nothing may leave the machine.
    if route.request.url.startswith(LOOPBACK):
        route.continue_()
    else:
        route.abort()


def visit(browser: Browser, server: Server) -> Visit:
    seen = Visit(browser, server, viewport=PHONE)
    seen.context.route("**/*", _stay_on_loopback)
    return seen


def sign_in_with_provider(page: Page, server: Server, login: str, shot: str | None = None) -> None:
    page.goto(f"{server.url}/console/sign-in")
    if shot:
        page.screenshot(path=str(ARTIFACTS / "oidc-sign-in-phone.png"), full_page=True)
    page.get_by_role("link", name="Sign in with Test Force sign-in").click()
    page.wait_for_url("http://localhost:*/interaction/*")
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password: the provider's dev login")
    page.get_by_role("button", name="Sign-in").click()


def session_works(server: Server, sid: str) -> int:
    with server.client(cookies={"lfr_session": sid}) as client:
        return client.get("/policy", headers={"Accept": "application/json"}).status_code


def test_an_operator_signs_in_with_the_provider_and_out_through_it(
    browser: Browser, server: Server, provider: RealProvider
) -> None:
    seen = visit(browser, server)
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "oidc-provider-login-phone.png"
        sign_in_with_provider(seen.page, server, OPERATOR, shot=str(shot))
        assert shot.stat().st_size > 0
        # The callback answers with a page whose refresh is a same-site navigation: the
        # SameSite=Strict session cookie goes with it, and the operator's page opens.
        seen.page.wait_for_url(f"{server.url}/console/operator")
        expect(seen.page.locator("header .who")).to_contain_text("PC-3381")
        expect(seen.page.locator("header .who")).to_contain_text("operator")
        cookies = {c["name"]: c for c in seen.context.cookies(server.url)}
        session = cookies["lfr_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert "lfr_oidc_flow" not in cookies  # the flow's cookie is spent
        assert session_works(server, session["value"]) == 200
        assert seen.script_errors == []

        # Sign-out ends the session here and at the provider (RP-initiated logout).
        seen.page.get_by_role("button", name="Sign out").click()
        seen.page.wait_for_url("http://localhost:*/session/end*")
        seen.page.get_by_role("button", name="Yes, sign me out").click()
        seen.page.wait_for_url(f"{server.url}/console/sign-in")
        assert session_works(server, session["value"]) == 401
        # The provider's session ended too: signing in again asks for the login once more.
        seen.page.get_by_role("link", name="Sign in with Test Force sign-in").click()
        seen.page.wait_for_url("http://localhost:*/interaction/*")
        expect(seen.page.locator("input[name=login]")).to_be_visible()
    finally:
        seen.close()


def test_a_person_whose_groups_map_to_no_role_is_refused_readably(
    browser: Browser, server: Server
) -> None:
    seen = visit(browser, server)
    try:
        statuses: list[int] = []
        seen.page.on(
            "response",
            lambda r: statuses.append(r.status) if "/console/oidc/callback" in r.url else None,
        )
        sign_in_with_provider(seen.page, server, NO_ROLE)
        seen.page.wait_for_url(f"{server.url}/console/oidc/callback*")
        refusal = seen.page.locator("#sign-in-refused")
        expect(refusal).to_contain_text("Your account has no role in the ledger")
        expect(refusal).to_contain_text("ask your LFR lead to add you to the right group")
        assert statuses == [403]
        assert refusal.get_attribute("data-kind") == "oidc-no-role"
        names = {c["name"] for c in seen.context.cookies(server.url)}
        assert "lfr_session" not in names
        assert accessibility_violations(seen.page) == []
        seen.screenshot("oidc-refused-no-role-phone")
        # Nothing personal on the page: not the staff number the provider sent.
        assert "PS-4410" not in seen.page.content()
    finally:
        seen.close()


def test_a_person_with_two_roles_chooses_one_and_passes_through_the_provider(
    browser: Browser, server: Server
) -> None:
    seen = visit(browser, server)
    try:
        sign_in_with_provider(seen.page, server, TWO_ROLES)
        expect(seen.page.locator("#sign-in-refused")).to_contain_text("Choose the role")
        assert "lfr_session" not in {c["name"] for c in seen.context.cookies(server.url)}
        assert accessibility_violations(seen.page) == []
        seen.screenshot("oidc-choose-role-phone")
        # The provider's session is open: no login form this time.
        seen.page.get_by_role("link", name="Sign in as officer").click()
        seen.page.wait_for_url(f"{server.url}/console/officer")
        expect(seen.page.locator("header .who")).to_contain_text("PS-5120")
        expect(seen.page.locator("header .who")).to_contain_text("officer")
    finally:
        seen.close()


def _forged(issuer: str, audience: str, kid: str = "forged-1") -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": "someone",
        "employee_id": "PC-9999",
        "groups": ["lfr-operators"],
        "iat": now,
        "exp": now + 300,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _policy(server: Server, token: str) -> httpx.Response:
    with server.client() as client:
        return client.get("/policy", headers={"Authorization": f"Bearer {token}"})


def test_the_providers_access_tokens_are_bearer_tokens_and_no_other_issuers(
    server: Server, provider: RealProvider
) -> None:
    tokens = provider.api_tokens(OPERATOR)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] == API_AUDIENCE
    assert _policy(server, tokens["access_token"]).status_code == 200
    # The ID token is meant for the client, not for the API.
    wrong_audience = _policy(server, tokens["id_token"])
    assert wrong_audience.status_code == 401
    assert f"not meant for '{API_AUDIENCE}'" in wrong_audience.json()["detail"]
    # Another issuer's token, whatever it claims.
    other = _policy(server, _forged("https://login.other-force.example", API_AUDIENCE))
    assert other.status_code == 401
    assert "issued neither by" in other.json()["detail"]
    # A token naming our issuer but signed with a key it never published.
    forged = _policy(server, _forged(provider.issuer, API_AUDIENCE))
    assert forged.status_code == 401
    assert "which the provider does not publish" in forged.json()["detail"]
    # A person with no mapped group gets no API access either.
    no_role = _policy(server, provider.api_tokens(NO_ROLE)["access_token"])
    assert no_role.status_code == 401
    assert "map to no role" in no_role.json()["detail"]
    # The embedded tokens (`lfr token`, the matchers') still verify beside the provider's.
    assert _policy(server, server.token("operator", "PC-1001")).status_code == 200


def test_a_rotated_provider_key_is_picked_up_without_restarting_the_ledger(
    browser: Browser, server: Server, provider: RealProvider
) -> None:
    before = provider.api_tokens(OPERATOR)["access_token"]
    assert _policy(server, before).status_code == 200
    provider.start([signing_key("key-2")])  # the old key withdrawn, a new one published
    time.sleep(1.1)  # the mapping lets the ledger fetch the keys again once a second
    after = provider.api_tokens(OPERATOR)["access_token"]
    assert jwt.get_unverified_header(after)["kid"] == "key-2"
    assert _policy(server, after).status_code == 200
    # Once fetched again, the withdrawn key no longer verifies anything.
    withdrawn = _policy(server, before)
    assert withdrawn.status_code == 401
    assert "'key-1', which the provider does not publish" in withdrawn.json()["detail"]
    seen = visit(browser, server)
    try:
        sign_in_with_provider(seen.page, server, OPERATOR)
        seen.page.wait_for_url(f"{server.url}/console/operator")
        expect(seen.page.locator("header .who")).to_contain_text("PC-3381")
    finally:
        seen.close()
