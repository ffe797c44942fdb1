"""A matcher node as a service: up for its deployment, matching whenever the deployment is live
in its window, gone once it is over.

In process, runs are begun and halted by the schedule the event log implies (`ScheduledNode`,
over `schedule.py`'s jobs and runner pool). A remote node keeps no schedule: it asks the API for
the terms every few seconds (`live_spells`), and the API's answer is its schedule.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from lfr_ledger.domain.clock import utcnow
from lfr_ledger.matching.node.schedule import MatchSchedule, RunnerPool
from lfr_ledger.matching.node.sinks import SinkUnavailable
from lfr_ledger.matching.pipeline.ports import DeploymentCamera, DeploymentWatch, LiveTerms
from lfr_ledger.matching.pipeline.runner import RunnerRefused

if TYPE_CHECKING:
    from uuid import UUID

    from lfr_ledger.domain.application import CaseLedger
    from lfr_ledger.matching.node.assembly import Matcher
    from lfr_ledger.matching.pipeline.sources import FrameSource
    from lfr_ledger.matching.pipeline.summary import RunSummary

# A deployment in one of these states will never be live again.
OVER_STATES = frozenset({"ended", "refused"})


def run_until_halted(matcher: Matcher, source: FrameSource, halt: threading.Event) -> RunSummary:
    """One scheduled run: refused as the runner refuses, else the index synced, a recording
    stamped from now, and the run until it stops of itself or `halt` is set (by the schedule's
    stop job, or the node shutting down)."""
    runner = matcher.runner

    def halt_when_told() -> None:
        halt.wait()
        runner.stop()

    threading.Thread(target=halt_when_told, daemon=True).start()
    matcher.ready()
    if not source.is_live:
        source.start = utcnow()
    return runner.run(source.frames())


class ScheduledNode:
    """In process: one runner at a time for `camera`, begun and halted by the schedule the event
    log implies. `launch(deployment_id, camera_id, halt)` runs one matcher to completion (see
    `RunnerPool`). The log is read again every `rebuild_every_seconds`, so an authorisation or a
    window change is picked up."""

    def __init__(
        self,
        ledger: CaseLedger,
        camera: DeploymentCamera,
        launch: Callable[[UUID, str, threading.Event], RunSummary | None],
        *,
        poll_seconds: float = 2.0,
        rebuild_every_seconds: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.ledger = ledger
        self.camera = camera
        self.clock = clock
        self.rebuild_every_seconds = rebuild_every_seconds
        self.pool = RunnerPool(launch)
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.schedule = MatchSchedule(
            ledger,
            self.scheduler,
            begin=self.pool.begin,
            halt=self.pool.halt,
            poll_seconds=poll_seconds,
            cameras=lambda d: [camera.camera_id] if d == camera.deployment_id else [],
        )

    def start(self) -> None:
        """Arms the jobs and starts the scheduler; RunnerRefused (and nothing started) when the
        deployment has no window ahead in which the camera may run."""
        if not self.schedule.rebuild():
            raise RunnerRefused(
                f"deployment {self.camera.deployment_id} has no window ahead in which camera "
                f"{self.camera.camera_id} may run (not authorised, ended, or past its end)"
            )
        self.scheduler.add_job(
            self.schedule.rebuild,
            "interval",
            seconds=self.rebuild_every_seconds,
            id="rebuild",
            coalesce=True,
        )
        self.scheduler.start()

    def is_over(self) -> bool:
        """Whether the deployment has ended (or was refused), or its window has passed."""
        deployment = self.ledger.deployment(self.camera.deployment_id)
        return str(deployment.status) in OVER_STATES or self.clock() >= deployment.plan.ends_at

    def close(self) -> None:
        """Halts the running matcher and the scheduler."""
        self.pool.halt_all()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


def live_spells(
    watch: DeploymentWatch,
    camera: DeploymentCamera,
    stopped: threading.Event,
    *,
    poll_seconds: float,
    unreachable: Callable[[SinkUnavailable], object],
    clock: Callable[[], datetime] = utcnow,
) -> Iterator[LiveTerms]:
    """Polls the deployment's terms every `poll_seconds`, yielding whenever it is live inside
    its window (the caller then runs a matcher, which stops itself on a pause or the window's
    end); returns once the deployment is over or `stopped` is set. An API that cannot be reached
    is told to `unreachable` and asked again; RunnerRefused if the camera is not the
    deployment's; a refusal of the API comes out as the domain error it names."""
    while not stopped.is_set():
        try:
            terms = watch.terms()
        except SinkUnavailable as error:
            unreachable(error)
            stopped.wait(poll_seconds)
            continue
        now = clock()
        if terms.status in OVER_STATES or now >= terms.ends_at:
            return
        if camera.camera_id not in terms.cameras:
            raise RunnerRefused(
                f"camera {camera.camera_id!r} is not part of deployment {camera.deployment_id}"
            )
        if terms.is_live and terms.inside_window(now):
            yield terms
        stopped.wait(poll_seconds)
