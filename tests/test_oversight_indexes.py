"""Subject access and retention from their indexes (issue 15): the same answers and the same
destructions as the full scan of the log, which stays here as the reference; a view behind the
log is caught up before it is read; a rebuild reproduces both indexes. Both backends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lfr_ledger.api.bootstrap import build_retention, build_subject_index
from lfr_ledger.api.demo.sample_deployment import AO, OPERATOR, OVERSIGHT
from lfr_ledger.api.demo.seed import (
    SEED_DEPLOYMENTS,
    WATCHLIST_SIZE,
    record_seed_operation,
    seed_subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Confirmation
from lfr_ledger.oversight.retention.destruction import Retention
from lfr_ledger.oversight.retention.report import RetentionReport
from lfr_ledger.oversight.subject_access import SubjectAccessReport, subject_access
from lfr_ledger.projections.catch_up import catch_up, rebuild, status, view_contents
from lfr_ledger.projections.oversight_indexes import RETENTION_DEADLINES, SUBJECT_INDEX
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock
from tests.test_retention import ran_deployment

WHOLE = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _close_projection_connections() -> Iterator[None]:
    yield
    close_stores()


def answer(report: SubjectAccessReport) -> dict[str, Any]:
    return report.to_dict()


def by_scan(ledger: CaseLedger, ref: str, start: datetime, end: datetime) -> dict[str, Any]:
    return answer(subject_access(ledger, ref, start=start, end=end))


def by_index(
    ledger: CaseLedger, settings: Settings, ref: str, start: datetime, end: datetime
) -> dict[str, Any]:
    index = build_subject_index(settings)
    return answer(subject_access(ledger, ref, start=start, end=end, index=index))


def lag(settings: Settings, name: str) -> int:
    return next(int(s["lag"]) for s in status(settings) if s["name"] == name)


def destroyed(report: RetentionReport) -> dict[str, Any]:
    """What a run did, order aside (the scan lists in log order, the index by deadline)."""
    return {
        "watchlists": sorted(report.watchlists_destroyed),
        "entries": sorted(report.entries_destroyed),
        "alert_images": sorted(report.alert_images_erased),
        "held": sorted(report.held),
        "not_ended": sorted(report.not_ended),
        "purposes": sorted(report.consultation_purposes_destroyed),
        "contents": sorted(report.disclosure_contents_destroyed),
        "unsealed": sorted(report.unsealed_disclosures),
        "failures": report.failures,
    }


# --- subject access ---------------------------------------------------------------------------


def test_subject_access_by_index_answers_as_the_scan_on_the_seed_story(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    def set_time(moment: datetime) -> None:
        clock.now = moment

    record_seed_operation(ledger, set_time)
    refs = [
        seed_subject(number, index).subject_ref
        for number in range(len(SEED_DEPLOYMENTS))
        for index in range(WATCHLIST_SIZE)
    ]
    alerted = 0
    for ref in [*refs, "SEED-9-999"]:
        expected = by_scan(ledger, ref, *WHOLE)
        assert by_index(ledger, settings, ref, *WHOLE) == expected, ref
        alerted += bool(expected["in_alert"])
    assert alerted >= 10, "the story's alerts are found"


def test_subject_access_by_index_answers_as_the_scan_across_deployments_and_destruction(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    first = ran_deployment(ledger, clock, alerts=2, seed=1)
    june_2 = first.ended_at.replace(hour=0) if first.ended_at else clock.now
    clock.advance(days=10)
    second = ran_deployment(ledger, clock, alerts=1, seed=2, confirmed=Confirmation.UNKNOWN)
    periods = [WHOLE, (june_2, june_2 + timedelta(days=1)), (june_2 + timedelta(days=5), WHOLE[1])]
    refs = ["PNC-0000", "pnc-0000", "PNC-0001", "PNC-9999"]

    def same() -> None:
        for start, end in periods:
            for ref in refs:
                assert by_index(ledger, settings, ref, start, end) == by_scan(
                    ledger, ref, start, end
                ), (ref, start)

    same()
    ledger.place_legal_hold(AO, first.alert_ids[0], reason="trial", proceedings_ref="T/1")
    assert second.ended_at is not None
    clock.now = second.ended_at + timedelta(days=40)
    build_retention(ledger, settings).run()
    same()
    full = by_index(ledger, settings, "PNC-0000", *WHOLE)
    assert [len(e["alerts"]) for e in full["entries"]] == [2, 1]
    assert full["entries"][0]["status"] == "destroyed"


def test_a_lagging_subject_index_is_caught_up_before_it_is_read(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    scene = ran_deployment(ledger, clock, alerts=1, end=False)
    catch_up(settings)
    assert lag(settings, SUBJECT_INDEX) == 0
    # Enrolled and alerted after the view was last brought up to date: the runner is behind.
    later = ran_deployment(ledger, clock, alerts=2, seed=3, first_subject=0)
    assert lag(settings, SUBJECT_INDEX) > 0
    found = by_index(ledger, settings, "PNC-0000", *WHOLE)
    assert {e["entry_id"] for e in found["entries"]} == {
        str(scene.entry_ids[0]),
        str(later.entry_ids[0]),
    }
    assert sorted(a["alert_id"] for e in found["entries"] for a in e["alerts"]) == sorted(
        str(a) for a in [*scene.alert_ids, *later.alert_ids]
    )
    assert found == by_scan(ledger, "PNC-0000", *WHOLE)
    assert lag(settings, SUBJECT_INDEX) == 0


# --- retention --------------------------------------------------------------------------------


def scan(ledger: CaseLedger, settings: Settings) -> Retention:
    return build_retention(ledger, settings, scan=True)


def run_both(ledger: CaseLedger, settings: Settings) -> RetentionReport:
    """The scan's dry run says what is due; the index's run must destroy exactly that, and the
    scan must then find nothing left."""
    expected = destroyed(scan(ledger, settings).run(dry_run=True))
    report = build_retention(ledger, settings).run()
    assert destroyed(report) == expected, clock_note(ledger)
    after = destroyed(scan(ledger, settings).run(dry_run=True))
    assert after["watchlists"] == after["alert_images"] == after["purposes"] == []
    assert after["contents"] == []
    return report


def clock_note(ledger: CaseLedger) -> str:
    return f"at {ledger.clock().isoformat()}"


def test_retention_by_index_destroys_what_the_scan_would_through_holds_and_policy_change(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    old = ran_deployment(ledger, clock, alerts=3, seed=1)
    clock.advance(days=1)
    young = ran_deployment(ledger, clock, alerts=2, seed=2, first_subject=10)
    clock.advance(days=1)
    never_ended = ran_deployment(ledger, clock, alerts=1, seed=3, first_subject=20, end=False)
    ledger.place_legal_hold(AO, old.alert_ids[1], reason="trial", proceedings_ref="T/9")
    consulted = ledger.record_consultation(OVERSIGHT, record="deployment:x", purpose="audit")
    disclosed = ledger.record_disclosure(
        OVERSIGHT, recipient="IOPC", record="deployment:x", legal_basis="s.45"
    )
    assert old.ended_at and young.ended_at

    moments = [
        young.ended_at + timedelta(hours=1),  # the old watchlist only
        young.ended_at + timedelta(days=2),  # the young one too; the unended one reported
        old.ended_at + timedelta(days=31),  # old images (31 days), one held
    ]
    reports = []
    for moment in moments:
        clock.now = moment
        reports.append(run_both(ledger, settings))
    assert reports[0].watchlists_destroyed == [old.deployment_id]
    assert reports[1].watchlists_destroyed == [young.deployment_id]
    assert reports[1].not_ended == [never_ended.deployment_id]
    assert sorted(reports[2].alert_images_erased) == sorted([old.alert_ids[0], old.alert_ids[2]])
    assert reports[2].held == [old.alert_ids[1]]

    # A hold released: due at once. A shorter image period adopted: due sooner, no re-index.
    ledger.release_legal_hold(AO, old.alert_ids[1], reason="trial over")
    later = ran_deployment(ledger, clock, alerts=1, seed=4, first_subject=30)
    assert later.ended_at is not None
    ledger.policy = replace(ledger.policy, alert_image_days=2, version="short-images")
    clock.now = later.ended_at + timedelta(days=3)
    report = run_both(ledger, settings)
    assert sorted(report.alert_images_erased) == sorted(
        [old.alert_ids[1], *young.alert_ids, never_ended.alert_ids[0], *later.alert_ids]
    )

    # The access log's own period, years on.
    clock.now = clock.now + timedelta(days=6 * 366)
    report = run_both(ledger, settings)
    assert consulted in report.consultation_purposes_destroyed
    assert disclosed in report.disclosure_contents_destroyed


def test_a_lagging_deadline_index_is_caught_up_before_a_run(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    scene = ran_deployment(ledger, clock, alerts=1, end=False)
    catch_up(settings)
    clock.advance(hours=1)
    ledger.end_deployment(OPERATOR, scene.deployment_id)
    assert lag(settings, RETENTION_DEADLINES) > 0
    clock.advance(days=2)
    report = build_retention(ledger, settings).run()
    assert report.watchlists_destroyed == [scene.deployment_id]


def test_a_rebuild_reproduces_both_indexes(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    old = ran_deployment(ledger, clock, alerts=2, seed=1)
    clock.advance(days=1)
    ran_deployment(ledger, clock, alerts=1, seed=2, end=False)  # subject 0 again, elsewhere
    ledger.place_legal_hold(AO, old.alert_ids[0], reason="trial", proceedings_ref="T/2")
    ledger.record_consultation(OVERSIGHT, record="deployment:y", purpose="audit")
    assert old.ended_at is not None
    clock.now = old.ended_at + timedelta(days=40)
    build_retention(ledger, settings).run()
    catch_up(settings)
    for name in (SUBJECT_INDEX, RETENTION_DEADLINES):
        before = view_contents(settings, name)
        assert any(before.values()), name
        rebuild(settings, name)
        assert view_contents(settings, name) == before, name
