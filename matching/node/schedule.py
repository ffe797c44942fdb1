"""When runners run: APScheduler 3 jobs derived from the event log.

At start-up `MatchSchedule.rebuild()` reads every authorised deployment from the log and, for each
of its cameras, arms two jobs with deterministic ids:

- `match:{deployment}:{camera}` — from the window's start to its end, every `poll_seconds`:
  begins matching if the deployment is live (a no-op when that camera's runner already runs). It
  polls rather than firing once because an operator may start the deployment after the window
  opened, or pause and resume it: a runner stops itself on a pause, and the next tick after the
  resume begins it again.
- `stop:{deployment}:{camera}` — at the window's end: stops the runner.

Jobs live in the scheduler's memory only; the event log is their source of truth, so rebuilding
(at every start-up, or again at any time) gives the same jobs and replaces, never duplicates.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lfr_ledger.domain.clock import utcnow
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.errors import DomainError
from lfr_ledger.domain.notification_log import notifications

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from lfr_ledger.domain.application import CaseLedger
    from lfr_ledger.matching.pipeline.summary import RunSummary

logger = logging.getLogger("lfr.matching.schedule")

# States in which a deployment may still go (or be) live.
PENDING_STATES = frozenset({"authorised", "live", "paused"})


def match_job_id(deployment_id: UUID, camera_id: str) -> str:
    return f"match:{deployment_id}:{camera_id}"


def stop_job_id(deployment_id: UUID, camera_id: str) -> str:
    return f"stop:{deployment_id}:{camera_id}"


class RunnerPool:
    """One runner thread per (deployment, camera) at most.

    `launch(deployment_id, camera_id, stop_event)` builds and runs a runner to completion,
    returning its summary; it must return soon after `stop_event` is set (wire it to
    `MatchRunner.stop`).
    """

    def __init__(self, launch: Callable[[UUID, str, threading.Event], RunSummary | None]) -> None:
        self._launch = launch
        self._lock = threading.Lock()
        self._running: dict[tuple[UUID, str], tuple[threading.Thread, threading.Event]] = {}

    def begin(self, deployment_id: UUID, camera_id: str) -> bool:
        """Starts the runner unless it runs already; True if a new one was started."""
        key = (deployment_id, camera_id)
        with self._lock:
            current = self._running.get(key)
            if current is not None and current[0].is_alive():
                return False
            stop = threading.Event()
            thread = threading.Thread(
                target=self._run, args=(deployment_id, camera_id, stop), daemon=True,
                name=f"runner-{deployment_id}-{camera_id}",
            )  # fmt: skip
            self._running[key] = (thread, stop)
            thread.start()
            return True

    def _run(self, deployment_id: UUID, camera_id: str, stop: threading.Event) -> None:
        try:
            summary = self._launch(deployment_id, camera_id, stop)
            if summary is not None:
                logger.info("runner %s/%s ended: %s", deployment_id, camera_id, summary.stopped)
        except Exception:
            # The next tick of the match job begins it again if the deployment is still live.
            logger.exception("runner %s/%s failed", deployment_id, camera_id)

    def halt(self, deployment_id: UUID, camera_id: str, timeout: float = 30.0) -> None:
        with self._lock:
            current = self._running.pop((deployment_id, camera_id), None)
        if current is not None:
            current[1].set()
            current[0].join(timeout)

    def running(self) -> list[tuple[UUID, str]]:
        with self._lock:
            return [key for key, (thread, _) in self._running.items() if thread.is_alive()]

    def halt_all(self) -> None:
        for deployment_id, camera_id in list(self._running):
            self.halt(deployment_id, camera_id)


class MatchSchedule:
    """Arms the match and stop jobs of every authorised deployment on `scheduler`."""

    def __init__(
        self,
        ledger: CaseLedger,
        scheduler: BaseScheduler,
        *,
        begin: Callable[[UUID, str], object],
        halt: Callable[[UUID, str], object],
        poll_seconds: float = 15.0,
        clock: Callable[[], datetime] = utcnow,
        cameras: Callable[[UUID], list[str]] | None = None,
    ) -> None:
        """`cameras(deployment_id)` limits the cameras this node serves (default: all)."""
        self.ledger = ledger
        self.scheduler = scheduler
        self.begin = begin
        self.halt = halt
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.cameras = cameras

    def authorised_deployments(self) -> list[UUID]:
        """Every deployment ever authorised, once each, in the order first authorised."""
        ids: list[UUID] = []
        seen: set[UUID] = set()
        for notification in notifications(self.ledger.recorder, (DeploymentTopic.AUTHORISED,)):
            originator = UUID(str(notification.originator_id))
            if originator not in seen:
                seen.add(originator)
                ids.append(originator)
        return ids

    def rebuild(self) -> list[str]:
        """(Re)arms every job the log calls for and removes those it no longer does; returns
        the ids of the jobs armed."""
        now = self.clock()
        armed: list[str] = []
        for deployment_id in self.authorised_deployments():
            deployment = self.ledger.deployment(deployment_id)
            all_cameras = [c.id for c in deployment.plan.cameras]
            served = self.cameras(deployment_id) if self.cameras else all_cameras
            for camera_id in all_cameras:
                ids = (
                    match_job_id(deployment_id, camera_id),
                    stop_job_id(deployment_id, camera_id),
                )
                wanted = (
                    camera_id in served
                    and str(deployment.status) in PENDING_STATES
                    and deployment.plan.ends_at > now
                )
                if not wanted:
                    for job_id in ids:
                        self._remove(job_id)
                    continue
                self.scheduler.add_job(
                    self.tick,
                    "interval",
                    seconds=self.poll_seconds,
                    start_date=deployment.plan.starts_at,
                    end_date=deployment.plan.ends_at,
                    args=[deployment_id, camera_id],
                    id=ids[0],
                    replace_existing=True,
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=None,
                    # The first tick at the window's start, or at once if it already opened.
                    next_run_time=max(deployment.plan.starts_at, now),
                )
                self.scheduler.add_job(
                    self.halt,
                    "date",
                    run_date=deployment.plan.ends_at,
                    args=[deployment_id, camera_id],
                    id=ids[1],
                    replace_existing=True,
                    misfire_grace_time=None,
                )
                armed.extend(ids)
        return armed

    def _remove(self, job_id: str) -> None:
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    def tick(self, deployment_id: UUID, camera_id: str) -> bool:
        """Begins matching if the deployment is live and inside its window now."""
        try:
            deployment = self.ledger.deployment(deployment_id)
        except DomainError:
            logger.exception("deployment %s unreadable", deployment_id)
            return False
        if deployment.is_live and deployment.inside_window(self.clock()):
            self.begin(deployment_id, camera_id)
            return True
        return False

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"id": job.id, "next_run_time": job.next_run_time}
            for job in self.scheduler.get_jobs()
            if job.id.startswith(("match:", "stop:"))
        ]
