"""The operator's page on the van's laptop (1366 x 768), in a real Chromium against a real
`lfr serve` (issue 25): the queue is the first thing on screen with both faces of the first
alert awaiting a decision in view, the keys the page's hint describes decide alert after alert,
a key on a decided alert says so and records nothing, the controls follow the deployment's
state, the decider's id survives a reload, and camera health arrives pushed, not polled.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from lfr_ledger.api.demo.seed import OPERATOR
from lfr_ledger.matching.engines.model_packs import SFACE_MODEL_ID
from tests.e2e.browser import VAN, Visit, accessibility_violations, horizontal_overflow
from tests.e2e.conftest import Server
from tests.e2e.flows import (
    Live,
    adopt_policy,
    astronaut_jpeg,
    auth,
    heartbeat_with_a_lost_source,
    live_deployment,
    matcher,
    now,
    ok,
)

pytestmark = pytest.mark.timeout(300)

PHOTO = astronaut_jpeg()
CROP = astronaut_jpeg(20, 220, 140, 320)


@pytest.fixture(scope="module")
def policy(server: Server, client: httpx.Client) -> str:
    return adopt_policy(server, client)


def deployment(server: Server, client: httpx.Client, policy: str, number: int) -> Live:
    """A live deployment of its own (its place named after `number`), entries with a photo."""
    return live_deployment(
        server,
        client,
        policy_version=policy,
        number=number,
        location_name=f"Gold Street {number}",
        image=PHOTO,
        model_id=SFACE_MODEL_ID,
    )


def alert(server: Server, client: httpx.Client, live: Live, similarity: float = 0.8) -> str:
    body = {
        "camera_id": "cam-1",
        "entry_id": live.entry_ids[0],
        "similarity": similarity,
        "captured_at": now().isoformat(),
        "face_crop": CROP,
    }
    response = client.post(
        f"/deployments/{live.deployment_id}/alerts",
        headers=auth(server, matcher(live.deployment_id)),
        json=body,
    )
    return str(ok(response, 201)["id"])


def decide(server: Server, client: httpx.Client, alert_id: str, operator: str) -> None:
    body = {"decision": "match", "reason": "Same face"}
    headers = server.headers("operator", operator)
    ok(client.post(f"/alerts/{alert_id}/adjudication", headers=headers, json=body), 200)


def decisions(server: Server, client: httpx.Client, live: Live) -> dict[str, tuple[Any, Any]]:
    """Each alert's decision and decider, as the ledger's alert list reads them."""
    rows = ok(
        client.get(f"/deployments/{live.deployment_id}/alerts", headers=auth(server, OPERATOR))
    )
    return {r["id"]: (r["decision"], r["adjudicated_by"]) for r in rows["alerts"]}


def open_page(visit: Visit, live: Live, operator: str) -> Page:
    page = visit.sign_in("operator", operator)
    page.locator("#deployment").select_option(live.deployment_id)
    expect(page.locator("#deployment-facts")).to_contain_text("Gold Street")
    expect(page.locator("#stream-state")).to_have_text("Live stream: live")
    return page


def fits(page: Page) -> None:
    assert horizontal_overflow(page) == 0
    assert accessibility_violations(page) == []


def test_the_first_pending_alerts_two_faces_are_on_the_first_screen(
    browser: Browser, server: Server, client: httpx.Client, policy: str
) -> None:
    live = deployment(server, client, policy, 41)
    decide(server, client, alert(server, client, live, 0.71), "PC-1001")  # older, decided
    pending = [alert(server, client, live, 0.7 + i / 100) for i in range(2)]
    visit = Visit(browser, server, viewport=VAN)
    page = open_page(visit, live, OPERATOR.id)
    first = page.locator(".alert-card.pending").first
    expect(first).to_have_attribute("data-alert-id", pending[-1])  # the newest comes first
    images = first.locator(".faces img")
    expect(images).to_have_count(2)
    for image in images.all():
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("i => i.naturalWidth") > 0
        box = image.bounding_box()
        assert box is not None
        # Whole, on the first screen, large enough to compare.
        assert box["x"] >= 0 and box["y"] >= 0, box
        assert box["x"] + box["width"] <= VAN["width"], box
        assert box["y"] + box["height"] <= VAN["height"], box
        assert box["width"] >= 240 and box["height"] >= 240, box
    assert page.evaluate("window.scrollY") == 0
    fits(page)
    visit.screenshot("operator-van-queue")

    # Enlarged by a click, then closed with Esc: the same images, loaded once.
    images.first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    large = dialog.locator("img")
    expect(large).to_have_count(2)
    assert (large.first.bounding_box() or {"width": 0})["width"] > 400
    assert accessibility_violations(page) == []
    visit.screenshot("operator-van-enlarged")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(first.locator(".faces img")).to_have_count(2)
    # ... and by the key the hint names, on the alert in focus.
    first.focus()
    page.keyboard.press("e")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    reads = [u for u in visit.requests if pending[-1] in u and "face-crop" in u]
    assert len(reads) == 1, reads  # enlarging fetched (and logged) nothing more
    assert visit.script_errors == []
    visit.close()


def test_three_alerts_decided_in_a_row_by_keyboard_as_the_hint_says(
    browser: Browser, server: Server, client: httpx.Client, policy: str
) -> None:
    live = deployment(server, client, policy, 42)
    raised = [alert(server, client, live) for _ in range(3)]  # oldest first
    visit = Visit(browser, server, viewport=VAN)
    page = open_page(visit, live, "PC-1002")
    expect(page.locator(".alert-card.pending")).to_have_count(3)
    hint = page.locator("#keys-hint")
    for words in ("j", "next", "m", "match", "n", "no match", "i", "inconclusive", "Enter"):
        expect(hint).to_contain_text(words)
    # j goes to the newest alert awaiting a decision; each Enter records and moves on.
    page.keyboard.press("j")
    expect(page.locator(f'[data-alert-id="{raised[2]}"]')).to_be_focused()
    page.keyboard.press("m")
    page.keyboard.type("Same scar over the left eyebrow")
    page.keyboard.press("Enter")
    expect(page.locator(f'[data-alert-id="{raised[1]}"]')).to_be_focused()
    page.keyboard.press("n")
    page.keyboard.type("Different ear shape")
    page.keyboard.press("Enter")  # asks why it was false: the first factor is in focus
    expect(page.locator("#queue-message")).to_contain_text("tick why it was false")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(page.locator(f'[data-alert-id="{raised[0]}"]')).to_be_focused()
    page.keyboard.press("i")
    page.keyboard.type("Face half turned away")
    page.keyboard.press("Enter")
    expect(page.locator(".alert-card.pending")).to_have_count(0)
    expect(page.locator("#queue-message")).to_contain_text("No alert is awaiting a decision")
    recorded = decisions(server, client, live)
    assert [recorded[a] for a in raised] == [
        ("inconclusive", "PC-1002"),
        ("no_match", "PC-1002"),
        ("match", "PC-1002"),
    ]
    visit.screenshot("operator-van-decided")

    # A decision key on a decided alert says so, and sends nothing.
    sent = len([u for u in visit.requests if u.endswith("/adjudication")])
    card = page.locator(f'[data-alert-id="{raised[2]}"]')
    expect(card).to_contain_text("Decided match by PC-1002")
    card.focus()
    page.keyboard.press("n")
    expect(page.locator("#queue-message")).to_contain_text("already decided")
    expect(page.locator("#queue-message")).to_contain_text("nothing was recorded")
    page.wait_for_timeout(500)
    assert len([u for u in visit.requests if u.endswith("/adjudication")]) == sent == 3
    assert decisions(server, client, live)[raised[2]] == ("match", "PC-1002")
    fits(page)

    # After a reload every card still names who decided (from the ledger, not this screen).
    page.reload()
    page.locator("#deployment").select_option(live.deployment_id)
    for alert_id in raised:
        expect(page.locator(f'[data-alert-id="{alert_id}"]')).to_contain_text("by PC-1002")
    expect(page.locator("#queue")).not_to_contain_text("an operator")
    assert visit.script_errors == []
    visit.close()


def test_controls_follow_the_deployments_state(
    browser: Browser, server: Server, client: httpx.Client, policy: str
) -> None:
    live = deployment(server, client, policy, 43)
    visit = Visit(browser, server, viewport=VAN)
    page = open_page(visit, live, OPERATOR.id)
    expect(page.locator("h1")).to_have_text("Live deployment")
    expect(page.get_by_role("button", name="Pause")).to_be_enabled()
    expect(page.get_by_role("button", name="End deployment")).to_be_enabled()
    expect(page.get_by_role("button", name="Start")).to_be_disabled()
    expect(page.get_by_role("button", name="Resume")).to_be_disabled()
    # Ended elsewhere: the page follows (its camera stream tells it), every control disabled.
    ok(client.post(f"/deployments/{live.deployment_id}/end", headers=auth(server, OPERATOR)))
    expect(page.locator("h1")).to_have_text("Deployment — ended", timeout=5000)
    for name in ("Start", "Pause", "Resume", "End deployment"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_disabled()
    expect(page.locator("#signage button")).to_be_disabled()  # folded away, and disabled
    expect(page).to_have_title("Deployment — ended · lfr-ledger")
    camera = page.locator('#cameras [data-camera-id="cam-1"]')
    expect(camera).to_contain_text("Not live (deployment ended)")
    expect(camera).not_to_contain_text("Overdue")
    assert page.locator(".form-error:not(:empty)").count() == 0
    fits(page)
    visit.screenshot("operator-van-ended")
    assert visit.script_errors == []
    visit.close()


def test_camera_health_is_pushed_not_polled(
    browser: Browser, server: Server, client: httpx.Client, policy: str
) -> None:
    live = deployment(server, client, policy, 44)
    visit = Visit(browser, server, viewport=VAN)
    page = open_page(visit, live, OPERATOR.id)
    camera = page.locator('#cameras [data-camera-id="cam-1"]')
    expect(camera).to_contain_text("Never reported")
    settled = len(visit.requests)
    time.sleep(6)  # longer than the old page's 5-s poll
    lost_since = now() - timedelta(seconds=42)
    beat = heartbeat_with_a_lost_source(lost_since)
    path = f"/deployments/{live.deployment_id}/heartbeat"
    ok(client.post(path, headers=auth(server, matcher(live.deployment_id)), json=beat))
    expect(camera).to_contain_text("Reporting", timeout=3000)
    expect(camera).to_contain_text("Source lost since")
    expect(camera.locator(f'time[datetime^="{lost_since:%Y-%m-%dT%H:%M:%S}"]')).to_have_count(1)
    expect(camera).to_contain_text("300 offered · 126 processed · 174 dropped")
    # Nothing asked for the cameras since the page settled: no poll, no new subscription.
    asked = [u for u in visit.requests[settled:] if "/cameras" in u]
    assert asked == [], asked
    assert any(u.endswith(f"{live.deployment_id}/cameras/stream") for u in visit.requests)
    fits(page)
    visit.screenshot("operator-van-camera-lost")
    assert visit.script_errors == []
    visit.close()
