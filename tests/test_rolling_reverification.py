"""Issue 23, item 1: the rolling re-verification, so the default check is never blind.

An event edited under the latest checkpoint used to pass the default check ("OK: verified 0
events since checkpoint"). The rolling pass re-hashes the whole log a slice at a time; what it
finds is an alarm oversight sees (`GET /audit/verify`, `/metrics`, an `IntegrityAlarm` in the
log), and the default check says what it re-hashed and when. Its slices resume across restarts,
and on PostgreSQL one node at a time runs it. Real ledger, both backends.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.demo.sample_deployment import OPERATOR, reviewed
from lfr_ledger.api.reverify import JOB_ID, reverify_step
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import NotFound
from lfr_ledger.domain.records import IntegrityAlarm, IntegrityAlarmTopic
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.chain.wiring import resolve_events_table
from lfr_ledger.eventlog.checkpoint import read_checkpoint, sign_if_moved
from lfr_ledger.eventlog.rolling import MIN_EVENTS_PER_RUN, RollingState, SliceResult, slice_size
from lfr_ledger.projections.alone import run_alone
from lfr_ledger.projections.reverification import load_rolling, save_rolling
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock
from tests.test_invariants import live, send_alert
from tests.test_tamper_kinds import KINDS, LedgerDB, Story, _crop
from tests.test_tamper_kinds import lfr as lfr  # the `lfr` fixture, on the test's ledger


def _table(settings: Settings) -> str:
    table = resolve_events_table(settings)
    assert table is not None
    return table


def _whole_pass(settings: Settings, ledger: CaseLedger | None, events: int) -> list[SliceResult]:
    """Slices of `events` ids until a pass finishes; every slice's result."""
    slices = []
    for _ in range(1_000):
        result = reverify_step(settings, ledger, events=events)
        assert result is not None
        slices.append(result)
        if result.completed:
            return slices
    raise AssertionError("the pass never finished")


def _alter(db: LedgerDB, nid: int) -> None:
    """An insider edits one stored event in place, keeping it decodable."""
    state = db.state(nid)
    forged = state.replace(b'"decision":"no_match"', b'"decision":"match"')
    assert forged != state
    db.run("UPDATE {events} SET state = ? WHERE {id} = ?", (forged, nid))


@pytest.fixture
def signed(ledger: CaseLedger, settings: Settings, clock: Clock) -> Iterator[Story]:
    """The tamper kinds' story (two alerts, each raised, adjudicated and closed), then a
    checkpoint signed over all of it: every tampered row lies under the checkpoint."""
    deployment, entries = live(ledger, clock)
    a = send_alert(ledger, deployment, entries[0], clock, face_crop=_crop(40))
    ledger.adjudicate(OPERATOR, a, Decision.NO_MATCH, "a different person", ("subject",))
    ledger.close_alert(OPERATOR, a)
    b = send_alert(ledger, deployment, entries[1], clock, face_crop=_crop(200))
    ledger.adjudicate(OPERATOR, b, Decision.NO_MATCH, "not the person sought", ("subject",))
    ledger.close_alert(OPERATOR, b)
    assert sign_if_moved(settings) is not None
    db = LedgerDB(settings)
    rows = db.topics()
    raised = [nid for nid, topic in rows if topic == AlertTopic.RAISED]
    adjudicated = [nid for nid, topic in rows if topic == AlertTopic.ADJUDICATED]
    closed = [nid for nid, topic in rows if topic == AlertTopic.CLOSED]
    try:
        yield Story(
            ledger, settings, db, a, b, raised[0], adjudicated[0], closed[0], raised[1], rows[-1][0]
        )
    finally:
        db.close()


def _verify_json(lfr: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = lfr(["audit", "verify", "--json"])
    return code, json.loads(capsys.readouterr().out)


# --- the default check, blind under a checkpoint before, sees what the pass found -----------


def test_an_edit_under_the_checkpoint_is_found_by_the_rolling_pass_and_the_default_check(
    signed: Story, lfr: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _alter(signed.db, signed.a_adjudicated)
    capsys.readouterr()
    # The issue's case: the signed head vouches for the edited row, so the default is blind.
    assert lfr(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("OK: verified 0 events since checkpoint")

    slices = 0
    while True:
        code = lfr(["audit", "reverify", "--events", "6"])
        slices += 1
        if code != 0:
            break
        assert slices < 50
    out = capsys.readouterr().out
    assert code == 1 and slices > 1, out
    assert f"TAMPERED: first bad notification id {signed.a_adjudicated} (altered)" in out

    assert lfr(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    # The chain step's report as before, over one new event: the alarm, recorded in the log.
    assert out.startswith("OK: verified 1 events since checkpoint"), out
    assert f"TAMPERED: first bad notification id {signed.a_adjudicated} (altered), found by " in out
    code, report = _verify_json(lfr, capsys)
    assert code == 1
    assert (report["ok"], report["first_bad_id"], report["reason"]) == (
        False,
        signed.a_adjudicated,
        "altered",
    )
    assert report["findings"][0]["step"] == "rolling"
    assert report["rolling"]["last_pass"]["first_bad_id"] == signed.a_adjudicated
    assert f"stopped at event {signed.a_adjudicated} (altered)" in report["verified"]
    # `--full` re-hashes everything itself, and names the row the same way.
    assert lfr(["audit", "verify", "--full"]) == 1
    assert f"first bad notification id {signed.a_adjudicated} (altered)" in (
        capsys.readouterr().out
    )


# A cut tail chains cleanly from the first event to its new last one: only the checkpoint that
# covered the cut rows can see it, and the default check does (`test_tamper_kinds.py`).
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "truncate"])
def test_every_tamper_kind_under_the_checkpoint_is_reported_after_a_rolling_pass(
    signed: Story, kind: str
) -> None:
    """The probe's kinds done under a signed checkpoint: the default check alone misses the
    ones only re-hashing the rows under it can see; after a rolling pass (in slices of 7) it
    reports each, at its row and kind."""
    from lfr_ledger.eventlog.integrity import verify_integrity
    from lfr_ledger.eventlog.key_audit import audit_vault

    expected = KINDS[kind](signed)

    def default_check() -> set[tuple[int | None, str]]:
        from lfr_ledger.eventlog.checkpoint import latest_checkpoint_path

        path = latest_checkpoint_path(signed.settings)
        assert path is not None
        report = verify_integrity(
            signed.settings,
            lambda _table: audit_vault(signed.ledger),
            checkpoint=read_checkpoint(path),
            name=path.name,
            rolling=lambda table: load_rolling(signed.settings, table),
        )
        return {(f.notification_id, f.kind) for f in report.findings}

    before = default_check()
    # Before: rows after the checkpoint (insert) and the vault (a deleted key) are located;
    # payloads the vault cannot decode as their topic are noticed, at the wrong row or kind;
    # an edit, a deletion, a reordering or a chain row under the checkpoint goes unseen.
    assert (expected in before) == (kind in {"insert", "vault_key"}), before
    assert bool(before) == (kind in {"insert", "vault_key", "swap", "wrong_topic"}), before
    _whole_pass(signed.settings, None, events=7)
    assert expected in default_check(), kind


# --- the alarm: over HTTP to oversight, in /metrics, in the log ------------------------------


def _metric(body: str, name: str, table: str) -> float | None:
    found = re.search(rf'^{name}\{{events_table="{table}"\}} (\S+)$', body, re.M)
    return float(found[1]) if found else None


def test_the_alarm_reaches_oversight_over_http_metrics_and_the_log(signed: Story) -> None:
    settings, ledger, table = signed.settings, signed.ledger, _table(signed.settings)
    slices = _whole_pass(settings, ledger, events=1_000)
    intact = slices[-1].state
    assert intact.finished is not None and intact.finished.ok
    assert intact.rehashed_total == signed.last

    _alter(signed.db, signed.a_adjudicated)
    found = _whole_pass(settings, ledger, events=5)[-1]
    assert found.tampered is not None
    assert (found.tampered.first_bad_id, found.tampered.reason) == (
        signed.a_adjudicated,
        "altered",
    )
    alarm_id = IntegrityAlarm.id_for(table, signed.a_adjudicated, "altered")
    alarm = ledger.integrity_alarm(alarm_id)
    assert (alarm.notification_id, alarm.kind, alarm.events_table) == (
        signed.a_adjudicated,
        "altered",
        table,
    )
    # The next pass meets the same tampering: one alarm, not one per pass.
    _whole_pass(settings, ledger, events=1_000)
    raised = ledger.recorder.select_notifications(0, 1_000, topics=[IntegrityAlarmTopic.RAISED])
    assert len(raised) == 1

    token = issue_token(settings, role="oversight", sub="ICO-1")
    with TestClient(app=create_app(settings, ledger=ledger)) as client:
        reply = client.get("/audit/verify", headers={"Authorization": f"Bearer {token}"})
        metrics = client.get("/metrics").text
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["ok"], body["first_bad_id"], body["reason"]) == (
        False,
        signed.a_adjudicated,
        "altered",
    )
    assert any(
        (f["step"], f["notification_id"], f["kind"]) == ("rolling", signed.a_adjudicated, "altered")
        for f in body["findings"]
    )
    assert body["rolling"]["last_pass"]["first_bad_id"] == signed.a_adjudicated
    assert body["rolling"]["last_intact_pass_to"] == signed.last
    assert _metric(metrics, "lfr_reverify_first_bad_id", table) == signed.a_adjudicated
    age = _metric(metrics, "lfr_reverify_last_full_pass_age_seconds", table)
    assert age is not None and 0 <= age < 600
    total = _metric(metrics, "lfr_reverify_events_rehashed_total", table)
    assert total is not None and total >= 2 * signed.last


def test_metrics_before_any_pass_and_after_an_intact_one(
    ledger: CaseLedger, settings: Settings
) -> None:
    reviewed(ledger, entries=1)
    table = _table(settings)
    with TestClient(app=create_app(settings, ledger=ledger)) as client:
        before = client.get("/metrics").text
        assert "lfr_reverify_last_full_pass_age_seconds{" not in before  # absent: not "0 s"
        _whole_pass(settings, ledger, events=1_000)
        after = client.get("/metrics").text
    assert _metric(after, "lfr_reverify_first_bad_id", table) == 0
    assert _metric(after, "lfr_reverify_last_full_pass_age_seconds", table) is not None


# --- what was verified, and when ------------------------------------------------------------


def test_the_default_check_says_what_the_rolling_pass_and_the_checkpoint_each_cover(
    ledger: CaseLedger, settings: Settings, lfr: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed(ledger, entries=1)
    path = sign_if_moved(settings)
    assert path is not None
    covered = int(read_checkpoint(path)["last_id"])
    code, report = _verify_json(lfr, capsys)
    assert code == 0 and report["rolling"] is None
    assert report["verified"].endswith(
        f"events 1–{covered} not re-hashed (vouched for by its signed head); no rolling pass "
        "has completed yet"
    )

    intact = _whole_pass(settings, ledger, events=1_000)[-1].state
    assert intact.intact_at is not None and intact.intact_last_id == covered
    reviewed(ledger, entries=1)  # recorded after the checkpoint and the pass
    code, report = _verify_json(lfr, capsys)
    last = report["last_id"]
    when = intact.intact_at.isoformat(timespec="seconds")
    assert code == 0 and report["ok"]
    assert report["verified"] == (
        f"events 1–{covered} re-hashed by the rolling pass completed at {when}; events "
        f"{covered + 1}–{last} re-hashed since checkpoint {path.name} (id {covered})"
    )
    assert report["rolling"]["last_intact_pass_to"] == covered
    # Over HTTP (what the oversight page shows), the same sentence.
    token = issue_token(settings, role="oversight", sub="ICO-1")
    with TestClient(app=create_app(settings, ledger=ledger)) as client:
        body = client.get("/audit/verify", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["verified"] == report["verified"]
    assert body["rolling"]["last_pass"]["rehashed_to"] == covered


# --- slices resume across restarts, and one runner records each -----------------------------


def test_slices_resume_across_restarts(
    ledger: CaseLedger, settings: Settings, lfr: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed(ledger, entries=2)
    last = LedgerDB(settings).ids()[-1]
    spans = []
    for _ in range(50):
        close_stores()  # each run a new process: nothing carried but the table
        capsys.readouterr()
        assert lfr(["audit", "reverify", "--events", "4", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        spans.append((out["rehashed_from"], out["rehashed_to"]))
        if out["completed"]:
            break
    assert spans[:2] == [(1, 4), (5, 8)]
    assert spans[-1][1] == last and len(spans) == -(-last // 4)
    state = load_rolling(settings, _table(settings))
    assert state is not None and state.intact_last_id == last and state.anchor_id == 0


def test_a_runner_that_raced_another_records_nothing(
    ledger: CaseLedger, settings: Settings
) -> None:
    reviewed(ledger, entries=1)
    first = reverify_step(settings, ledger, events=3)
    assert first is not None
    before = first.state
    later = replace(before, covered=6, anchor_id=6, updated_at=before.updated_at + timedelta(1))
    assert save_rolling(settings, later, before)
    assert not save_rolling(settings, replace(later, covered=9), before)  # it started from `before`
    assert load_rolling(settings, before.events_table) == later
    fresh = RollingState.begin(before.events_table, datetime.now(UTC))
    assert not save_rolling(settings, fresh, None)  # the row exists: no second first slice


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_one_node_at_a_time_runs_the_slice_on_postgres(
    ledger: CaseLedger, settings: Settings
) -> None:
    reviewed(ledger, entries=1)
    barrier = threading.Barrier(2)
    ran: list[SliceResult | None] = []
    outcomes: list[bool] = []

    def slice_held_a_while() -> None:
        ran.append(reverify_step(settings, ledger, events=3))
        time.sleep(1.0)  # still holding the job while the other node tries

    def node() -> None:
        barrier.wait()
        outcomes.append(run_alone(settings, JOB_ID, slice_held_a_while))

    nodes = [threading.Thread(target=node) for _ in range(2)]
    for n in nodes:
        n.start()
    for n in nodes:
        n.join()
    assert sorted(outcomes) == [False, True]
    assert len(ran) == 1 and ran[0] is not None and ran[0].rehashed == (1, 3)
    state = load_rolling(settings, _table(settings))
    assert state is not None and (state.covered, state.rehashed_total) == (3, 3)


# --- the slice's size: the period covered, the cost bounded -----------------------------------


def test_slices_cover_the_log_within_the_period_at_a_bounded_cost() -> None:
    start = datetime(2025, 6, 2, tzinfo=UTC)
    day = timedelta(hours=24)
    fresh = RollingState.begin("lfr_events", start)
    # A fleet year (13 M events) over a day: 9,028 a minute, under the default bound.
    assert slice_size(fresh, 13_000_000, start, period=day, max_events=30_000) == 9_028
    # A small log: at least MIN_EVENTS_PER_RUN, so it is re-verified every few minutes.
    assert slice_size(fresh, 5_000, start, period=day, max_events=30_000) == MIN_EVENTS_PER_RUN
    # More than the bound allows: the bound holds, the pass takes longer than the period.
    assert slice_size(fresh, 100_000_000, start, period=day, max_events=30_000) == 30_000
    # Half the period gone, half the log done: the rest over the minutes left.
    halfway = replace(fresh, covered=6_500_000)
    assert slice_size(halfway, 13_000_000, start + day / 2, period=day, max_events=30_000) == (
        -(-6_500_000 // 720)
    )
    # Late (a node was down past the period): the most the bound allows, until caught up.
    assert slice_size(halfway, 13_000_000, start + 2 * day, period=day, max_events=30_000) == (
        30_000
    )


def test_the_period_and_bound_are_settings_refused_when_not_positive() -> None:
    assert Settings.from_env({}).reverify_period_hours == 24.0
    chosen = Settings.from_env(
        {"LFR_REVERIFY_PERIOD_HOURS": "6", "LFR_REVERIFY_MAX_EVENTS_PER_MINUTE": "5000"}
    )
    assert (chosen.reverify_period_hours, chosen.reverify_max_events_per_minute) == (6.0, 5000)
    for bad in ("0", "-1", "day", "nan"):
        with pytest.raises(ValueError, match="LFR_REVERIFY_PERIOD_HOURS must be a number above"):
            Settings.from_env({"LFR_REVERIFY_PERIOD_HOURS": bad})


def test_a_chain_rewritten_after_the_pass_re_hashed_it_is_named_at_the_pass_position(
    signed: Story,
) -> None:
    """An insider who rewrites an event and every link after it, below where the pass stands:
    the next slice finds the stored link no longer holds the head the pass recomputed."""
    settings = signed.settings
    first = reverify_step(settings, None, events=signed.a_adjudicated + 2)
    assert first is not None and not first.completed
    at = first.state.anchor_id
    signed.db.run("UPDATE {chain} SET hash = ? WHERE notification_id = ?", (bytes(32), at))
    result = reverify_step(settings, None, events=3)
    assert result is not None and result.tampered is not None
    assert (result.tampered.first_bad_id, result.tampered.reason) == (at, "checkpoint_mismatch")
    assert "rewritten after the pass re-hashed it" in result.tampered.detail
    with pytest.raises(NotFound):  # no ledger handed: the table holds the finding alone
        signed.ledger.integrity_alarm(
            IntegrityAlarm.id_for(_table(settings), at, "checkpoint_mismatch")
        )
