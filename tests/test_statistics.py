"""Statistics and publication records of the seed operation: exact, and free of personal data."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import msgspec
import pytest

from lfr_ledger.api.cli import projections as projections_cli
from lfr_ledger.api.cli import stats as stats_cli
from lfr_ledger.api.demo.seed import (
    ADMIN,
    AUTHORISING_OFFICER,
    OFFICER,
    OPERATOR,
    PLANNER,
    SEED_DEPLOYMENTS,
    WATCHLIST_MANAGER,
    WATCHLIST_SIZE,
    SeedResult,
    record_seed_operation,
    seed_subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import OutcomeType
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.db import connect
from lfr_ledger.projections.publication import PUBLICATION_FIELDS
from lfr_ledger.projections.readers.statistics import StatisticsReader
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock


@pytest.fixture(autouse=True)
def _close_projection_connections() -> Iterator[None]:
    yield
    close_stores()


@pytest.fixture
def seed(ledger: CaseLedger, clock: Clock) -> SeedResult:
    def set_time(moment: datetime) -> None:
        clock.now = moment

    result = record_seed_operation(ledger, set_time)
    return result


@pytest.fixture
def reader(settings: Settings, seed: SeedResult) -> StatisticsReader:
    catch_up(settings)
    return StatisticsReader(settings)


def test_operation_summary_is_the_published_one(reader: StatisticsReader, seed: SeedResult) -> None:
    summary = msgspec.to_builtins(reader.operation_summary(seed.operation_id))
    assert summary is not None
    assert summary["deployment_count"] == 4
    assert summary["deployments_started"] == 4
    assert summary["town_count"] == 3
    assert summary["towns"] == ["Kettering", "Northampton", "Wellingborough"]
    assert summary["day_count"] == 4
    assert summary["watchlist_size"] == 4 * WATCHLIST_SIZE
    assert summary["thresholds"] == [0.64]
    totals = summary["totals"]
    assert {k: totals[k] for k in totals if not k.endswith(("rate_per_alert", "_seconds"))} == {
        "faces_processed": 24_745,
        "alerts": 13,
        "adjudicated": 13,
        "true_alerts": 13,
        "false_alerts": 0,
        "inconclusive": 0,
        "unadjudicated": 0,
        "engagements": 13,
        "confirmed_true": 13,
        "confirmed_false": 0,
        "arrests": 6,
        "compliance_checks": 7,
        "compliance_complied": 7,
        "compliance_breach": 0,
        "other_outcomes": 0,
        # The knife charge and the bail for the sexual assault (issue 24: outcomes of their own).
        "charges": 1,
        "bails": 1,
        "voluntary_attendances": 0,
        "safeguarding": 0,
        "timed_engagements": 0,
        "false_alerts_by_factor": [],
        "confirmed_false_by_factor": [],
        "false_alert_rate_per_faces": 0.0,
        "false_alerts_one_in_faces": None,
        "alerts_per_1000_faces": 13_000 / 24_745,
        "arrests_per_confirmed_alert": 6 / 13,
    }
    assert totals["false_alert_rate_per_alert"] == 0.0
    # Raised 2 s after capture, adjudicated 40 s after capture.
    assert totals["median_adjudication_seconds"] == 38.0
    by_town = {t["town"]: (t["deployments"], t["alerts"], t["arrests"]) for t in summary["by_town"]}
    assert by_town == {
        "Northampton": (2, 7, 4),
        "Kettering": (1, 3, 1),
        "Wellingborough": (1, 3, 1),
    }
    assert [d["faces_processed"] for d in summary["by_deployment"]] == [
        s.faces_processed for s in SEED_DEPLOYMENTS
    ]
    assert sum(d["watchlist_size"] for d in summary["by_deployment"]) == 96
    assert [c["faces_processed"] for c in summary["by_camera"]] == [8412, 5287, 6930, 4116]
    assert sum(c["alerts"] for c in summary["by_category"]) == 13
    assert all(c["faces_processed"] is None for c in summary["by_category"])
    assert [d["day"] for d in summary["by_day"]] == summary["days"]


def test_each_deployment_summary_matches_its_seed(
    reader: StatisticsReader, seed: SeedResult
) -> None:
    for deployment_id, planned in zip(seed.deployment_ids, SEED_DEPLOYMENTS, strict=True):
        summary = msgspec.to_builtins(reader.deployment_summary(deployment_id))
        assert summary is not None
        arrests = sum(1 for a in planned.alerts if a.outcome.type == OutcomeType.ARREST)
        assert summary["location"]["town"] == planned.town
        assert summary["location"]["name"] == planned.location_name
        assert summary["status"] == "ended"
        assert summary["watchlist_size"] == WATCHLIST_SIZE
        assert summary["threshold"] == 0.64
        assert summary["totals"]["faces_processed"] == planned.faces_processed
        assert summary["totals"]["alerts"] == len(planned.alerts)
        assert summary["totals"]["arrests"] == arrests
        assert summary["totals"]["compliance_checks"] == len(planned.alerts) - arrests
        assert summary["cameras"] == ["cam-1"]
        assert summary["by_camera"][0]["camera_name"] == "van mast camera"
        assert sum(c["watchlist_size"] for c in summary["by_category"]) == WATCHLIST_SIZE
        alerts = msgspec.to_builtins(reader.deployment_alerts(deployment_id))
        assert [a["similarity"] for a in alerts] == [a.similarity for a in planned.alerts]
        assert {a["status"] for a in alerts} == {"closed"}
        assert {a["decision"] for a in alerts} == {"match"}
    assert msgspec.to_builtins(reader.deployment_summary(seed.operation_id)) is None
    assert msgspec.to_builtins(reader.operation_summary(seed.deployment_ids[0])) is None


def test_publication_records_in_the_published_shape(
    reader: StatisticsReader, seed: SeedResult
) -> None:
    records = msgspec.to_builtins(reader.publication_records())
    assert [r["deployment_id"] for r in records] == [str(d) for d in seed.deployment_ids]
    assert [(r["date"], r["start_time_utc"], r["end_time_utc"]) for r in records] == [
        (day, "10:00", "17:00") for day in ("2025-11-28", "2025-11-29", "2025-12-05", "2025-12-06")
    ]
    assert [r["town"] for r in records] == [s.town for s in SEED_DEPLOYMENTS]
    assert sum(r["alerts"] for r in records) == 13
    assert sum(r["true_alerts"] for r in records) == 13
    assert sum(r["false_alerts"] for r in records) == 0
    assert sum(r["engagements"] for r in records) == 13
    assert sum(r["arrests"] for r in records) == 6
    assert sum(r["compliance_checks"] for r in records) == 7
    assert sum(r["faces_processed"] for r in records) == 24_745
    assert {r["watchlist_size"] for r in records} == {24}
    assert {r["threshold"] for r in records} == {0.64}
    parsed = list(csv.DictReader(io.StringIO(reader.publication_csv())))
    assert tuple(parsed[0]) == PUBLICATION_FIELDS
    assert parsed == [
        {k: "" if r[k] is None else str(r[k]) for k in PUBLICATION_FIELDS} for r in records
    ]
    json.dumps(records)  # plain JSON, nothing else


def test_a_periods_publication_holds_the_deployments_that_went_live_in_it(
    reader: StatisticsReader,
) -> None:
    everything = msgspec.to_builtins(reader.publication_records())
    for first, last in [
        (date(2025, 11, 1), date(2025, 11, 30)),
        (date(2025, 11, 29), date(2025, 12, 5)),
        (date(2025, 12, 6), date(2025, 12, 6)),
        (date(2025, 1, 1), date(2025, 10, 31)),
    ]:
        published = msgspec.to_builtins(reader.publication_records((first, last)))
        expected = [r for r in everything if first.isoformat() <= r["date"] <= last.isoformat()]
        assert published == expected, (first, last)
    november = reader.publication_csv((date(2025, 11, 1), date(2025, 11, 30)))
    assert [row["date"] for row in csv.DictReader(io.StringIO(november))] == [
        "2025-11-28",
        "2025-11-29",
    ]


def test_score_distribution_and_threshold_sensitivity(
    reader: StatisticsReader, seed: SeedResult
) -> None:
    first = seed.deployment_ids[0]  # scores 0.88, 0.72, 0.77, 0.69; two arrests (0.88, 0.77)
    distribution = msgspec.to_builtins(reader.score_distribution(first))
    assert distribution is not None
    assert [(b["lower"], b["upper"], b["alerts"]) for b in distribution["bins"]] == [
        (0.65, 0.7, 1),
        (0.7, 0.75, 1),
        (0.75, 0.8, 1),
        (0.8, 0.85, 0),
        (0.85, 0.9, 1),
    ]
    sensitivity = msgspec.to_builtins(reader.threshold_sensitivity(first))
    assert sensitivity is not None
    remaining = {r["threshold"]: (r["alerts"], r["arrests"]) for r in sensitivity["rows"]}
    assert remaining[0.64] == (4, 2)
    assert remaining[0.69] == (4, 2)  # a score equal to the threshold still alerts
    assert remaining[0.7] == (3, 2)
    assert remaining[0.78] == (1, 1)
    assert remaining[0.88] == (1, 1)
    assert remaining[0.89] == (0, 0)
    assert sensitivity["rows"][-1]["threshold"] == 0.89
    assert all(r["true_alerts_lost"] == 4 - r["alerts"] for r in sensitivity["rows"])
    json.dumps([distribution, sensitivity])


# --- no personal data, by construction ------------------------------------------------------

# Every column any analyst view may have. A new column must be added here deliberately.
ALLOWED_COLUMNS = {
    "view_deployment_reviews": {
        "deployment_id",
        "reviewed_at",
        "objectives_met",
        "lessons",
        "complaints_counted",
    },
    "view_complaints": {
        "complaint_id",
        "deployment_id",
        "number",
        "alert_id",
        "received_on",
        "channel",
        "resolved_on",
    },
    "view_public_deployments": {
        "deployment_id",
        "watchlist_categories",
        "notice_method",
        "notice_issued_at",
        "notice_exempt",
        "results_published_at",
        "publication_overdue_at",
    },
    "view_operations": {"operation_id", "name", "force", "purpose", "opened_at", "closed_at"},
    "view_deployments": {
        "deployment_id",
        "operation_id",
        "location_name",
        "town",
        "location_type",
        "purpose",
        "starts_at",
        "ends_at",
        "model_id",
        "policy_version",
        "threshold",
        "threshold_changes",
        "status",
        "proposed_at",
        "authorised_at",
        "urgent",
        "refused_at",
        "reviewed_entry_count",
        "started_at",
        "ended_at",
        "watchlist_destroyed_at",
        "post_review_at",
    },
    "view_deployment_cameras": {"deployment_id", "camera_id", "camera_name"},
    "view_watchlist_entries": {
        "entry_id",
        "deployment_id",
        "category",
        "status",
        "enrolled_at",
        "withdrawn_at",
        "counted_in_size",
    },
    "view_face_counts": {
        "report_id",
        "deployment_id",
        "camera_id",
        "period_start",
        "period_end",
        "day",
        "faces",
    },
    "view_alerts": {
        "alert_id",
        "deployment_id",
        "camera_id",
        "entry_id",
        "category",
        "similarity",
        "threshold",
        "model_id",
        "captured_at",
        "raised_at",
        "day",
        "decision",
        "adjudicated_at",
        "adjudication_ms",
        "engaged",
        "confirmed",
        "arrests",
        "compliance_complied",
        "compliance_breach",
        "other_outcomes",
        "closed_at",
        # issue 24: new outcomes, engagement duration, false-alert factors
        "charges",
        "bails",
        "voluntary_attendances",
        "safeguarding",
        "engagement_ms",
        "false_alert_factors",
        "confirmed_false_factors",
    },
    # analytics (issue 11): forces and time live per deployment; blue walk-pasts
    "view_deployment_operation": {
        "deployment_id",
        "controlling_force",
        "equipment_owner_force",
        "mutual_aid",
        "live_ms",
        "live_since",
    },
    "view_blue_walk_pasts": {"deployment_id", "version", "entry_id", "camera_id", "walked_at"},
    # camera health (issue 11): when each camera was silent
    "view_camera_silences": {
        "deployment_id",
        "camera_id",
        "silent_since",
        "recorded_at",
        "reporting_at",
    },
    # oversight's indexes (issue 15). `subject_key` is pseudonymous, not anonymous: a hash of
    # the vault's keyed subject digest, so it links one person's entries across deployments
    # (what subject access needs) but is neither the reference nor the digest the log and the
    # disclosure records show (the leak check below looks for every digest), and cannot be
    # worked out from a reference without the vault's pseudonymisation key.
    "view_subject_entries": {"entry_id", "subject_key", "deployment_id", "alert_count"},
    "view_subject_alerts": {"alert_id", "entry_id", "seq"},
    # retention's anchors: ids, times and flags
    "view_retention_watchlists": {
        "deployment_id",
        "authorised",
        "window_ends_at",
        "finished_at",
        "destroyed_at",
    },
    "view_retention_alert_images": {
        "alert_id",
        "deployment_id",
        "captured_at",
        "held",
        "erased_at",
    },
    "view_retention_access_records": {
        "record_id",
        "kind",
        "occurred_at",
        "sealed",
        "destroyed_at",
    },
}


def _view_tables(settings: Settings) -> dict[str, list[tuple[str, list[Any]]]]:
    """Every `view_` table in the database with its columns and rows, found from the catalogue
    (not from the code), so a table added without care is caught too."""
    db = connect(settings)
    try:
        if db.backend == "sqlite":
            names = [
                r[0]
                for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'view_%'"
                )
            ]
        else:
            names = [
                r[0]
                for r in db.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema() AND table_name LIKE 'view_%'"
                )
            ]
        found = {}
        for name in names:
            if db.backend == "sqlite":
                columns = [r[1] for r in db.execute(f"PRAGMA table_info({name})")]
            else:
                columns = [
                    r[0]
                    for r in db.execute(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = ? "
                        "ORDER BY ordinal_position",
                        (name,),
                    )
                ]
            rows = db.execute(f"SELECT * FROM {name}")
            found[name] = [(c, [row[i] for row in rows]) for i, c in enumerate(columns)]
        return found
    finally:
        db.close()


def _personal_strings(ledger: CaseLedger, seed: SeedResult) -> set[str]:
    values = {
        a.id for a in (ADMIN, PLANNER, WATCHLIST_MANAGER, AUTHORISING_OFFICER, OPERATOR, OFFICER)
    }
    values |= {f"matcher-van-{n + 1}" for n in range(len(SEED_DEPLOYMENTS))}
    for number in range(len(SEED_DEPLOYMENTS)):
        for index in range(WATCHLIST_SIZE):
            subject = seed_subject(number, index)
            values |= {subject.name, subject.subject_ref, subject.rationale, subject.offence}
    for deployment_id in seed.deployment_ids:
        for entry in ledger.watchlist(deployment_id):
            values.add(entry.subject_digest)
    for planned in SEED_DEPLOYMENTS:
        for alert in planned.alerts:
            values |= set(alert.outcome.offences) | set(alert.outcome.conditions)
            values.add(alert.outcome.reference or "NN-C-")
    values |= {"Likeness confirmed on screen", "Proportionate to the intelligence case"}
    return values


def _cli_output(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    parser = argparse.ArgumentParser(prog="lfr")
    subparsers = parser.add_subparsers(dest="command", required=True)
    stats_cli.register(subparsers)
    projections_cli.register(subparsers)
    parsed = parser.parse_args(args)
    assert parsed.handler(parsed) == 0
    return capsys.readouterr().out


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LFR_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("LFR_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("LFR_POSTGRES_SCHEMA", settings.postgres_schema or "")
    else:
        monkeypatch.delenv("LFR_DATABASE_URL", raising=False)


def test_no_personal_data_in_any_view_or_output(
    settings: Settings,
    ledger: CaseLedger,
    seed: SeedResult,
    reader: StatisticsReader,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tables = _view_tables(settings)
    assert {name: {c for c, _ in cols} for name, cols in tables.items()} == ALLOWED_COLUMNS

    outputs: list[str] = []
    for cols in tables.values():
        outputs += [repr(v) for _, values in cols for v in values]
    outputs.append(json.dumps(msgspec.to_builtins(reader.operation_summary(seed.operation_id))))
    for deployment_id in seed.deployment_ids:
        outputs.append(json.dumps(msgspec.to_builtins(reader.deployment_summary(deployment_id))))
        outputs.append(json.dumps(msgspec.to_builtins(reader.deployment_alerts(deployment_id))))
        outputs.append(json.dumps(msgspec.to_builtins(reader.score_distribution(deployment_id))))
        outputs.append(json.dumps(msgspec.to_builtins(reader.threshold_sensitivity(deployment_id))))
    outputs.append(json.dumps(msgspec.to_builtins(reader.publication_records())))
    outputs.append(reader.publication_csv())
    outputs.append(_cli_output(["stats", "operation", str(seed.operation_id)], capsys))
    outputs.append(_cli_output(["stats", "deployment", str(seed.deployment_ids[0])], capsys))
    outputs.append(_cli_output(["stats", "scores", str(seed.deployment_ids[0])], capsys))
    text = "\n".join(outputs)

    personal = _personal_strings(ledger, seed)
    assert len(personal) > 250
    leaked = sorted(p for p in personal if p in text)
    assert leaked == []


# --- the command line -----------------------------------------------------------------------


def test_cli_prints_tables_and_json(
    seed: SeedResult, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _cli_output(["stats", "operation", str(seed.operation_id)], capsys)
    assert "LFR town centres: 16 Days of Activism 2025" in text
    assert "towns        3: Kettering, Northampton, Wellingborough" in text
    lines = {line.split("  ")[0].strip(): line.split()[-1] for line in text.splitlines() if line}
    assert lines["Faces processed"] == "24,745"
    assert lines["Alerts"] == "13"
    assert lines["Arrests"] == "6"
    assert lines["Compliance checks"] == "7"

    op = json.loads(_cli_output(["stats", "operation", str(seed.operation_id), "--json"], capsys))
    assert (op["deployment_count"], op["town_count"]) == (4, 3)
    assert (op["totals"]["alerts"], op["totals"]["arrests"]) == (13, 6)

    dep = json.loads(
        _cli_output(["stats", "deployment", str(seed.deployment_ids[1]), "--json"], capsys)
    )
    assert dep["location"]["town"] == "Kettering"
    assert dep["totals"]["faces_processed"] == 5287

    published = _cli_output(["stats", "publication"], capsys)
    assert published.splitlines()[0] == ",".join(PUBLICATION_FIELDS)
    assert len(published.splitlines()) == 5
    december = _cli_output(["stats", "publication", "--month", "2025-12"], capsys)
    assert [line.split(",")[1] for line in december.splitlines()[1:]] == [
        "2025-12-05",
        "2025-12-06",
    ]

    views = json.loads(_cli_output(["projections", "status", "--json"], capsys))
    assert {v["name"] for v in views} == {
        "deployments",
        "alerts",
        "faces",
        "camera_silences",
        "deployment_operation",
        "blue_walk_pasts",
        "subject_index",
        "retention_deadlines",
        "public_deployments",
        "reviews",
    }
    assert all(v["lag"] == 0 for v in views)
    assert "rebuilt alerts" in _cli_output(["projections", "rebuild", "alerts"], capsys)
    status_text = _cli_output(["projections", "status"], capsys)
    assert status_text.splitlines()[0].split() == [
        "projection",
        "position",
        "head",
        "lag",
        "skipped",
        "tables",
    ]
