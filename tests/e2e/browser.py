"""A real Chromium (Debian's package, driven by Playwright through its executable path) against
a real `lfr serve`; nothing is downloaded, and no page may reach beyond the server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.console.sessions import SessionStore
from tests.e2e.conftest import REPO, Server

ARTIFACTS = REPO / "var" / "test-artifacts" / "console"


def chromium_path() -> str:
    path = os.environ.get("LFR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = "Debian's chromium is not installed (make setup installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


class Visit:
    """One person's browser: its own cookies, every request it made, its scripts' errors."""

    def __init__(self, browser: Browser, server: Server, **options: Any) -> None:
        self.server = server
        self.context: BrowserContext = browser.new_context(**options)
        self.page: Page = self.context.new_page()
        self.requests: list[str] = []
        self.script_errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        # An uncaught exception in the console's own scripts (a refused request is not one).
        self.page.on("pageerror", lambda e: self.script_errors.append(str(e)))

    def sign_in(self, role: str, sub: str, **claims: Any) -> Page:
        """Opens a one-time link, as `lfr console-link` prints it, and signs in."""
        store = SessionStore(self.server.settings)
        try:
            code = store.add_link(issue_token(self.server.settings, role=role, sub=sub, **claims))
        finally:
            store.close()
        self.page.goto(f"{self.server.url}/console/sign-in/{code}")
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(lambda url: "/sign-in" not in url)
        return self.page

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def foreign_requests(self) -> list[str]:
        return [
            u
            for u in self.requests
            if not u.startswith(self.server.url) and not u.startswith(("data:", "blob:"))
        ]

    def close(self) -> None:
        self.context.close()


# The devices the console's users hold: the operator's van laptop, the officer's phone, and a
# desktop at the station (planning, oversight, statistics).
VAN = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1920, "height": 1080}

_AXE_SCRIPT: str | None = None


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands, one line each.

    axe-core is the copy bundled by `axe-playwright-python` (pinned in requirements/dev.txt);
    it is injected through the DevTools protocol, which the page's CSP does not govern.
    """
    global _AXE_SCRIPT
    if _AXE_SCRIPT is None:
        import axe_playwright_python

        _AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    page.evaluate(_AXE_SCRIPT)
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + "; ".join(", ".join(node["target"]) for node in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its window (0 when it fits)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )
