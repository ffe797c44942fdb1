"""Every console page, as the people who use it see it: at each device they hold (the operator's
van laptop, the officer's phone, a desktop at the station), each page fits its window, passes
axe-core's audit with no serious or critical violation, loads nothing from beyond the server,
and is saved as a screenshot to look at.

One real Chromium against one real `lfr serve`, on a live deployment with photographs enrolled,
alerts pending and decided: pages with something on them, not empty shells. Bounded by count:
one visit per (page, role, device) in SWEEP below.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from lfr_ledger.api.demo.seed import AUTHORISING_OFFICER, OPERATOR
from lfr_ledger.matching.engines.model_packs import SFACE_MODEL_ID
from tests.e2e.browser import (
    DESKTOP,
    PHONE,
    VAN,
    Visit,
    accessibility_violations,
    horizontal_overflow,
)
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy, astronaut_jpeg, auth, live_deployment, ok, raise_alert

pytestmark = pytest.mark.timeout(300)

# (page, role, who, device name, viewport): every page at each device its users hold (the van
# laptop, the phone, the desktop), the planning page as the watchlist manager. Each page's own
# test file checks its devices with its forms and folded sections open (test_e2e_operator_van,
# _officer_phone, _planning_desk, _oversight_desk, _analyst_desk, _admin_desk); this sweep is
# one visit per page and device on one shared scene, so no page at no size slips through.
PEOPLE: dict[str, tuple[str, str]] = {
    "operator": ("operator", "PC-3381"),
    "officer": ("officer", "PC-4417"),
    "planning": ("watchlist_manager", "SGT-2210"),
    "oversight": ("oversight", "IOPC-0042"),
    "analyst": ("analyst", "ANL-0101"),
    "admin": ("admin", "ADM-001"),
}
DEVICES: dict[str, dict[str, int]] = {"van": VAN, "phone": PHONE, "desktop": DESKTOP}
SWEEP: tuple[tuple[str, str, str, str, dict[str, int]], ...] = tuple(
    (page, *PEOPLE[page], device, viewport)
    for page in PEOPLE
    for device, viewport in DEVICES.items()
)


@pytest.fixture(scope="module")
def scene(server: Server) -> Iterator[Any]:
    """A live deployment with a photograph per entry, three alerts: one decided, two pending."""
    with server.client() as client:
        version = adopt_policy(server, client)
        live = live_deployment(
            server, client, policy_version=version, image=astronaut_jpeg(), model_id=SFACE_MODEL_ID
        )
        alerts = [raise_alert(server, client, live, entry=i % 2) for i in range(3)]
        ok(
            client.post(
                f"/alerts/{alerts[0]}/adjudication",
                headers=auth(server, OPERATOR),
                json={"decision": "match", "reason": "Same face, same scar"},
            ),
            200,
        )
        yield live


def settled(page: Page, *, quiet_ms: int = 600, limit_s: float = 15.0) -> None:
    """Waits until the page's main content has stopped changing (its scripts have drawn what
    they fetched); a page that keeps a stream open never goes network-idle."""
    page.wait_for_load_state("load")
    deadline = time.monotonic() + limit_s
    last, since = "", time.monotonic()
    while time.monotonic() < deadline:
        now = page.evaluate("document.querySelector('main')?.innerHTML.length + ':' + location")
        if now != last:
            last, since = now, time.monotonic()
        elif (time.monotonic() - since) * 1000 >= quiet_ms:
            return
        page.wait_for_timeout(100)


@pytest.mark.parametrize(
    ("page_name", "role", "who", "device", "viewport"),
    SWEEP,
    ids=[f"{p}-{r}-{d}" for p, r, _, d, _ in SWEEP],
)
def test_each_page_fits_its_device_and_passes_an_accessibility_audit(
    browser: Browser,
    server: Server,
    scene: Any,
    page_name: str,
    role: str,
    who: str,
    device: str,
    viewport: dict[str, int],
) -> None:
    phone = viewport is PHONE
    visit = Visit(browser, server, viewport=viewport, is_mobile=phone, has_touch=phone)
    try:
        claims = {"rank": "superintendent"} if role == "authorising_officer" else {}
        page = visit.sign_in(role, who, **claims)
        page.goto(f"{server.url}/console/{page_name}")
        settled(page)
        visit.screenshot(f"sweep-{page_name}-{role}-{device}")
        assert page.title(), "every page has a title"
        assert horizontal_overflow(page) == 0, f"{page_name} is wider than the {device}"
        assert accessibility_violations(page) == []
        assert visit.foreign_requests() == []
        assert visit.script_errors == []
    finally:
        visit.close()


@pytest.mark.parametrize(
    ("path", "device", "viewport"),
    [
        ("/console/sign-in", "phone", PHONE),
        ("/console/sign-in", "van", VAN),
        ("/public", "phone", PHONE),
        ("/public", "desktop", DESKTOP),
    ],
)
def test_the_pages_anyone_may_open_fit_and_pass_the_audit(
    browser: Browser,
    server: Server,
    scene: Any,
    path: str,
    device: str,
    viewport: dict[str, int],
) -> None:
    phone = viewport is PHONE
    visit = Visit(browser, server, viewport=viewport, is_mobile=phone, has_touch=phone)
    try:
        visit.page.goto(f"{server.url}{path}")
        settled(visit.page)
        visit.screenshot(f"sweep-{path.strip('/').replace('/', '-')}-{device}")
        assert horizontal_overflow(visit.page) == 0
        assert accessibility_violations(visit.page) == []
        assert visit.foreign_requests() == []
    finally:
        visit.close()


def test_a_request_from_the_wrong_role_is_refused_the_page(server: Server, scene: Any) -> None:
    """The sweep's pages are each one role's: the analyst asking the operator's page is told so."""
    with httpx.Client(base_url=server.url) as client:
        response = client.get(
            "/console/operator",
            headers={**auth(server, AUTHORISING_OFFICER), "Accept": "text/html"},
        )
    assert response.status_code == 403


def test_the_audit_itself_finds_a_serious_violation_when_one_is_there(
    browser: Browser, server: Server
) -> None:
    """The harness is not vacuous: a button with no name on the sign-in page is reported."""
    visit = Visit(browser, server, viewport=VAN)
    try:
        visit.page.goto(f"{server.url}/console/sign-in")
        assert accessibility_violations(visit.page) == []
        visit.page.evaluate(
            "document.querySelector('main').append(document.createElement('button'))"
        )
        found = accessibility_violations(visit.page)
        assert any("button-name" in line for line in found), found
        visit.page.evaluate("document.body.style.minWidth = '2000px'")
        assert horizontal_overflow(visit.page) > 0
    finally:
        visit.close()
