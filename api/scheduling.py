"""The server's periodic jobs, each run by one node at a time.

Every job the scheduler runs on an interval (deadlines, camera silence, publication deadlines,
the rolling re-verification) is armed the same way: through `projections.alone.run_alone`, so
on PostgreSQL only the node holding the job's advisory lock runs it, one run at a time, a
missed run coalesced into the next."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.alone import run_alone

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler


def every_alone(
    scheduler: BaseScheduler,
    settings: Settings,
    job_id: str,
    job: Callable[..., object],
    *args: object,
    seconds: float,
    caught_up: Callable[[], object] | None = None,
) -> None:
    """Arms `job(*args)` every `seconds`, on one node at a time; `caught_up` (when given) is
    handed to the job, which calls it to bring the views it reads up to the log first."""
    scheduler.add_job(
        run_alone,
        "interval",
        args=[settings, job_id, job, *args],
        kwargs={} if caught_up is None else {"caught_up": caught_up},
        seconds=seconds,
        id=job_id,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
    )
