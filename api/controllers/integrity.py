"""Oversight: the integrity alarms in the log, and the log compared with its witnesses."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import QueryParameter

from lfr_ledger.api.dependencies import ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.integrity import (
    Alarm,
    Alarms,
    Witnesses,
    WitnessMismatch,
    WitnessStatus,
)
from lfr_ledger.domain.notification_log import notifications
from lfr_ledger.domain.records import IntegrityAlarmTopic


class IntegrityController(Controller):
    path = "/audit"
    tags = ("oversight",)

    @get(
        "/alarms",
        sync_to_thread=True,
        summary="Integrity alarms recorded in the log, newest first (oversight)",
        description="Each is tampering a check found: the rolling re-verification "
        "(`rolling_reverification`), or a read of a record whose event failed its link or its "
        "inclusion in the latest checkpoint (`inclusion_check`: the read was refused). An "
        "alarm is a record in the log: it stays.",
        responses=problem_spec(400, 401, 403),
    )
    def alarms(
        self,
        services: ServicesDep,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> Alarms:
        ledger = services.ledger
        raised: list[Alarm] = []
        # Alarms name ids and kinds, never a record's content: no consultation to log.
        for n in notifications(ledger.recorder, [IntegrityAlarmTopic.RAISED]):
            event = ledger.integrity_alarm(UUID(str(n.originator_id)))
            raised.append(
                Alarm(
                    id=event.id,
                    notification_id=event.notification_id,
                    kind=event.kind,
                    detail=event.detail,
                    found_by=event.found_by,
                    events_table=event.events_table,
                    occurred_at=event.occurred_at,
                )
            )
        return Alarms(alarms=raised[::-1][:limit])

    @get(
        "/witnesses",
        sync_to_thread=True,
        summary="The log compared with what each configured witness holds (oversight)",
        description="For every checkpoint each witness (`LFR_WITNESSES`) countersigned, the "
        "tree's root is recomputed from today's links at that size and compared with the root "
        "the witness holds; the first that no longer matches is named. An insider who "
        "rewrote the log and re-signed every checkpoint kept here cannot reach a witness's "
        "copies. Reads every link up to the largest size witnessed: run it knowingly on a "
        "large log.",
        responses=problem_spec(401, 403),
    )
    def witnesses(self, services: ServicesDep) -> Witnesses:
        from lfr_ledger.eventlog.witness.client import read_state
        from lfr_ledger.eventlog.witness.compare import compare_with_witness

        settings = services.settings
        found = []
        for url in settings.witnesses:
            compared = compare_with_witness(settings, url)
            state = read_state(settings, url)
            mismatch = compared.first_mismatch
            refused = state.get("refused")
            found.append(
                WitnessStatus(
                    url=url,
                    reachable=compared.reachable,
                    witnessed=compared.witnessed,
                    compared_to_size=compared.compared_to_size,
                    first_mismatch=WitnessMismatch(**vars(mismatch)) if mismatch else None,
                    problem=compared.problem,
                    acknowledged_last_id=state.get("acknowledged_last_id"),
                    refused=str(refused.get("detail")) if isinstance(refused, dict) else None,
                )
            )
        ok = all(w.reachable and w.witnessed and not (w.first_mismatch or w.problem) for w in found)
        return Witnesses(ledger=settings.ledger_name, ok=ok, witnesses=found)
