"""Analytics a force publishes and an oversight body asks for (issue 11): hours live and rates
per hour, mutual aid, the blue watchlist's true-positive identification rate kept apart from
operational figures, figures over a period, and the equality trend alarm. Each figure from the
log through the projections (and equal after a rebuild), over HTTP and in the CLI."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.cli import stats as stats_cli
from lfr_ledger.api.demo.sample_deployment import (
    ADMIN,
    AO,
    AUTHORITY,
    COMPILER,
    OFFICER,
    OPERATOR,
    SIGNAGE,
    matcher_for,
    proposed,
    subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim, Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotPermitted,
    PolicyViolation,
)
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import Confirmation, Decision, OutcomeType, PublicNotice
from lfr_ledger.oversight.equality import Audience, equality_report, equality_trend
from lfr_ledger.projections.catch_up import catch_up, rebuild
from lfr_ledger.projections.publication import PUBLICATION_FIELDS
from lfr_ledger.projections.readers.periods import period_bounds
from lfr_ledger.projections.readers.statistics import StatisticsReader
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock
from tests.test_api import Api, assert_problem


@pytest.fixture(autouse=True)
def _close_projection_connections() -> Iterator[None]:
    yield
    close_stores()


BLUE = "test_subject"


@dataclass
class Ran:
    deployment: UUID
    operational: UUID
    blue: UUID
    alerts: list[UUID] = field(default_factory=list)


def operate(
    ledger: CaseLedger,
    clock: Clock,
    day: datetime,
    *,
    owner: str | None = "Northamptonshire Police",
    agreement: str | None = None,
    note: str | None = None,
    end: bool = True,
) -> Ran:
    """A deployment on `day`: live 10:00-11:00 and 11:30-13:00 (2.5 h; paused 30 min), one
    operational entry with two alerts (one match ending in an arrest, one no match) and one
    blue entry walked past twice, alerting twice (one match, one no match)."""
    clock.now = day.replace(hour=8)
    start = day.replace(hour=10)
    deployment = proposed(
        ledger,
        starts_at=start,
        ends_at=start + timedelta(hours=7),
        public_notice=PublicNotice("signage", start - timedelta(days=1)),
        watchlist_categories=("wanted_by_courts", BLUE),
        equipment_owner_force=owner,
        mutual_aid_agreement=agreement,
        equipment_owner_note=note,
    )
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    operational = ledger.enrol(COMPILER, deployment, subject(1))
    blue = ledger.enrol(COMPILER, deployment, subject(2, BLUE))
    ledger.review_watchlist(AO, deployment, confirmed_count=2, not_excessive=True)
    ran = Ran(deployment, operational, blue)
    clock.now = start
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    matcher = matcher_for(deployment)

    def alert(entry: UUID, minute: int, decision: Decision, similarity: float) -> UUID:
        clock.now = start + timedelta(minutes=minute)
        alert_id = ledger.raise_alert(
            matcher,
            AlertClaim(
                deployment,
                camera_id="cam-1",
                entry_id=entry,
                similarity=similarity,
                captured_at=clock.now - timedelta(seconds=2),
            ),
        )
        factors = ("subject",) if decision == Decision.NO_MATCH else ()
        ledger.adjudicate(OPERATOR, alert_id, decision, "compared on screen", factors)
        ran.alerts.append(alert_id)
        return alert_id

    arrested = alert(operational, 10, Decision.MATCH, 0.81)
    ledger.record_engagement(OFFICER, arrested, engaged=True, confirmed=Confirmation.CONFIRMED)
    ledger.record_outcome(
        OFFICER, arrested, Outcome(OutcomeType.ARREST, offences=("theft",), reference="C-1")
    )
    alert(operational, 15, Decision.NO_MATCH, 0.52)
    for minute, decision in ((20, Decision.MATCH), (40, Decision.NO_MATCH)):
        clock.now = start + timedelta(minutes=minute + 1)
        ledger.record_blue_walk_past(
            OPERATOR,
            deployment,
            entry_id=blue,
            camera_id="cam-1",
            walked_at=start + timedelta(minutes=minute),
        )
        alert(blue, minute + 1, decision, 0.97 if decision == Decision.MATCH else 0.55)
    clock.now = start + timedelta(hours=1)
    # Reported as its hour closes: a count of a period still to come is refused (issue 23).
    ledger.report_faces_counted(
        matcher,
        deployment,
        camera_id="cam-1",
        period_start=start,
        period_end=start + timedelta(hours=1),
        count=1000,
    )
    ledger.pause_deployment(OPERATOR, deployment, "rain on the lens")
    clock.now = start + timedelta(hours=1, minutes=30)
    ledger.resume_deployment(OPERATOR, deployment)
    if end:
        clock.now = start + timedelta(hours=3)
        ledger.end_deployment(OPERATOR, deployment)
    return ran


DAY = datetime(2025, 6, 2, tzinfo=UTC)


def reader_for(settings: Settings, ledger: CaseLedger) -> StatisticsReader:
    catch_up(settings)
    return StatisticsReader(settings, ledger.policy.blue_categories, clock=ledger.clock)


def test_hours_live_rates_per_hour_and_blue_alerts_kept_apart(
    settings: Settings, ledger: CaseLedger, clock: Clock
) -> None:
    ran = operate(ledger, clock, DAY)
    reader = reader_for(settings, ledger)
    summary = msgspec.to_builtins(reader.deployment_summary(ran.deployment))
    # 10:00-11:00 and 11:30-13:00: the paused half hour is not counted.
    assert summary["hours_live"] == 2.5
    totals = summary["totals"]
    # The blue officer's two alerts are in no operational figure.
    assert (totals["alerts"], totals["true_alerts"], totals["false_alerts"]) == (2, 1, 1)
    assert totals["arrests"] == 1
    assert summary["alerts_per_hour"] == 2 / 2.5
    assert summary["arrests_per_hour"] == 1 / 2.5
    assert summary["watchlist_size"] == 1
    assert [c["category"] for c in summary["by_category"]] == ["wanted_by_courts"]
    assert sum(c["alerts"] for c in summary["by_camera"]) == 2
    assert sum(d["alerts"] for d in summary["by_day"]) == 2
    assert summary["blue"] == {
        "blue_entries": 1,
        "walk_pasts": 2,
        "alerts": 2,
        "true_alerts": 1,
        "identified_walk_pasts": 1,
        "true_positive_identification_rate": 0.5,
    }
    assert summary["mutual_aid"] is False
    # Score figures leave the blue alerts out too; the operators' alert list keeps them.
    scores = msgspec.to_builtins(reader.score_distribution(ran.deployment))
    assert sum(b["alerts"] for b in scores["bins"]) == 2
    sensitivity = msgspec.to_builtins(reader.threshold_sensitivity(ran.deployment))
    assert sensitivity["rows"][0]["alerts"] == 2
    assert len(reader.deployment_alerts(ran.deployment)) == 4

    operation = msgspec.to_builtins(
        reader.operation_summary(ledger.deployment(ran.deployment).plan.operation_id)
    )
    assert operation["totals"]["alerts"] == 2
    assert operation["hours_live"] == 2.5
    assert operation["arrests_per_deployment"] == 1.0
    assert operation["arrests_per_hour"] == 0.4
    assert operation["by_deployment"][0]["hours_live"] == 2.5
    assert operation["blue"]["walk_pasts"] == 2

    (record,) = msgspec.to_builtins(reader.publication_records())
    assert (record["alerts"], record["arrests"], record["watchlist_size"]) == (2, 1, 1)
    assert (record["hours_live"], record["arrests_per_hour"]) == (2.5, 0.4)

    # The views are the log's: rebuilt from zero, every figure is the same.
    before = [
        msgspec.to_builtins(reader.deployment_summary(ran.deployment)),
        msgspec.to_builtins(reader.publication_records()),
    ]
    for name in ("deployment_operation", "blue_walk_pasts", "alerts", "deployments"):
        rebuild(settings, name)
    after = [
        msgspec.to_builtins(reader.deployment_summary(ran.deployment)),
        msgspec.to_builtins(reader.publication_records()),
    ]
    assert after == before


def test_a_live_deployment_counts_its_hours_to_now(
    settings: Settings, ledger: CaseLedger, clock: Clock
) -> None:
    ran = operate(ledger, clock, DAY, end=False)
    clock.now = DAY.replace(hour=12)  # resumed at 11:30
    reader = reader_for(settings, ledger)
    summary = reader.deployment_summary(ran.deployment)
    assert summary is not None and summary.hours_live == 1.5
    clock.now = DAY.replace(hour=20)  # never past the window's end (17:00), where it stops
    summary = reader.deployment_summary(ran.deployment)
    assert summary is not None and summary.hours_live == 1 + 5.5


def test_blue_walk_pasts_are_refused_unless_lawful(
    settings: Settings, ledger: CaseLedger, clock: Clock
) -> None:
    ran = operate(ledger, clock, DAY, end=False)
    walked = clock.now - timedelta(minutes=1)
    head = ledger.recorder.max_notification_id()

    def refused(error: type[Exception], **changes: Any) -> None:
        given: dict[str, Any] = {"entry_id": ran.blue, "camera_id": "cam-1", "walked_at": walked}
        given.update(changes)
        with pytest.raises(error):
            ledger.record_blue_walk_past(changes.pop("actor", OPERATOR), ran.deployment, **given)

    refused(PolicyViolation, entry_id=ran.operational)  # not a blue entry
    refused(InvalidInput, camera_id="cam-9")
    refused(InvalidInput, walked_at=clock.now + timedelta(minutes=5))  # in the future
    refused(InvalidInput, walked_at=DAY.replace(hour=9))  # before it went live
    refused(InvalidInput, walked_at=walked.replace(tzinfo=None))
    with pytest.raises(NotPermitted):
        ledger.record_blue_walk_past(
            OFFICER, ran.deployment, entry_id=ran.blue, camera_id="cam-1", walked_at=walked
        )
    assert ledger.recorder.max_notification_id() == head  # nothing written
    other = operate(ledger, clock, DAY + timedelta(days=1), end=False)
    walked = clock.now - timedelta(minutes=1)
    with pytest.raises(InvalidInput):  # another deployment's entry
        ledger.record_blue_walk_past(
            OPERATOR, other.deployment, entry_id=ran.blue, camera_id="cam-1", walked_at=walked
        )
    clock.advance(minutes=5)
    ledger.pause_deployment(OPERATOR, other.deployment, "break")
    head = ledger.recorder.max_notification_id()
    with pytest.raises(InvalidTransition):  # paused: the cameras are not running
        ledger.record_blue_walk_past(
            OPERATOR, other.deployment, entry_id=other.blue, camera_id="cam-1", walked_at=walked
        )
    assert ledger.recorder.max_notification_id() == head


def test_mutual_aid_and_period_figures(
    settings: Settings,
    ledger: CaseLedger,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = operate(ledger, clock, datetime(2025, 11, 28, tzinfo=UTC), owner="Essex Police",
                    agreement="MA-2025-7")  # fmt: skip
    operate(ledger, clock, datetime(2025, 12, 5, tzinfo=UTC))
    operate(ledger, clock, datetime(2026, 1, 9, tzinfo=UTC), owner=" ESSEX ",
            agreement="MA-2025-7")  # fmt: skip
    reader = reader_for(settings, ledger)
    records = msgspec.to_builtins(reader.publication_records())
    assert [(r["mutual_aid"], r["equipment_owner_force"]) for r in records] == [
        (True, "essex"),
        (False, "northamptonshire"),
        (True, "essex"),
    ]
    assert {r["controlling_force"] for r in records} == {"northamptonshire"}
    rows = list(csv.DictReader(io.StringIO(reader.publication_csv())))
    assert tuple(rows[0]) == PUBLICATION_FIELDS
    assert [r["mutual_aid"] for r in rows] == ["True", "False", "True"]
    assert rows[0]["equipment_owner_force"] == "essex"
    assert rows[0]["hours_live"] == "2.5"

    year = msgspec.to_builtins(reader.period_figures(*period_bounds(year=2025)))
    assert (year["from_date"], year["to_date"]) == ("2025-01-01", "2025-12-31")
    assert (year["deployments"], year["operations"], year["mutual_aid_deployments"]) == (2, 2, 1)
    assert year["hours_live"] == 5.0
    assert year["faces_reported_by_matcher"] == 2000
    assert (year["alerts"], year["true_alerts"], year["false_alerts"]) == (4, 2, 2)
    assert (year["arrests"], year["compliance_checks"]) == (2, 0)
    assert (year["arrests_per_deployment"], year["arrests_per_hour"]) == (1.0, 0.4)
    assert [(m["month"], m["deployments"], m["alerts"]) for m in year["by_month"]] == [
        ("2025-11", 1, 2),
        ("2025-12", 1, 2),
    ]
    assert year["blue"]["walk_pasts"] == 4 and year["blue"]["alerts"] == 4
    december = msgspec.to_builtins(reader.period_figures(*period_bounds(month="2025-12")))
    assert (december["deployments"], december["mutual_aid_deployments"]) == (0 + 1, 0)
    # `to` is inclusive: the last day's deployment is in.
    span = reader.period_figures(*period_bounds("2025-12-06", "2026-01-09"))
    assert (span.deployments, span.mutual_aid_deployments) == (1, 1)
    with pytest.raises(InvalidInput):
        period_bounds("2025-12-06", "2025-12-01")

    cli_environment(settings, monkeypatch)
    assert run_stats(["stats", "period", "--year", "2025", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["deployments"] == 2 and printed["mutual_aid_deployments"] == 1
    assert run_stats(["stats", "period", "--month", "2026-01"]) == 0
    text = capsys.readouterr().out
    assert "Faces (as reported by the matcher)" in text
    assert "True-positive identification rate" in text
    assert run_stats(["stats", "period", "--year", "2025", "--month", "2025-01"]) == 2
    assert "give the period" in capsys.readouterr().err
    assert run_stats(["stats", "deployment", str(first.deployment)]) == 0
    text = capsys.readouterr().out
    assert "mutual aid: northamptonshire in control, equipment of essex" in text
    assert "hours live 2.5" in text


# --- the equality trend alarm -------------------------------------------------------------------


def small_cells_policy(ledger: CaseLedger) -> Policy:
    """The shipped policy with cells of 2 and its own version, adopted and in force."""
    text = Policy.load().text.replace("minimum_cell_size = 10", "minimum_cell_size = 2")
    text = text.replace('version = "', 'version = "TREND-', 1)
    policy = Policy.parse(text)
    ledger.adopt_policy(ADMIN, policy)
    return policy


def false_alerts(
    ledger: CaseLedger, clock: Clock, day: datetime, groups: list[str], blue: int = 0
) -> UUID:
    """A deployment on `day` whose alerts' identities were refuted on engagement, one per
    perceived sex in `groups`; `blue` more on a blue entry, perceived female."""
    clock.now = day.replace(hour=8)
    start = day.replace(hour=10)
    deployment = proposed(
        ledger,
        starts_at=start,
        ends_at=start + timedelta(hours=7),
        public_notice=PublicNotice("signage", start - timedelta(days=1)),
        watchlist_categories=("wanted_by_courts", BLUE),
    )
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    entry = ledger.enrol(COMPILER, deployment, subject(1))
    blue_entry = ledger.enrol(COMPILER, deployment, subject(2, BLUE))
    ledger.review_watchlist(AO, deployment, confirmed_count=2, not_excessive=True)
    clock.now = start
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    for i, sex in enumerate(groups + ["female"] * blue):
        clock.advance(minutes=1)
        alert = ledger.raise_alert(
            matcher_for(deployment),
            AlertClaim(
                deployment,
                camera_id="cam-1",
                entry_id=entry if i < len(groups) else blue_entry,
                similarity=0.7,
                captured_at=clock.now - timedelta(seconds=1),
            ),
        )
        ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "looked alike")
        ledger.record_engagement(
            OFFICER,
            alert,
            engaged=True,
            confirmed=Confirmation.NOT_CONFIRMED,
            false_alert_factors=("subject.lookalike",),
        )
        ledger.record_perceived_demographics(OFFICER, alert, {"perceived_sex": sex})
    return deployment


def _sex(trend: Any) -> Any:
    return next(t for t in trend.tables if t.field == "perceived_sex")


def cli_environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LFR_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("LFR_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("LFR_POSTGRES_SCHEMA", settings.postgres_schema or "")
    else:
        monkeypatch.delenv("LFR_DATABASE_URL", raising=False)


def run_stats(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lfr")
    stats_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_trend_alarm_when_a_groups_share_of_false_alerts_rises(
    ledger: CaseLedger,
    clock: Clock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    small_cells_policy(ledger)
    false_alerts(
        ledger, clock, datetime(2025, 6, 1, tzinfo=UTC), ["female", "female"] + ["male"] * 2
    )
    # The next day: women are 4 of 5 false alerts (share 0.8 against 0.5 the day before).
    # Blue (test-subject) alerts are left out: with them the share would look even higher.
    false_alerts(ledger, clock, datetime(2025, 6, 2, tzinfo=UTC), ["female"] * 4 + ["male"], blue=3)
    end = datetime(2025, 6, 3, tzinfo=UTC)
    trend = equality_trend(ledger, end=end, window_days=1)
    sex = _sex(trend)
    assert sex.baseline == "previous_window"
    assert (sex.false_alerts, sex.false_alerts_before, sex.alerts) == (5, 4, 5)
    female = next(g for g in sex.groups if g.value == "female")
    assert (female.false_alerts, female.share, female.baseline_share) == (4, 0.8, 0.5)
    assert female.ratio == pytest.approx(1.6)
    assert female.alarm and trend.alarm
    male = next(g for g in sex.groups if g.value == "male")
    assert male.suppressed and not male.alarm and male.share is None  # 1 < cell of 2
    assert trend.alarms == [
        "perceived_sex=female: 4 of 5 false alerts (share 0.80) against a previous window "
        "share of 0.50 (x1.60)"
    ]
    # Over the first day alone (nothing before it), compared with the group's share of all
    # alerts: 0.5 against 0.5, no alarm.
    quiet = equality_trend(ledger, end=datetime(2025, 6, 2, tzinfo=UTC), window_days=1)
    assert _sex(quiet).baseline == "share_of_alerts"
    assert not quiet.alarm
    # The equality report leaves the blue alerts out as well.
    report = equality_report(ledger, audience=Audience.OVERSIGHT)
    assert report.alerts_with_characteristics == 9

    # The same from the CLI, for oversight: the read is logged with its purpose.
    cli_environment(settings, monkeypatch)
    head = ledger.recorder.max_notification_id()
    argv = ["stats", "equality-trend", "--to", "2025-06-03T00:00:00Z", "--window-days", "1"]
    assert run_stats([*argv, "--purpose", "quarterly review", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["alarm"] is True and printed["alarms"] == trend.alarms
    assert ledger.recorder.max_notification_id() == (head or 0) + 1  # the consultation
    assert run_stats([*argv, "--purpose", "quarterly review"]) == 0
    assert capsys.readouterr().out.startswith("ALARM: alarm when a group's share")
    assert run_stats([*argv, "--purpose", " "]) == 2


def test_trend_alarm_threshold_comes_from_the_policy(ledger: CaseLedger, clock: Clock) -> None:
    policy = small_cells_policy(ledger)
    stricter = Policy.parse(
        policy.text.replace("trend_alarm_ratio = 1.5", "trend_alarm_ratio = 1.7").replace(
            'version = "TREND-', 'version = "TREND2-', 1
        )
    )
    ledger.adopt_policy(ADMIN, stricter)
    false_alerts(
        ledger, clock, datetime(2025, 6, 1, tzinfo=UTC), ["female", "female"] + ["male"] * 2
    )
    false_alerts(ledger, clock, datetime(2025, 6, 2, tzinfo=UTC), ["female"] * 4 + ["male"])
    trend = equality_trend(ledger, end=datetime(2025, 6, 3, tzinfo=UTC), window_days=1)
    assert trend.trend_alarm_ratio == 1.7
    assert not trend.alarm  # x1.6 is below 1.7
    with pytest.raises(InvalidInput):
        Policy.parse(policy.text.replace("trend_alarm_ratio = 1.5", "trend_alarm_ratio = 0.9"))


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def served(settings: Settings, clock: Clock) -> Iterator[tuple[Api, CaseLedger]]:
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        yield Api(client, settings), app.state.services.ledger


def test_http_period_walk_pasts_and_trend(served: tuple[Api, CaseLedger], clock: Clock) -> None:
    api, ledger = served
    ran = operate(ledger, clock, datetime(2025, 11, 28, tzinfo=UTC), owner="Essex Police",
                  agreement="MA-1", end=False)  # fmt: skip

    # An operator records a blue walk-past; nothing else may, and not for a non-blue entry.
    path = f"/deployments/{ran.deployment}/blue-walk-pasts"
    body = {"entry_id": str(ran.blue), "camera_id": "cam-1", "walked_at": clock.now.isoformat()}
    done = api.post(path, "operator", body)
    assert done.status_code == 201, done.text
    assert done.json()["walk_pasts"] == 3
    assert_problem(api.post(path, "officer", body), 403)
    assert_problem(api.post(path, "operator", {**body, "entry_id": str(ran.operational)}), 422)
    assert_problem(api.post(path, "operator", {**body, "extra": 1}), 400)
    clock.advance(hours=2)
    ledger.end_deployment(OPERATOR, ran.deployment)

    summary = api.get(f"/deployments/{ran.deployment}/summary", "analyst").json()
    assert summary["mutual_aid"] is True
    assert summary["equipment_owner_force"] == "essex"
    assert summary["blue"]["walk_pasts"] == 3
    assert summary["blue"]["true_positive_identification_rate"] == pytest.approx(1 / 3)
    published = api.get("/publication/deployments", "analyst").json()
    assert published[0]["mutual_aid"] is True and published[0]["alerts"] == 2
    csv_text = api.get("/publication/deployments.csv", "analyst").text
    assert "mutual_aid" in csv_text.splitlines()[0]
    for path in ("/publication/deployments", "/publication/deployments.csv"):
        month = api.get(path, "analyst", params={"month": "2025-11"})
        assert month.status_code == 200 and month.text == api.get(path, "analyst").text
        before = api.get(path, "analyst", params={"month": "2025-10"})
        assert before.status_code == 200 and str(ran.deployment) not in before.text
        assert_problem(api.get(path, "analyst", params={"month": "2025-11", "year": 2025}), 422)
        assert_problem(api.get(path, "analyst", params={"from": "2025-11-01"}), 422)

    for query in ({"year": 2025}, {"month": "2025-11"}, {"from": "2025-11-28", "to": "2025-11-28"}):
        period = api.get("/statistics/period", "analyst", params=query)
        assert period.status_code == 200, period.text
        figures = period.json()
        assert (figures["deployments"], figures["mutual_aid_deployments"]) == (1, 1)
        assert (figures["alerts"], figures["arrests"]) == (2, 1)
    empty = api.get("/statistics/period", "analyst", params={"year": 2024}).json()
    assert empty["deployments"] == 0 and empty["arrests_per_hour"] is None
    assert_problem(api.get("/statistics/period", "analyst"), 422)
    assert_problem(
        api.get("/statistics/period", "analyst", params={"from": "2025-12-01", "to": "2025-11-01"}),
        422,
    )
    assert_problem(api.get("/statistics/period", "analyst", params={"from": "1/12/2025"}), 400)
    assert_problem(api.get("/statistics/period", "operator", params={"year": 2025}), 403)

    # The trend alarm: oversight only, with a stated purpose, and the read is logged.
    trend_path = "/oversight/equality/trend"
    params = {"to": "2025-11-29T00:00:00Z", "window_days": 1}
    assert_problem(api.get(trend_path, "analyst", params=params), 403)
    assert_problem(api.get(trend_path, "oversight", params=params), 400)
    trend = api.get(trend_path, "oversight", params=params, headers={"X-Purpose": "annual review"})
    assert trend.status_code == 200, trend.text
    reply = trend.json()
    assert reply["window_days"] == 1 and reply["alarm"] is False
    assert "share of false alerts" in reply["rule"]
    consultations = api.get("/audit/consultations", "oversight").json()
    assert "equality_trend:all" in json.dumps(consultations)


def test_openapi_types_and_describes_the_new_figures(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as client:
        doc = client.get("/schema/openapi.json").json()
    schemas = doc["components"]["schemas"]

    def reply(path: str, method: str = "get") -> dict[str, Any]:
        op = doc["paths"][path][method]
        status = "201" if method == "post" else "200"
        ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        return dict(schemas[ref.rsplit("/", 1)[-1]])

    period = reply("/statistics/period")
    assert {"hours_live", "faces_reported_by_matcher", "mutual_aid_deployments", "blue"} <= set(
        period["properties"]
    )
    assert "paused" in json.dumps(period["properties"]["hours_live"])
    assert "as reported by the matcher" in json.dumps(period["properties"])
    summary = reply("/deployments/{deployment_id}/summary")
    assert {"mutual_aid", "hours_live", "arrests_per_hour", "blue"} <= set(summary["properties"])
    assert "paused" in json.dumps(summary["properties"]["arrests_per_hour"])
    trend = reply("/oversight/equality/trend")
    assert {"alarm", "alarms", "rule", "tables"} <= set(trend["properties"])
    walk = reply("/deployments/{deployment_id}/blue-walk-pasts", "post")
    assert "walk_pasts" in walk["properties"]
