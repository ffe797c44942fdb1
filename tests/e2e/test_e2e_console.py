"""The console in a real Chromium against a real `lfr serve`: each role does its work in the
browser, and the ledger holds exactly what the pages said they recorded.

Nothing is mocked. Alerts come from a matcher over HTTP, as the live plugin sends them; the
faces are scikit-image's astronaut, enrolled through the watchlist manager's form.
"""

from __future__ import annotations

import base64
import http.server
import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import cv2
import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, expect

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import AUTHORITY
from lfr_ledger.api.demo.seed import (
    AUTHORISING_OFFICER,
    OFFICER,
    OPERATOR,
    PLANNER,
    seed_subject,
)
from lfr_ledger.domain.alert import AlertClaim, AlertTopic
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.matching.engines.model_packs import SFACE_MODEL_ID
from lfr_ledger.matching.packs.samples import astronaut_bgr
from tests.e2e.browser import ARTIFACTS, Visit
from tests.e2e.conftest import Server, free_port, start_server, stop_server
from tests.e2e.flows import (
    adopt_policy,
    auth,
    deployment_body,
    heartbeat_with_a_lost_source,
    live_deployment,
    matcher,
    now,
    ok,
    raise_alert,
    register_evaluation,
)

pytestmark = pytest.mark.timeout(300)
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}


def jpeg(image: np.ndarray) -> bytes:
    done, data = cv2.imencode(".jpg", image)
    assert done
    return data.tobytes()


ASTRONAUT = astronaut_bgr()
FACE_CROP = base64.b64encode(jpeg(ASTRONAUT[20:220, 140:320])).decode()


@pytest.fixture(scope="module")
def scene(server: Server, client: httpx.Client) -> Any:
    """A live deployment whose two watchlist entries carry a photograph."""
    version = adopt_policy(server, client)
    photo = base64.b64encode(jpeg(ASTRONAUT)).decode()
    return live_deployment(
        server, client, policy_version=version, image=photo, model_id=SFACE_MODEL_ID
    )


def authorised_deployment(server: Server, client: httpx.Client, scene: Any) -> str:
    """A deployment authorised but not yet live: its watchlist is still open."""
    version = ok(client.get("/policy", headers=auth(server, PLANNER)))["version"]
    body = {**deployment_body(scene.operation_id, version, number=7), "model_id": SFACE_MODEL_ID}
    deployment_id = str(
        ok(client.post("/deployments", headers=auth(server, PLANNER), json=body))["id"]
    )
    ok(
        client.post(
            f"/deployments/{deployment_id}/authorisation",
            headers=auth(server, AUTHORISING_OFFICER),
            json={"authority_ref": "AUTH-LFR-2025-907", **AUTHORITY},
        )
    )
    return deployment_id


def alert_with_crop(server: Server, client: httpx.Client, scene: Any) -> str:
    body = {
        "camera_id": "cam-1",
        "entry_id": scene.entry_ids[0],
        "similarity": 0.81,
        "captured_at": now().isoformat(),
        "face_crop": FACE_CROP,
    }
    response = client.post(
        f"/deployments/{scene.deployment_id}/alerts",
        headers=auth(server, matcher(scene.deployment_id)),
        json=body,
    )
    return str(ok(response, 201)["id"])


def events_of(server: Server, alert_id: str, topic: str) -> list[Any]:
    """The alert's events of `topic`, read from the log itself."""
    ledger = build_ledger(server.settings)
    try:
        notes = ledger.notes_key_id(UUID(alert_id))
        found = []
        for n in ledger.recorder.select_notifications(0, 100_000, topics=[topic]):
            if str(n.originator_id) == alert_id:
                event: Any = ledger.mapper.to_domain_event(n)
                reason = getattr(event, "reason", None)
                if reason is not None:
                    event = (event, ledger.reveal_text(notes, "adjudication_reason", reason))
                found.append(event)
        return found
    finally:
        ledger.close()


def deployment_events(server: Server, deployment_id: str, topic: str) -> int:
    ledger = build_ledger(server.settings)
    try:
        return sum(
            1
            for n in ledger.recorder.select_notifications(0, 100_000, topics=[topic])
            if str(n.originator_id) == deployment_id
        )
    finally:
        ledger.close()


def test_operator_sees_an_alert_arrive_and_adjudicates_it_by_keyboard(
    browser: Browser, server: Server, client: httpx.Client, scene: Any
) -> None:
    operator = Visit(browser, server, viewport=DESK)
    page = operator.sign_in("operator", OPERATOR.id)
    assert page.url.endswith("/console/operator")
    expect(page.locator("#stream-state")).to_have_text("Live stream: live")
    expect(page.locator("#deployment-facts")).to_contain_text("Live")  # words, not codes

    alert_id = alert_with_crop(server, client, scene)
    card = page.locator(f'[data-alert-id="{alert_id}"]')
    expect(card).to_be_visible(timeout=5000)
    expect(card).to_have_class("alert-card pending arrived")
    expect(page).to_have_title("(1) Live deployment · lfr-ledger")
    # Both faces loaded (a broken image has no natural width).
    for image in card.locator("img").all():
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("i => i.naturalWidth") > 0
    operator.screenshot("operator-alert")

    page.keyboard.press("Escape")  # nothing focused: keys act on the first alert waiting
    page.locator("body").focus()
    page.keyboard.press("m")
    expect(card.locator('input[value="match"]')).to_be_checked()
    expect(card.locator("textarea[name=reason]")).to_be_focused()
    page.keyboard.type("Same scar over the left eyebrow; the jawline matches")
    page.keyboard.press("Enter")
    expect(card).to_contain_text(f"Decided match by {OPERATOR.id}", timeout=5000)
    expect(page).to_have_title("Live deployment · lfr-ledger")

    (adjudication,) = events_of(server, alert_id, AlertTopic.ADJUDICATED)
    event, reason = adjudication
    assert event.decision == "match"
    assert reason == "Same scar over the left eyebrow; the jawline matches"
    assert event.actor.id == OPERATOR.id
    # Seeing the two faces was logged, with the purpose the page states.
    consultations = ok(client.get("/audit/consultations", headers=auth_oversight(server)))
    purposes = [c["purpose"] for c in consultations["consultations"]]
    assert purposes.count(f"adjudicating alert {alert_id}") == 2
    assert operator.foreign_requests() == []
    assert operator.script_errors == []
    operator.close()


def test_the_operator_sees_a_camera_whose_source_is_lost(
    browser: Browser, server: Server, client: httpx.Client, scene: Any
) -> None:
    """A matcher whose stream dropped says so in its heartbeat; the van's page shows it, with
    what the source gave over the interval."""
    lost_since = now() - timedelta(seconds=42)
    beat = heartbeat_with_a_lost_source(lost_since)
    ok(
        client.post(
            f"/deployments/{scene.deployment_id}/heartbeat",
            headers=auth(server, matcher(scene.deployment_id)),
            json=beat,
        )
    )
    operator = Visit(browser, server, viewport=DESK)
    page = operator.sign_in("operator", OPERATOR.id)
    cameras = page.locator("#cameras")
    # UK local time, the UTC instant in the <time> element (issue 25).
    expect(cameras).to_contain_text("Source lost since", timeout=5000)
    expect(cameras.locator(f'time[datetime^="{lost_since:%Y-%m-%dT%H:%M:%S}"]')).to_have_count(1)
    expect(cameras).to_contain_text("300 offered · 126 processed · 174 dropped")
    operator.screenshot("operator-camera-lost")
    assert operator.script_errors == []
    operator.close()


def auth_oversight(server: Server) -> dict[str, str]:
    return server.headers("oversight", "OV-0001")


def test_two_operators_the_second_sees_who_decided(
    browser: Browser, server: Server, client: httpx.Client, scene: Any
) -> None:
    first = Visit(browser, server, viewport=DESK)
    second = Visit(browser, server, viewport=DESK)
    pages = [first.sign_in("operator", "PC-1001"), second.sign_in("operator", "PC-1002")]
    for page in pages:
        expect(page.locator("#stream-state")).to_have_text("Live stream: live")
    alert_id = alert_with_crop(server, client, scene)
    cards = [p.locator(f'[data-alert-id="{alert_id}"]') for p in pages]
    for card in cards:
        expect(card).to_be_visible(timeout=5000)
    # The second operator has begun the same decision when the first records hers.
    cards[1].locator('input[value="no_match"]').check()
    cards[1].locator("textarea[name=reason]").fill("Different ear shape")
    cards[0].locator('input[value="match"]').check()
    cards[0].locator("textarea[name=reason]").fill("Same scar")
    cards[0].get_by_role("button", name="Record decision").click()
    expect(cards[0]).to_contain_text("Decided match by PC-1001", timeout=5000)
    # The stream tells the second screen before she clicks; if she is quicker, the refusal does.
    expect(cards[1]).to_contain_text("Decided match by PC-1001", timeout=5000)
    assert len(events_of(server, alert_id, AlertTopic.ADJUDICATED)) == 1
    first.close()
    second.close()


def test_officer_on_a_phone_records_an_arrest_and_every_role_sees_it(
    browser: Browser, server: Server, client: httpx.Client, scene: Any
) -> None:
    alert_id = raise_alert(server, client, scene)
    ok(
        client.post(
            f"/alerts/{alert_id}/adjudication",
            headers=auth(server, OPERATOR),
            json={"decision": "match", "reason": "Same person"},
        )
    )
    officer = Visit(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    page = officer.sign_in("officer", OFFICER.id)
    card = page.locator(f'[data-alert-id="{alert_id}"]')
    expect(card).to_be_visible(timeout=5000)
    card.get_by_label("Identity confirmed").select_option("true")
    card.get_by_role("button", name="Record engagement").click()
    expect(card.locator(".summary")).to_contain_text("identity confirmed", timeout=5000)
    card.get_by_label("What happened").select_option("arrest")
    card.get_by_label("Offences (one per line)").fill("Theft from a shop\nFailing to appear")
    card.get_by_label("Custody reference").fill("NN/2025/01234")
    card.get_by_role("button", name="Record outcome").click()
    # Done: the card collapses to its line (issue 25), which says what happened.
    expect(card.locator(".summary")).to_contain_text("Outcomes: Arrest", timeout=5000)
    expect(card).to_have_attribute("data-state", "done")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    officer.screenshot("officer-phone")
    (outcome,) = events_of(server, alert_id, AlertTopic.OUTCOME_RECORDED)
    assert outcome.outcome.type == "arrest"
    assert officer.script_errors == []
    officer.close()

    analyst = Visit(browser, server, viewport=DESK)
    page = analyst.sign_in("analyst", "AN-0001")
    page.locator("#operation").select_option(scene.operation_id)
    arrests = page.locator("#operation-figures .key-figures > div", has_text="Arrests")
    expect(arrests.locator(".value")).to_have_text("1")
    publication = page.locator("#publication tbody tr")
    expect(publication).to_have_count(1)
    analyst.screenshot("analyst")
    analyst.close()

    oversight = Visit(browser, server, viewport=DESK)
    page = oversight.sign_in("oversight", "OV-0001")
    # The headline says which events were re-hashed, never a bare count (issues 23 and 25;
    # its numbers against GET /audit/verify's: test_e2e_oversight_desk.py).
    expect(page.locator("#chain .verified")).to_contain_text(
        re.compile(r"The whole log verified: \d+ events, from event 1|Log intact up to event \d+")
    )
    expect(page.locator("#chain .verified")).to_contain_text("re-hashed just now")
    # The rolling re-verification's line, before the server's first slice (a minute in).
    expect(page.locator("#chain")).to_contain_text("Rolling re-verification")
    page.locator("#deployment").select_option(scene.deployment_id)
    page.get_by_role("button", name="Show history").click()
    timeline = page.locator("#timeline")
    expect(timeline.locator("li", has_text="Engagement recorded")).to_have_count(1)
    expect(timeline.locator("li", has_text="Outcome recorded")).to_have_count(1)
    expect(timeline.locator("li", has_text="Proposed")).to_contain_text("policy LFR-POL")
    oversight.screenshot("oversight")
    assert oversight.script_errors == []
    oversight.close()


def test_an_analyst_reaches_no_personal_data(
    browser: Browser, server: Server, client: httpx.Client, scene: Any
) -> None:
    alert_id = raise_alert(server, client, scene)
    analyst = Visit(browser, server, viewport=DESK)
    page = analyst.sign_in("analyst", "AN-0002")
    expect(page.locator("#publication tbody tr")).to_have_count(1)
    text = page.content()
    for index in range(len(scene.entry_ids)):
        subject = seed_subject(0, index)
        assert subject.name not in text and subject.subject_ref not in text
    assert scene.entry_ids[0] not in text
    for path in ("/console/operator", "/console/officer", "/console/oversight"):
        response = page.goto(f"{server.url}{path}")
        assert response is not None and response.status == 403
        expect(page.locator("h1")).to_contain_text("403")
    analyst.screenshot("analyst-refused")
    for path in (
        f"/alerts/{alert_id}/face-crop?purpose=curious",
        f"/watchlist/entries/{scene.entry_ids[0]}/image?purpose=curious",
        f"/deployments/{scene.deployment_id}/history?purpose=curious",
    ):
        status = page.evaluate("p => fetch(p).then(r => r.status)", path)
        assert status == 403, path
    analyst.close()


def test_a_bad_field_shows_the_apis_message_beside_it(
    browser: Browser, server: Server, client: httpx.Client, scene: Any
) -> None:
    deployment_id = authorised_deployment(server, client, scene)
    manager = Visit(browser, server, viewport=DESK)
    page = manager.sign_in("watchlist_manager", "SGT-2211", rank="sergeant")
    page.locator("#deployment").select_option(deployment_id)
    form = page.locator("#enrol")
    subject = seed_subject(0, 5)
    form.get_by_label("Subject reference (PNC or case)").fill(subject.subject_ref)
    form.get_by_label("Name").fill(subject.name)
    form.get_by_label("Category").select_option(subject.category)
    form.get_by_label("Legal basis").fill(subject.legal_basis)
    form.get_by_label("Why this person is on this watchlist").fill(subject.rationale)
    form.get_by_label("Offence or concern").fill(subject.offence)
    form.get_by_label("Where the image came from").fill(subject.image_source)
    blank = np.full((400, 400, 3), 128, np.uint8)  # a grey card: no face at all
    form.get_by_label("Image (one face)").set_input_files(
        files=[{"name": "blank.jpg", "mimeType": "image/jpeg", "buffer": jpeg(blank)}]
    )
    form.get_by_role("button", name="Enrol").click()
    image = form.get_by_label("Image (one face)")
    expect(image).to_have_attribute("aria-invalid", "true", timeout=10000)
    beside = image.locator("xpath=..").locator(".field-error")
    expect(beside).to_contain_text("no face")
    expect(form.locator(".form-error")).to_contain_text("No usable face")
    manager.screenshot("watchlist-refused-image")
    # Then the same form with a real face records the entry.
    form.get_by_label("Image (one face)").set_input_files(
        files=[{"name": "face.jpg", "mimeType": "image/jpeg", "buffer": jpeg(ASTRONAUT)}]
    )
    form.get_by_role("button", name="Enrol").click()
    expect(page.locator("#enrolled tbody tr")).to_have_count(1, timeout=10000)
    assert manager.script_errors == []
    manager.close()


def test_a_double_click_and_a_replayed_post_record_once(
    browser: Browser, server: Server, client: httpx.Client, scene: Any
) -> None:
    officer = Visit(browser, server, viewport=DESK)
    page = officer.sign_in(
        "authorising_officer", "SUPT-0999", rank="superintendent", force=AUTHORISING_OFFICER.force
    )
    page.locator("#deployment").select_option(scene.deployment_id)
    before = deployment_events(server, scene.deployment_id, DeploymentTopic.THRESHOLD_CHANGED)
    form = page.locator("#threshold")
    form.get_by_label("New threshold").fill("0.66")
    form.get_by_label("Reason").fill("Footfall is heavier than planned")
    evaluation = register_evaluation(server, client, SFACE_MODEL_ID)
    form.get_by_label("Model evaluation cited").fill(evaluation)
    # Capture the request the page sends, to send it again later exactly as it was.
    with page.expect_request(lambda r: r.url.endswith("/threshold")) as sent:
        form.get_by_role("button", name="Change threshold").dblclick()
    expect(page.locator("#toast")).to_contain_text("Change threshold: recorded")
    request = sent.value
    after = deployment_events(server, scene.deployment_id, DeploymentTopic.THRESHOLD_CHANGED)
    assert after == before + 1
    replay = page.evaluate(
        """([url, headers, body]) => fetch(url, {method: "POST", headers, body})
             .then(r => r.status)""",
        [request.url, request.headers, request.post_data],
    )
    assert replay == 200
    assert (
        deployment_events(server, scene.deployment_id, DeploymentTopic.THRESHOLD_CHANGED) == after
    )
    officer.close()


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Another origin's page that posts to the ledger with the visitor's cookie, as a form (no
    header can be set) and as a fetch."""

    target = ""

    def do_GET(self) -> None:
        page = f"""<!doctype html><form id=f method=post action="{self.target}">
        <input name=reason value=x></form>
        <script>fetch("{self.target}", {{method: "POST", credentials: "include",
          body: "{{}}"}}).finally(() => document.getElementById("f").submit());</script>"""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(page.encode())

    def log_message(self, *args: Any) -> None:
        pass


def test_a_cross_site_post_is_refused(
    browser: Browser, server: Server, client: httpx.Client, scene: Any
) -> None:
    operator = Visit(browser, server, viewport=DESK)
    operator.sign_in("operator", OPERATOR.id)
    target = f"{server.url}/deployments/{scene.deployment_id}/pause"
    _Hostile.target = target
    hostile = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    threading.Thread(target=hostile.serve_forever, daemon=True).start()
    try:
        statuses: list[int] = []
        operator.page.on(
            "response", lambda r: statuses.append(r.status) if r.url == target else None
        )
        with operator.page.expect_response(
            lambda r: r.url == target and r.request.resource_type == "document"
        ):
            operator.page.goto(f"http://127.0.0.1:{hostile.server_address[1]}/")
    finally:
        hostile.shutdown()
    assert statuses and all(s == 403 for s in statuses), statuses
    assert deployment_events(server, scene.deployment_id, DeploymentTopic.PAUSED) == 0
    state = ok(client.get(f"/deployments/{scene.deployment_id}", headers=auth(server, OPERATOR)))
    assert state["status"] == "live"
    operator.close()


# Every control a person can use must have a name a screen reader can say.
UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea, button")]
  .filter((c) => c.type !== "hidden")
  .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute("aria-label")
                 && !(c.tagName === "BUTTON" && c.textContent.trim()))
  .map((c) => c.outerHTML.slice(0, 80))"""


@pytest.mark.parametrize(
    ("role", "sub", "claims", "page_path", "shot"),
    [
        ("planner", "INSP-1043", {"rank": "inspector"}, "/console/planning", "planner"),
        (
            "authorising_officer",
            "SUPT-0998",
            {"rank": "superintendent"},
            "/console/planning",
            "authorising-officer",
        ),
        ("watchlist_manager", "SGT-2212", {"rank": "sergeant"}, "/console/planning", "watchlist"),
        ("admin", "ADM-002", {}, "/console/admin", "admin"),  # the admin's desk (issue 25)
        ("operator", "PC-1003", {}, "/console/operator", "operator"),
        ("officer", "PC-4418", {}, "/console/officer", "officer"),
        ("oversight", "OV-0002", {}, "/console/oversight", "oversight-start"),
        ("analyst", "AN-0003", {}, "/console/analyst", "analyst-start"),
    ],
)
def test_every_page_opens_without_a_script_error(
    browser: Browser,
    server: Server,
    scene: Any,
    role: str,
    sub: str,
    claims: dict[str, str],
    page_path: str,
    shot: str,
) -> None:
    visit = Visit(browser, server, viewport=DESK)
    page = visit.sign_in(role, sub, **claims)
    assert page.url.endswith(page_path)
    page.wait_for_load_state("networkidle")
    ready = {"planning": "#policy", "operator": "#deployment-facts", "officer": "#deployment"}
    selector = ready.get(page_path.rsplit("/", 1)[-1], "#main")
    expect(page.locator(selector)).not_to_be_empty()
    visit.screenshot(shot)
    assert visit.script_errors == []
    assert visit.foreign_requests() == []
    assert page.evaluate(UNLABELLED) == []
    visit.close()
    assert (ARTIFACTS / f"{shot}.png").stat().st_size > 10_000


def test_the_queue_resumes_after_the_server_restarts_without_losing_or_repeating(
    browser: Browser, tmp_path: Path
) -> None:
    """The van's page stays open while the ledger restarts; alerts recorded meanwhile (here
    straight into the store, as a matcher on the same node would) arrive once each."""
    port = free_port()
    data_dir = tmp_path / "var"
    own = start_server(data_dir, port=port)
    try:
        with own.client() as c:
            live = live_deployment(own, c, policy_version=adopt_policy(own, c))
            first = raise_alert(own, c, live)
        operator = Visit(browser, own, viewport=DESK)
        page = operator.sign_in("operator", OPERATOR.id)
        expect(page.locator(".alert-card")).to_have_count(1)
        expect(page.locator("#stream-state")).to_have_text("Live stream: live")
        stop_server(own)
        expect(page.locator("#stream-state")).to_have_text("Live stream: reconnecting")
        ledger = build_ledger(own.settings)
        try:
            missed = [
                str(
                    ledger.raise_alert(
                        matcher(live.deployment_id),
                        AlertClaim(
                            UUID(live.deployment_id),
                            camera_id="cam-1",
                            entry_id=UUID(live.entry_ids[1]),
                            similarity=0.7 + i / 100,
                            captured_at=now(),
                        ),
                    )
                )
                for i in range(2)
            ]
        finally:
            ledger.close()
        own = start_server(data_dir, port=port)
        expect(page.locator("#stream-state")).to_have_text("Live stream: live", timeout=15000)
        for alert_id in [first, *missed]:
            expect(page.locator(f'[data-alert-id="{alert_id}"]')).to_have_count(1)
        expect(page.locator(".alert-card")).to_have_count(3)
        assert operator.script_errors == []
        operator.close()
    finally:
        stop_server(own)


def test_a_deployment_is_planned_authorised_compiled_reviewed_and_started_in_the_browser(
    browser: Browser, server: Server, client: httpx.Client, scene: Any
) -> None:
    """Planner, authorising officer, watchlist manager and operator, each in their own browser,
    take a deployment from an idea to live without a single call outside the console."""
    version = ok(client.get("/policy", headers=auth(server, PLANNER)))["version"]
    start = now() - timedelta(minutes=1)

    planner = Visit(browser, server, viewport=DESK)
    page = planner.sign_in("planner", "INSP-3001", rank="inspector")
    page.locator("#operations-panel summary").click()
    operation = page.locator("#operation")
    operation.get_by_label("Name").fill("Operation Browser")
    operation.get_by_label("Force").select_option(label="Northamptonshire Police")
    operation.get_by_label("Purpose").fill("Locate people wanted by the courts")
    operation.get_by_role("button", name="Open operation").click()
    propose = page.locator("#propose")
    expect(propose.get_by_label("Operation")).to_contain_text("Operation Browser")
    propose.get_by_label("Operation").select_option(
        label="Operation Browser · Northamptonshire Police"
    )
    uk = start.astimezone(ZoneInfo("Europe/London"))  # the form reads UK time
    fields = {
        "Place": "Sheep Street",
        "Town": "Wellingborough",
        "Window opens (UK time)": f"{uk:%Y-%m-%dT%H:%M}",
        "Window closes (UK time)": f"{uk + timedelta(hours=2):%Y-%m-%dT%H:%M}",
        "Purpose": "Locate wanted people and check compliance of managed offenders",
        "Intelligence case": "NN-IC-2025-301",
        "Cameras (one per line: id, then name)": "cam-1 Van mast camera",
        "DPIA reference": "DPIA-LFR-2025-03",
        "Equality impact assessment reference": "EIA-LFR-2025-03",
        "Policy reference": version,
        "How the public is told": "signage and the force's website",
        "Issued at (UK time)": f"{uk - timedelta(days=1):%Y-%m-%dT%H:%M}",
    }
    for name, value in fields.items():
        propose.get_by_label(name, exact=True).fill(value)
    propose.get_by_label("Type of location").select_option("town_centre")
    propose.get_by_label("Wanted by the courts").check()
    propose.get_by_label("Subject to court order").check()
    propose.get_by_label("Controlling force").select_option(label="Northamptonshire Police")
    propose.get_by_label("Force owning the equipment").select_option(
        label="Northamptonshire Police"
    )
    propose.get_by_role("button", name="Propose deployment").click()
    expect(page.locator("#deployment-facts")).to_contain_text("Proposed", timeout=5000)
    planner.screenshot("planner-proposed")
    (proposal,) = [
        d
        for d in ok(client.get("/deployments?status=proposed", headers=auth(server, PLANNER)))[
            "deployments"
        ]
        if d["town"] == "Wellingborough"
    ]
    deployment_id = proposal["deployment_id"]
    assert proposal["starts_at"].startswith(f"{start:%Y-%m-%dT%H:%M}")  # UK time, sent as UTC
    expect(page.locator("#deployment")).to_have_value(proposal["deployment_id"])  # shown
    planner.close()

    authoriser = Visit(browser, server, viewport=DESK)
    page = authoriser.sign_in("authorising_officer", "SUPT-3001", rank="superintendent")
    page.locator("#deployment").select_option(deployment_id)
    authorise = page.locator("#authorise")
    authorise.get_by_label("Authority reference").fill("AUTH-LFR-2025-301")
    authorise.get_by_label("Why LFR is necessary and proportionate here").fill(
        AUTHORITY["necessity_and_proportionality"]
    )
    authorise.get_by_label("Appropriate policy document").fill(
        AUTHORITY["appropriate_policy_document"]
    )
    authorise.get_by_role("button", name="Authorise").click()
    expect(authorise.locator(".form-error")).to_be_empty()
    expect(page.locator("#deployment-facts")).to_contain_text("Authorised", timeout=5000)

    manager = Visit(browser, server, viewport=DESK)
    page = manager.sign_in("watchlist_manager", "SGT-3001", rank="sergeant")
    page.locator("#deployment").select_option(deployment_id)
    enrol = page.locator("#enrol")
    subject = seed_subject(3, 0)
    for name, value in {
        "Subject reference (PNC or case)": subject.subject_ref,
        "Name": subject.name,
        "Legal basis": subject.legal_basis,
        "Why this person is on this watchlist": subject.rationale,
        "Offence or concern": subject.offence,
        "Where the image came from": subject.image_source,
    }.items():
        enrol.get_by_label(name, exact=True).fill(value)
    enrol.get_by_label("Category").select_option("wanted_by_courts")
    enrol.get_by_label("Image (one face)").set_input_files(
        files=[{"name": "face.jpg", "mimeType": "image/jpeg", "buffer": jpeg(ASTRONAUT)}]
    )
    enrol.get_by_role("button", name="Enrol").click()
    expect(page.locator("#watchlist tbody tr")).to_have_count(1, timeout=10000)
    # Close to go-live the manager re-confirms the list: still wanted, what was checked.
    reconfirm = page.locator("#reconfirm")
    reconfirm.get_by_label("Each entry is still wanted", exact=False).check()
    reconfirm.get_by_label("What you checked, and when").fill("Warrant still outstanding on PNC")
    reconfirm.get_by_role("button", name="Re-confirm entries").click()
    expect(page.locator("#toast")).to_contain_text("Re-confirm entries: recorded", timeout=5000)
    manager.close()
    # The list the reviewer starts from holds no personal data; the entry reads in full alone.
    listing = client.get(
        f"/deployments/{deployment_id}/watchlist", headers=auth(server, AUTHORISING_OFFICER)
    )
    (row,) = ok(listing)["entries"]
    assert row["has_image"] and row["category"] == "wanted_by_courts"
    assert subject.name not in listing.text and subject.subject_ref not in listing.text

    page = authoriser.page
    page.reload()
    page.locator("#deployment").select_option(deployment_id)
    expect(page.locator("#watchlist tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Open entry").click()
    expect(page.locator("#entry")).to_contain_text(subject.name)
    image = page.locator("#entry img")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("i => i.naturalWidth") > 0
    review = page.locator("#watchlist-review")
    review.get_by_label("Entries you checked").fill("1")
    review.get_by_label("The watchlist is not excessive for the purpose").check()
    review.get_by_role("button", name="Record review").click()
    expect(page.locator("#deployment-facts")).to_contain_text("1 entry, reviewed")
    authoriser.screenshot("authorising-officer-review")
    authoriser.close()

    operator = Visit(browser, server, viewport=DESK)
    page = operator.sign_in("operator", "PC-3001")
    page.locator("#deployment").select_option(deployment_id)
    expect(page.locator("#deployment-facts")).to_contain_text("Authorised")
    # Start is refused until the signs are confirmed on the day; the page says why.
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#start .form-error")).to_contain_text("signage has not been confirmed")
    signage = page.locator("#signage")
    signage.get_by_label("Signs that stand").fill("Four A-boards: live facial recognition in use")
    signage.get_by_label("Where they stand").fill("Both ends of Sheep Street")
    signage.get_by_role("button", name="Confirm signage").click()
    expect(page.locator("#deployment-facts")).to_contain_text("SignageConfirmed", timeout=5000)
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#deployment-facts")).to_contain_text("Live", timeout=5000)
    state = ok(client.get(f"/deployments/{deployment_id}", headers=auth(server, OPERATOR)))
    assert (state["status"], state["watchlist_size"], state["watchlist_reviewed"]) == (
        "live",
        1,
        True,
    )
    assert state["authorised_by"] == "SUPT-3001" and state["proposed_by"] == "INSP-3001"
    operator.close()
