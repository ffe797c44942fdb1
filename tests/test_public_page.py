"""Issue 24: what the public reads. An unauthenticated, read-only page (`/public`) and its data
(`/public/deployments.json`, `.csv`): deployments once their notice is issued (where, when, why,
the law, how to complain), results once the planner or an authorising officer publishes them,
results still due; a result not published within the policy's days raises the alarm (a metric,
and a record in the history oversight reads); times in UK local time beside the UTC instant;
and no personal data, by a scan of every byte served."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import TestClient

import lfr_ledger.api.cli
from lfr_ledger.api.app import create_app
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    AUTHORITY,
    COMPILER,
    OFFICER,
    OPERATOR,
    PLANNER,
    WINDOW_END,
    WINDOW_START,
    matcher_for,
    proposed,
    reviewed,
)
from lfr_ledger.api.publication_deadline import record_overdue_publications
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim, Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.values import Confirmation, Decision, OutcomeType, PublicNotice
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock
from tests.test_api import Api, assert_problem
from tests.test_retention import cli_env  # noqa: F401

CUSTODY_REF = "CUST-QX-93817"
CRIME_REF = "CRIME-WV-55210"
ADJUDICATION_REASON = "Same scar above the left eyebrow as the custody image"
ENGAGEMENT_NOTE = "Stopped outside Boots, gave his address as 14 Wexley Road"
PAUSE_REASON = "A man in a red coat objected loudly to the van"
EXEMPTION = "Notice would alert the fugitive Hortensia Blackwood-Vane to the operation"


@pytest.fixture(autouse=True)
def _close_projection_connections() -> Iterator[None]:
    yield
    close_stores()


@pytest.fixture
def api(settings: Settings, ledger: CaseLedger) -> Iterator[Api]:
    with TestClient(create_app(settings, ledger=ledger)) as client:
        yield Api(client, settings)


def went_live(ledger: CaseLedger, clock: Clock) -> tuple[UUID, list[UUID]]:
    """The sample deployment live at 10:00 UTC (11:00 in London, BST) on 2 June 2025, two
    alerts raised on its first entry: one a match and an arrest, one a false alert."""
    deployment, entries = reviewed(ledger)
    clock.now = WINDOW_START
    ledger.start_deployment(OPERATOR, deployment)
    matcher = matcher_for(deployment)
    alerts = []
    for _ in range(2):
        clock.advance(minutes=20)
        alerts.append(
            ledger.raise_alert(
                matcher,
                AlertClaim(
                    deployment,
                    camera_id="cam-1",
                    entry_id=entries[0],
                    similarity=0.91,
                    captured_at=clock.now,
                ),
            )
        )
    ledger.report_faces_counted(
        matcher,
        deployment,
        camera_id="cam-1",
        period_start=WINDOW_START,
        period_end=clock.now,
        count=4321,
    )
    return deployment, alerts


def decided(ledger: CaseLedger, alerts: list[UUID]) -> None:
    match, false = alerts
    ledger.adjudicate(OPERATOR, match, Decision.MATCH, ADJUDICATION_REASON)
    ledger.record_engagement(OFFICER, match, engaged=True, confirmed=Confirmation.CONFIRMED)
    ledger.record_outcome(
        OFFICER,
        match,
        Outcome(
            OutcomeType.ARREST,
            offences=("failing to appear",),
            custody_ref=CUSTODY_REF,
            crime_ref=CRIME_REF,
            note=ENGAGEMENT_NOTE,
        ),
    )
    ledger.adjudicate(
        OPERATOR, false, Decision.NO_MATCH, "different ears", false_alert_factors=("subject",)
    )


def ran(ledger: CaseLedger, clock: Clock) -> UUID:
    """Live 10:00 to 13:00 UTC, paused once, both alerts decided, ended."""
    deployment, alerts = went_live(ledger, clock)
    decided(ledger, alerts)
    clock.advance(minutes=5)
    ledger.pause_deployment(OPERATOR, deployment, PAUSE_REASON)
    ledger.resume_deployment(OPERATOR, deployment)
    clock.now = WINDOW_START + timedelta(hours=3)
    ledger.end_deployment(OPERATOR, deployment)
    return deployment


def feed(api: Api) -> dict:
    reply = api.client.get("/public/deployments.json")
    assert reply.status_code == 200, reply.text
    body: dict = reply.json()
    return body


def ids(items: list[dict]) -> list[str]:
    return [i["deployment_id"] for i in items]


# --- upcoming -----------------------------------------------------------------------------


def test_a_deployment_is_listed_once_its_notice_is_issued_until_it_ends(
    api: Api, ledger: CaseLedger, clock: Clock
) -> None:
    clock.now = WINDOW_START - timedelta(days=3)
    deployment = proposed(
        ledger, public_notice=PublicNotice("force website", WINDOW_START - timedelta(days=2))
    )
    # The notice is dated two days ahead: the public has not been told yet.
    assert feed(api)["upcoming"] == []
    clock.now = WINDOW_START - timedelta(days=2)
    (listed,) = feed(api)["upcoming"]
    assert listed["deployment_id"] == str(deployment)
    assert listed["status"] == "proposed"
    assert listed["location"] == {
        "name": "Abington Street",
        "town": "Northampton",
        "location_type": "town_centre",
    }
    assert listed["purpose"] == "Locate people wanted by the courts"
    assert listed["advance_notice"]["method"] == "force website"
    assert listed["watchlist_categories"] == ["wanted_by_courts", "subject_to_court_order"]
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    assert [u["status"] for u in feed(api)["upcoming"]] == ["authorised"]
    # Its window closed without its going live: no longer coming up.
    clock.now = WINDOW_END
    assert feed(api)["upcoming"] == []


def test_a_refused_or_ended_deployment_is_not_upcoming_and_an_exempt_one_never_before(
    api: Api, ledger: CaseLedger, clock: Clock
) -> None:
    refused = proposed(ledger)
    exempt = proposed(ledger, public_notice=PublicNotice("none", None, exemption=EXEMPTION))
    assert ids(feed(api)["upcoming"]) == [str(refused)]
    ledger.refuse_deployment(AO, refused, "not necessary")
    assert feed(api)["upcoming"] == []
    ledger.authorise_deployment(AO, exempt, authority_ref="AUTH-2", **AUTHORITY)
    assert feed(api)["upcoming"] == []
    # The sample, announced the day before, is listed while it runs and drops off at its end.
    deployment = ran_announced(api, ledger, clock)
    assert str(deployment) not in ids(feed(api)["upcoming"])
    assert str(exempt) not in ids(feed(api)["upcoming"])


def ran_announced(api: Api, ledger: CaseLedger, clock: Clock) -> UUID:
    deployment, alerts = went_live(ledger, clock)
    (live,) = [u for u in feed(api)["upcoming"] if u["deployment_id"] == str(deployment)]
    assert live["status"] == "live"
    decided(ledger, alerts)
    ledger.end_deployment(OPERATOR, deployment)
    return deployment


# --- results ------------------------------------------------------------------------------


def test_results_appear_once_published_by_the_planner_or_an_ao_with_the_records_figures(
    api: Api, ledger: CaseLedger, clock: Clock
) -> None:
    deployment = ran(ledger, clock)
    body = feed(api)
    assert body["results"] == []
    (due,) = body["results_due"]
    assert due["deployment_id"] == str(deployment)
    assert due["overdue"] is False
    assert due["due_by"] == "2025-06-07T13:00:00Z"
    path = f"/deployments/{deployment}/publication"
    for role in ("officer", "operator", "analyst", "oversight"):
        assert_problem(api.post(path, role), 403)
    assert feed(api)["results"] == []
    clock.advance(days=1)
    reply = api.post(path, "planner", claims={"rank": "inspector"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["published_late"] is False
    body = feed(api)
    assert body["results_due"] == []
    (result,) = body["results"]
    record = result["record"]
    assert (record["alerts"], record["true_alerts"], record["false_alerts"]) == (2, 1, 1)
    assert (record["arrests"], record["faces_processed"], record["watchlist_size"]) == (1, 4321, 2)
    assert result["published_at"] == "2025-06-03T13:00:00Z"
    assert result["published_late"] is False
    # The figures are the publication record analysts read, field for field.
    analysts = api.get("/publication/deployments", "analyst").json()
    assert analysts == [record]
    # Once: a second publication is refused and records nothing.
    events = len(ledger.recorder.select_notifications(0, 10_000))
    assert_problem(api.post(path, "authorising_officer", claims={"rank": "superintendent"}), 409)
    assert len(ledger.recorder.select_notifications(0, 10_000)) == events
    # Published in time: its deadline passing raises no alarm.
    clock.advance(days=30)
    assert not ledger.record_publication_overdue(deployment)
    assert record_overdue_publications(ledger, api.settings) == []


def test_results_are_not_published_before_the_end_nor_while_an_alert_awaits_its_decision(
    api: Api, ledger: CaseLedger, clock: Clock
) -> None:
    deployment, alerts = went_live(ledger, clock)
    path = f"/deployments/{deployment}/publication"
    assert "is live" in assert_problem(api.post(path, "planner"), 409)["detail"]
    # The window closes with both alerts undecided: the ledger ends it.
    clock.now = WINDOW_END
    assert ledger.end_on_deadline(deployment)
    events = len(ledger.recorder.select_notifications(0, 10_000))
    detail = assert_problem(api.post(path, "planner"), 409)["detail"]
    assert "2 alert(s)" in detail and "await an operator's decision" in detail
    assert len(ledger.recorder.select_notifications(0, 10_000)) == events
    decided(ledger, alerts)
    assert api.post(path, "planner").status_code == 200


def test_a_deployment_that_never_went_live_has_no_results(
    api: Api, ledger: CaseLedger, clock: Clock
) -> None:
    deployment, _ = reviewed(ledger)
    clock.now = WINDOW_END
    assert ledger.end_on_deadline(deployment)
    detail = assert_problem(api.post(f"/deployments/{deployment}/publication", "planner"), 409)
    assert "without going live" in detail["detail"]
    body = feed(api)
    assert body["results"] == body["results_due"] == body["upcoming"] == []
    clock.advance(days=30)
    assert record_overdue_publications(ledger, api.settings) == []


# --- the deadline -------------------------------------------------------------------------


def overdue_metric(api: Api) -> float:
    text = api.client.get("/metrics").text
    found = re.search(r"^lfr_publication_results_overdue (\S+)$", text, re.M)
    assert found, text
    return float(found[1])


def test_a_result_not_published_in_time_is_recorded_overdue_and_counted(
    api: Api, ledger: CaseLedger, clock: Clock
) -> None:
    deployment = ran(ledger, clock)
    ended = clock.now
    days = ledger.policy.results_within_days
    assert days == 5
    clock.now = ended + timedelta(days=days)
    assert record_overdue_publications(ledger, api.settings) == []
    # The deployment itself decides, whoever asks: not before its day has passed.
    assert not ledger.record_publication_overdue(deployment)
    assert overdue_metric(api) == 0
    assert feed(api)["results_due"][0]["overdue"] is False
    clock.advance(minutes=1)
    assert overdue_metric(api) == 1
    assert record_overdue_publications(ledger, api.settings) == [deployment]
    # Once: the next check, or another node's, records nothing more.
    assert record_overdue_publications(ledger, api.settings) == []
    assert not ledger.record_publication_overdue(deployment)
    (due,) = feed(api)["results_due"]
    assert due["overdue"] is True
    assert due["overdue_recorded_at"] == clock.now.isoformat().replace("+00:00", "Z")
    # Oversight reads it in the deployment's history: when it was due, and under what rule.
    history = api.get(
        f"/deployments/{deployment}/history", "oversight", headers={"X-Purpose": "audit"}
    ).json()["events"]
    (notice,) = [e for e in history if e["topic"] == DeploymentTopic.PUBLICATION_OVERDUE]
    assert notice["data"] == {"due_by": "2025-06-07T13:00:00+00:00", "results_within_days": 5}
    assert notice["actor"]["id"] == "system:publication-deadline"
    # Published late: the page says so, and the alarm stops counting it.
    assert api.post(f"/deployments/{deployment}/publication", "planner").json()["published_late"]
    (result,) = feed(api)["results"]
    assert result["published_late"] is True
    assert overdue_metric(api) == 0
    page = api.client.get("/public").text
    assert "after the day they were due" in page


# --- times ----------------------------------------------------------------------------------


def test_times_are_in_uk_local_time_beside_the_utc_instant_in_summer_and_winter(
    api: Api, ledger: CaseLedger, clock: Clock
) -> None:
    summer = ran(ledger, clock)
    api.post(f"/deployments/{summer}/publication", "planner")
    winter_start = datetime(2025, 12, 2, 10, 0, tzinfo=UTC)
    clock.now = winter_start - timedelta(hours=12)
    winter = proposed(
        ledger,
        starts_at=winter_start,
        ends_at=winter_start + timedelta(hours=6),
        public_notice=PublicNotice("press release", winter_start - timedelta(days=1)),
    )
    body = feed(api)
    (upcoming,) = body["upcoming"]
    assert upcoming["deployment_id"] == str(winter)
    # GMT in winter: the same clock time, offset +00:00.
    assert upcoming["starts_at"] == "2025-12-02T10:00:00Z"
    assert upcoming["starts_at_uk"] == "2025-12-02T10:00:00+00:00"
    assert upcoming["advance_notice"]["issued_at_uk"] == "2025-12-01T10:00:00+00:00"
    # BST in summer: an hour ahead of UTC.
    (result,) = body["results"]
    assert result["starts_at"] == "2025-06-02T10:00:00Z"
    assert result["starts_at_uk"] == "2025-06-02T11:00:00+01:00"
    assert result["went_live_at_uk"] == "2025-06-02T11:00:00+01:00"
    assert result["ended_at_uk"] == "2025-06-02T14:00:00+01:00"
    assert body["time_zone"] == "Europe/London"
    page = api.client.get("/public").text
    assert "Tuesday 2 December 2025, 10:00 to 16:00 GMT" in page
    assert '<time datetime="2025-12-02T10:00:00Z">' in page
    assert "Monday 2 June 2025, 11:00 to 14:00 BST" in page
    rows = list(csv.DictReader(io.StringIO(api.client.get("/public/deployments.csv").text)))
    assert [(r["section"], r["starts_at_utc"], r["starts_at_uk"]) for r in rows] == [
        ("upcoming", "2025-12-02T10:00:00Z", "2025-12-02T10:00:00+00:00"),
        ("result", "2025-06-02T10:00:00Z", "2025-06-02T11:00:00+01:00"),
    ]
    assert rows[1]["arrests"] == "1" and rows[1]["results_published_at_uk"].endswith("+01:00")


# --- open to anyone, read only, no personal data ------------------------------------------


def test_the_page_and_its_data_need_no_sign_in_load_nothing_else_and_take_no_writes(
    api: Api, ledger: CaseLedger, clock: Clock
) -> None:
    ran(ledger, clock)
    client: TestClient[Litestar] = api.client
    page = client.get("/public")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # No script at all, and every file it loads is this server's own.
    assert "<script" not in page.text
    assert re.findall(r'(?:src|href)="(?:https?:)?//', page.text) == []
    assert re.findall(r'<link[^>]*href="([^"]+)"', page.text) == [
        "data:,",
        "/console/static/public.css",
    ]
    assert client.get("/console/static/public.css").status_code == 200
    for path in ("/public/deployments.json", "/public/deployments.csv"):
        assert client.get(path).status_code == 200
        assert client.post(path).status_code == 405
    assert client.get("/public/deployments.csv").headers["content-type"].startswith("text/csv")
    # The law and how to complain, in the policy's words.
    assert ledger.policy.publication_legal_basis[:60] in page.text.replace("&#39;", "'")
    assert "Independent Office for Police Conduct" in page.text


def test_no_personal_data_reaches_the_page_the_json_or_the_csv(
    api: Api, ledger: CaseLedger, clock: Clock
) -> None:
    """Names, subject references, custody references, officers' ids and every free text a
    person wrote about someone are in the log; not one byte of them is served to the public."""
    published = ran(ledger, clock)
    api.post(f"/deployments/{published}/publication", "planner")
    exempt = proposed(ledger, public_notice=PublicNotice("none", None, exemption=EXEMPTION))
    ledger.authorise_deployment(AO, exempt, authority_ref="AUTH-2", **AUTHORITY)
    clock.now = WINDOW_START - timedelta(hours=1)
    still_due, alerts = went_live(ledger, clock)
    decided(ledger, alerts)
    ledger.end_deployment(OPERATOR, still_due)
    clock.advance(days=6)
    record_overdue_publications(ledger, api.settings)
    upcoming = proposed(
        ledger,
        starts_at=clock.now + timedelta(days=2),
        ends_at=clock.now + timedelta(days=2, hours=6),
        public_notice=PublicNotice("press", clock.now - timedelta(hours=1)),
    )
    served = [
        api.client.get(path).content
        for path in ("/public", "/public/deployments.json", "/public/deployments.csv")
    ]
    body = feed(api)
    assert (len(body["upcoming"]), len(body["results"]), len(body["results_due"])) == (1, 1, 1)
    assert body["upcoming"][0]["deployment_id"] == str(upcoming)
    entries = [ledger.watchlist_entry(e) for e in ledger.deployment(published).entry_ids]
    personal = {
        # names and subject references of everyone enrolled (sealed in the log)
        *(ledger.reveal_entry(e.id).name for e in entries),
        *(ledger.reveal_entry(e.id).subject_ref for e in entries),
        CUSTODY_REF,
        CRIME_REF,
        ADJUDICATION_REASON,
        ENGAGEMENT_NOTE,
        PAUSE_REASON,
        EXEMPTION,
        # officers' and staff ids (the actors of every command)
        *(a.id for a in (PLANNER, COMPILER, AO, OPERATOR, OFFICER)),
        str(matcher_for(published).id),
    }
    assert any("Zebedee" in p for p in personal), personal
    for content in served:
        assert b"Abington Street" in content
        lowered = content.lower()
        for value in personal:
            assert value.lower().encode() not in lowered, value


def test_the_cli_publishes_as_the_route_does_and_refuses_a_second_time(
    ledger: CaseLedger,
    clock: Clock,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    deployment, alerts = went_live(ledger, clock)
    clock.now = WINDOW_END
    assert ledger.end_on_deadline(deployment)
    decided(ledger, alerts)
    argv = ["deployments", "publish-results", str(deployment), "--actor-id", "INSP-1"]
    capsys.readouterr()
    assert lfr_ledger.api.cli.main([*argv, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    published = ledger.deployment(deployment).results_published_at
    assert published is not None
    assert datetime.fromisoformat(shown["results_published_at"]) == published
    events = len(ledger.recorder.select_notifications(0, 10_000))
    assert lfr_ledger.api.cli.main(argv) == 2
    assert "already" in capsys.readouterr().err
    assert len(ledger.recorder.select_notifications(0, 10_000)) == events
