"""One way to show things on every console page (api/console/static/format.js, with the table of
labels api/console/labels.py renders into each page): UK local time with the UTC instant on
hover, words instead of codes, plural agreement and figures rounded for people. Run in a real
Chromium on a real page, since the zone rules are the browser's own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from lfr_ledger.api.demo.seed import ANALYST
from tests.e2e.browser import DESKTOP, Visit
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy

pytestmark = pytest.mark.timeout(120)


def run(page: Any, call: str, *args: Any) -> Any:
    """Calls one of format.js's functions in the page (the CSP allows no eval of a string)."""
    return page.evaluate(
        "async ([call, args]) => { const f = await import('/console/static/format.js');"
        " const [name, field] = call.split('.'); const value = f[name](...args);"
        " return field ? value[field] : value; }",
        [call, list(args)],
    )


def test_times_words_and_figures_read_as_a_person_in_the_uk_expects(
    browser: Browser, server: Server
) -> None:
    with httpx.Client(base_url=server.url) as client:
        adopt_policy(server, client)
    visit = Visit(browser, server, viewport=DESKTOP, timezone_id="America/New_York")
    try:
        page = visit.sign_in("analyst", ANALYST.id)
        # Winter is GMT, summer BST, whatever zone the browser itself is in.
        assert run(page, "when", "2026-01-15T09:05:07Z") == "15 Jan 2026, 09:05:07 GMT"
        assert run(page, "when", "2026-07-15T09:05:07Z") == "15 Jul 2026, 10:05:07 BST"
        assert run(page, "day", "2026-03-14") == "14 Mar 2026"
        assert run(page, "month", "2026-03") == "Mar 2026"
        hover = run(page, "timeEl.title", "2026-07-15T09:05:07.123456Z")
        assert hover == "2026-07-15 09:05:07Z (UTC)"
        # A form's UK wall-clock time is the instant it names, across both offsets.
        assert run(page, "fromUkLocal", "2026-07-15T10:05") == "2026-07-15T09:05:00.000Z"
        assert run(page, "fromUkLocal", "2026-01-15T10:05") == "2026-01-15T10:05:00.000Z"
        assert run(page, "toUkLocal", "2026-07-15T09:05:00Z") == "2026-07-15T10:05"
        # Words from the page's table (the policy in force), else the code read aloud.
        assert run(page, "label", "wanted_by_courts") == "Wanted by the courts"
        assert run(page, "label", "never_reported") == "Never reported"
        assert run(page, "label", "kent") == "Kent Police"
        assert run(page, "label", "environment.lighting") == "Environment: lighting"
        assert run(page, "label", "25_34") == "25–34"
        assert run(page, "plural", 1, "deployment") == "1 deployment"
        assert run(page, "plural", 3, "town") == "3 towns"
        assert run(page, "plural", 2, "person", "people") == "2 people"
        assert run(page, "hours", 0.5166666666666667) == "0:31"
        assert run(page, "hours", 13.75) == "13:45"
        assert run(page, "percent", 0.01234) == "1.2%"
        assert run(page, "oneIn", 4, 15000) == "1 in 3,750"
        assert run(page, "oneIn", 0, 15000) == "none in 15,000"
        assert visit.script_errors == []
    finally:
        visit.close()
