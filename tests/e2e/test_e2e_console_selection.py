"""The planning page shows the deployment chosen, never one whose answer arrived late.

The flaky console test of issue 23 (item 6) was this race, not the ledger: a planning page
opens on the open deployment with the latest window and asks for its facts and watchlist; the
test then chooses its own deployment, which asks again, and when the first answers landed last
the page drew the other deployment's watchlist under the chosen one. In the whole module the
other deployment is the one `test_a_bad_field_shows_the_apis_message_beside_it` left with one
entry: the watchlist manager's "1 row" was that entry, seen before the enrolment (a face to
embed, a second or so) was recorded, so the test's own `GET …/watchlist` found none; alone,
the other is the scene's two-entry deployment, and the authorising officer's page showed 2
rows. Here Playwright holds the first answers until the chosen deployment is on the page, then
lets them go: the order that happened by chance, every time. A real Chromium against a real
`lfr serve`; the held requests reach the server unchanged.
"""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import Browser, Route, expect

from lfr_ledger.api.demo.sample_deployment import AUTHORITY
from lfr_ledger.api.demo.seed import AUTHORISING_OFFICER, PLANNER
from tests.e2e.browser import Visit
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy, auth, deployment_body, live_deployment, ok, open_operation

pytestmark = pytest.mark.timeout(120)
DESK = {"width": 1280, "height": 900}


def empty_authorised_deployment(server: Server, client: httpx.Client, version: str) -> str:
    operation = open_operation(server, client, "Operation Late Answers")
    body = deployment_body(operation, version, location_name="Sheep Street", town="Wellingborough")
    deployment_id = str(
        ok(client.post("/deployments", headers=auth(server, PLANNER), json=body))["id"]
    )
    ok(
        client.post(
            f"/deployments/{deployment_id}/authorisation",
            headers=auth(server, AUTHORISING_OFFICER),
            json={"authority_ref": "AUTH-LFR-2025-501", **AUTHORITY},
        )
    )
    return deployment_id


def test_a_late_answer_for_the_deployment_first_shown_does_not_replace_the_one_chosen(
    browser: Browser, server: Server, client: httpx.Client
) -> None:
    version = adopt_policy(server, client)
    chosen = empty_authorised_deployment(server, client, version)
    time.sleep(1.1)  # the other deployment's window opens later: the page opens on it
    other = live_deployment(
        server, client, policy_version=version, entries=2, town="Kettering", start=False
    ).deployment_id
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    manager = Visit(browser, server, viewport=DESK)
    page = manager.page
    page.route(
        lambda url: url.endswith((f"/deployments/{other}", f"/deployments/{other}/watchlist")),
        hold,
    )
    manager.sign_in("watchlist_manager", "SGT-5001", rank="sergeant")
    for _ in range(200):
        if len(held) == 2:
            break
        page.wait_for_timeout(50)
    assert len(held) == 2, "the page opens on the other deployment and asks for it"
    expect(page.locator("#deployment")).to_have_value(other)

    page.locator("#deployment").select_option(chosen)
    expect(page.locator("#deployment-facts")).to_contain_text("Wellingborough")
    expect(page.locator("#watchlist")).to_contain_text("No entries yet.")

    for route in held:
        with page.expect_response(lambda r, url=route.request.url: r.url == url):
            route.continue_()
    page.wait_for_timeout(500)  # time enough for the late answers' handlers to run
    expect(page.locator("#watchlist tbody tr")).to_have_count(0)
    expect(page.locator("#watchlist")).to_contain_text("No entries yet.")
    expect(page.locator("#deployment-facts")).to_contain_text("Wellingborough")
    expect(page.locator("#deployment-facts")).not_to_contain_text("Kettering")
    assert manager.script_errors == []
    manager.close()
