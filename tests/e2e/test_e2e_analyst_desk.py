"""The analyst at a desk (1920 x 1080) and on a van laptop (1366 x 768), in a real Chromium
against a real `lfr serve` holding the seed (the press release's 2025) and two operations of
this year recorded over HTTP: charts drawn with the pinned Chart.js the server serves itself,
scoped to the operation and the year chosen, each with its caption and its table; figures
rounded for people; the press release's figures exactly; nothing loaded from anywhere else."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.console.assets import (
    CHART_JS,
    CHART_JS_FILE,
    CHART_JS_PATH,
    AssetError,
    asset_dir,
    fetch,
)
from lfr_ledger.api.demo.sample_deployment import DOCUMENTS
from lfr_ledger.api.demo.seed import ADMIN, ANALYST, OPERATOR, DemoClock, record_seed_operation
from lfr_ledger.config.settings import Settings
from tests.e2e.browser import (
    DESKTOP,
    VAN,
    Visit,
    accessibility_violations,
    horizontal_overflow,
)
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.flows import (
    CITED,
    adopt_policy,
    auth,
    live_deployment,
    now,
    ok,
    open_operation,
    raise_alert,
    train,
)

pytestmark = pytest.mark.timeout(300)


@dataclass
class Desk:
    server: Server
    alpha: str  # one deployment: 2 alerts, one true, one false
    bravo: str  # two deployments: 3 alerts, all true; 1 alert, false
    seed: str


def decide(server: Server, client: Any, alert_id: str, decision: str) -> None:
    body: dict[str, Any] = {"decision": decision, "reason": "Compared the faces side by side"}
    if decision == "no_match":
        body["false_alert_factors"] = ["subject"]
    headers = auth(server, OPERATOR)
    ok(client.post(f"/alerts/{alert_id}/adjudication", headers=headers, json=body), 200)


def reviewed_documents(server: Server, client: Any) -> None:
    """The seed's documents were due for review a year on: this year's deployments cite their
    reviewed versions (the seed's own 2025 deployments keep citing version 1.0)."""
    today = now().date()
    for kind, reference, title in DOCUMENTS:
        body = {
            "kind": kind,
            "reference": CITED.get(kind, reference),
            "version": "1.1",
            "title": title,
            "approved_on": (today - timedelta(days=7)).isoformat(),
            "review_by": (today + timedelta(days=365)).isoformat(),
            "approved_by": "Chief Officer Group",
        }
        ok(client.post("/governance/documents", headers=auth(server, ADMIN), json=body), 201)


def installed_chart_js() -> Path:
    """The pinned Chart.js in the cache beside the models, as `make setup` leaves it."""
    base = asset_dir(Settings.from_env())
    try:
        fetch(base)
    except AssetError as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(f"Chart.js not installed and not fetchable here: {error}")
    return base / CHART_JS.folder / CHART_JS_FILE.name


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    installed_chart_js()
    data_dir = tmp_path_factory.mktemp("analyst") / "var"
    clock = DemoClock()
    ledger = build_ledger(Settings(data_dir=data_dir), clock=clock)
    try:
        seed = str(record_seed_operation(ledger, clock.set).operation_id)
    finally:
        ledger.close()
    server = start_server(data_dir)
    try:
        with server.client() as client:
            version = ok(client.post("/policy/adopt", headers=auth(server, ADMIN)), 200)["version"]
            reviewed_documents(server, client)
            train(server, client)
            alpha = open_operation(server, client, "Operation Alpha")
            one = live_deployment(server, client, policy_version=version, operation_id=alpha)
            decide(server, client, raise_alert(server, client, one), "match")
            decide(server, client, raise_alert(server, client, one, entry=1), "no_match")
            bravo = open_operation(server, client, "Operation Bravo")
            first = live_deployment(
                server, client, policy_version=version, operation_id=bravo, number=1,
                location_name="Gold Street", town="Kettering",
            )  # fmt: skip
            for _ in range(3):
                decide(server, client, raise_alert(server, client, first), "match")
            second = live_deployment(
                server, client, policy_version=version, operation_id=bravo, number=2,
                location_name="Market Street", town="Wellingborough",
            )  # fmt: skip
            decide(server, client, raise_alert(server, client, second), "no_match")
        yield Desk(server, alpha, bravo, seed)
    finally:
        stop_server(server)
    assert "Traceback" not in server.log(), server.log()


def open_page(browser: Browser, desk: Desk, viewport: dict[str, int]) -> tuple[Visit, Page]:
    visit = Visit(browser, desk.server, viewport=viewport)
    page = visit.sign_in("analyst", ANALYST.id)
    expect(page.locator("body[data-ready]")).to_have_count(1, timeout=10_000)
    return visit, page


def chart_data(page: Page, canvas: str) -> dict[str, Any]:
    """What the Chart instance on the canvas draws: its labels and each series' figures."""
    data: dict[str, Any] = page.evaluate(
        """(id) => { const chart = Chart.getChart(document.getElementById(id));
           return { labels: chart.data.labels, series: Object.fromEntries(
             chart.data.datasets.map(d => [d.label, d.data])) }; }""",
        canvas,
    )
    return data


def choose_operation(page: Page, operation_id: str, name: str) -> None:
    page.locator("#operation").select_option(operation_id)
    expect(page.locator("#operation-headline")).to_contain_text(name)
    expect(page.locator("#deployments-table caption")).to_contain_text(name)


def cells(page: Page, selector: str) -> list[list[str]]:
    rows: list[list[str]] = page.locator(selector).evaluate_all(
        "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))"
    )
    return rows


def key_figures(page: Page, where: str) -> dict[str, str]:
    pairs: list[list[str]] = page.locator(f"{where} .key-figures > div").evaluate_all(
        "ds => ds.map(d => [d.querySelector('dt').textContent,"
        " d.querySelector('.value').textContent])"
    )
    return dict((name, value) for name, value in pairs)


def test_the_chart_follows_the_chosen_operation(browser: Browser, desk: Desk) -> None:
    visit, page = open_page(browser, desk, DESKTOP)
    try:
        choose_operation(page, desk.alpha, "Operation Alpha")
        expect(page.locator("#operation-headline")).to_contain_text(
            "1 deployment in 1 town on 1 day"
        )
        alpha = chart_data(page, "deployments-chart")
        assert alpha["series"]["Alerts"] == [2]
        assert alpha["series"]["True alerts"] == [1]
        assert alpha["series"]["False alerts"] == [1]
        assert alpha["labels"][0][0] == "Northampton, Abington Street"

        choose_operation(page, desk.bravo, "Operation Bravo")
        expect(page.locator("#operation-headline")).to_contain_text(
            "2 deployments in 2 towns on 1 day"
        )
        bravo = chart_data(page, "deployments-chart")
        assert bravo["series"]["Alerts"] == [3, 1]
        assert bravo["series"]["True alerts"] == [3, 0]
        assert bravo["series"]["False alerts"] == [0, 1]
        assert [label[0] for label in bravo["labels"]] == [
            "Kettering, Gold Street",
            "Wellingborough, Market Street",
        ]
        # The table beside the chart holds the same figures, for screen readers and readers.
        rows = cells(page, "#deployments-table tbody tr")
        headings = cells(page, "#deployments-table thead tr")[0]
        column = {name: i for i, name in enumerate(headings)}
        assert [r[column["Alerts"]] for r in rows] == ["3", "1"]
        assert [r[column["False alerts"]] for r in rows] == ["0", "1"]
        assert all(re.fullmatch(r"\d+:\d\d", r[column["Hours live"]]) for r in rows)
        label = page.locator("#deployments-chart").get_attribute("aria-label") or ""
        assert "Operation Bravo" in label and "table" in label
        assert visit.script_errors == []
    finally:
        visit.close()


def test_the_year_shows_the_press_release_figures(browser: Browser, desk: Desk) -> None:
    """`../shared/seed/press-release.txt`: four deployments, 13 positive alerts, six arrests,
    seven compliance checks, 10:00 to 17:00 each day (docs/seed.md)."""
    visit, page = open_page(browser, desk, DESKTOP)
    try:
        page.locator("#year").select_option("2025")
        expect(page.locator("#year-headline")).to_have_text(
            "2025: 4 deployments of 1 operation, 4 deployments on another force's equipment."
        )
        figures = key_figures(page, "#year-figures")
        assert figures["Deployments"] == "4"
        assert figures["Alerts"] == "13"
        assert figures["True alerts"] == "13"
        assert figures["Arrests"] == "6"
        assert figures["Compliance checks"] == "7"
        assert figures["Hours live"] == "28:00"
        assert figures["False alerts among faces seen"] == "none in 24,745"
        assert figures["Share of alerts that were false"] == "0.0%"
        trend = chart_data(page, "trend-chart")
        assert len(trend["labels"]) == 12 and trend["labels"][10] == "Nov"
        assert trend["series"]["Alerts"][10:] == [7, 6]
        assert trend["series"]["Arrests"][:10] == [0] * 10
        months = {r[0]: r for r in cells(page, "#trend-table tbody tr")}
        assert months["Nov 2025"][1:3] == ["2", "14:00"]
        expect(page.locator("#publication tbody tr")).to_have_count(4)
        expect(page.locator("#csv")).to_have_attribute(
            "href", "/publication/deployments.csv?year=2025"
        )

        # The seed's operation, chart and all: 4 / 3 / 3 / 3 alerts, 7:00 live each.
        choose_operation(page, desk.seed, "16 Days")
        expect(page.locator("#operation-headline")).to_contain_text(
            "4 deployments in 3 towns on 4 days"
        )
        seed = chart_data(page, "deployments-chart")
        assert seed["series"]["Alerts"] == [4, 3, 3, 3]
        assert sum(seed["series"]["Arrests"]) == 6
        assert sum(seed["series"]["Compliance checks"]) == 7
        rows = cells(page, "#deployments-table tbody tr")
        assert {r[2] for r in rows} == {"7:00"}

        # A month's figures are laid out, not a dump of the reply's keys.
        page.locator("#period-month").fill("2025-12")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#period .headline")).to_have_text(
            "Dec 2025: 2 deployments of 1 operation, 2 deployments on another force's equipment."
        )
        text = page.locator("#period").inner_text()
        assert "14:00" in text
        assert "faces_reported_by_matcher" not in text and "by_month" not in text
        expect(page.locator("#period table tbody tr")).to_have_count(2)
        assert visit.script_errors == []
    finally:
        visit.close()


@pytest.mark.parametrize(("viewport", "shot"), [(DESKTOP, "desktop"), (VAN, "van")])
def test_the_page_fits_passes_axe_and_stays_on_the_server(
    browser: Browser, desk: Desk, viewport: dict[str, int], shot: str
) -> None:
    visit, page = open_page(browser, desk, viewport)
    try:
        choose_operation(page, desk.seed, "16 Days")
        page.locator("#year").select_option("2025")
        expect(page.locator("#publication tbody tr")).to_have_count(4)
        page.locator("#period-month").fill("2025-11")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#period .headline")).to_contain_text("Nov 2025")
        assert horizontal_overflow(page) == 0
        assert accessibility_violations(page) == []
        visit.screenshot(f"analyst-{shot}")
        assert visit.foreign_requests() == []
        assert f"{desk.server.url}{CHART_JS_PATH}" in visit.requests
        assert visit.script_errors == []
    finally:
        visit.close()


def test_the_served_chart_js_is_the_pinned_file(desk: Desk) -> None:
    installed = installed_chart_js().read_bytes()
    with desk.server.client() as client:
        reply = client.get(CHART_JS_PATH)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/javascript")
    assert hashlib.sha256(reply.content).hexdigest() == CHART_JS_FILE.sha256
    assert reply.content == installed
    # Served by the ledger itself: the policy still allows scripts from this origin only.
    assert "script-src 'self';" in reply.headers["content-security-policy"]


def test_without_chart_js_the_page_keeps_its_tables(browser: Browser, tmp_path: Path) -> None:
    """A server whose cache has no Chart.js (its model dir elsewhere, nothing fetched there)."""
    server = start_server(
        tmp_path / "var", extra_env={"LFR_MODEL_DIR": str(tmp_path / "cache" / "models")}
    )
    try:
        with server.client() as client:
            version = adopt_policy(server, client)
            live = live_deployment(server, client, policy_version=version)
            decide(server, client, raise_alert(server, client, live), "match")
            missing = client.get(CHART_JS_PATH)
        assert missing.status_code == 404 and "make setup" in missing.json()["detail"]
        visit = Visit(browser, server, viewport=VAN)
        page = visit.sign_in("analyst", ANALYST.id)
        expect(page.locator("body[data-ready]")).to_have_count(1, timeout=10_000)
        expect(page.locator("#charts-missing")).to_be_visible()
        expect(page.locator("#charts-missing")).to_contain_text("make setup")
        expect(page.locator("#deployments-chart")).to_be_hidden()
        expect(page.locator("#deployments-table tbody tr")).to_have_count(1)
        expect(page.locator("#trend-table tbody tr").first).to_be_visible()
        assert horizontal_overflow(page) == 0
        assert accessibility_violations(page) == []
        visit.screenshot("analyst-no-charts")
        assert visit.script_errors == []
        visit.close()
    finally:
        stop_server(server)
