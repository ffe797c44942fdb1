"""Issue 25, the planning page as its people use it: a planner, an authorising officer and a
watchlist manager, at the station's desktop (1920 x 1080) and on the van laptop (1366 x 768).

The policy's closed lists are choices, not free text (the options are the lists GET /policy
gives); a proposal recorded through the form is the deployment the page then shows; each form
shows only when the chosen deployment's state allows it, else a sentence says why; the page fits
its window at both sizes (tables scroll inside their own frame), passes axe-core's audit and is
saved as planning-*.png. One real Chromium against one real `lfr serve`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from lfr_ledger.api.demo.seed import OPERATOR, PLANNER
from tests.e2e.browser import (
    DESKTOP,
    VAN,
    Visit,
    accessibility_violations,
    horizontal_overflow,
)
from tests.e2e.conftest import Server
from tests.e2e.flows import (
    adopt_policy,
    auth,
    deployment_body,
    live_deployment,
    now,
    ok,
    open_operation,
    raise_alert,
)

pytestmark = pytest.mark.timeout(300)

PEOPLE = {
    "planner": ("INSP-7001", {"rank": "inspector"}),
    "authorising_officer": ("SUPT-7001", {"rank": "superintendent"}),
    "watchlist_manager": ("SGT-7001", {"rank": "sergeant"}),
}


@dataclass
class Desk:
    version: str
    ended: str
    live: str
    live_operation: str
    proposed: str


@pytest.fixture(scope="module")
def desk(server: Server) -> Iterator[Desk]:
    """One deployment of each state the forms turn on: ended (an alert decided), live, proposed."""
    with server.client() as client:
        version = adopt_policy(server, client)
        ended = live_deployment(server, client, policy_version=version, town="Corby")
        alert = raise_alert(server, client, ended)
        operator = auth(server, OPERATOR)
        decision = {"decision": "match", "reason": "same face"}
        ok(client.post(f"/alerts/{alert}/adjudication", headers=operator, json=decision), 200)
        ok(client.post(f"/deployments/{ended.deployment_id}/end", headers=operator), 200)
        live = live_deployment(server, client, policy_version=version, number=1, town="Kettering")
        operation = open_operation(server, client, "Operation Desk")
        body = deployment_body(operation, version, town="Wellingborough", number=2)
        proposed = ok(client.post("/deployments", headers=auth(server, PLANNER), json=body))["id"]
        yield Desk(version, ended.deployment_id, live.deployment_id, live.operation_id, proposed)


def open_as(browser: Browser, server: Server, role: str, viewport: dict[str, int]) -> Visit:
    visit = Visit(browser, server, viewport=viewport)
    sub, claims = PEOPLE[role]
    page = visit.sign_in(role, sub, **claims)
    expect(page.locator("#deployment-facts dl")).to_be_visible()
    return visit


def options(page: Page, selector: str) -> list[tuple[str, str]]:
    """A select's choices but its empty first one, as (value, words)."""
    return [
        (str(value), str(words).strip())
        for value, words in page.eval_on_selector_all(
            f"{selector} option", "os => os.map(o => [o.value, o.textContent])"
        )
        if value
    ]


def test_the_policys_closed_lists_are_choices_fed_by_get_policy(
    browser: Browser, server: Server, client: httpx.Client, desk: Desk
) -> None:
    policy = ok(client.get("/policy", headers=auth(server, PLANNER)))
    forces = [(f["code"], f["name"]) for f in policy["forces"]]

    planner = open_as(browser, server, "planner", DESKTOP)
    page = planner.page
    assert [v for v, _ in options(page, "#propose-location\\.location_type")] == policy[
        "location_types"
    ]
    assert ("town_centre", "Town centre") in options(page, "#propose-location\\.location_type")
    # Forces by name, their code as the value; the owner may also be "not known" (empty).
    assert options(page, "#propose-controlling_force") == forces
    assert options(page, "#propose-equipment_owner_force") == forces
    assert options(page, "#operation-force") == forces
    boxes = page.locator("#propose-watchlist_categories input[type=checkbox]")
    assert boxes.evaluate_all("bs => bs.map(b => b.value)") == policy["watchlist_categories"]
    assert page.get_by_label("Wanted by the courts").count() == 1
    planner.close()

    officer = open_as(browser, server, "authorising_officer", DESKTOP)
    page = officer.page
    page.locator("#deployment").select_option(desk.ended)
    expect(page.locator("#complaint")).to_be_visible()
    assert [v for v, _ in options(page, "#complaint-channel")] == policy["complaint_channels"]
    courses = list(dict.fromkeys(t["course"] for t in policy["training"]))
    assert [v for v, _ in options(page, "#training-course")] == courses
    kinds = [v for v, _ in options(page, "#governance-kind")]
    assert kinds == [
        "dpia",
        "eia",
        "appropriate_policy_document",
        "equality_evidence",
        "model_evaluation",
    ]
    officer.close()

    # The watchlist manager enrols only in the categories the chosen deployment is authorised for.
    manager = open_as(browser, server, "watchlist_manager", DESKTOP)
    page = manager.page
    page.locator("#deployment").select_option(desk.proposed)
    chosen = ok(client.get(f"/deployments/{desk.proposed}", headers=auth(server, PLANNER)))
    expect(page.locator("#enrol-category option")).to_have_count(
        1 + len(chosen["watchlist_categories"])
    )
    assert [v for v, _ in options(page, "#enrol-category")] == chosen["watchlist_categories"]
    assert manager.script_errors == []
    manager.close()


def test_a_proposal_recorded_through_the_form_is_then_the_deployment_shown(
    browser: Browser, server: Server, client: httpx.Client, desk: Desk
) -> None:
    visit = open_as(browser, server, "planner", VAN)
    page = visit.page
    before = page.locator("#deployment").input_value()
    propose = page.locator("#propose")
    # A summer window, typed in UK time (BST, an hour ahead of UTC): sent as the UTC instant.
    year = now().year + 1
    fields = {
        "Place": "Market Square",
        "Town": "Daventry",
        "Window opens (UK time)": f"{year}-07-01T10:00",
        "Window closes (UK time)": f"{year}-07-01T14:00",
        "Purpose": "Locate wanted people",
        "Intelligence case": "NN-IC-2025-777",
        "Cameras (one per line: id, then name)": "cam-1 Van mast camera",
        "DPIA reference": "DPIA-LFR-2025-03",
        "Equality impact assessment reference": "EIA-LFR-2025-03",
        "How the public is told": "signage and the force's website",
        "Issued at (UK time)": f"{year}-06-20T09:00",
    }
    for name, value in fields.items():
        propose.get_by_label(name, exact=True).fill(value)
    propose.get_by_label("Type of location").select_option("town_centre")
    propose.get_by_label("Wanted by the courts").check()
    propose.get_by_label("Controlling force").select_option(label="Northamptonshire Police")
    propose.get_by_label("Force owning the equipment").select_option("northamptonshire")
    expect(propose.get_by_label("Policy reference", exact=True)).to_have_value(desk.version)
    propose.get_by_role("button", name="Propose deployment").click()
    expect(page.locator("#toast")).to_contain_text("recorded", timeout=10000)

    (mine,) = [
        d
        for d in ok(client.get("/deployments", headers=auth(server, PLANNER)))["deployments"]
        if d["town"] == "Daventry"
    ]
    expect(page.locator("#deployment")).to_have_value(mine["deployment_id"])
    assert mine["deployment_id"] != before
    expect(page.locator("#deployment-facts")).to_contain_text("Market Square, Daventry")
    expect(page.locator("#deployment-facts")).to_contain_text("Proposed")
    expect(page.locator("#next-step")).to_contain_text("awaiting an authorising officer")
    state = ok(client.get(f"/deployments/{mine['deployment_id']}", headers=auth(server, PLANNER)))
    start = datetime.fromisoformat(state["starts_at"].replace("Z", "+00:00"))
    assert start == datetime(year, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert state["watchlist_categories"] == ["wanted_by_courts"]
    visit.screenshot("planning-planner-proposed")
    assert visit.script_errors == []
    visit.close()


def test_each_form_shows_only_when_the_deployments_state_allows_it(
    browser: Browser, server: Server, desk: Desk
) -> None:
    visit = open_as(browser, server, "authorising_officer", VAN)
    page = visit.page
    authorise = page.locator('[data-task="authorise"]')
    review = page.locator('[data-task="post-review"]')

    page.locator("#deployment").select_option(desk.proposed)
    expect(page.locator("#authorise")).to_be_visible()
    expect(authorise.locator(".why")).to_be_hidden()
    expect(page.locator("#post-review")).to_be_hidden()
    expect(review.locator(".why")).to_contain_text("once the deployment has ended")
    # What can be done now comes first on the page.
    first = page.locator(".work > *").first
    expect(first).to_have_attribute("data-task", "authorise")

    page.locator("#deployment").select_option(desk.ended)
    expect(page.locator("#authorise")).to_be_hidden()
    expect(page.locator("#refuse")).to_be_hidden()
    expect(authorise.locator(".why")).to_contain_text("authority is decided once")
    expect(page.locator("#watchlist-review")).to_be_hidden()
    expect(page.locator("#threshold")).to_be_hidden()
    expect(page.locator("#post-review")).to_be_visible()
    expect(page.locator("#publish")).to_be_visible()
    expect(page.locator(".work > *").first).to_have_attribute("data-task", "post-review")
    visit.screenshot("planning-authorising-officer-ended")

    page.locator("#deployment").select_option(desk.live)
    expect(page.locator("#threshold")).to_be_visible()
    expect(page.locator("#publish")).to_be_hidden()
    expect(page.locator("#watchlist-review")).to_be_hidden()
    # The filter: only the proposals awaiting a decision.
    page.get_by_label("Only proposals awaiting a decision").check()
    # The list is filled again for the filter: read it once it is, not the list before it (a
    # read at once failed under load, 2 runs of about 20).
    groups = page.locator("#deployment optgroup")
    expect(groups).to_have_count(1)
    expect(groups).to_have_attribute("label", "Proposed")
    expect(page.locator("#deployment option")).not_to_have_count(0)
    assert visit.script_errors == []
    visit.close()

    manager = open_as(browser, server, "watchlist_manager", VAN)
    page = manager.page
    page.locator("#deployment").select_option(desk.live)
    expect(page.locator("#enrol")).to_be_hidden()
    expect(page.locator('[data-task="enrol"] .why')).to_contain_text("frozen")
    expect(page.locator("#reconfirm")).to_be_visible()
    page.locator("#deployment").select_option(desk.ended)
    expect(page.locator("#reconfirm")).to_be_hidden()
    page.locator("#deployment").select_option(desk.proposed)
    expect(page.locator("#enrol")).to_be_visible()
    manager.close()

    # An operation is closed only when none of its deployments runs: it is shown, not offered.
    planner = open_as(browser, server, "planner", VAN)
    page = planner.page
    page.locator("#operations-panel summary").click()
    running = page.locator(f'#close-operation-id option[value="{desk.live_operation}"]')
    expect(running).to_be_disabled()
    expect(running).to_contain_text("running")
    # The planner's "Publish" is there only for an ended deployment.
    expect(page.locator('[data-task="publish"]')).to_be_hidden()
    page.locator("#deployment").select_option(desk.ended)
    expect(page.locator("#publish")).to_be_visible()
    planner.close()


@pytest.mark.parametrize("role", list(PEOPLE))
@pytest.mark.parametrize(("device", "viewport"), [("van", VAN), ("desktop", DESKTOP)])
def test_the_page_fits_the_window_and_passes_the_audit(
    browser: Browser, server: Server, desk: Desk, role: str, device: str, viewport: Any
) -> None:
    visit = open_as(browser, server, role, viewport)
    page = visit.page
    chosen = desk.ended if role == "authorising_officer" else desk.live
    page.locator("#deployment").select_option(chosen)
    if role != "planner":  # the planner's page has no watchlist
        expect(page.locator("#watchlist tbody tr")).to_have_count(2)
    # Every folded part open: the widest and longest the page gets.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.wait_for_load_state("networkidle")
    assert horizontal_overflow(page) == 0
    # The way into an entry is on screen, not cut off at the right (issue 25: at 1280 px the
    # "Open entry" column was lost).
    for button in page.get_by_role("button", name="Open entry").all():
        box = button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= viewport["width"]
    assert accessibility_violations(page) == []
    # Keyboard: the first thing a Tab reaches in the tasks has a visible focus ring.
    page.locator("#deployment").focus()
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    visit.screenshot(f"planning-{role.replace('_', '-')}-{device}")
    assert visit.script_errors == []
    visit.close()
