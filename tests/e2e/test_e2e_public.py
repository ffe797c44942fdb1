"""Issue 24: the public page in a real Chromium against a real `lfr serve`, at a phone's width
(390 px) and at 1366x768. Its sections show the right deployments with their times in UK local
time, every request the page makes stays on 127.0.0.1, and the screenshots are kept
(`var/test-artifacts/console/public-*.png`) for a person to read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    AUTHORITY,
    COMPILER,
    OFFICER,
    OPERATOR,
    PLANNER,
    SIGNAGE,
    matcher_for,
    proposed,
    subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim, Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Confirmation, Decision, Location, OutcomeType, PublicNotice
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock
from tests.e2e.browser import Visit
from tests.e2e.conftest import Server, start_server, stop_server

LONDON = ZoneInfo("Europe/London")


@dataclass
class Story:
    """What the ledger holds before the server starts, relative to today."""

    published: UUID  # ran last June (BST), results published
    overdue: UUID  # ran eight days ago, results not published: overdue
    upcoming: UUID  # announced yesterday, its window tomorrow
    exempt: UUID  # tomorrow too, under an exemption from notice: not listed
    upcoming_starts: datetime
    upcoming_ends: datetime


def _ran(ledger: CaseLedger, clock: Clock, place: str, starts: datetime, *, arrest: bool) -> UUID:
    """Announced two days ahead, authorised, compiled on the day, live four hours."""
    clock.now = starts - timedelta(days=3)
    deployment = proposed(
        ledger,
        location=Location(place, "Northampton", "town_centre"),
        starts_at=starts,
        ends_at=starts + timedelta(hours=6),
        public_notice=PublicNotice("force website and social media", starts - timedelta(days=2)),
    )
    ledger.authorise_deployment(AO, deployment, authority_ref=f"AUTH-{place}", **AUTHORITY)
    clock.now = starts - timedelta(hours=2)
    entries = [ledger.enrol(COMPILER, deployment, subject(i)) for i in range(3)]
    ledger.review_watchlist(AO, deployment, confirmed_count=3, not_excessive=True)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    clock.now = starts
    ledger.start_deployment(OPERATOR, deployment)
    clock.advance(minutes=50)
    alert = ledger.raise_alert(
        matcher_for(deployment),
        AlertClaim(deployment, "cam-1", entries[0], similarity=0.93, captured_at=clock.now),
    )
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face as the custody image")
    if arrest:
        ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)
        ledger.record_outcome(
            OFFICER, alert, Outcome(OutcomeType.ARREST, offences=("failing to appear",))
        )
    clock.now = starts + timedelta(hours=4)
    ledger.report_faces_counted(
        matcher_for(deployment),
        deployment,
        camera_id="cam-1",
        period_start=starts,
        period_end=clock.now,
        count=2870,
    )
    ledger.end_deployment(OPERATOR, deployment)
    return deployment


def record_story(data_dir: Path, now: datetime) -> Story:
    clock = Clock(now)
    ledger = build_ledger(Settings(data_dir=data_dir), clock=clock)
    try:
        june = datetime(now.year if now.month > 6 else now.year - 1, 6, 12, 10, tzinfo=UTC)
        published = _ran(ledger, clock, "Gold Street", june, arrest=True)
        clock.now = june + timedelta(days=1)
        ledger.publish_results(PLANNER, published)
        days_ago = now.replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=8)
        overdue = _ran(ledger, clock, "Market Square", days_ago, arrest=False)
        starts = now.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
        clock.now = now - timedelta(days=1, hours=1)
        upcoming = proposed(
            ledger,
            location=Location("Abington Street", "Northampton", "town_centre"),
            starts_at=starts,
            ends_at=starts + timedelta(hours=6),
            public_notice=PublicNotice("force website", now - timedelta(days=1)),
        )
        exempt = proposed(
            ledger,
            location=Location("Sheep Street", "Northampton", "town_centre"),
            starts_at=starts,
            ends_at=starts + timedelta(hours=6),
            public_notice=PublicNotice("none", None, exemption="would defeat the purpose"),
        )
        ledger.authorise_deployment(AO, upcoming, authority_ref="AUTH-ABS", **AUTHORITY)
        return Story(published, overdue, upcoming, exempt, starts, starts + timedelta(hours=6))
    finally:
        ledger.close()
        close = getattr(ledger.vault, "close", None)
        if close:
            close()
        close_stores()


@pytest.fixture(scope="module")
def story_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Story]]:
    data_dir = tmp_path_factory.mktemp("lfr-public") / "var"
    story = record_story(data_dir, datetime.now(UTC))
    server = start_server(data_dir)
    try:
        yield server, story
    finally:
        stop_server(server)
    assert "Traceback" not in server.log(), server.log()


def _uk_window(starts: datetime, ends: datetime) -> str:
    a, b = starts.astimezone(LONDON), ends.astimezone(LONDON)
    return f"{a:%A} {a.day} {a:%B %Y}, {a:%H:%M} to {b:%H:%M} {b.tzname()}"


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("phone", {"width": 390, "height": 844}), ("desktop", {"width": 1366, "height": 768})],
)
def test_the_public_page_in_chromium(
    browser: Any, story_server: tuple[Server, Story], name: str, viewport: dict[str, int]
) -> None:
    server, story = story_server
    visit = Visit(browser, server, viewport=viewport)
    try:
        page = visit.page
        page.goto(f"{server.url}/public")
        page.wait_for_load_state("networkidle")

        upcoming = page.locator("#upcoming article")
        assert upcoming.count() == 1
        assert upcoming.get_attribute("data-deployment") == str(story.upcoming)
        text = upcoming.inner_text()
        assert "Abington Street, Northampton" in text
        assert _uk_window(story.upcoming_starts, story.upcoming_ends) in text
        assert "Authorised" in text
        assert "Sheep Street" not in page.content()  # exempt from notice: not before it runs

        result = page.locator("#results article")
        assert result.count() == 1
        assert result.get_attribute("data-deployment") == str(story.published)
        text = result.inner_text()
        # June: British Summer Time, an hour ahead of the UTC instant in the data.
        assert "Gold Street, Northampton" in text
        assert ", 11:00 to 15:00 BST" in text
        assert (
            result.locator("time")
            .first.get_attribute("datetime", timeout=5000)
            .endswith("T10:00:00Z")
        )
        figures = dict(
            zip(
                result.locator("dl.figures dt").all_inner_texts(),
                result.locator("dl.figures dd").all_inner_texts(),
                strict=True,
            )
        )
        assert figures["Alerts"] == "1"
        assert figures["Arrests"] == "1"
        assert figures["Faces the cameras processed"] == "2,870"
        assert figures["People on the watchlist"] == "3"

        due = page.locator("#due article")
        assert due.count() == 1
        assert due.get_attribute("data-deployment") == str(story.overdue)
        assert "overdue" in (due.get_attribute("class") or "")
        assert "Overdue:" in due.inner_text()

        assert "Independent Office for Police Conduct" in page.locator("#complain").inner_text()
        assert "Data Protection Act 2018" in page.locator("#law").inner_text()
        # Readable at its width: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        path = visit.screenshot(f"public-{name}")
        assert path.stat().st_size > 10_000

        # Every request the page made went to this server on the loopback, and no script ran.
        fetched = [u for u in visit.requests if not u.startswith("data:")]
        assert f"{server.url}/console/static/public.css" in fetched
        assert visit.foreign_requests() == []
        assert all(u.startswith("http://127.0.0.1:") for u in fetched), fetched
        assert visit.script_errors == []
    finally:
        visit.close()


def test_oversight_sees_the_results_overdue_on_its_page(
    browser: Any, story_server: tuple[Server, Story]
) -> None:
    server, story = story_server
    visit = Visit(browser, server, viewport={"width": 1366, "height": 768})
    try:
        page = visit.sign_in("oversight", "ICO-7")
        page.goto(f"{server.url}/console/oversight")
        overdue = page.locator("#publication-overdue table")
        overdue.wait_for()
        text = overdue.inner_text()
        # The deployment by its short id, the whole id on hover.
        assert "Market Square, Northampton" in text and str(story.overdue)[:8] in text
        assert overdue.locator(f'[title="{story.overdue}"]').count() == 1
        assert "Gold Street" not in text  # published in time
        visit.screenshot("public-oversight")
        assert visit.foreign_requests() == []
        assert visit.script_errors == []
    finally:
        visit.close()


def test_the_planner_publishes_late_results_from_the_planning_page(
    browser: Any, story_server: tuple[Server, Story]
) -> None:
    """Last in this module: it changes what the page shows."""
    server, story = story_server
    visit = Visit(browser, server, viewport={"width": 1366, "height": 768})
    try:
        page = visit.sign_in("planner", "INSP-7", rank="inspector")
        page.goto(f"{server.url}/console/planning")
        page.locator(f'#deployment option[value="{story.overdue}"]').wait_for(state="attached")
        page.select_option("#deployment", str(story.overdue))
        page.get_by_role("button", name="Publish the results").click()
        page.get_by_text("Publish the results: recorded").wait_for()
        # Published, the form gives way to a sentence saying since when; a second publication
        # is refused by the ledger all the same, and says why.
        page.get_by_text("Its results are on the public page since").wait_for(state="attached")
        assert page.get_by_role("button", name="Publish the results").is_hidden()
        with server.client() as client:
            again = client.post(
                f"/deployments/{story.overdue}/publication",
                headers=server.headers("planner", "INSP-7", rank="inspector"),
            )
        assert again.status_code == 409 and "published already" in again.json()["detail"]
        page.goto(f"{server.url}/public")
        late = page.locator(f'#results article[data-deployment="{story.overdue}"]')
        assert "after the day they were due" in late.inner_text()
        assert page.locator("#due article").count() == 0
        assert visit.foreign_requests() == []
        assert visit.script_errors == []
    finally:
        visit.close()
