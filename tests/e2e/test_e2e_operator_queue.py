"""The operator's page with a long queue (issue 28): the page's own work per new alert stays
small, so the stream's next alert is not held back, and nothing the operator sees or does changes.

A new alert's flash is drawn by the compositor (only opacity animates); only cards on or near the
screen hold their decision form (Chromium's autofill reads every form control on the page after
each one added); a late reply to a decision does not take focus from the next alert.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Route, expect

from lfr_ledger.api.demo.seed import OPERATOR
from tests.e2e.browser import VAN, Visit
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy
from tests.e2e.test_e2e_operator_van import alert, deployment, open_page

pytestmark = pytest.mark.timeout(300)

# Every @keyframes rule the page's stylesheets hold, with the properties its frames set.
KEYFRAMES = """() => {
  const found = {};
  const walk = (rules) => {
    for (const rule of rules) {
      if (rule instanceof CSSKeyframesRule) {
        found[rule.name] = [...rule.cssRules].flatMap((frame) => [...frame.style]);
      } else if (rule.cssRules) walk(rule.cssRules);
      if (rule.styleSheet) walk(rule.styleSheet.cssRules);
    }
  };
  for (const sheet of document.styleSheets) walk(sheet.cssRules);
  return found;
}"""


@pytest.fixture(scope="module")
def policy(server: Server, client: httpx.Client) -> str:
    return adopt_policy(server, client)


def test_a_new_alert_flashes_with_the_compositor_alone(
    browser: Browser, server: Server, client: httpx.Client, policy: str
) -> None:
    live = deployment(server, client, policy, 61)
    visit = Visit(browser, server, viewport=VAN)
    page = open_page(visit, live, OPERATOR.id)
    alert_id = alert(server, client, live)
    card = page.locator(f'[data-alert-id="{alert_id}"]')
    expect(card).to_have_class("alert-card pending arrived")
    # Still a clear amber flash over 2 s, fading to the arrived colour...
    flash = card.evaluate(
        """c => { const s = getComputedStyle(c, "::before");
                  return [s.animationName, s.animationDuration, s.backgroundColor]; }"""
    )
    assert flash == ["arrive", "2s", "rgb(255, 213, 74)"], flash
    assert card.evaluate("c => getComputedStyle(c).animationName") == "none"
    # ... but every animation the page declares changes only what the compositor draws alone.
    keyframes: dict[str, list[str]] = page.evaluate(KEYFRAMES)
    assert "arrive" in keyframes
    for name, properties in keyframes.items():
        assert set(properties) <= {"opacity", "transform"}, (name, properties)
    assert visit.script_errors == []
    visit.close()


def test_only_cards_near_the_screen_hold_their_decision_form(
    browser: Browser, server: Server, client: httpx.Client, policy: str
) -> None:
    live = deployment(server, client, policy, 62)
    raised = [alert(server, client, live) for _ in range(14)]  # oldest first
    visit = Visit(browser, server, viewport=VAN)
    page = open_page(visit, live, OPERATOR.id)
    pending = page.locator(".alert-card.pending")
    expect(pending).to_have_count(14)
    newest = page.locator(f'[data-alert-id="{raised[-1]}"]')
    expect(newest.locator("form.adjudication")).to_have_count(1)
    page.wait_for_function("() => document.querySelectorAll('form.adjudication').length < 14")
    oldest = page.locator(f'[data-alert-id="{raised[0]}"]')
    # A half-written reason stays while the operator looks elsewhere.
    newest.locator("textarea[name=reason]").fill("Same scar over the")
    # A key on a card far down the queue finds its form there at once.
    oldest.focus()
    page.keyboard.press("m")
    expect(oldest.locator('input[value="match"]')).to_be_checked()
    expect(oldest.locator("textarea[name=reason]")).to_be_focused()
    page.keyboard.type("Same face")
    page.keyboard.press("Enter")
    expect(oldest).to_contain_text(f"Decided match by {OPERATOR.id}", timeout=5000)
    page.evaluate("window.scrollTo(0, 0)")
    expect(newest.locator("textarea[name=reason]")).to_have_value("Same scar over the")
    expect(pending).to_have_count(13)
    assert visit.script_errors == []
    visit.close()


def test_a_late_reply_leaves_focus_on_the_alert_the_operator_moved_to(
    browser: Browser, server: Server, client: httpx.Client, policy: str
) -> None:
    live = deployment(server, client, policy, 63)
    older, newer = (alert(server, client, live) for _ in range(2))
    visit = Visit(browser, server, viewport=VAN)
    page = open_page(visit, live, OPERATOR.id)
    expect(page.locator(".alert-card.pending")).to_have_count(2)
    # The decision is recorded at once, its reply held back: the stream's event comes first.
    held: list[tuple[Route, Any]] = []
    page.route("**/adjudication", lambda route: held.append((route, route.fetch())))
    page.keyboard.press("j")
    page.keyboard.press("m")
    page.keyboard.type("Same face")
    page.keyboard.press("Enter")
    expect(page.locator(f'[data-alert-id="{newer}"]')).to_contain_text("Decided match by")
    # The operator goes on to the next alert and starts typing; then the reply arrives.
    page.keyboard.press("i")
    reason = page.locator(f'[data-alert-id="{older}"] textarea[name=reason]')
    expect(reason).to_be_focused()
    page.keyboard.type("Face half")
    assert len(held) == 1
    route, response = held[0]
    route.fulfill(response=response)
    expect(page.locator("#queue-message")).to_contain_text("Decision recorded: Match")
    page.keyboard.type(" turned away")
    expect(reason).to_be_focused()
    expect(reason).to_have_value("Face half turned away")
    assert visit.script_errors == []
    visit.close()
