"""Issue 24 in the browser: a planner closes an operation from the planning page; the ledger
records it once, the operation leaves the list of open ones, and a second close is refused."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

from lfr_ledger.api.demo.seed import PLANNER
from tests.e2e.browser import Visit
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy, auth, ok

pytestmark = pytest.mark.timeout(300)


def test_a_planner_closes_an_operation_from_the_planning_page(
    browser: Browser, server: Server, client: httpx.Client
) -> None:
    adopt_policy(server, client)
    body = {"name": "Operation To Close", "force": "northamptonshire", "purpose": "town centre"}
    operation_id = ok(client.post("/operations", headers=auth(server, PLANNER), json=body), 201)[
        "id"
    ]
    visit = Visit(browser, server, viewport={"width": 1280, "height": 900})
    page = visit.sign_in("planner", PLANNER.id, rank="inspector")
    page.locator("#operations-panel summary").click()  # folded below the planner's proposals
    close = page.locator("#close-operation")
    expect(close.get_by_label("Open operation")).to_contain_text("Operation To Close")
    close.get_by_label("Open operation").select_option(operation_id)
    close.get_by_role("button", name="Close operation").click()
    expect(page.locator("#toast")).to_contain_text("Operation closed", timeout=5000)
    expect(close.get_by_label("Open operation")).not_to_contain_text("Operation To Close")
    # Nor can a deployment be proposed in it from the page any more.
    expect(page.locator("#propose-operation_id")).not_to_contain_text("Operation To Close")
    listed = ok(client.get("/operations", headers=auth(server, PLANNER)))["operations"]
    (shown,) = [o for o in listed if o["operation_id"] == operation_id]
    assert shown["status"] == "closed"
    again = client.post(f"/operations/{operation_id}/close", headers=auth(server, PLANNER))
    assert again.status_code == 409
    visit.screenshot("planner-close-operation")
    assert visit.script_errors == []
    visit.close()
