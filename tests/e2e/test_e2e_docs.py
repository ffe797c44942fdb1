"""The API's documentation in a real Chromium against a real `lfr serve`: Swagger UI renders
every operation from files the server serves itself, under the app's Content-Security-Policy,
and the browser never reaches beyond the server (an air-gapped network has nothing else)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.e2e.browser import Visit
from tests.e2e.conftest import Server

pytestmark = pytest.mark.timeout(300)
DESK = {"width": 1280, "height": 900}


def _console_errors(visit: Visit) -> list[str]:
    errors: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        # A refused request or a script the Content-Security-Policy blocked shows here.
        if message.type == "error":
            errors.append(message.text)

    visit.page.on("console", seen)
    return errors


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
def test_the_docs_render_offline_under_the_security_policy(
    browser: Browser, server: Server, path: str
) -> None:
    visit = Visit(browser, server, viewport=DESK)
    errors = _console_errors(visit)
    responses: list[Any] = []
    visit.page.on("response", lambda r: responses.append(r))
    try:
        page = visit.page
        page.goto(f"{server.url}{path}")
        # The operations list: rendered from /schema/openapi.json by Swagger UI's own scripts.
        expect(page.locator(".opblock-summary-path", has_text="/alerts/stream")).to_be_visible(
            timeout=30_000
        )
        expect(page.locator(".opblock-summary-path", has_text="/policy/adopt")).to_be_visible()
        expect(page.locator(".info .title")).to_contain_text("lfr-ledger")

        # The live stream is documented as server-sent events, and a purpose route says that
        # X-Purpose or `purpose` is required.
        page.locator(".opblock-summary-path", has_text="/alerts/stream").first.click()
        stream = page.locator(".opblock.is-open")
        expect(stream).to_contain_text("text/event-stream", timeout=10_000)
        expect(stream).to_contain_text("alert.raised")
        page.locator(".opblock-summary-path", has_text="/alerts/stream").first.click()

        entry = page.locator(".opblock-summary-path", has_text="/watchlist/entries/{entry_id}")
        entry.first.click()
        expect(page.locator(".opblock.is-open")).to_contain_text("X-Purpose", timeout=10_000)
        expect(page.locator(".opblock.is-open").first).to_contain_text("one of the two")

        if path == "/schema":
            visit.screenshot("api-docs")

        assert visit.foreign_requests() == []
        assert visit.script_errors == []
        assert errors == []
        # Every file the page loaded came from the server, and none failed.
        loaded = [r.url for r in responses]
        assert any(u.endswith("/schema/static/swagger-ui-bundle.js") for u in loaded), loaded
        assert any(u.endswith("/schema/openapi.json") for u in loaded), loaded
        assert [r.url for r in responses if r.status >= 400] == []
    finally:
        visit.close()
