"""Retention with a clock the test controls: exactly what is due is destroyed, held data is
kept, erasure events hold metadata only, no erased byte survives on disk (event store, key vault,
watchlist index), the chain still verifies, and a second run changes nothing. Both backends."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
import pytest
from apscheduler.schedulers.background import BackgroundScheduler

import lfr_ledger.api.cli
from lfr_ledger.api.bootstrap import build_retention
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    AUTHORITY,
    COMPILER,
    MODEL,
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
from lfr_ledger.domain.errors import InvalidTransition
from lfr_ledger.domain.values import ERASED, Confirmation, Decision, OutcomeType, PublicNotice
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.eventlog.key_audit import missing_keys
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.index.vectors import index_path
from lfr_ledger.oversight.retention.destruction import ALERT_IMAGE_RULE, WATCHLIST_RULE, Retention
from lfr_ledger.oversight.retention.schedule import (
    SWEEP_JOB_ID,
    RetentionSchedule,
    alert_images_job_id,
    watchlist_job_id,
)
from lfr_ledger.projections.db import connect
from lfr_ledger.projections.schema import migrate
from tests.conftest import Clock
from tests.test_shredding import raw_store_bytes

NAME_STEM = b"Quentin Zebedee-Marlowe"


@dataclass
class Scene:
    """One deployment that ran: its entries (with images and templates) and its alerts."""

    deployment_id: UUID
    entry_ids: list[UUID]
    templates: list[bytes]
    images: list[bytes]
    alert_ids: list[UUID] = field(default_factory=list)
    crops: dict[UUID, bytes] = field(default_factory=dict)
    ended_at: datetime | None = None


def template(seed: int) -> bytes:
    vector = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    return (vector / np.linalg.norm(vector)).astype("<f4").tobytes()


def ran_deployment(
    ledger: CaseLedger,
    clock: Clock,
    *,
    entries: int = 2,
    alerts: int = 3,
    crops: bool = True,
    seed: int = 0,
    first_subject: int = 0,
    end: bool = True,
    confirmed: Confirmation = Confirmation.CONFIRMED,
) -> Scene:
    """A deployment authorised, enrolled, started at 10:30, with `alerts` alerts on entry 0
    (all adjudicated match and engaged, identity `confirmed`), ended at 12:00 unless `end` is
    False."""
    day = clock.now.replace(hour=8, minute=0, second=0, microsecond=0)
    clock.now = day
    window_start = day + timedelta(hours=2)
    deployment = proposed(
        ledger,
        starts_at=window_start,
        ends_at=window_start + timedelta(hours=7),
        public_notice=PublicNotice("signage", window_start - timedelta(days=1)),
    )
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    templates = [template(seed * 100 + i) for i in range(entries)]
    images = [os.urandom(24) + f"portrait-{seed}-{i}".encode() for i in range(entries)]
    ids = [
        ledger.enrol(
            COMPILER,
            deployment,
            subject(first_subject + i),
            image=images[i],
            template=templates[i],
            model_id=MODEL,
        )
        for i in range(entries)
    ]
    ledger.review_watchlist(AO, deployment, confirmed_count=entries, not_excessive=True)
    scene = Scene(deployment, ids, templates, images)
    clock.now = day + timedelta(hours=2, minutes=30)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    matcher = matcher_for(deployment)
    for i in range(alerts):
        clock.advance(minutes=5)
        crop = os.urandom(24) + f"face-crop-{seed}-{i}".encode() if crops else None
        alert = ledger.raise_alert(
            matcher,
            AlertClaim(
                deployment,
                camera_id="cam-1",
                entry_id=ids[0],
                similarity=0.8,
                captured_at=clock.now - timedelta(seconds=1),
                face_crop=crop,
            ),
        )
        ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
        factors = ("subject",) if confirmed == Confirmation.NOT_CONFIRMED else ()
        ledger.record_engagement(
            OFFICER, alert, engaged=True, confirmed=confirmed, false_alert_factors=factors
        )
        scene.alert_ids.append(alert)
        if crop is not None:
            scene.crops[alert] = crop
    if end:
        clock.now = day + timedelta(hours=4)
        ledger.end_deployment(OPERATOR, deployment)
        scene.ended_at = clock.now
    return scene


def head(ledger: CaseLedger) -> int:
    return ledger.recorder.max_notification_id() or 0


def events_of(ledger: CaseLedger, originator: UUID) -> list[Any]:
    return list(ledger.repository.event_store.get(originator))


@pytest.fixture
def retention(ledger: CaseLedger, settings: Settings) -> Retention:
    return build_retention(ledger, settings)


def test_retention_destroys_exactly_what_is_due_and_keeps_held_data(
    ledger: CaseLedger, settings: Settings, clock: Clock, retention: Retention
) -> None:
    scene = ran_deployment(ledger, clock, alerts=3)
    first, held, third = scene.alert_ids
    ledger.place_legal_hold(AO, held, reason="evidence in trial", proceedings_ref="T2025/0042")
    # The matcher node's index holds the templates until the watchlist is destroyed.
    with WatchlistIndex.open(settings) as index:
        index.sync(ledger)
        assert index.count(scene.deployment_id) == 2
    assert scene.templates[0] in index_bytes(settings)
    assert scene.ended_at is not None

    # One second before the watchlist period ends: nothing is due.
    clock.now = scene.ended_at + timedelta(hours=24) - timedelta(seconds=1)
    report = retention.run()
    assert not report.changed and report.watchlists_destroyed == []
    assert all(ledger.vault.has_key(e) for e in scene.entry_ids)

    clock.now = scene.ended_at + timedelta(hours=24)
    report = retention.run()
    assert report.watchlists_destroyed == [scene.deployment_id]
    assert sorted(report.entries_destroyed) == sorted(scene.entry_ids)
    assert report.alert_images_erased == [] and report.index_synced
    assert all(ledger.reveal_entry(e).name == ERASED for e in scene.entry_ids)
    assert all(ledger.reveal_face_crop(a) == scene.crops[a] for a in scene.alert_ids)
    with WatchlistIndex.open(settings) as index:
        assert index.count(scene.deployment_id) == 0

    position = head(ledger)
    again = retention.run()
    assert not again.changed and head(ledger) == position, "a second run changes nothing"

    # The alert period runs from each capture: the first alert's images go first.
    captured = [ledger.alert(a).captured_at for a in scene.alert_ids]
    clock.now = captured[0] + timedelta(days=31)
    report = retention.run()
    assert report.alert_images_erased == [first]
    assert report.held == []  # the held alert's period has not run out yet
    clock.now = captured[2] + timedelta(days=31)
    report = retention.run()
    assert report.alert_images_erased == [third] and report.held == [held]
    assert ledger.reveal_face_crop(first) is None and ledger.reveal_face_crop(third) is None
    assert ledger.reveal_face_crop(held) == scene.crops[held], "held data survives retention"
    with pytest.raises(InvalidTransition):
        ledger.erase_alert_images(held, rule="by hand")

    position = head(ledger)
    assert not retention.run().changed and head(ledger) == position

    # Released: the overdue images go at the next run.
    clock.advance(days=2)
    ledger.release_legal_hold(AO, held, reason="trial concluded")
    report = retention.run()
    assert report.alert_images_erased == [held] and report.held == []
    assert ledger.reveal_face_crop(held) is None

    # Nothing erased remains anywhere on disk, yet every record loads and the chain verifies.
    if settings.uses_postgres:
        ledger.vault.vacuum()  # type: ignore[attr-defined]
    disk = raw_store_bytes(settings) + index_bytes(settings)
    assert NAME_STEM not in disk
    for secret in [*scene.templates, *scene.images, *scene.crops.values()]:
        assert secret not in disk
    # Alert outcomes and metadata stay for statistics and oversight.
    assert ledger.alert(first).decision == Decision.MATCH
    report_chain = verify_ledger(settings)
    assert report_chain.ok, report_chain.summary()


def test_erasure_events_hold_metadata_only(
    ledger: CaseLedger, clock: Clock, retention: Retention
) -> None:
    scene = ran_deployment(ledger, clock, alerts=1)
    assert scene.ended_at is not None
    clock.now = scene.ended_at + timedelta(days=40)
    retention.run()
    policy = ledger.policy
    destroyed = events_of(ledger, scene.deployment_id)[-1]
    assert type(destroyed).__name__ == "WatchlistDestroyed"
    assert destroyed.rule == (
        f"{WATCHLIST_RULE}={policy.watchlist_hours_after_end} (policy {policy.version})"
    )
    assert destroyed.manifest == scene.entry_ids
    assert destroyed.occurred_at == clock.now
    erased = events_of(ledger, scene.alert_ids[0])[-1]
    assert type(erased).__name__ == "ImagesErased"
    assert erased.rule.startswith(f"{ALERT_IMAGE_RULE}={policy.alert_image_days} ")
    for event in (destroyed, erased, *[events_of(ledger, e)[-1] for e in scene.entry_ids]):
        fields = set(vars(event)) - {"originator_id", "originator_version", "timestamp"}
        assert fields <= {"manifest", "rule", "actor", "occurred_at"}, fields
        assert not any(isinstance(v, bytes) for v in vars(event).values())
        assert event.actor.id == "system:retention"


def test_only_due_deployments_and_alerts_are_touched(
    ledger: CaseLedger, clock: Clock, retention: Retention
) -> None:
    old = ran_deployment(ledger, clock, alerts=1, crops=False, seed=1)
    assert old.ended_at is not None
    clock.now = old.ended_at + timedelta(days=1)
    young = ran_deployment(ledger, clock, alerts=1, seed=2, first_subject=10)
    assert young.ended_at is not None
    clock.now = young.ended_at + timedelta(hours=1)
    report = retention.run()
    assert report.watchlists_destroyed == [old.deployment_id]
    assert ledger.deployment(young.deployment_id).watchlist_destroyed_at is None
    clock.now = young.ended_at + timedelta(days=60)
    report = retention.run()
    assert report.watchlists_destroyed == [young.deployment_id]
    # An alert raised without a face crop holds notes (its adjudication's reason): the alert
    # rule erases them as it does an alert's with a crop (issue 23, item 3).
    assert report.alert_images_erased == [*old.alert_ids, *young.alert_ids]
    assert ledger.alert(old.alert_ids[0]).images_erased_at == clock.now


def test_an_unended_deployment_past_its_window_is_reported_not_destroyed(
    ledger: CaseLedger, clock: Clock, retention: Retention
) -> None:
    scene = ran_deployment(ledger, clock, alerts=0, end=False)
    clock.advance(days=3)
    report = retention.run()
    assert report.not_ended == [scene.deployment_id] and not report.changed
    assert "never ended" in report.summary()


def test_a_crash_between_record_and_shred_is_repaired_by_the_next_run(
    ledger: CaseLedger, clock: Clock, retention: Retention, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = ran_deployment(ledger, clock, alerts=0)
    assert scene.ended_at is not None
    clock.now = scene.ended_at + timedelta(days=2)
    real_shred = ledger.vault.shred
    monkeypatch.setattr(ledger.vault, "shred", lambda key_id: False)
    retention.run()
    monkeypatch.setattr(ledger.vault, "shred", real_shred)
    assert all(ledger.vault.has_key(e) for e in scene.entry_ids)  # recorded, not yet shredded
    report = retention.run()
    assert sorted(report.keys_shredded_late) == sorted(scene.entry_ids)
    assert not any(ledger.vault.has_key(e) for e in scene.entry_ids)


def test_schedule_is_rebuilt_from_the_log_with_deterministic_jobs(
    ledger: CaseLedger, clock: Clock, retention: Retention
) -> None:
    scene = ran_deployment(ledger, clock, alerts=2)
    assert scene.ended_at is not None
    scheduler = BackgroundScheduler(timezone="UTC")
    schedule = RetentionSchedule(retention, scheduler)
    armed = schedule.rebuild()
    expected = {watchlist_job_id(scene.deployment_id)} | {
        alert_images_job_id(a) for a in scene.alert_ids
    }
    assert set(armed) == expected
    assert set(schedule.rebuild()) == expected  # rebuilding replaces, never duplicates
    assert {j.id for j in scheduler.get_jobs()} == expected | {SWEEP_JOB_ID}
    job = scheduler.get_job(watchlist_job_id(scene.deployment_id))
    assert job is not None and job.trigger.run_date == scene.ended_at + timedelta(hours=24)

    # Each job runs through the node guard, under its own id; fired early it does nothing, on
    # time it destroys.
    assert job.func == schedule.one_node
    name, destroy, record_id = job.args
    assert name == job.id
    assert not destroy(record_id).changed
    clock.now = scene.ended_at + timedelta(hours=24)
    assert destroy(record_id).watchlists_destroyed == [scene.deployment_id]

    # A rebuild after the fact drops the job it no longer needs, and holds take jobs away.
    ledger.place_legal_hold(AO, scene.alert_ids[0], reason="appeal", proceedings_ref="A-1")
    assert set(schedule.rebuild()) == {alert_images_job_id(scene.alert_ids[1])}
    assert {j.id for j in scheduler.get_jobs()} == {
        alert_images_job_id(scene.alert_ids[1]),
        SWEEP_JOB_ID,
    }


def test_cli_retention_run_with_as_of(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scene = ran_deployment(ledger, clock, alerts=1)
    assert scene.ended_at is not None
    early = (scene.ended_at + timedelta(hours=1)).isoformat()
    assert lfr_ledger.api.cli.main(["retention", "run", "--as-of", early, "--dry-run"]) == 0
    assert "would destroy 0 watchlist(s)" in capsys.readouterr().out
    due = (scene.ended_at + timedelta(hours=25)).isoformat()
    assert lfr_ledger.api.cli.main(["retention", "run", "--as-of", due, "--dry-run"]) == 0
    assert "would destroy 1 watchlist(s)" in capsys.readouterr().out
    assert ledger.vault.has_key(scene.entry_ids[0]), "a dry run destroys nothing"
    assert lfr_ledger.api.cli.main(["retention", "run", "--as-of", due, "--json"]) == 0
    out = capsys.readouterr().out
    assert str(scene.deployment_id) in out
    assert not ledger.vault.has_key(scene.entry_ids[0])
    destroyed = events_of(ledger, scene.deployment_id)[-1]
    assert destroyed.occurred_at == datetime.fromisoformat(due)
    # Saying it is later than it is would destroy data early: refused.
    assert (
        lfr_ledger.api.cli.main(["retention", "run", "--as-of", "2999-01-01T00:00:00+00:00"]) == 2
    )


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The `lfr` commands read LFR_* settings: point them at this test's store."""
    monkeypatch.setenv("LFR_DATA_DIR", str(settings.data_dir))
    if settings.uses_postgres:
        assert settings.database_url is not None and settings.postgres_schema is not None
        monkeypatch.setenv("LFR_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("LFR_POSTGRES_SCHEMA", settings.postgres_schema)
    else:
        monkeypatch.delenv("LFR_DATABASE_URL", raising=False)
        monkeypatch.delenv("LFR_POSTGRES_SCHEMA", raising=False)
    monkeypatch.setattr(
        lfr_ledger.api.cli,
        "COMMAND_MODULES",
        (*lfr_ledger.api.cli.COMMAND_MODULES, *extra_cli_modules()),
    )
    yield


def extra_cli_modules() -> tuple[str, ...]:
    """The commands of this feature, until api/cli/__init__.py lists them."""
    return tuple(
        m
        for m in ("lfr_ledger.api.cli.retention", "lfr_ledger.api.cli.oversight")
        if m not in lfr_ledger.api.cli.COMMAND_MODULES
    )


def index_bytes(settings: Settings) -> bytes:
    path = index_path(settings)
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


# --- issue 23, item 3: the notes of an alert raised without a face crop -----------------------


def _reasons(ledger: CaseLedger, alert: UUID) -> list[str]:
    """The alert's adjudication reason and outcome notes as their readers see them."""
    notes = ledger.notes_key_id(alert)
    read = [
        ledger.reveal_text(notes, "adjudication_reason", e.reason)
        for e in events_of(ledger, alert)
        if type(e).__name__ == "Adjudicated"
    ]
    return read + [
        ledger.reveal_text(notes, "outcome_note", o.note) for o in ledger.alert(alert).outcomes
    ]


@pytest.mark.parametrize("scan", [False, True], ids=["index", "scan"])
def test_notes_of_an_alert_raised_without_a_crop_are_erased_after_the_period(
    ledger: CaseLedger, settings: Settings, clock: Clock, scan: bool
) -> None:
    scene = ran_deployment(ledger, clock, alerts=1, crops=False)
    [alert] = scene.alert_ids
    ledger.record_outcome(OFFICER, alert, Outcome(OutcomeType.OTHER, note="seen with his brother"))
    retention = build_retention(ledger, settings, scan=scan)
    notes = ledger.notes_key_id(alert)
    assert ledger.vault.has_key(notes) and _reasons(ledger, alert) == [
        "same face",
        "seen with his brother",
    ]
    captured = ledger.alert(alert).captured_at
    period = timedelta(days=ledger.policy.alert_image_days)

    clock.now = captured + period - timedelta(seconds=1)
    assert alert not in retention.run().alert_images_erased
    assert ledger.vault.has_key(notes)

    clock.now = captured + period
    report = retention.run()
    assert report.alert_images_erased == [alert]
    assert _reasons(ledger, alert) == [ERASED, ERASED]
    assert not ledger.vault.has_key(notes)
    assert ledger.alert(alert).images_erased_at == clock.now
    assert missing_keys(ledger) == [], "the erasure is recorded: no key is missing unrecorded"
    position = head(ledger)
    assert not retention.run().changed and head(ledger) == position


@pytest.mark.parametrize("scan", [False, True], ids=["index", "scan"])
def test_a_crash_before_the_notes_key_is_shredded_is_repaired_by_the_next_run(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    scan: bool,
) -> None:
    scene = ran_deployment(ledger, clock, alerts=1)
    [alert] = scene.alert_ids
    retention = build_retention(ledger, settings, scan=scan)
    clock.now = ledger.alert(alert).captured_at + timedelta(days=ledger.policy.alert_image_days)
    real_shred = ledger.vault.shred
    monkeypatch.setattr(ledger.vault, "shred", lambda key_id: False)
    assert retention.run().alert_images_erased == [alert]
    monkeypatch.setattr(ledger.vault, "shred", real_shred)
    notes = ledger.notes_key_id(alert)
    assert ledger.vault.has_key(notes)  # recorded, not yet shredded
    report = retention.run()
    # The watchlist, due a day after the end, was recorded destroyed in the same crashed run.
    assert sorted(report.keys_shredded_late) == sorted([*scene.entry_ids, alert, notes])
    assert not ledger.vault.has_key(notes)
    assert _reasons(ledger, alert) == [ERASED]


def test_an_index_kept_before_every_alert_was_is_rebuilt_by_its_migration(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    scene = ran_deployment(ledger, clock, alerts=1, crops=False)
    [alert] = scene.alert_ids
    retention = build_retention(ledger, settings)
    assert [a.alert_id for a in retention.plan().alert_images] == [alert]
    # The index as the release before kept it: no row for an alert without a crop.
    db = connect(settings)
    try:
        with db.transaction():
            db.execute("DELETE FROM view_retention_alert_images WHERE alert_id = ?", (str(alert),))
            db.execute("DELETE FROM schema_migrations WHERE name = 'retention_every_alert'")
        assert retention.plan().alert_images == []
        assert len(migrate(db)) == 1
    finally:
        db.close()
    clock.now = ledger.alert(alert).captured_at + timedelta(days=ledger.policy.alert_image_days)
    assert retention.run().alert_images_erased == [alert]
    assert _reasons(ledger, alert) == [ERASED]
