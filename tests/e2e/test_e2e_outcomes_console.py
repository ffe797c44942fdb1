"""Issue 24 in a real Chromium against a real `lfr serve`: the operator says why a no match was
false (the policy's factors, shown only for "No match"), and the officer times an engagement
and records an arrest, a charge and a bail with their custody and crime references."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Locator, expect

from lfr_ledger.api.demo.seed import OFFICER, OPERATOR
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.values import OutcomeType
from tests.e2e.browser import Visit
from tests.e2e.conftest import Server
from tests.e2e.flows import auth, ok, raise_alert
from tests.e2e.test_e2e_console import DESK, PHONE, events_of, scene  # noqa: F401

pytestmark = pytest.mark.timeout(300)


def test_the_operator_names_why_a_no_match_was_false(
    browser: Browser,
    server: Server,
    client: httpx.Client,
    scene: Any,  # noqa: F811
) -> None:
    operator = Visit(browser, server, viewport=DESK)
    page = operator.sign_in("operator", OPERATOR.id)
    expect(page.locator("#stream-state")).to_have_text("Live stream: live")
    alert_id = raise_alert(server, client, scene)
    card = page.locator(f'[data-alert-id="{alert_id}"]')
    expect(card).to_be_visible(timeout=5000)
    factors = card.locator("fieldset.factors")
    expect(factors).to_be_hidden()
    card.locator('input[value="no_match"]').check()
    expect(factors).to_be_visible()
    card.locator("textarea[name=reason]").fill("Different ear shape; a lookalike")
    # The policy requires a factor: the refusal says so, and nothing is recorded.
    card.get_by_role("button", name="Record decision").click()
    expect(card.locator(".form-error")).to_contain_text("false-alert factors", timeout=5000)
    assert events_of(server, alert_id, AlertTopic.ADJUDICATED) == []
    card.get_by_label("Subject: lookalike").check()
    card.get_by_label("Environment: angle").check()
    card.get_by_role("button", name="Record decision").click()
    expect(card).to_contain_text(f"Decided no match by {OPERATOR.id}", timeout=5000)
    ((event, _),) = events_of(server, alert_id, AlertTopic.ADJUDICATED)
    assert event.false_alert_factors == ["subject.lookalike", "environment.angle"]
    assert operator.script_errors == []
    operator.close()


def reopen(card: Locator) -> None:
    """A card done is collapsed to its line (issue 25): open it to add another outcome."""
    if card.locator("details[open]").count() == 0:
        card.locator("summary").click()


def test_the_officer_times_an_engagement_and_records_a_charge_and_a_bail(
    browser: Browser,
    server: Server,
    client: httpx.Client,
    scene: Any,  # noqa: F811
) -> None:
    alert_id = raise_alert(server, client, scene)
    decided = {"decision": "match", "reason": "Same person"}
    ok(
        client.post(
            f"/alerts/{alert_id}/adjudication", headers=auth(server, OPERATOR), json=decided
        )
    )
    officer = Visit(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    page = officer.sign_in("officer", OFFICER.id)
    card = page.locator(f'[data-alert-id="{alert_id}"]')
    expect(card).to_be_visible(timeout=5000)
    # Two minutes to the minute (the field's precision), ending now: after the face's capture;
    # the fields read UK time (issue 25).
    end = datetime.now(ZoneInfo("Europe/London"))
    times = [
        (end - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"),
        end.strftime("%Y-%m-%dT%H:%M"),
    ]
    card.get_by_label("Identity confirmed").select_option("true")
    card.get_by_label("Engaged from (UK time)").fill(times[0])
    card.get_by_label("Engaged until (UK time)").fill(times[1])
    card.get_by_role("button", name="Record engagement").click()
    expect(card.locator(".summary")).to_contain_text("identity confirmed", timeout=5000)
    expect(card.locator(".form-error").first).to_be_empty()
    # Each type's own words for its offences (issue 25).
    for kind, offences, field in (
        ("arrest", "Sexual assault", "Offences (one per line)"),
        ("charge", "Possession of a knife", "Offences charged (one per line)"),
    ):
        reopen(card)
        card.get_by_label("What happened").select_option(kind)
        card.get_by_label(field).fill(offences)
        card.get_by_label("Custody reference").fill("NN/2025/01234")
        card.get_by_label("Crime reference").fill("NPT/25/0456789")
        card.get_by_role("button", name="Record outcome").click()
        expect(card.locator(".summary")).to_contain_text(kind.capitalize(), timeout=5000)
    reopen(card)
    card.get_by_label("What happened").select_option("bail")
    card.get_by_label("Answer bail at (UK time)").fill("2030-01-06T10:00")  # GMT: UTC
    card.get_by_role("button", name="Record outcome").click()
    expect(card.locator(".summary")).to_contain_text("Arrest, Charge, Bail", timeout=5000)
    (engagement,) = events_of(server, alert_id, AlertTopic.ENGAGEMENT_RECORDED)
    assert (engagement.engaged_until - engagement.engaged_from).total_seconds() == 120
    outcomes = [e.outcome for e in events_of(server, alert_id, AlertTopic.OUTCOME_RECORDED)]
    assert [o.type for o in outcomes] == [OutcomeType.ARREST, OutcomeType.CHARGE, OutcomeType.BAIL]
    assert outcomes[2].due_at.isoformat() == "2030-01-06T10:00:00+00:00"
    assert all(o.custody_ref.startswith("sealed:") for o in outcomes[:2])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert officer.script_errors == []
    officer.close()
