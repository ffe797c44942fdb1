"""The projection runner: exactly once, resumable after a crash, rebuildable byte for byte."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from lfr_ledger.api.demo.seed import SeedResult, record_seed_operation
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.projections.catch_up import (
    ProjectionRunner,
    catch_up,
    rebuild,
    status,
    view_contents,
)
from lfr_ledger.projections.readers.statistics import StatisticsReader
from lfr_ledger.projections.registry import VIEW_NAMES
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock

REPO = Path(__file__).resolve().parent.parent


class Crash(Exception):
    pass


@pytest.fixture(autouse=True)
def _close_projection_connections() -> Iterator[None]:
    yield
    close_stores()


@pytest.fixture
def seed(ledger: CaseLedger, clock: Clock) -> SeedResult:
    def set_time(moment: datetime) -> None:
        clock.now = moment

    return record_seed_operation(ledger, set_time)


def head(ledger: CaseLedger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def positions(settings: Settings) -> dict[str, int]:
    return {v["name"]: v["position"] for v in status(settings)}


def seed_totals(settings: Settings, seed: SeedResult) -> tuple[int, int, int, int]:
    summary = msgspec.to_builtins(StatisticsReader(settings).operation_summary(seed.operation_id))
    assert summary is not None
    t = summary["totals"]
    return t["faces_processed"], t["alerts"], t["arrests"], t["compliance_checks"]


SEED_TOTALS = (24_745, 13, 6, 7)


def test_catch_up_applies_each_event_once_and_then_nothing(
    settings: Settings, ledger: CaseLedger, seed: SeedResult
) -> None:
    assert status(settings)[0]["lag"] == head(ledger)
    assert catch_up(settings, batch_size=37) == head(ledger)
    assert catch_up(settings) == 0
    assert positions(settings) == dict.fromkeys(VIEW_NAMES, head(ledger))
    assert all(v["lag"] == 0 for v in status(settings))
    assert seed_totals(settings, seed) == SEED_TOTALS


def test_events_are_applied_incrementally_while_the_ledger_writes(
    settings: Settings, ledger: CaseLedger, clock: Clock
) -> None:
    applied: list[int] = []

    def set_time_and_catch_up(moment: datetime) -> None:
        clock.now = moment
        applied.append(catch_up(settings))

    seed = record_seed_operation(ledger, set_time_and_catch_up)
    applied.append(catch_up(settings))
    assert sum(applied) == head(ledger)
    assert len([n for n in applied if n]) > 20
    assert seed_totals(settings, seed) == SEED_TOTALS
    incremental = view_contents(settings)
    rebuild(settings)
    assert view_contents(settings) == incremental


def test_fault_injected_before_commit_rolls_back_the_whole_batch(
    settings: Settings, ledger: CaseLedger, seed: SeedResult
) -> None:
    total = head(ledger)

    def crash_at(notification_id: int) -> None:
        if notification_id == 120:
            raise Crash

    with pytest.raises(Crash):
        catch_up(settings, batch_size=50, fault=crash_at)
    # Two batches committed; the third (101..150) was applied up to 120, then rolled back.
    assert positions(settings) == dict.fromkeys(VIEW_NAMES, 100)
    assert catch_up(settings, batch_size=50) == total - 100
    after_crash = view_contents(settings)
    assert seed_totals(settings, seed) == SEED_TOTALS

    assert rebuild(settings) == total
    assert view_contents(settings) == after_crash


def test_rebuild_reproduces_every_view_byte_for_byte(
    settings: Settings, ledger: CaseLedger, seed: SeedResult
) -> None:
    catch_up(settings, batch_size=7)
    first = view_contents(settings)
    assert sum(len(rows) for rows in first.values()) > 100
    assert rebuild(settings, "alerts") == head(ledger)
    assert view_contents(settings) == first
    assert rebuild(settings, batch_size=1000) == head(ledger)
    assert repr(view_contents(settings)) == repr(first)
    with pytest.raises(KeyError):
        rebuild(settings, "no-such-view")


def test_a_rebuilt_view_catches_up_while_the_others_stay_put(
    settings: Settings, ledger: CaseLedger, seed: SeedResult
) -> None:
    catch_up(settings)
    first = view_contents(settings)
    # Only the faces view replays: the others see nothing new in the same batches.
    assert rebuild(settings, "faces", batch_size=16) == head(ledger)
    assert positions(settings) == dict.fromkeys(VIEW_NAMES, head(ledger))
    assert view_contents(settings) == first


def test_concurrent_runners_apply_each_event_exactly_once(
    settings: Settings, ledger: CaseLedger, seed: SeedResult
) -> None:
    applied: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            applied.append(catch_up(settings, batch_size=11))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(applied) == head(ledger)
    assert seed_totals(settings, seed) == SEED_TOTALS
    contents = view_contents(settings)
    rebuild(settings)
    assert view_contents(settings) == contents


def test_runner_follows_the_log_until_stopped(
    settings: Settings, ledger: CaseLedger, clock: Clock
) -> None:
    def set_time(moment: datetime) -> None:
        clock.now = moment

    with ProjectionRunner(settings, interval=0.05) as runner:
        seed = record_seed_operation(ledger, set_time)
        deadline = time.monotonic() + 20
        while min(positions(settings).values()) < head(ledger):
            assert time.monotonic() < deadline, "the runner did not catch up"
            time.sleep(0.05)
    assert runner.applied == head(ledger)
    assert seed_totals(settings, seed) == SEED_TOTALS


_KILLED_RUNNER = textwrap.dedent(
    """
    import sys, time
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.projections.catch_up import catch_up

    def slow(notification_id: int) -> None:
        time.sleep(0.004)  # widen each batch so the kill lands inside one

    def committed(position: int) -> None:
        print(position, flush=True)

    print("ready", flush=True)
    catch_up(Settings.from_env(), batch_size=20, fault=slow, progress=committed)
    print("done", flush=True)
    """
)


def test_a_runner_killed_with_sigkill_resumes_without_loss_or_double_counting(
    settings: Settings, ledger: CaseLedger, seed: SeedResult
) -> None:
    env = {**os.environ, "LFR_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(REPO)}
    if settings.database_url:
        env["LFR_DATABASE_URL"] = settings.database_url
        env["LFR_POSTGRES_SCHEMA"] = settings.postgres_schema or ""
    else:
        env.pop("LFR_DATABASE_URL", None)
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUNNER],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        lines = [child.stdout.readline().strip() for _ in range(3)]  # ready, 20, 40
        assert lines == ["ready", "20", "40"]
        # The batch 41..60 sleeps ~80 ms; half-way through, the process dies.
        time.sleep(0.04)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    killed_at = positions(settings)
    assert set(killed_at.values()) <= {40, 60}
    assert catch_up(settings) == head(ledger) - min(killed_at.values())
    assert seed_totals(settings, seed) == SEED_TOTALS
    resumed = view_contents(settings)
    rebuild(settings)
    assert view_contents(settings) == resumed


def test_status_of_an_empty_ledger(settings: Settings) -> None:
    views = status(settings)
    assert [v["name"] for v in views] == list(VIEW_NAMES)
    assert all((v["position"], v["head"], v["lag"]) == (0, 0, 0) for v in views)
    assert catch_up(settings) == 0
    assert msgspec.to_builtins(StatisticsReader(settings).publication_records()) == []


def test_windows_of_time_are_utc_days(
    settings: Settings, ledger: CaseLedger, seed: SeedResult
) -> None:
    catch_up(settings)
    summary = msgspec.to_builtins(
        StatisticsReader(settings).deployment_summary(seed.deployment_ids[0])
    )
    assert summary is not None
    start = datetime.fromisoformat(summary["started_at"])
    assert summary["by_day"][0]["day"] == start.date().isoformat()
    assert start + timedelta(hours=7) == datetime.fromisoformat(summary["ended_at"])
