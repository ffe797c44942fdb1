"""Issue 25, the officer on a phone (390 x 844, touch), in a real Chromium against a real
`lfr serve`: each match shows who to look for (the enrolled image beside the camera's crop, the
entry's category, offence and description), where and when; the officer engages and records
the outcome card by card, by touch or by keyboard alone; a card done collapses to one line;
only the fields an outcome's type takes are shown; perceived characteristics reach the equality
report; nothing overflows, nothing is covered, axe-core finds nothing serious.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, FloatRect, Locator, Page, expect

from lfr_ledger.api.demo.seed import OFFICER, OPERATOR
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.matching.engines.model_packs import SFACE_MODEL_ID
from tests.e2e.browser import PHONE, Visit, accessibility_violations, horizontal_overflow
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy, auth, live_deployment, matcher, now, ok
from tests.e2e.test_e2e_console import ASTRONAUT, FACE_CROP, events_of, jpeg

pytestmark = pytest.mark.timeout(300)
DESCRIPTION = "Male, about 1.80 m, slim; swallow tattoo on the left hand. Warning: violent"
Phone = Callable[[], tuple[Visit, Page]]
FOCUS_RING = "window.getComputedStyle(document.activeElement).outlineStyle"


@pytest.fixture(scope="module")
def scene(server: Server, client: httpx.Client) -> Any:
    """A live deployment in Northampton whose entries carry a photograph and a description."""
    version = adopt_policy(server, client)
    photo = base64.b64encode(jpeg(ASTRONAUT)).decode()
    return live_deployment(
        server,
        client,
        policy_version=version,
        image=photo,
        model_id=SFACE_MODEL_ID,
        enrolment={"description": DESCRIPTION},
    )


def matched(server: Server, client: httpx.Client, scene: Any, *, engaged: bool = False) -> str:
    """An alert with a face crop, decided a match by the operator (engaged, if asked)."""
    body = {
        "camera_id": "cam-1",
        "entry_id": scene.entry_ids[0],
        "similarity": 0.81,
        "captured_at": now().isoformat(),
        "face_crop": FACE_CROP,
    }
    headers = auth(server, matcher(scene.deployment_id))
    alert_id = ok(
        client.post(f"/deployments/{scene.deployment_id}/alerts", headers=headers, json=body), 201
    )["id"]
    decided = {"decision": "match", "reason": "Same scar above the eye"}
    ok(
        client.post(
            f"/alerts/{alert_id}/adjudication", headers=auth(server, OPERATOR), json=decided
        )
    )
    if engaged:
        engagement = {"engaged": True, "confirmed": "true"}
        ok(
            client.post(
                f"/alerts/{alert_id}/engagement", headers=auth(server, OFFICER), json=engagement
            )
        )
    return str(alert_id)


@pytest.fixture
def phone(browser: Browser, server: Server) -> Iterator[Phone]:
    """Opens the officer's phone, signed in and following the live deployment; closed however
    the test ends (a stream left open would outlive the server)."""
    opened: list[Visit] = []

    def open_phone() -> tuple[Visit, Page]:
        visit = Visit(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
        opened.append(visit)
        page = visit.sign_in("officer", OFFICER.id)
        expect(page.locator("#stream-state")).to_contain_text("connected", timeout=10_000)
        return visit, page

    yield open_phone
    for visit in opened:
        visit.close()


def consultations(server: Server, client: httpx.Client) -> list[tuple[str, str, str]]:
    """The whole access log, as oversight reads it: (actor, record, purpose)."""
    found, after = [], 0
    while True:
        page = ok(
            client.get(
                "/audit/consultations",
                params={"after": after, "limit": 1000},
                headers=server.headers("oversight", "OV-0001"),
            )
        )
        found += [(c["actor_id"], c["record"], c["purpose"]) for c in page["consultations"]]
        if page["next_after"] is None:
            return found
        after = page["next_after"]


def boxes_overlap(a: FloatRect | None, b: FloatRect | None) -> bool:
    if not a or not b or not a["width"] or not a["height"]:
        return False
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def assert_toast_covers_no_button(page: Page) -> None:
    """The card says what was recorded where the officer looks; a toast, fixed over the page,
    would cover whatever scrolls under it on a phone, so the page shows none."""
    expect(page.locator("#toast")).to_be_empty()
    toast = page.locator("#toast").bounding_box()
    for button in page.get_by_role("button").all():
        if button.is_visible():
            assert not boxes_overlap(toast, button.bounding_box()), button.text_content()


def loaded(image: Locator) -> int:
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    image.page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=10_000
    )
    return int(image.evaluate("(img) => img.naturalWidth"))


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Presses Tab until `target` has the focus, as a keyboard user would; each stop shows a
    focus ring."""
    for _ in range(limit):
        if target.evaluate("(node) => node === document.activeElement"):
            assert page.evaluate(FOCUS_RING) not in ("none", ""), "no visible focus"
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def test_the_officer_engages_from_a_card_that_shows_who_to_look_for_by_keyboard_alone(
    phone: Phone, server: Server, client: httpx.Client, scene: Any
) -> None:
    alert_id = matched(server, client, scene)
    visit, page = phone()
    card = page.locator(f'[data-alert-id="{alert_id}"]')
    expect(card).to_be_visible(timeout=5000)
    # Who to look for: both faces loaded, the entry's words, the place and the time.
    enrolled = card.get_by_role("img", name="Enrolled watchlist image of the person to look for")
    assert loaded(enrolled) > 0
    assert loaded(card.locator("img").nth(1)) > 0
    expect(card.locator("dl.subject")).to_contain_text("Wanted by the courts")
    expect(card.locator("dl.subject")).to_contain_text(DESCRIPTION)
    expect(card.locator(".place")).to_have_text(
        "Where: Abington Street, Northampton, seen by van mast camera (cam-1)"
    )
    # The one date format, in UK time (the UTC instant on hover).
    seen = re.compile(r"^\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d (GMT|BST)$")
    expect(card.locator("summary time")).to_have_text(seen)
    expect(card.locator("summary time")).to_have_attribute("title", re.compile(r"\(UTC\)$"))
    # Not engaged yet is a thing to do, not a success: no green.
    badge = card.locator(".state")
    expect(badge).to_have_text("Not engaged yet")
    red, green, blue = badge.evaluate(
        "(n) => getComputedStyle(n).color.match(/\\d+/g).slice(0, 3).map(Number)"
    )
    assert not (green > red + 40 and green > blue + 40), (red, green, blue)
    # Each look is logged, with the purpose naming the alert.
    purpose = f"engaging on alert {alert_id}"
    entry = scene.entry_ids[0]
    logged = consultations(server, client)
    for record in (
        f"watchlist_image:{entry}",
        f"watchlist_entry:{entry}",
        f"alert_face_crop:{alert_id}",
    ):
        assert (OFFICER.id, record, purpose) in logged, record
    visit.screenshot("officer-phone-engage")
    assert accessibility_violations(page) == []

    # A tap on a face shows both at full width; another, side by side again.
    card.get_by_role("button", name="Enrolled image: show both faces larger").tap()
    expect(card.locator(".officer-faces")).to_have_class("faces officer-faces large")
    assert enrolled.bounding_box()["width"] > 300  # type: ignore[index]
    visit.screenshot("officer-phone-enlarged")
    card.get_by_role("button", name="Enrolled image: show both faces larger").tap()

    # Keyboard alone: to the identity, choose "Confirmed", to the button, Enter.
    page.locator("body").focus()
    identity = card.get_by_label("Identity confirmed")
    tab_to(page, identity)
    page.keyboard.press("ArrowDown")  # Choose… -> Confirmed
    expect(identity).to_have_value("true")
    tab_to(page, card.get_by_role("button", name="Record engagement"))
    page.keyboard.press("Enter")
    expect(badge).to_have_text("Engaged: record the outcome", timeout=5000)
    expect(card.locator(".recorded")).to_have_text("Engagement recorded.")
    expect(card.get_by_role("button", name="Record engagement")).to_be_hidden()
    assert_toast_covers_no_button(page)

    # The outcome, by keyboard: type "a" for Arrest, the offence, Enter on the button.
    kind = card.get_by_label("What happened")
    tab_to(page, kind)
    page.keyboard.type("Arr")
    expect(kind).to_have_value("arrest")
    tab_to(page, card.get_by_label("Offences (one per line)"))
    page.keyboard.type("Failing to appear")
    tab_to(page, card.get_by_role("button", name="Record outcome"))
    page.keyboard.press("Enter")
    # Done: collapsed to its line, which says what happened, and opens again on Enter.
    expect(card).to_have_attribute("data-state", "done", timeout=5000)
    expect(card.locator("details")).not_to_have_attribute("open", "")
    expect(card.locator("summary .summary")).to_contain_text("Outcomes: Arrest")
    expect(badge).to_have_text("Done")
    expect(card.get_by_role("button", name="Record outcome")).to_be_hidden()
    assert_toast_covers_no_button(page)
    (outcome,) = events_of(server, alert_id, AlertTopic.OUTCOME_RECORDED)
    assert outcome.outcome.offences == ("Failing to appear",)
    summary = card.locator("summary")
    tab_to(page, summary)
    page.keyboard.press("Enter")
    expect(card.locator("details")).to_have_attribute("open", "")
    expect(card.locator("legend", has_text="Add another outcome")).to_be_visible()
    page.keyboard.press("Enter")
    assert horizontal_overflow(page) == 0
    assert visit.script_errors == []


def test_a_done_card_collapses_and_three_alerts_fit_a_short_page(
    phone: Phone, server: Server, client: httpx.Client, scene: Any
) -> None:
    done = matched(server, client, scene, engaged=True)
    arrest = {"type": "arrest", "offences": ["Failing to appear"]}
    ok(client.post(f"/alerts/{done}/outcomes", headers=auth(server, OFFICER), json=arrest))
    engaged = matched(server, client, scene, engaged=True)
    fresh = matched(server, client, scene)
    before = len(consultations(server, client))
    visit, page = phone()
    for alert_id, state in ((done, "done"), (engaged, "outcome"), (fresh, "engage")):
        card = page.locator(f'[data-alert-id="{alert_id}"]')
        expect(card).to_have_attribute("data-state", state, timeout=5000)
    # Those to act on come first, the newest decision first; those done after them.
    order = page.locator("#matches > .officer-card").evaluate_all(
        "(cards) => cards.map((c) => [c.dataset.alertId, c.dataset.state])"
    )
    states = [state for _, state in order]
    assert states == sorted(states, key=lambda state: state == "done"), states
    acting = [alert for alert, state in order if state != "done"]
    assert acting[:2] == [fresh, engaged]
    done_card = page.locator(f'[data-alert-id="{done}"]')
    expect(done_card.locator("details")).not_to_have_attribute("open", "")
    height = done_card.bounding_box()["height"]  # type: ignore[index]
    print(f"a done card, collapsed: {height:.0f} px high at 390 px")
    assert height < 200
    # A closed card read no face: its images are fetched only when it is opened.
    assert done_card.locator("img").count() == 0
    logged = consultations(server, client)[before:]
    assert not [c for c in logged if c[2] == f"engaging on alert {done}" and "image" in c[1]]
    # The card still to be engaged on shows its engagement form; the engaged one, the outcome.
    fresh_card = page.locator(f'[data-alert-id="{fresh}"]')
    expect(fresh_card.get_by_role("button", name="Record engagement")).to_be_visible()
    engaged_card = page.locator(f'[data-alert-id="{engaged}"]')
    expect(engaged_card.get_by_role("button", name="Record engagement")).to_be_hidden()
    expect(engaged_card.get_by_role("button", name="Record outcome")).to_be_visible()
    assert horizontal_overflow(page) == 0
    assert accessibility_violations(page) == []
    visit.screenshot("officer-phone-three")
    done_card.locator("summary").tap()
    assert loaded(done_card.locator("img").first) > 0
    visit.screenshot("officer-phone-done-opened")
    # A match decided while the page is open arrives by itself, marked and announced; those
    # listed when the page opened are not marked.
    news = matched(server, client, scene)
    arrived = re.compile(r"\barrived\b")
    expect(page.locator(f'[data-alert-id="{news}"]')).to_have_class(arrived, timeout=5000)
    expect(page.locator("#announce")).to_contain_text("New match to engage on")
    expect(fresh_card).not_to_have_class(arrived)
    assert visit.script_errors == []


def visible_fields(card: Locator) -> set[str]:
    return set(
        card.locator("form.outcome [data-field]:not([hidden]) label").evaluate_all(
            "(nodes) => nodes.map((n) => n.textContent)"
        )
    )


def test_the_outcome_form_shows_only_the_fields_its_type_takes(
    phone: Phone, server: Server, client: httpx.Client, scene: Any
) -> None:
    alert_id = matched(server, client, scene, engaged=True)
    visit, page = phone()
    card = page.locator(f'[data-alert-id="{alert_id}"]')
    kind = card.get_by_label("What happened")
    expect(kind).to_be_visible(timeout=5000)
    # No charge or bail before an arrest or a voluntary attendance.
    offered = kind.locator("option").evaluate_all("(o) => o.map((n) => n.value)")
    assert "arrest" in offered and "charge" not in offered and "bail" not in offered
    kind.select_option("compliance_check")
    assert visible_fields(card) == {
        "What happened",
        "Conditions checked (one per line)",
        "Compliance result",
        "Note (optional)",
    }
    kind.select_option("arrest")
    assert visible_fields(card) == {
        "What happened",
        "Offences (one per line)",
        "Custody reference (if any)",
        "Crime reference (if any)",
        "Note (optional)",
    }
    expect(card.get_by_label("Compliance result")).to_be_hidden()
    kind.select_option("safeguarding")
    assert visible_fields(card) == {"What happened", "What was done (referral made, to whom)"}
    # A hidden field is not sent: conditions typed for a check do not ride along an arrest.
    kind.select_option("compliance_check")
    card.get_by_label("Conditions checked (one per line)").fill("Curfew 7pm to 7am")
    kind.select_option("arrest")
    card.get_by_label("Offences (one per line)").fill("Breach of a court order")
    card.get_by_role("button", name="Record outcome").click()
    expect(card).to_have_attribute("data-state", "done", timeout=5000)
    (outcome,) = events_of(server, alert_id, AlertTopic.OUTCOME_RECORDED)
    assert (outcome.outcome.type, outcome.outcome.conditions) == ("arrest", ())
    # After the arrest, a charge is offered, with the charge's own fields.
    card.locator("summary").tap()
    kind.select_option("charge")
    assert "Offences charged (one per line)" in visible_fields(card)
    visit.screenshot("officer-phone-outcome-fields")
    assert visit.script_errors == []


def test_perceived_characteristics_recorded_on_the_card_reach_the_equality_report(
    phone: Phone, server: Server, client: httpx.Client, scene: Any
) -> None:
    alert_id = matched(server, client, scene, engaged=True)
    visit, page = phone()
    card = page.locator(f'[data-alert-id="{alert_id}"]')
    form = card.locator("form.perceived")
    expect(form).to_be_visible(timeout=5000)
    # The closed lists of the policy in force, as selects in words.
    sex = form.get_by_label("Perceived sex")
    expect(sex.locator("option", has_text="Female")).to_have_count(1)
    sex.select_option("female")
    form.get_by_label("Perceived age band").select_option("25_34")
    form.get_by_role("button", name="Record perceived characteristics").click()
    expect(card.locator(".recorded")).to_have_text(
        "Perceived characteristics recorded.", timeout=5000
    )
    expect(form).to_be_hidden()
    assert len(events_of(server, alert_id, AlertTopic.DEMOGRAPHICS_PERCEIVED)) == 1
    report = ok(
        client.get(
            "/oversight/equality",
            params={"deployment_id": scene.deployment_id, "purpose": "issue 25 check"},
            headers=server.headers("oversight", "OV-0001"),
        )
    )
    assert report["alerts_with_characteristics"] >= 1
    groups = {
        (table["field"], group["value"]): group["alerts"]
        for table in report["tables"]
        for group in table["groups"]
    }
    assert groups[("perceived_sex", "female")] >= 1
    assert groups[("perceived_age_band", "25_34")] >= 1
    # On reload, the record says they were given: the form stays away.
    page.reload()
    expect(card).to_have_attribute("data-state", "outcome", timeout=5000)
    expect(card.locator("form.perceived")).to_be_hidden()
    assert visit.script_errors == []
