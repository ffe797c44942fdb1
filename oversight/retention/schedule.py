"""Retention's schedule: one APScheduler job per watchlist or alert image set at its exact due
time, and the sweep that destroys what is due and re-arms them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lfr_ledger.oversight.retention.destruction import Retention
from lfr_ledger.oversight.retention.report import RetentionReport

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler


logger = logging.getLogger("lfr.retention")

SWEEP_JOB_ID = "retention:sweep"


def watchlist_job_id(deployment_id: UUID) -> str:
    return f"retention:watchlist:{deployment_id}"


def alert_images_job_id(alert_id: UUID) -> str:
    return f"retention:alert-images:{alert_id}"


# Runs job `name` (`job(*args)`) if this node is the one to run it now; True if it ran.
OneNode = Callable[..., bool]


def _here(name: str, job: Callable[..., object], *args: object) -> bool:
    job(*args)
    return True


class RetentionSchedule:
    """APScheduler 3 jobs derived from the event log.

    `rebuild()` (at start-up, and again by every sweep) first destroys whatever is already due,
    then arms one `date` job per watchlist or alert image set at its exact due time, with
    deterministic ids so rebuilding replaces jobs and never duplicates them. A periodic sweep
    catches what the log gained since (a deployment ended after start-up, a hold released)
    and re-arms. Jobs live in memory only; the log is their source of truth.
    """

    def __init__(
        self,
        retention: Retention,
        scheduler: BaseScheduler,
        *,
        sweep_minutes: float = 15.0,
        one_node: OneNode | None = None,
    ) -> None:
        self.retention = retention
        self.scheduler = scheduler
        self.sweep_minutes = sweep_minutes
        # With several nodes on one store, each job runs on one of them at a time (the
        # composition root hands in its lock); alone, every job simply runs here.
        self.one_node: OneNode = one_node or _here

    def rebuild(self) -> list[str]:
        self.one_node(SWEEP_JOB_ID, self._destroy_what_is_due)
        plan = self.retention.plan()
        armed: list[str] = []
        wanted: set[str] = set()
        for kind, record_id, due_at in plan.pending():
            if kind == "watchlist":
                job_id = watchlist_job_id(record_id)
                func: Callable[[UUID], RetentionReport] = self.retention.destroy_watchlist_if_due
            else:
                job_id = alert_images_job_id(record_id)
                func = self.retention.erase_alert_images_if_due
            wanted.add(job_id)
            self.scheduler.add_job(
                self.one_node,
                "date",
                run_date=due_at,
                args=[job_id, func, record_id],
                id=job_id,
                replace_existing=True,
                # A job missed while the process was down runs as soon as it is back.
                misfire_grace_time=None,
            )
            armed.append(job_id)
        for job in self.scheduler.get_jobs():
            if job.id.startswith("retention:") and job.id != SWEEP_JOB_ID and job.id not in wanted:
                self.scheduler.remove_job(job.id)
        # Added once: the sweep calls rebuild itself, and must not keep postponing its next run.
        if self.scheduler.get_job(SWEEP_JOB_ID) is None:
            self.scheduler.add_job(
                self.rebuild,
                "interval",
                minutes=self.sweep_minutes,
                id=SWEEP_JOB_ID,
                coalesce=True,
                max_instances=1,
            )
        return armed

    def _destroy_what_is_due(self) -> None:
        report = self.retention.run()
        if report.changed or report.failures:
            logger.info("%s", report.summary())

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"id": job.id, "next_run_time": getattr(job, "next_run_time", None)}
            for job in self.scheduler.get_jobs()
            if job.id.startswith("retention:")
        ]
