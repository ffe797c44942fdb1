"""The oversight page as an oversight body reads it at a desk (1920 x 1080) and on a 1366 x 768
laptop: subject access as cards, the verification said with its scope, times in the one format,
short ids, nothing wider than the window, axe-core clean, and usable from the keyboard.

A real `lfr serve` with a live deployment, alerts decided over HTTP as the operator would, a
checkpoint signed and the rolling re-verification run as the server's own jobs do; a real
Chromium signed in with an oversight link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from lfr_ledger.api.demo.seed import OPERATOR, seed_subject
from lfr_ledger.api.reverify import reverify_step
from lfr_ledger.eventlog.checkpoint import sign_if_moved
from tests.e2e.browser import (
    DESKTOP,
    VAN,
    Visit,
    accessibility_violations,
    horizontal_overflow,
)
from tests.e2e.conftest import Server
from tests.e2e.flows import Live, adopt_policy, auth, live_deployment, now, ok, raise_alert

pytestmark = pytest.mark.timeout(300)

# The one format for an instant (format.js `when`): "7 Dec 2026, 15:32:05 GMT", UK local time.
ONE_FORMAT = re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d:\d\d (GMT|BST)$")
RAW_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
WHOLE_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
WHO = "ICO-0042"


@pytest.fixture(scope="module")
def scene(server: Server) -> Iterator[Live]:
    """A live deployment with two entries: two alerts on the first (a match, a false alert), one
    on the second; a checkpoint signed; one more alert recorded after it."""
    with server.client() as client:
        live = live_deployment(server, client, policy_version=adopt_policy(server, client))
        first = raise_alert(server, client, live, entry=0)
        decide(server, client, first, {"decision": "match", "reason": "Same scar"})
        second = raise_alert(server, client, live, entry=0, similarity=0.71)
        false = {"decision": "no_match", "reason": "Not him", "false_alert_factors": ["subject"]}
        decide(server, client, second, false)
        assert sign_if_moved(server.settings) is not None
        raise_alert(server, client, live, entry=1)  # after the checkpoint
        yield live


def decide(server: Server, client: httpx.Client, alert_id: str, body: dict[str, Any]) -> None:
    ok(client.post(f"/alerts/{alert_id}/adjudication", headers=auth(server, OPERATOR), json=body))


def open_page(browser: Browser, server: Server, viewport: dict[str, int]) -> tuple[Visit, Any]:
    """Signed in; returns the visit and GET /audit/verify's reply the page itself received."""
    # A browser in the UK, as the oversight body's is (its date-time fields in en-GB).
    visit = Visit(browser, server, viewport=viewport, locale="en-GB", timezone_id="Europe/London")
    with visit.page.expect_response(lambda r: "/audit/verify" in r.url) as verify:
        visit.sign_in("oversight", WHO)
    reply = verify.value.json()
    expect(visit.page.locator("#chain")).not_to_contain_text("Verifying")
    return visit, reply


def n(value: int) -> str:
    return f"{value:,}"


def expected_headline(v: dict[str, Any]) -> list[str]:
    """The parts of the sentence the reply's numbers fix, whichever case the reply is."""
    assert v["ok"], v
    if v["full"]:
        return [
            f"The whole log verified: {n(v['events_checked'])} events, "
            f"from event {n(v['rehashed_from'])} to event {n(v['rehashed_to'])}, re-hashed just now"
        ]
    since, rolling = v["since_id"], v["rolling"] or {}
    first, last, count = v["rehashed_from"], v["rehashed_to"], v["events_checked"]
    span = f"event {n(first)}" if first == last else f"events {n(first)} to {n(last)}"
    parts = [
        f"Log intact up to event {n(v['last_id'])}: ",
        f"{span} ({n(count)} event{'s' if count != 1 else ''}) re-hashed just now",
    ]
    reached = rolling.get("last_intact_pass_to") or 0
    if reached >= since:
        parts.append(f"events 1 to {n(since)}, under the checkpoint (signature valid), re-hashed")
    else:
        parts.append(f"events 1 to {n(since)} not re-hashed by this check")
    return parts


def assert_one_format(page: Page, scope: str) -> int:
    """Every instant shown in `scope` is a <time> in the one format, UTC on hover; no raw ISO."""
    times = page.locator(f"{scope} time")
    texts = times.all_inner_texts()
    assert texts, scope
    for text in texts:
        assert ONE_FORMAT.match(text), text
    for title in times.evaluate_all("ts => ts.map(t => t.title)"):
        assert title.endswith("(UTC)") and title.startswith("20"), title
    shown = page.locator(scope).inner_text()
    assert not RAW_ISO.search(shown), shown
    return len(texts)


def test_the_verification_says_what_was_checked(
    browser: Browser, server: Server, scene: Live
) -> None:
    """Since the checkpoint: the re-hashed range and its count, and what vouches for the rest,
    with GET /audit/verify's numbers; the whole log on request, counted from event 1."""
    visit, reply = open_page(browser, server, DESKTOP)
    page = visit.page
    assert reply["full"] is False and reply["since_id"], reply  # the scene signed a checkpoint
    headline = page.locator("#verification")
    for part in expected_headline(reply):
        expect(headline).to_contain_text(part)
    # Never a bare count that reads as the whole log ("Verified: 13 events, up to event 470").
    expect(headline).not_to_contain_text("Verified:")
    expect(page.locator("#chain")).to_contain_text(f"event {n(reply['checkpoint']['last_id'])}")

    with page.expect_response(lambda r: "/audit/verify?full=true" in r.url) as full:
        page.get_by_role("button", name="Re-hash the whole log now").click()
    whole = full.value.json()
    assert whole["full"] is True and whole["rehashed_from"] == 1
    for part in expected_headline(whole):
        expect(headline).to_contain_text(part)
    expect(headline).to_contain_text("chain and checkpoint signature intact")
    visit.screenshot("oversight-verified-whole")

    # The rolling re-verification run as the server's minute job runs it, to the head: the
    # events under the checkpoint are then said re-hashed by it, with when.
    assert reverify_step(server.settings, events=10**6) is not None
    with page.expect_response(lambda r: "/audit/verify" in r.url) as again:
        page.reload()
    rolled = again.value.json()
    assert rolled["rolling"]["last_intact_pass_to"] >= 1, rolled
    for part in expected_headline(rolled):
        expect(headline).to_contain_text(part)
    assert visit.script_errors == []
    visit.close()


def test_subject_access_reads_as_cards(browser: Browser, server: Server, scene: Live) -> None:
    """A card per entry and, inside it, per alert; the consultation it logged listed with a
    human time and a short id."""
    visit, _ = open_page(browser, server, DESKTOP)
    page = visit.page
    subject = seed_subject(0, 0)
    page.get_by_label("Subject reference").fill(subject.subject_ref)
    page.get_by_label("Purpose (logged)").first.fill("ICO complaint 2026/114: subject access")
    with page.expect_response(lambda r: "/subject-access" in r.url) as answer:
        page.get_by_role("button", name="Search").click()
    reply = answer.value.json()
    entries = page.locator("#subject .entry-finding")
    expect(entries).to_have_count(len(reply["entries"]))
    alerts = sum(len(e["alerts"]) for e in reply["entries"])
    assert alerts == 2
    expect(page.locator("#subject .alert-finding")).to_have_count(alerts)
    expect(entries.first).to_contain_text(subject.name)
    expect(entries.first).to_contain_text("Wanted by the courts")
    expect(entries.first.locator(".alert-finding", has_text="No match")).to_have_count(1)
    expect(page.locator("#subject-summary")).to_contain_text("On 1 watchlist entry, in 2 alerts")
    assert_one_format(page, "#subject")
    assert not WHOLE_UUID.search(page.locator("#subject").inner_text())

    # The read is in the access log, and on the page: its time human, its id short.
    consultation = page.locator("#consultations tbody tr", has_text="subject access")
    expect(consultation.first).to_contain_text("ICO complaint 2026/114")
    for scope in ("#consultations", "#access-review"):
        assert_one_format(page, scope)
        assert not WHOLE_UUID.search(page.locator(scope).inner_text()), scope
    visit.screenshot("oversight-subject-access")
    assert visit.script_errors == []
    visit.close()


@pytest.mark.parametrize(("device", "viewport"), [("desktop", DESKTOP), ("van", VAN)])
def test_the_page_fits_its_window_and_passes_axe(
    browser: Browser, server: Server, scene: Live, device: str, viewport: dict[str, int]
) -> None:
    """Every report open (history, subject access, equality, access review): the page uses the
    window, never wider than it; every table fits or scrolls in its own box; axe-core clean."""
    visit, _ = open_page(browser, server, viewport)
    page = visit.page
    page.locator("#deployment").select_option(scene.deployment_id)
    page.get_by_role("button", name="Show history").click()
    timeline = page.locator("#timeline li")
    expect(timeline.first).to_be_visible()
    # Topics in words, times in the one format.
    expect(page.locator("#timeline li", has_text="Watchlist entry added")).to_have_count(2)
    expect(page.locator("#timeline li", has_text="Adjudicated").first).to_contain_text("Alert")
    assert "WatchlistEntryAdded" not in page.locator("#timeline").inner_text()
    assert "lfr/" not in page.locator("#timeline").inner_text()
    assert assert_one_format(page, "#timeline") == timeline.count()
    page.get_by_label("Subject reference").fill(seed_subject(0, 1).subject_ref)
    page.get_by_label("Purpose (logged)").first.fill("IOPC review")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#subject .entry-finding")).to_have_count(1)
    page.locator("#equality-purpose").fill("Annual equality review")
    page.get_by_role("button", name="Show report").click()
    expect(page.locator("#equality table").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert horizontal_overflow(page) == 0
    width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert width >= viewport["width"] - 40, width  # the window, not an 80-rem column
    # A table wider than its box scrolls inside it, not the page.
    boxes = page.locator(".table-scroll").evaluate_all(
        "bs => bs.map(b => [b.getBoundingClientRect().right, getComputedStyle(b).overflowX])"
    )
    for right, overflow in boxes:
        assert right <= viewport["width"] and overflow == "auto", (right, overflow)
    assert accessibility_violations(page) == []
    visit.screenshot(f"oversight-{device}")
    assert visit.script_errors == []
    assert visit.foreign_requests() == []
    visit.close()


def test_subject_access_from_the_keyboard_with_visible_focus(
    browser: Browser, server: Server, scene: Live
) -> None:
    """Tab from the top of the page to the subject form, type, Enter: the cards; every stop on
    the way shows a focus ring."""
    visit, _ = open_page(browser, server, VAN)
    page = visit.page
    page.locator("body").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return [e.id, s.outlineStyle, s.outlineWidth]; })()"
        )
        assert focused[1] != "none" and focused[2] != "0px", focused
        if focused[0] == "subject-ref":
            break
    else:
        pytest.fail("the subject reference field is not reachable with Tab")
    page.keyboard.type(seed_subject(0, 0).subject_ref)
    # Past from and to (a year up to now, as the page fills them; each date-time field is
    # several stops: day, month, year, hour, minute).
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "subject-purpose":
            break
    page.keyboard.type("PCC panel: keyboard check")
    page.keyboard.press("Enter")
    expect(page.locator("#subject .entry-finding")).to_have_count(1)
    expect(page.locator("#subject .alert-finding")).to_have_count(2)
    assert visit.script_errors == []
    visit.close()


def test_a_period_backwards_is_refused_beside_the_form(
    browser: Browser, server: Server, scene: Live
) -> None:
    """A "to" before "from": the API's refusal on the form, and no card drawn."""
    visit, _ = open_page(browser, server, VAN)
    page = visit.page
    page.get_by_label("Subject reference").fill(seed_subject(0, 0).subject_ref)
    later = (now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("From (UK time)").first.fill(later)
    page.get_by_label("Purpose (logged)").first.fill("check")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#subject-form .form-error")).not_to_be_empty()
    expect(page.locator("#subject .entry-finding")).to_have_count(0)
    visit.close()
