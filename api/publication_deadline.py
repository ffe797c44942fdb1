"""The publication deadline: results not published within the policy's days of a deployment's
end (`publication.results_within_days`) raise the alarm twice over. The server's check records
each such deployment's results overdue in the log, once (`Deployment.PublicationOverdue`, in the
history oversight reads; the oversight page lists results overdue), and `/metrics` counts the
deployments overdue now (`lfr_publication_results_overdue`), for whoever watches the service."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from lfr_ledger.api.scheduling import every_alone
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import ConcurrentWrite, DomainError
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.readers.public import PublicReader

log = logging.getLogger("lfr.publication")

CHECK_JOB_ID = "publication:deadline"
# Deadlines are days long: a check every ten minutes records one within ten minutes of it.
CHECK_EVERY_SECONDS = 600.0


def _reader(ledger: CaseLedger, settings: Settings) -> PublicReader:
    return PublicReader(settings, blue_categories=ledger.policy.blue_categories, clock=ledger.clock)


def record_overdue_publications(
    ledger: CaseLedger,
    settings: Settings,
    *,
    caught_up: Callable[[], object] | None = None,
) -> list[UUID]:
    """Records overdue the results of every ended deployment past its publication deadline
    and not published, not recorded overdue already; returns those it recorded. Safe on several
    nodes at once: the aggregate records each once, and a concurrent write is left to the
    other node."""
    if caught_up is not None:
        caught_up()
    else:
        catch_up(settings)
    days = ledger.policy.results_within_days
    recorded: list[UUID] = []
    for due in _reader(ledger, settings).overdue_results(results_within_days=days):
        if due["overdue_recorded_at"] is not None:
            continue
        deployment_id = UUID(due["deployment_id"])
        try:
            if ledger.record_publication_overdue(deployment_id):
                recorded.append(deployment_id)
        except ConcurrentWrite:
            continue
        except DomainError:
            log.exception("publication check of deployment %s failed", deployment_id)
    if recorded:
        # Ids only: which deployments, never what they found.
        log.warning(
            "results of %d deployment(s) not published within %d days: %s",
            len(recorded),
            days,
            ", ".join(str(d) for d in recorded),
        )
    return recorded


def schedule_publication_checks(
    scheduler: BaseScheduler,
    ledger: CaseLedger,
    settings: Settings,
    *,
    caught_up: Callable[[], object] | None = None,
    every_seconds: float = CHECK_EVERY_SECONDS,
) -> None:
    """Arms the deadline check on the server's scheduler, one node at a time."""
    every_alone(
        scheduler,
        settings,
        CHECK_JOB_ID,
        record_overdue_publications,
        ledger,
        settings,
        seconds=every_seconds,
        caught_up=caught_up,
    )


def publication_metrics(ledger: CaseLedger, settings: Settings) -> bytes:
    """`lfr_publication_results_overdue`: deployments whose results are past their deadline
    and unpublished, as the views have them now (0 while the force keeps up)."""
    registry = CollectorRegistry()
    overdue = Gauge(
        "lfr_publication_results_overdue",
        "Ended deployments whose results are not published within the policy's "
        "publication.results_within_days",
        registry=registry,
    )
    days = ledger.policy.results_within_days
    overdue.set(len(_reader(ledger, settings).overdue_results(results_within_days=days)))
    return generate_latest(registry)
