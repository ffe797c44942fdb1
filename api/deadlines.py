"""The deadline job: the ledger itself ends a deployment whose authorised window closed, or whose
urgent (oral) authority was not confirmed in writing in time. Nothing else stops a van an
operator forgot, and a deployment must never run on authority it no longer has."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import ConcurrentWrite
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.running_deployments import running_deployments

log = logging.getLogger("lfr.deadlines")

EVERY_SECONDS = 30


def end_deployments_on_deadline(
    ledger: CaseLedger,
    settings: Settings,
    *,
    caught_up: Callable[[], object] | None = None,
) -> list[UUID]:
    """Ends every running deployment whose deadline passed; returns the ones it ended. Safe to
    run on several nodes at once: a deployment another node just ended is skipped. `caught_up`
    brings the views up to date (the server passes its own, one catch-up at a time)."""
    if caught_up is not None:
        caught_up()
    else:
        catch_up(settings)
    ended: list[UUID] = []
    for deployment_id in running_deployments(settings):
        try:
            if ledger.end_on_deadline(deployment_id):
                ended.append(deployment_id)
        except ConcurrentWrite:
            continue  # someone ended or changed it at this moment; the next run looks again
    if ended:
        log.info("ended %d deployment(s) on their deadline", len(ended))
    return ended
