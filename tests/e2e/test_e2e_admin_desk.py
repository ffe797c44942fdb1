"""Issue 25 in the browser, for the administrator and at the door: the admin desk (retention
due, a dry run that writes nothing and then a run that does, each view's lag, the checkpoint's
age, a copy of the policy in force edited and adopted), the sign-in's words for a used, expired
or unknown link, and `/` leading to the console. Real Chromium, real `lfr serve`."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.console.sessions import SessionStore
from lfr_ledger.api.demo.seed import ADMIN, OPERATOR
from tests.e2e.browser import (
    DESKTOP,
    PHONE,
    VAN,
    Visit,
    accessibility_violations,
    horizontal_overflow,
)
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy, auth, is_problem, live_deployment, ok, raise_alert

pytestmark = pytest.mark.timeout(300)
NEW_VERSION = "LFR-POL-E2E-ADMIN"
ADMIN_ROUTES = ("/retention/due", "/projections", "/checkpoints/latest", "/policy/text")


def log_head(client: httpx.Client) -> int:
    """The log's last notification id, as the readiness probe reads it."""
    return int(client.get("/health/ready").json()["head"])


def fits(page: Page) -> None:
    assert horizontal_overflow(page) == 0
    assert accessibility_violations(page) == []


def test_the_admin_desk_edits_the_policy_and_runs_retention_after_a_dry_run(
    browser: Browser, server: Server, client: httpx.Client
) -> None:
    from lfr_ledger.eventlog.checkpoint import sign_if_moved

    version = adopt_policy(server, client)
    sign_if_moved(server.settings)  # the server's job signs each minute; one now, for the page
    visit = Visit(browser, server, viewport=DESKTOP)
    page = visit.sign_in("admin", ADMIN.id)
    assert page.url.endswith("/console/admin")  # the admin's home
    expect(page.locator("#checkpoint-age")).to_contain_text("The latest was signed")
    expect(page.locator("#checkpoint time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(page.locator("#views-table")).to_contain_text("Retention deadlines")
    expect(page.locator("#views")).to_contain_text("The log holds")
    expect(page.locator("#retention-due")).to_contain_text("Nothing is due")
    expect(page.locator("#policy-version")).to_have_text(version)

    # Edit a copy of the policy in force: its text, as GET /policy/text gives it.
    page.get_by_role("button", name="Edit a copy of the policy in force").click()
    editor = page.get_by_label("Policy file (TOML)", exact=False)
    expect(editor).to_be_focused()
    in_force = ok(client.get("/policy/text", headers=auth(server, ADMIN)), 200)
    assert (
        editor.input_value() == in_force["toml"].strip() or editor.input_value() == in_force["toml"]
    )
    expect(page.locator("#copy-of")).to_have_text(version)
    fits(page)
    visit.screenshot("admin-policy-copy-desktop")
    # Changed text under the same version: refused beside the editor, nothing in force changes.
    changed = in_force["toml"].replace("minimum_notice_hours = 24", "minimum_notice_hours = 12")
    assert changed != in_force["toml"]
    editor.fill(changed)
    page.get_by_role("button", name="Adopt this policy").click()
    expect(page.locator("#adopt .form-error")).to_contain_text("new version")
    assert ok(client.get("/policy", headers=auth(server, ADMIN)), 200)["version"] == version
    # A new version, with retention at once after the end (so something is due in this test).
    edited = (
        changed.replace(f'version = "{version}"', f'version = "{NEW_VERSION}"')
        .replace("watchlist_hours_after_end = 24", "watchlist_hours_after_end = 0")
        .replace("alert_image_days = 31", "alert_image_days = 0")
    )
    editor.fill(edited)
    page.get_by_role("button", name="Adopt this policy").click()
    expect(page.locator("#toast")).to_contain_text(f"Policy {NEW_VERSION} adopted")
    expect(page.locator("#policy-version")).to_have_text(NEW_VERSION)
    in_force = ok(client.get("/policy", headers=auth(server, ADMIN)), 200)
    assert in_force["version"] == NEW_VERSION and in_force["adopted"]
    text = ok(client.get("/policy/text", headers=auth(server, ADMIN)), 200)["toml"]
    assert "minimum_notice_hours = 12" in text

    # A deployment under it runs, raises an alert and ends: its watchlist and images are due.
    live = live_deployment(server, client, policy_version=NEW_VERSION, entries=2, number=25)
    alert = raise_alert(server, client, live)
    operator = auth(server, OPERATOR)
    decision = {"decision": "match", "reason": "same face"}
    ok(client.post(f"/alerts/{alert}/adjudication", headers=operator, json=decision), 200)
    ok(client.post(f"/deployments/{live.deployment_id}/end", headers=operator), 200)
    page.reload()
    due = page.locator("#retention-due")
    expect(due).to_contain_text("1 watchlist (2 entries)")
    expect(due).to_contain_text("1 alert image set")
    visit.screenshot("admin-due-desktop")

    # The dry run shows what would be destroyed and writes nothing.
    before = log_head(client)
    page.get_by_role("button", name="Check what a run would destroy").click()
    dry = page.locator("#dry-run-result")
    expect(dry).to_be_focused()
    expect(dry).to_contain_text("A run now would destroy")
    expect(dry).to_contain_text("1 watchlist (2 entries)")
    expect(dry).to_contain_text("Nothing was written")
    assert log_head(client) == before, "the dry run wrote to the log"
    still = ok(client.get("/retention/due", headers=auth(server, ADMIN)), 200)
    assert (still["watchlists"], still["alert_images"]) == (1, 1)
    fits(page)
    visit.screenshot("admin-dry-run-desktop")

    # Confirmed, it runs: the log grows by the erasures, and nothing is due any more.
    page.get_by_role("button", name="Destroy them now").click()
    done = page.locator("#run-result")
    expect(done).to_be_focused()
    expect(done).to_contain_text("Destroyed:")
    expect(done).to_contain_text("1 alert image set")
    expect(due).to_contain_text("Nothing is due")
    expect(page.locator("#last-destruction")).to_contain_text("Retention last destroyed")
    assert log_head(client) > before
    after = ok(client.get("/retention/due", headers=auth(server, ADMIN)), 200)
    assert (after["watchlists"], after["alert_images"]) == (0, 0)
    assert after["last_destruction_at"] is not None
    fits(page)
    visit.screenshot("admin-run-desktop")

    page.set_viewport_size(VAN)
    page.reload()
    expect(page.locator("#views-table")).to_be_visible()
    fits(page)
    visit.screenshot("admin-van")
    assert visit.script_errors == [] and visit.foreign_requests() == []
    visit.close()


def test_a_non_admin_is_refused_the_desk_and_its_routes(
    browser: Browser, server: Server, client: httpx.Client
) -> None:
    for role in ("operator", "planner", "oversight", "analyst"):
        for path in ADMIN_ROUTES:
            refused = client.get(path, headers=server.headers(role))
            assert refused.status_code == 403 and is_problem(refused), (role, path)
    visit = Visit(browser, server, viewport=VAN)
    page = visit.sign_in("operator", OPERATOR.id)
    response = page.goto(f"{server.url}/console/admin")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_contain_text("403")
    assert "Administration" not in page.locator("body").inner_text()
    fits(page)
    visit.screenshot("admin-refused-van")
    page.set_viewport_size(PHONE)
    fits(page)
    visit.close()


def _link(server: Server, role: str, sub: str, *, lifetime_seconds: int = 900) -> str:
    store = SessionStore(server.settings)
    try:
        token = issue_token(server.settings, role=role, sub=sub)
        return store.add_link(token, lifetime_seconds=lifetime_seconds)
    finally:
        store.close()


@pytest.mark.parametrize("viewport", [PHONE, VAN], ids=["phone", "van"])
def test_a_used_expired_or_unknown_link_says_so_at_once(
    browser: Browser, server: Server, viewport: dict[str, int]
) -> None:
    name = "phone" if viewport == PHONE else "van"
    visit = Visit(browser, server, viewport=viewport)
    page = visit.page
    code = _link(server, "analyst", "AN-2501")
    # Opened twice first (a chat preview, then the person): nothing is used by looking.
    for _ in range(2):
        page.goto(f"{server.url}/console/sign-in/{code}")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert page.locator("#link-refused").count() == 0
    fits(page)
    visit.screenshot(f"sign-in-link-{name}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)

    # Opened again after signing in: used.
    response = page.goto(f"{server.url}/console/sign-in/{code}")
    assert response is not None and response.status == 410
    refused = page.locator("#link-refused")
    expect(refused).to_contain_text("This sign-in link has been used")
    expect(refused).to_contain_text("each link signs in once")
    expect(refused).to_contain_text("lfr console-link")
    expect(refused.locator("time")).to_have_attribute("title", re.compile(r"\(UTC\)$"))
    expect(page.get_by_label("Bearer token")).to_be_visible()  # another way in, at hand
    fits(page)
    visit.screenshot(f"sign-in-used-{name}")

    expired = _link(server, "analyst", "AN-2502", lifetime_seconds=-60)
    response = page.goto(f"{server.url}/console/sign-in/{expired}")
    assert response is not None and response.status == 410
    expect(refused).to_contain_text("This sign-in link has expired")
    expect(refused).to_contain_text("It expired")
    fits(page)
    visit.screenshot(f"sign-in-expired-{name}")

    response = page.goto(f"{server.url}/console/sign-in/no-such-code-{name}")
    assert response is not None and response.status == 404
    expect(refused).to_contain_text("This sign-in link is not known")
    fits(page)
    visit.screenshot(f"sign-in-unknown-{name}")

    # A link used while its page stood open: the refusal beside the button, not a redirect.
    late = _link(server, "analyst", "AN-2503")
    page.goto(f"{server.url}/console/sign-in/{late}")
    store = SessionStore(server.settings)
    try:
        assert store.take_link(late) is not None
    finally:
        store.close()
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sign-in-link .form-error")).to_contain_text("used already")
    assert "/console/sign-in/" in page.url
    fits(page)

    page.goto(f"{server.url}/console/sign-in")
    fits(page)
    visit.screenshot(f"sign-in-{name}")
    assert visit.script_errors == []
    visit.close()


def test_root_leads_to_the_console(browser: Browser, server: Server) -> None:
    with server.client() as c:
        bare = c.get("/", headers={"Accept": "text/html"})
        assert bare.status_code == 303 and bare.headers["location"] == "/console"
        index = c.get("/", headers={"Accept": "application/json"})
        assert index.status_code == 200 and index.json()["console"] == "/console"
    visit = Visit(browser, server, viewport=VAN)
    visit.page.goto(f"{server.url}/")
    assert visit.page.url == f"{server.url}/console/sign-in"
    visit.sign_in("admin", ADMIN.id)
    visit.page.goto(f"{server.url}/")
    assert visit.page.url == f"{server.url}/console/admin"
    visit.close()
