"""Alerts: raised by the matcher, decided by an operator, followed up by an officer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import anyio.to_thread
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response import ServerSentEvent

from lfr_ledger.api.controllers.deps import (
    ActorDep,
    IdempotencyKey,
    LedgerDep,
    ServicesDep,
)
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.alerts import (
    AdjudicationIn,
    AlertIn,
    AlertList,
    EngagementIn,
    OutcomeIn,
    PerceivedCharacteristicsIn,
)
from lfr_ledger.api.schemas.common import Created, Done
from lfr_ledger.api.stream import (
    MAX_EVENT_ID,
    AlertFeed,
    alert_events,
    alert_state,
    current_position,
    parse_last_event_id,
)
from lfr_ledger.domain.alert import Outcome

WRITE_ERRORS = problem_spec(400, 401, 403, 404, 409, 413, 422)


def _done(ledger: LedgerDep, alert_id: UUID) -> Done:
    return Done(id=alert_id, status=alert_state(ledger.alert(alert_id)).state)


class AlertController(Controller):
    path = "/"
    tags = ("alerts",)

    @post(
        "/deployments/{deployment_id:uuid}/alerts",
        sync_to_thread=True,
        summary="Raise an alert (the deployment's matcher)",
        description="With `alert_id` (derived by the matcher from its track) a retry returns "
        "the same alert and records nothing new.",
        responses=WRITE_ERRORS,
    )
    def raise_alert(
        self,
        deployment_id: FromPath[UUID],
        data: JSONBody[AlertIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        alert_id = ledger.raise_alert(
            actor,
            deployment_id,
            camera_id=data.camera_id,
            entry_id=data.entry_id,
            similarity=data.similarity,
            captured_at=data.captured_at,
            model_id=data.model_id,
            track_id=data.track_id,
            face_crop=data.face_crop,
            alert_id=data.alert_id,
        )
        return Created(id=alert_id)

    @get(
        "/deployments/{deployment_id:uuid}/alerts",
        sync_to_thread=True,
        summary="A deployment's alerts: id, entry id, camera, similarity, state and times",
        responses=problem_spec(400, 401, 403, 404, 503),
    )
    def list_alerts(self, deployment_id: FromPath[UUID], services: ServicesDep) -> AlertList:
        services.ledger.deployment(deployment_id)  # 404 for an unknown deployment
        alerts = services.statistics().deployment_alerts(deployment_id)
        return AlertList(deployment_id=deployment_id, alerts=alerts)

    @get(
        "/alerts/stream",
        summary="Live alerts of a deployment (server-sent events; resume with Last-Event-ID)",
        description="Each event is named alert.raised, alert.adjudicated, "
        "alert.engagement_recorded, alert.outcome_recorded or alert.closed; its id is the "
        "notification id, its data the alert's state (no personal data). Reconnect with the "
        "Last-Event-ID header (or `last_event_id`) to receive exactly what was missed.",
        responses=problem_spec(400, 401, 403, 404),
    )
    async def stream_alerts(
        self,
        ledger: LedgerDep,
        deployment_id: FromQuery[UUID],
        last_event_id_header: Annotated[
            str | None, HeaderParameter(name="Last-Event-ID", required=False, max_length=20)
        ] = None,
        last_event_id: Annotated[int | None, QueryParameter(ge=0, le=MAX_EVENT_ID)] = None,
    ) -> ServerSentEvent:
        after = parse_last_event_id(last_event_id_header, last_event_id)
        await anyio.to_thread.run_sync(ledger.deployment, deployment_id)
        if after is None:
            # Fixed before the response starts, so nothing raised after connecting is missed.
            after = await anyio.to_thread.run_sync(current_position, ledger)
        feed = AlertFeed(ledger, deployment_id, after)
        return ServerSentEvent(
            alert_events(feed),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @post(
        "/alerts/{alert_id:uuid}/adjudication",
        status_code=200,
        sync_to_thread=True,
        summary="Adjudicate an alert: match, no_match or inconclusive (operator, once)",
        responses=WRITE_ERRORS,
    )
    def adjudicate(
        self,
        alert_id: FromPath[UUID],
        data: JSONBody[AdjudicationIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.adjudicate(actor, alert_id, data.decision, data.reason)
        return _done(ledger, alert_id)

    @post(
        "/alerts/{alert_id:uuid}/engagement",
        status_code=200,
        sync_to_thread=True,
        summary="Record whether the person was engaged and their identity confirmed (officer)",
        responses=WRITE_ERRORS,
    )
    def record_engagement(
        self,
        alert_id: FromPath[UUID],
        data: JSONBody[EngagementIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.record_engagement(actor, alert_id, engaged=data.engaged, confirmed=data.confirmed)
        return _done(ledger, alert_id)

    @post(
        "/alerts/{alert_id:uuid}/outcomes",
        status_code=200,
        sync_to_thread=True,
        summary="Record an outcome: arrest, compliance_check, words_of_advice, ... (officer)",
        responses=WRITE_ERRORS,
    )
    def record_outcome(
        self,
        alert_id: FromPath[UUID],
        data: JSONBody[OutcomeIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        outcome = Outcome(
            type=data.type,
            offences=tuple(data.offences),
            reference=data.reference,
            conditions=tuple(data.conditions),
            result=data.result,
            note=data.note,
        )
        ledger.record_outcome(actor, alert_id, outcome, occurred_at=data.occurred_at)
        return _done(ledger, alert_id)

    @post(
        "/alerts/{alert_id:uuid}/perceived-characteristics",
        status_code=200,
        sync_to_thread=True,
        summary="Record perceived characteristics for equality monitoring (officer)",
        description="Fields and values come from the policy's closed lists (e.g. perceived_sex, "
        "perceived_age_band, perceived_ethnicity). Sealed in the log; analysts see groups only "
        "in cells of at least the policy's minimum size.",
        responses=WRITE_ERRORS,
    )
    def record_perceived_characteristics(
        self,
        alert_id: FromPath[UUID],
        data: JSONBody[PerceivedCharacteristicsIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.record_perceived_demographics(actor, alert_id, dict(data.fields))
        return _done(ledger, alert_id)

    @post(
        "/alerts/{alert_id:uuid}/close",
        status_code=200,
        sync_to_thread=True,
        summary="Close an adjudicated alert (operator or officer)",
        responses=WRITE_ERRORS,
    )
    def close_alert(
        self,
        alert_id: FromPath[UUID],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.close_alert(actor, alert_id)
        return _done(ledger, alert_id)
