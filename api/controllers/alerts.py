"""Alerts: raised by the matcher, decided by an operator, followed up by an officer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import anyio.to_thread
from eventsourcing.utils import get_topic
from litestar import Controller, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import (
    FromPath,
    FromQuery,
    HeaderParameter,
    JSONBody,
    Parameter,
    QueryParameter,
)
from litestar.response import Response, ServerSentEvent

from lfr_ledger.api.controllers.audit import _actor, _event_data
from lfr_ledger.api.dependencies import (
    PURPOSE_REQUIRED,
    ActorDep,
    IdempotencyKey,
    LedgerDep,
    PurposeHeader,
    PurposeQuery,
    ReadsDep,
    require_purpose,
)
from lfr_ledger.api.face_crops import check_face_crop
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.alert_followup import (
    EngagementIn,
    OutcomeCorrectionIn,
    OutcomeIn,
    PerceivedCharacteristicsIn,
)
from lfr_ledger.api.schemas.alerts import (
    AdjudicationCorrectionIn,
    AdjudicationIn,
    AlertIn,
    AlertList,
    AlertTimeline,
)
from lfr_ledger.api.schemas.common import Created, Done
from lfr_ledger.api.schemas.history import ActorOut, timeline_event
from lfr_ledger.api.stream import MAX_EVENT_ID, alert_events, alert_out, parse_last_event_id
from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.alert import HoldKind, Outcome

WRITE_ERRORS = problem_spec(400, 401, 403, 404, 409, 413, 422)

# The alert routes read pseudonymous personal data in the course of the role's work.
IN_ROLE = (
    "**Logged.** The read is recorded as a consultation (DPA 2018 s.62) with the purpose "
    "the caller's role implies in its own work: an operator adjudicating, an officer "
    "engaging, an authorising officer reviewing, a watchlist manager compiling, oversight."
)

# GET /alerts/stream's 200, as the document shows it: a text/event-stream whose events carry
# an AlertOut each (api/stream.py).
STREAM_EVENTS = (
    "alert.raised, alert.adjudicated, alert.adjudication_corrected, alert.engagement_recorded, "
    "alert.outcome_recorded, alert.outcome_corrected, alert.closed, alert.legal_hold_placed, "
    "alert.legal_hold_released, alert.images_erased"
)
STREAM_RESPONSE = ResponseSpec(
    data_container=str,
    media_type="text/event-stream",
    description="Server-sent events (text/event-stream), open until the client closes it. "
    "First a comment `: subscribed` with `retry: 1000`; then one event per alert event of "
    f"the deployment, in log order: `event:` its name ({STREAM_EVENTS}), `id:` its "
    "notification id (send it back as Last-Event-ID to resume), `data:` the alert's state "
    "right after it, as one line of JSON shaped as the AlertOut schema (no personal "
    "data). A comment `: keep-alive` follows 15 s of quiet.",
    generate_examples=False,
    examples=[
        Example(
            summary="Subscribed, then an alert raised",
            value=": subscribed\nretry: 1000\n\n"
            "event: alert.raised\nid: 1042\ndata: "
            '{"id":"9b2d7c1e-3f4a-4b5c-8d6e-7f8091a2b3c4",'
            '"deployment_id":"1c9e6a3b-2d4f-4a5b-8c7d-9e0f1a2b3c4d",'
            '"entry_id":"5f0c3a52-8d1e-4c6f-9b7a-2e4d6f8a0b1c","camera_id":"cam-north-1",'
            '"category":"wanted_by_courts","similarity":0.62,"threshold":0.5,'
            '"status":"raised","captured_at":"2026-06-02T10:15:30Z",'
            '"raised_at":"2026-06-02T10:15:31Z","decision":null,"adjudicated_at":null,'
            '"adjudicated_by":null,"engaged":null,"confirmed":null,"outcomes":[],'
            '"closed_at":null}\n\n',
        )
    ],
)


def image_response(image: bytes) -> Response[bytes]:
    """An image as stored, typed by its first bytes (the matcher's crops are JPEG; an enrolled
    image may be PNG). Never cached: each read is a logged consultation."""
    if image.startswith(b"\xff\xd8\xff"):
        media_type = "image/jpeg"
    elif image.startswith(b"\x89PNG\r\n\x1a\n"):
        media_type = "image/png"
    else:
        media_type = "application/octet-stream"
    return Response(
        image,
        media_type=media_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def _actor_of(event: object) -> ActorOut | None:
    who = getattr(event, "actor", None)
    return _actor(who) if isinstance(who, Actor) else None


def _outcome_of(data: OutcomeIn | OutcomeCorrectionIn) -> Outcome:
    """The outcome a request states, recorded or as a correction."""
    return Outcome(
        type=data.type,
        offences=tuple(data.offences),
        reference=data.reference,
        conditions=tuple(data.conditions),
        result=data.result,
        note=data.note,
        custody_ref=data.custody_ref,
        crime_ref=data.crime_ref,
        due_at=data.due_at,
    )


def _done(ledger: LedgerDep, alert_id: UUID) -> Done:
    # A read-only look: the status needs no copy of the alert of its own.
    return Done(id=alert_id, status=ledger.alert(alert_id, to_change=False).status)


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
        if data.face_crop is not None:
            check_face_crop(data.face_crop)  # before anything is written: no key, no event
        return Created(id=ledger.raise_alert(actor, data.claim(deployment_id)))

    @get(
        "/deployments/{deployment_id:uuid}/alerts",
        sync_to_thread=True,
        summary="A deployment's alerts: id, entry id, camera, similarity, state and times",
        description=IN_ROLE,
        responses=problem_spec(400, 401, 403, 404, 503),
    )
    def list_alerts(self, deployment_id: FromPath[UUID], reads: ReadsDep) -> AlertList:
        listed = reads.alert_list(deployment_id)
        return AlertList(
            deployment_id=deployment_id, alerts=listed.alerts, stream_from=listed.stream_from
        )

    @get(
        "/alerts/stream",
        summary="Live alerts of a deployment (server-sent events; resume with Last-Event-ID)",
        description="A text/event-stream, not JSON. Each event is named alert.raised, "
        "alert.adjudicated, alert.adjudication_corrected, alert.engagement_recorded, "
        "alert.outcome_recorded, alert.outcome_corrected, alert.closed, "
        "alert.legal_hold_placed, alert.legal_hold_released or alert.images_erased; its id is "
        "the notification id, its data the alert's state as one line of JSON (the AlertOut "
        "schema; no personal data). Reconnect with the Last-Event-ID header (or "
        "`last_event_id`) to receive exactly what was missed; without either, the stream "
        "starts from now (read `stream_from` of `GET /deployments/{id}/alerts` to miss "
        "nothing between a list and the stream).\n\n" + IN_ROLE,
        responses={200: STREAM_RESPONSE, **problem_spec(400, 401, 403, 404)},
    )
    async def stream_alerts(
        self,
        reads: ReadsDep,
        deployment_id: FromQuery[UUID],
        last_event_id_header: Annotated[
            str | None,
            HeaderParameter(
                name="Last-Event-ID",
                required=False,
                max_length=20,
                description="The id of the last event received: the stream resumes after it "
                "(browsers' EventSource sends it on reconnecting)",
            ),
        ] = None,
        last_event_id: Annotated[
            int | None,
            QueryParameter(
                ge=0,
                le=MAX_EVENT_ID,
                description="The same as the Last-Event-ID header, for clients that cannot "
                "set headers; the header wins when both are sent",
            ),
        ] = None,
    ) -> ServerSentEvent:
        after = parse_last_event_id(last_event_id_header, last_event_id)
        # One consultation per subscription, recorded before the response starts.
        feed = await anyio.to_thread.run_sync(reads.alert_stream, deployment_id, after)
        return ServerSentEvent(
            alert_events(feed),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @post(
        "/alerts/{alert_id:uuid}/adjudication",
        status_code=200,
        sync_to_thread=True,
        summary="Adjudicate an alert: match, no_match or inconclusive (operator, once)",
        description="A no_match names why the alert was false (`false_alert_factors`, from the "
        "policy's closed lists; required where the policy says so, 422 policy-violation "
        "without them); any other decision names none.",
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
        status = ledger.adjudicate(
            actor, alert_id, data.decision, data.reason, tuple(data.false_alert_factors)
        )
        return Done(id=alert_id, status=status)

    @post(
        "/alerts/{alert_id:uuid}/adjudication/correction",
        status_code=200,
        sync_to_thread=True,
        summary="Correct an alert's adjudication (operator or AO; a new event keeps the first)",
        description="Records AdjudicationCorrected with who, when, why and the previous "
        "decision; the original adjudication stays in the log, and every read model counts the "
        "corrected decision. The reason is required and sealed; the decision must change. "
        "Whoever holds a duty the policy keeps apart from adjudicating (by default the "
        "deployment's authoriser) is refused (403 role-separation). Refused once the alert's "
        "images and notes were erased.",
        responses=WRITE_ERRORS,
    )
    def correct_adjudication(
        self,
        alert_id: FromPath[UUID],
        data: JSONBody[AdjudicationCorrectionIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.correct_adjudication(
            actor, alert_id, data.decision, data.reason, tuple(data.false_alert_factors)
        )
        return _done(ledger, alert_id)

    @post(
        "/alerts/{alert_id:uuid}/engagement",
        status_code=200,
        sync_to_thread=True,
        summary="Record whether the person was engaged and their identity confirmed (officer)",
        description="With `engaged_from` and `engaged_until` (both or neither), when the officer "
        "was with the person: the statistics give the engagements' median and 90th-percentile "
        'duration. An engagement that found the identity not confirmed ("false") names why the '
        "alert was false (`false_alert_factors`), as a no_match does.",
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
        ledger.record_engagement(
            actor,
            alert_id,
            engaged=data.engaged,
            confirmed=data.confirmed,
            engaged_from=data.engaged_from,
            engaged_until=data.engaged_until,
            false_alert_factors=tuple(data.false_alert_factors),
        )
        return _done(ledger, alert_id)

    @post(
        "/alerts/{alert_id:uuid}/outcomes",
        status_code=200,
        sync_to_thread=True,
        summary="Record an outcome: arrest, compliance_check, charge, bail, ... (officer)",
        description="An arrest, compliance check, safeguarding, voluntary attendance, charge or "
        "bail needs the alert adjudicated match and the person engaged; a charge or a bail "
        "follows an arrest or a voluntary attendance recorded before it on the same alert (409 "
        "invalid-transition otherwise). `custody_ref`, `crime_ref`, `note` and `conditions` are "
        "sealed in the log; `offences` are the law's words, in clear.",
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
        ledger.record_outcome(actor, alert_id, _outcome_of(data), occurred_at=data.occurred_at)
        return _done(ledger, alert_id)

    @post(
        "/alerts/{alert_id:uuid}/outcomes/{index:int}/correction",
        status_code=200,
        sync_to_thread=True,
        summary="Correct outcome number `index` (from 0) of an alert (officer)",
        description="Records OutcomeCorrected with who, when, why and the previous outcome; "
        "the original stays in the log, and statistics (arrests, compliance checks) count the "
        "corrected outcome. The reason is required; the outcome must change. A correction to "
        "an outcome the policy holds evidence for (`retention.evidential_hold_on`) places the "
        "evidential hold too.",
        responses=WRITE_ERRORS,
    )
    def correct_outcome(
        self,
        alert_id: FromPath[UUID],
        index: Annotated[int, Parameter(ge=0, le=1000)],
        data: JSONBody[OutcomeCorrectionIn],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Done:
        ledger.correct_outcome(actor, alert_id, index, _outcome_of(data), data.reason)
        return _done(ledger, alert_id)

    @get(
        "/alerts/{alert_id:uuid}",
        sync_to_thread=True,
        summary="An alert's own timeline: its state now and every event, corrections included",
        description="Raised, adjudication(s), corrections, engagement, outcomes, holds, closure "
        "and erasure: topic, version, times, actor and the event's fields. Reasons, notes, "
        "outcome references and conditions, a hold's proceedings, perceived characteristics "
        'and the face crop read "[sealed]"; nothing about the watchlist subject beyond the '
        "entry id and category.\n\n" + IN_ROLE,
        responses=problem_spec(400, 401, 403, 404),
    )
    def timeline(self, alert_id: FromPath[UUID], reads: ReadsDep) -> AlertTimeline:
        read = reads.alert_timeline(alert_id)
        alert = read.alert
        events = [
            timeline_event(
                get_topic(type(event)),
                _event_data(event),
                version=event.originator_version,
                recorded_at=getattr(event, "timestamp", None),
                occurred_at=getattr(event, "occurred_at", None),
                actor=_actor(who)
                if isinstance(who := getattr(event, "actor", None), Actor)
                else None,
            )
            for event in read.events
        ]
        return AlertTimeline(
            alert=alert_out(alert),
            corrections=alert.corrections,
            hold=None if alert.legal_hold is None else alert.hold_kind or HoldKind.LEGAL,
            has_face_crop=alert.sealed_face_crop is not None,
            images_erased_at=alert.images_erased_at,
            events=events,
        )

    @get(
        "/alerts/{alert_id:uuid}/face-crop",
        sync_to_thread=True,
        media_type="image/jpeg",
        summary="The alert's face crop, to adjudicate on (purpose required, logged)",
        description="The image the matcher captured, as stored (JPEG from the shipped "
        "matcher). 404 `no-face-crop` when the matcher sent none, `images-erased` once "
        "retention erased it.\n\n" + PURPOSE_REQUIRED,
        response_description="The face crop (image/jpeg)",
        responses=problem_spec(400, 401, 403, 404),
    )
    def face_crop(
        self,
        alert_id: FromPath[UUID],
        reads: ReadsDep,
        x_purpose: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> Response[bytes]:
        stated = require_purpose(x_purpose, purpose)
        return image_response(reads.face_crop(alert_id, purpose=stated))

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
