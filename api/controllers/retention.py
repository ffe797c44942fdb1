"""Legal holds on alerts (authorising officer) and a retention run on demand (admin)."""

from __future__ import annotations

import threading
from datetime import timedelta
from inspect import signature
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from lfr_ledger.api.dependencies import ActorDep, IdempotencyKey, LedgerDep, ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.admin import RetentionDue, RetentionWork
from lfr_ledger.api.schemas.event_fields import SEALED
from lfr_ledger.api.schemas.retention import (
    LegalHold,
    LegalHoldIn,
    LegalHoldReleaseIn,
    RetentionRun,
)
from lfr_ledger.domain.actors import Role
from lfr_ledger.domain.sealing import is_sealed_text

WRITE_ERRORS = problem_spec(400, 401, 403, 404, 409, 422)
# Runs in one process take turns; runs in several are safe anyway (a destruction recorded
# twice is refused by the aggregate and reported as a failure of the slower run).
_RUN_LOCK = threading.Lock()

# What api/guards.py needs for these routes (kept here for the tests until it lists them).
ACCESS_ROWS: dict[str, frozenset[Role]] = {
    "POST /alerts/{alert_id}/legal-hold": frozenset({Role.AUTHORISING_OFFICER}),
    "POST /alerts/{alert_id}/legal-hold/release": frozenset({Role.AUTHORISING_OFFICER}),
    "POST /retention/run": frozenset({Role.ADMIN}),
    "GET /retention/due": frozenset({Role.ADMIN}),
}
# How far back the administrator's page counts what retention destroyed.
RECENT = timedelta(days=7)


def _hold_state(ledger: LedgerDep, alert_id: UUID) -> LegalHold:
    """The hold as the reply states it: the proceedings reference stays sealed, here and in the
    reply the idempotency store keeps for a retry, which must get these same bytes back."""
    alert = ledger.alert(alert_id)
    held = alert.legal_hold
    return LegalHold(
        id=alert_id,
        under_legal_hold=held is not None,
        proceedings_ref=SEALED if is_sealed_text(held) else held,
        images_erased_at=alert.images_erased_at,
    )


class RetentionController(Controller):
    path = "/"
    tags = ("retention",)

    @post(
        "/alerts/{alert_id:uuid}/legal-hold",
        status_code=200,
        sync_to_thread=True,
        summary="Place a legal hold on an alert: its images survive retention (AO)",
        description="The hold names the proceedings; held images are kept past the retention "
        "period until the hold is released.",
        responses=WRITE_ERRORS,
    )
    def place_legal_hold(
        self,
        alert_id: FromPath[UUID],
        data: JSONBody[LegalHoldIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> LegalHold:
        ledger.place_legal_hold(
            actor, alert_id, reason=data.reason, proceedings_ref=data.proceedings_ref
        )
        return _hold_state(ledger, alert_id)

    @post(
        "/alerts/{alert_id:uuid}/legal-hold/release",
        status_code=200,
        sync_to_thread=True,
        summary="Release an alert's legal hold: retention applies again at its next run (AO)",
        responses=WRITE_ERRORS,
    )
    def release_legal_hold(
        self,
        alert_id: FromPath[UUID],
        data: JSONBody[LegalHoldReleaseIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> LegalHold:
        ledger.release_legal_hold(actor, alert_id, data.reason)
        return _hold_state(ledger, alert_id)

    @post(
        "/retention/run",
        status_code=200,
        sync_to_thread=True,
        summary="Destroy everything the retention policy says is due now (admin)",
        description="Watchlists of deployments ended longer ago than the policy allows, "
        "alert images older than the alert period unless under legal hold, and the purposes of "
        "consultations and recipients of disclosures older than the access-log period: keys "
        "shredded, "
        "index rows deleted, metadata-only erasure events written. Idempotent. With "
        "`dry_run=true` it only reports what is due. The time is the server's: retention "
        "never runs ahead of it.",
        responses=problem_spec(400, 401, 403, 422),
    )
    def run(
        self,
        services: ServicesDep,
        actor: ActorDep,
        dry_run: Annotated[bool, QueryParameter()] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> RetentionRun:
        actor.require(Role.ADMIN)
        # The admin who asked is the erasure's actor; the rule and the period are the policy's.
        from lfr_ledger.eventlog.checkpoint import sign_if_moved

        settings = services.settings
        retention = services.retention(actor=actor, after_change=lambda: sign_if_moved(settings))
        with _RUN_LOCK:
            report = retention.run(dry_run=dry_run)
        return RetentionRun(
            as_of=report.as_of,
            dry_run=report.dry_run,
            watchlists_destroyed=report.watchlists_destroyed,
            entries_destroyed=report.entries_destroyed,
            alert_images_erased=report.alert_images_erased,
            held=report.held,
            keys_shredded_late=report.keys_shredded_late,
            not_ended=report.not_ended,
            failures=report.failures,
            index_synced=report.index_synced,
            consultation_purposes_destroyed=report.consultation_purposes_destroyed,
            disclosure_contents_destroyed=report.disclosure_contents_destroyed,
            unsealed_disclosures=report.unsealed_disclosures,
        )

    @get(
        "/retention/due",
        sync_to_thread=True,
        summary="What retention would destroy now, by kind, and what it destroyed lately (admin)",
        description="Counts only: watchlists (and their entries), alert image sets, held image "
        "sets, access-log records, deployments nobody ended; the time of the latest "
        "destruction and the counts of the last seven days. Reading it writes nothing. A run "
        "that finds nothing due records nothing, so the latest destruction is the latest run "
        "that destroyed something.",
        responses=problem_spec(401, 403),
    )
    def due(self, services: ServicesDep, actor: ActorDep) -> RetentionDue:
        actor.require(Role.ADMIN)
        from lfr_ledger.oversight.retention.schedule import RetentionSchedule
        from lfr_ledger.projections.readers.retention_activity import retention_activity

        ledger = services.ledger
        plan = services.retention(actor=actor).plan(due_only=True)
        watchlists = plan.due_watchlists()
        access = plan.due_access_records()
        since = plan.as_of - RECENT
        done = retention_activity(services.settings, since)
        return RetentionDue(
            as_of=plan.as_of,
            watchlists=len(watchlists),
            entries=sum(len(ledger.deployment(w.deployment_id).entry_ids) for w in watchlists),
            alert_images=len(plan.due_alert_images()),
            held=len(plan.held()),
            consultations=sum(1 for r in access if r.kind == "consultation"),
            disclosures=sum(1 for r in access if r.kind != "consultation"),
            unsealed_disclosures=len(plan.unsealed_access_records()),
            not_ended=len(plan.not_ended),
            last_destruction_at=done.latest,
            recent=RetentionWork(
                since=since,
                watchlists=done.watchlists,
                alert_images=done.alert_images,
                access_records=done.access_records,
            ),
            # The sweep `lfr serve` arms (its default; the schedule is the one place it is set).
            sweep_minutes=int(signature(RetentionSchedule).parameters["sweep_minutes"].default),
        )
