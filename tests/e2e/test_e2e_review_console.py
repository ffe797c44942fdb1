"""Issue 24 in the browser: on the planning page an authorising officer records a complaint
about a deployment that ended (linked to its alert), shows and resolves it, and records the
structured post-deployment review; the period figures then carry the review, and nothing was
recorded outside the console but the deployment's own run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from lfr_ledger.api.demo.seed import AUTHORISING_OFFICER, OPERATOR
from tests.e2e.browser import Visit
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy, auth, live_deployment, now, ok, raise_alert

pytestmark = pytest.mark.timeout(300)
SUMMARY = "Held for twenty minutes after the alert although not the person sought"


def ended_deployment(server: Server, client: httpx.Client) -> tuple[str, str]:
    """A deployment that ran, raised one alert, had it decided and ended: (deployment, alert)."""
    live = live_deployment(server, client, policy_version=adopt_policy(server, client))
    alert = raise_alert(server, client, live)
    operator = auth(server, OPERATOR)
    decision = {"decision": "match", "reason": "same face"}
    ok(client.post(f"/alerts/{alert}/adjudication", headers=operator, json=decision), 200)
    ok(client.post(f"/deployments/{live.deployment_id}/end", headers=operator), 200)
    return live.deployment_id, alert


def test_an_ao_records_and_resolves_a_complaint_and_the_structured_review_in_the_browser(
    browser: Browser, server: Server, client: httpx.Client
) -> None:
    deployment_id, alert = ended_deployment(server, client)
    today = now().date().isoformat()
    visit = Visit(browser, server, viewport={"width": 1280, "height": 900})
    page = visit.sign_in("authorising_officer", AUTHORISING_OFFICER.id, rank="superintendent")
    page.locator("#deployment").select_option(deployment_id)

    complaint = page.locator("#complaint")
    complaint.get_by_label("Received on").fill(today)
    complaint.get_by_label("How it reached the force").select_option("email")
    complaint.get_by_label("The alert it is about (its id), if one").fill(alert)
    complaint.get_by_label("What it says").fill(SUMMARY)
    complaint.get_by_role("button", name="Record complaint").click()
    expect(page.locator("#toast")).to_contain_text("Complaint recorded", timeout=5000)
    page.get_by_role("button", name="Show complaints").click()
    listed = page.locator("#complaints")
    expect(listed).to_contain_text(SUMMARY, timeout=5000)
    expect(listed).to_contain_text(f"alert {alert[:8]}")
    resolution = page.get_by_role("form", name="Resolve complaint 1")
    resolution.get_by_label("Outcome: what was found, what was done").fill("Apology sent")
    resolution.get_by_label("Resolved on").fill(today)
    resolution.get_by_role("button", name="Record resolution").click()
    expect(listed).to_contain_text("Apology sent", timeout=5000)
    expect(page.get_by_role("form", name="Resolve complaint 1")).to_have_count(0)

    review = page.locator("#post-review")
    review.get_by_label("Partly met").check()
    review.get_by_label("Why: what was sought, what was achieved").fill("One of two located")
    review.get_by_label("Issues met (equipment, process, staffing)").fill("none")
    review.get_by_label("Impact on the community").fill("Leaflets; no protest")
    review.get_by_label("Lessons for the next deployment").fill("Signs up before the van")
    review.get_by_role("button", name="Record review").click()
    expect(page.locator("#toast")).to_contain_text("recorded", timeout=5000)
    visit.screenshot("authorising-officer-post-deployment-review")
    assert visit.script_errors == []
    visit.close()

    figures = ok(
        client.get(
            "/statistics/period",
            headers=auth(server, AUTHORISING_OFFICER),
            params={"from": today, "to": today},
        )
    )
    [row] = [r for r in figures["reviews"] if r["deployment_id"] == deployment_id]
    expected: dict[str, Any] = {
        "reviewed": True,
        "objectives_met": "partly_met",
        "lessons": "Signs up before the van",
        "complaints": 1,
        "complaints_resolved": 1,
    }
    assert {k: row[k] for k in expected} == expected
    assert SUMMARY not in str(figures)
