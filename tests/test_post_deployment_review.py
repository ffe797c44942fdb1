"""Issue 24: the post-deployment review is structured. An authorising officer answers each part
(objectives met, from a closed list, and why; issues; community impact; lessons; complaints the
records do not hold), the ledger counts the complaints linked to the deployment from their
records, and a part left blank is refused, writing nothing. A review stored before issue 24
(findings alone) still decodes, replays and reports. The period report (`lfr stats period`,
`GET /statistics/period`) shows per deployment whether it was reviewed, its objectives and
lessons, and its complaints: no personal data. Both backends where the store matters.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from litestar.testing import TestClient

import lfr_ledger.api.cli
from lfr_ledger.api.app import create_app
from lfr_ledger.api.controllers.audit import _event_data
from lfr_ledger.api.demo.sample_deployment import AO, REVIEW
from lfr_ledger.api.schemas.history import recorded_event
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.errors import InvalidInput, NotPermitted
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.readers.statistics import StatisticsReader
from tests.conftest import Clock
from tests.test_api import Api, assert_problem
from tests.test_complaints import OUTCOME, SUMMARY, ended, record, today
from tests.test_retention import cli_env  # noqa: F401

# An authorising officer below the policy's minimum rank (superintendent).
JUNIOR_AO = dataclasses.replace(AO, rank="inspector")


def head(ledger: CaseLedger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def reviewed_event(ledger: CaseLedger, deployment: UUID) -> Any:
    [event] = [
        e
        for e in ledger.repository.event_store.get(deployment)
        if type(e).__name__ == "PostDeploymentReviewed"
    ]
    return event


def test_the_review_records_each_part_and_counts_the_complaints_from_their_records(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, alert, _ = ended(ledger, clock)
    first = record(ledger, deployment, clock, alert_id=alert)
    second = record(ledger, deployment, clock, summary="signs too small")
    noted = "One passer-by objected at the van and declined to complain formally"
    ledger.record_post_deployment_review(
        AO, deployment, dataclasses.replace(REVIEW, complaints_noted=noted)
    )
    event = reviewed_event(ledger, deployment)
    assert event.objectives_met == "partly_met"
    assert event.objectives_statement == REVIEW.objectives_statement
    assert (event.issues, event.community_impact, event.lessons) == (
        "none",
        REVIEW.community_impact,
        REVIEW.lessons,
    )
    # Counted by the ledger, not typed in: both records, in the order recorded.
    assert event.complaint_ids == [first, second]
    assert event.complaints_noted == noted
    assert ledger.deployment(deployment).post_review_at == clock.now


@pytest.mark.parametrize(
    ("part", "value", "match"),
    [
        ("objectives_met", "mostly", "objectives_met must be one of met, partly_met, not_met"),
        ("objectives_statement", " ", "needs its objectives statement"),
        ("issues", "", "needs its issues"),
        ("community_impact", "\n", "needs its community impact"),
        ("lessons", "  ", "needs its lessons"),
        ("lessons", "x" * 2001, "at most 2000"),
    ],
)
def test_a_part_left_blank_or_out_of_the_list_is_refused_and_writes_nothing(
    ledger: CaseLedger, clock: Clock, part: str, value: str, match: str
) -> None:
    deployment, _, _ = ended(ledger, clock)
    before = head(ledger)
    with pytest.raises(InvalidInput, match=match) as refused:
        ledger.record_post_deployment_review(
            AO, deployment, dataclasses.replace(REVIEW, **{part: value})
        )
    assert refused.value.field == part
    assert head(ledger) == before
    assert ledger.deployment(deployment).post_review_at is None


def test_the_review_is_an_authorising_officers_of_the_policys_rank(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, _, _ = ended(ledger, clock)
    before = head(ledger)
    with pytest.raises(NotPermitted, match="rank"):
        ledger.record_post_deployment_review(JUNIOR_AO, deployment, REVIEW)
    assert head(ledger) == before


def test_a_review_stored_before_issue_24_still_decodes_replays_and_reports(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    """The previous release stored `findings` alone: the same event, stripped of every field
    issue 24 added, decodes, replays onto the deployment, shows in the history's shape, and
    reads as reviewed with its objectives unknown."""
    deployment, _, _ = ended(ledger, clock)
    ledger.record_post_deployment_review(AO, deployment, REVIEW)
    [stored] = [
        s
        for s in ledger.recorder.select_events(deployment)
        if s.topic == DeploymentTopic.POST_DEPLOYMENT_REVIEWED
    ]
    state = ledger.mapper.transcoder.decode(stored.state)
    old = {k: state[k] for k in ("timestamp", "findings", "actor", "occurred_at")}
    old["findings"] = "proportionate; no issues"
    legacy = ledger.mapper.to_domain_event(
        StoredEvent(
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=ledger.mapper.transcoder.encode(old),
        )
    )
    assert not hasattr(legacy, "objectives_met")
    replayed = ledger.repository.get(deployment, version=stored.originator_version - 1)
    legacy.mutate(replayed)
    assert replayed.post_review_at == clock.now
    shape = recorded_event(
        stored.topic,
        _event_data(legacy),
        notification_id=1,
        originator_id=deployment,
        originator_version=stored.originator_version,
        recorded_at=None,
        occurred_at=None,
        actor=None,
    )
    assert shape.data.findings == "proportionate; no issues"  # type: ignore[attr-defined]
    assert shape.data.objectives_met is None  # type: ignore[attr-defined]

    # The view reads such an event as a review whose objectives are unknown.
    from lfr_ledger.projections.reviews import ReviewsView
    from lfr_ledger.projections.rows import Rows
    from lfr_ledger.projections.store import store_for

    catch_up(settings)
    with store_for(settings).connection() as db, db.transaction():
        rows = Rows(db, ReviewsView.tables)
        ReviewsView().apply(stored.topic, legacy, rows)
        row = rows.get("view_deployment_reviews", str(deployment))
    assert row is not None
    assert (row["objectives_met"], row["lessons"], row["complaints_counted"]) == (None, "", 0)


def period_of(settings: Settings, clock: Clock) -> dict[str, Any]:
    catch_up(settings)
    reader = StatisticsReader(settings, clock=clock)
    day = clock.now.date()
    import msgspec

    return dict(msgspec.to_builtins(reader.period_figures(day - timedelta(days=1), day)))


def test_the_period_report_shows_each_deployments_review_and_complaints_without_personal_data(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    deployment, alert, _ = ended(ledger, clock)
    complaint = record(ledger, deployment, clock, alert_id=alert)
    ledger.resolve_complaint(AO, complaint, outcome=OUTCOME, resolved_on=today(clock))
    record(ledger, deployment, clock, summary="signs too small")
    ledger.record_post_deployment_review(AO, deployment, REVIEW)
    figures = period_of(settings, clock)
    assert (figures["deployments"], figures["reviewed_deployments"]) == (2, 1)
    assert (figures["complaints"], figures["complaints_resolved"]) == (2, 1)
    by_id = {r["deployment_id"]: r for r in figures["reviews"]}
    done = by_id[str(deployment)]
    assert (done["reviewed"], done["objectives_met"], done["lessons"]) == (
        True,
        "partly_met",
        REVIEW.lessons,
    )
    assert (done["complaints"], done["complaints_resolved"]) == (2, 1)
    [other] = [r for r in figures["reviews"] if r["deployment_id"] != str(deployment)]
    assert (other["reviewed"], other["objectives_met"], other["lessons"]) == (False, None, None)
    text = json.dumps(figures)
    assert "Zebedee" not in text and "briefed" not in text and AO.id not in text

    # The same over the CLI, as JSON and as the printed report.
    day = clock.now.date().isoformat()
    period = ["stats", "period", "--from", day, "--to", day]
    capsys.readouterr()
    assert lfr_ledger.api.cli.main([*period, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["reviews"] == figures["reviews"]
    assert lfr_ledger.api.cli.main(period) == 0
    report = capsys.readouterr().out
    assert "Post-deployment reviews: 1 of 2 deployment(s) reviewed" in report
    assert "partly_met" in report and REVIEW.lessons in report
    assert "Zebedee" not in report


@pytest.fixture
def http(ledger: CaseLedger, settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, ledger=ledger)) as client:
        yield Api(client, settings)


def test_over_http_the_review_is_structured_and_the_period_figures_carry_it(
    ledger: CaseLedger, clock: Clock, http: Api
) -> None:
    deployment, _, _ = ended(ledger, clock)
    ao = {"claims": {"rank": "superintendent"}}
    path = f"/deployments/{deployment}/review"
    body = {
        "objectives_met": "met",
        "objectives_statement": "Both wanted subjects located",
        "issues": "none",
        "community_impact": "No protest; leaflets handed out",
        "lessons": "Start earlier on market day",
    }
    before = head(ledger)
    # The one text box of before is no longer a review.
    assert_problem(http.post(path, "authorising_officer", {"findings": "fine"}, **ao), 400)
    assert_problem(http.post(path, "authorising_officer", {**body, "issues": " "}, **ao), 422)
    assert_problem(
        http.post(path, "authorising_officer", {**body, "objectives_met": "yes"}, **ao), 422
    )
    assert head(ledger) == before
    done = http.post(path, "authorising_officer", body, **ao)
    assert done.status_code == 200, done.text
    day = clock.now.date().isoformat()
    figures = http.get("/statistics/period", "analyst", params={"from": day, "to": day})
    assert figures.status_code == 200, figures.text
    [review] = [r for r in figures.json()["reviews"] if r["deployment_id"] == str(deployment)]
    assert (review["reviewed"], review["objectives_met"], review["lessons"]) == (
        True,
        "met",
        "Start earlier on market day",
    )
    assert SUMMARY not in figures.text
