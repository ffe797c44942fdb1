"""The console's sign-in and its defences, over HTTP against a real `lfr serve`: the cookie's
flags, CSRF on every change, the pages' refusals, the security headers, and no token or
sign-in code in the server's log."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lfr_ledger.api.auth import SESSION_COOKIE
from lfr_ledger.api.console.sessions import SessionStore
from tests.e2e.conftest import REPO, Server

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
NAVIGATION = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def browser_like(server: Server) -> Iterator[httpx.Client]:
    """A client that keeps cookies and asks for pages, as a browser would (no bearer token)."""
    with server.client(follow_redirects=False, headers=NAVIGATION) as c:
        yield c


def sign_in(client: httpx.Client, server: Server, role: str, sub: str, **claims: str) -> str:
    """Signs in with a pasted token; returns the session's CSRF token from the page."""
    reply = client.post(
        "/console/sign-in", json={"token": server.token(role, sub, **claims)}, headers=SAME_ORIGIN
    )
    assert reply.status_code == 200, reply.text
    page = client.get(reply.json()["next"])
    assert page.status_code == 200, page.text
    marker = 'name="csrf-token" content="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def test_the_session_cookie_is_httponly_and_strict(
    browser_like: httpx.Client, server: Server
) -> None:
    reply = browser_like.post(
        "/console/sign-in", json={"token": server.token("planner", "INSP-2001")}
    )
    assert reply.status_code == 200
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/" in cookie
    # The browser drops it when the token would have expired (60 minutes by default).
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 3500 < max_age <= 3600
    assert "Secure" not in cookie  # plain HTTP on loopback; under TLS the flag is set
    assert reply.json() == {
        "actor": "INSP-2001",
        "role": "planner",
        "next": "/console/planning",
        "expires_at": pytest.approx(reply.json()["expires_at"]),
    }


def test_every_change_made_with_the_session_needs_its_csrf_token(
    browser_like: httpx.Client, server: Server
) -> None:
    csrf = sign_in(browser_like, server, "planner", "INSP-2002", rank="inspector")
    body = {"name": "Operation Cookie", "force": "Northamptonshire Police", "purpose": "Test"}
    assert browser_like.get("/operations").status_code == 200  # reads need no token
    for headers in (
        {},
        {"X-CSRF-Token": "guess"},
        {"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
        {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"},
        {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-site"},
    ):
        refused = browser_like.post("/operations", json=body, headers=headers)
        assert refused.status_code == 403, headers
        assert refused.headers["content-type"].startswith("application/problem+json")
    names = [o["name"] for o in browser_like.get("/operations").json()["operations"]]
    assert "Operation Cookie" not in names
    done = browser_like.post(
        "/operations", json=body, headers={"X-CSRF-Token": csrf, **SAME_ORIGIN}
    )
    assert done.status_code == 201, done.text


def test_signing_out_ends_the_session(browser_like: httpx.Client, server: Server) -> None:
    csrf = sign_in(browser_like, server, "analyst", "AN-2001")
    old = browser_like.cookies[SESSION_COOKIE]
    out = browser_like.post("/console/sign-out", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    with server.client(follow_redirects=False, headers=NAVIGATION) as replay:
        replay.cookies.set(SESSION_COOKIE, old)
        assert replay.get("/publication/deployments").status_code == 401
        page = replay.get("/console/analyst")
        assert page.status_code == 303 and page.headers["location"] == "/console/sign-in"


def test_pages_refuse_other_roles_as_pages(browser_like: httpx.Client, server: Server) -> None:
    assert browser_like.get("/console/operator").headers["location"] == "/console/sign-in"
    sign_in(browser_like, server, "analyst", "AN-2002")
    for path in ("/console/operator", "/console/officer", "/console/oversight"):
        page = browser_like.get(path)
        assert page.status_code == 403
        assert page.headers["content-type"].startswith("text/html")
        assert "GET " + path in page.text and "analyst" in page.text
    assert browser_like.get("/console").headers["location"] == "/console/analyst"
    # An API client asking the same page gets problem details, not a page.
    api_like = browser_like.get("/console/operator", headers={"Accept": "application/json"})
    assert api_like.status_code == 403
    assert api_like.headers["content-type"].startswith("application/problem+json")


def test_a_matcher_account_and_a_bad_token_get_no_session(
    browser_like: httpx.Client, server: Server
) -> None:
    matcher = server.token("matcher", "van-1", deployment_id="d-1")
    refused = browser_like.post("/console/sign-in", json={"token": matcher})
    assert refused.status_code == 403 and "matcher" in refused.json()["detail"]
    bad = browser_like.post("/console/sign-in", json={"token": "not.a.token"})
    assert bad.status_code == 401
    assert SESSION_COOKIE not in browser_like.cookies
    cross = browser_like.post(
        "/console/sign-in",
        json={"token": server.token("analyst", "AN-2003")},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403 and SESSION_COOKIE not in browser_like.cookies


def test_every_response_forbids_inline_script_and_framing(
    browser_like: httpx.Client, server: Server
) -> None:
    for path in ("/console/sign-in", "/console/static/console.js", "/health"):
        headers = browser_like.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
    page = browser_like.get("/console/sign-in").text
    assert (
        "<script>" not in page
        and "onclick" not in page
        and "http" not in page.split("<body>")[0].replace("http-equiv", "")
    )


def test_console_link_prints_a_one_time_link_and_no_token_reaches_the_log(
    browser_like: httpx.Client, server: Server
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    env["LFR_DATA_DIR"] = str(server.data_dir)
    lfr = str(Path(sys.executable).parent / "lfr")
    printed = subprocess.run(
        [lfr, "console-link", "--role", "oversight", "--sub", "OV-2001", "--url", server.url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    link = printed.stdout.strip()
    assert link.startswith(f"{server.url}/console/sign-in/") and "." not in link.rsplit("/")[-1]
    code = link.rsplit("/", 1)[-1]
    page = browser_like.get(link)
    assert page.status_code == 200 and code in page.text  # the form carries it; nothing used yet
    first = browser_like.post("/console/sign-in", json={"code": code})
    assert first.status_code == 200 and first.json()["next"] == "/console/oversight"
    again = browser_like.post("/console/sign-in", json={"code": code})
    assert again.status_code == 401 and "used already" in again.json()["detail"]
    token = server.token("analyst", "AN-2004")
    browser_like.post("/console/sign-in", json={"token": token})
    log = server.log()
    assert "GET /console/sign-in/{code} 200" in log  # the access log names the route only
    assert code not in log and token not in log and token.split(".")[1] not in log
    store = SessionStore(server.settings)
    try:
        assert store.take_link(code) is None
    finally:
        store.close()
