"""Several nodes on one PostgreSQL: each periodic job and the views' runner on one node at a
time, by a PostgreSQL advisory lock. Another node is another connection holding the lock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest

from lfr_ledger.api.demo.sample_deployment import authorised
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.projections.alone import alone, lock_key, run_alone
from lfr_ledger.projections.catch_up import PROJECTIONS_JOB, ProjectionRunner, status
from tests.conftest import PG_URL

postgres_only = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@contextmanager
def other_node_holds(settings: Settings, name: str) -> Iterator[None]:
    """Another node: its own connection, holding the job's lock until the block ends."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(settings, name),))
        yield
        conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(settings, name),))


@postgres_only
def test_a_job_runs_on_the_node_holding_its_lock_and_is_skipped_elsewhere(
    settings: Settings,
) -> None:
    ran: list[str] = []
    with other_node_holds(settings, "deployments:deadlines"):
        assert not run_alone(settings, "deployments:deadlines", ran.append, "here")
        # Another job's lock is free: locks are per job.
        assert run_alone(settings, "audit:checkpoint", ran.append, "checkpoint")
    assert run_alone(settings, "deployments:deadlines", ran.append, "here")
    assert ran == ["checkpoint", "here"]
    # Released on leaving: the next turn (here, or on another node) gets it again.
    with alone(settings, "deployments:deadlines") as held:
        assert held


@postgres_only
def test_two_ledgers_in_one_database_do_not_share_locks(settings: Settings) -> None:
    other = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        postgres_schema=f"{settings.postgres_schema}_other",
    )
    assert lock_key(settings, PROJECTIONS_JOB) != lock_key(other, PROJECTIONS_JOB)
    with other_node_holds(other, PROJECTIONS_JOB), alone(settings, PROJECTIONS_JOB) as held:
        assert held


@postgres_only
def test_the_views_are_caught_up_by_one_node_at_a_time(
    settings: Settings, ledger: CaseLedger
) -> None:
    authorised(ledger)
    runner = ProjectionRunner(settings)
    with other_node_holds(settings, PROJECTIONS_JOB):
        assert runner.run_once() == 0  # the other node is catching up: this one waits
        assert all(view["lag"] > 0 for view in status(settings))
    assert runner.run_once() > 0
    assert all(view["lag"] == 0 for view in status(settings))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_embedded_store_is_one_node_and_always_runs_its_jobs(settings: Settings) -> None:
    with alone(settings, PROJECTIONS_JOB) as first, alone(settings, PROJECTIONS_JOB) as second:
        assert first and second


@postgres_only
def test_retention_runs_on_one_node_and_every_node_arms_its_jobs(
    settings: Settings, ledger: CaseLedger
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from lfr_ledger.api.bootstrap import build_retention
    from lfr_ledger.oversight.retention.schedule import SWEEP_JOB_ID, RetentionSchedule

    turns: list[tuple[str, bool]] = []

    def one_node(name: str, job: Callable[..., object], *args: object) -> bool:
        ran = run_alone(settings, name, job, *args)  # what `lfr serve` hands in
        turns.append((name, ran))
        return ran

    scheduler = BackgroundScheduler(timezone="UTC")
    schedule = RetentionSchedule(build_retention(ledger, settings), scheduler, one_node=one_node)
    with other_node_holds(settings, SWEEP_JOB_ID):
        schedule.rebuild()  # the other node's turn to sweep; this one still arms its jobs
    assert turns == [(SWEEP_JOB_ID, False)]
    assert scheduler.get_job(SWEEP_JOB_ID) is not None
    schedule.rebuild()
    assert turns[-1] == (SWEEP_JOB_ID, True)
