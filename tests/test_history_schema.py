"""The oversight history's typed shapes (`api/schemas/history.py`) are held to the domain's
events: one shape for every topic a deployment's history can hold, the same fields in the same
order, sealed fields typed as sealed, and over HTTP the same values the events record."""

from __future__ import annotations

import dataclasses
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import resolve_topic
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.controllers.audit import _event_data
from lfr_ledger.api.demo.sample_deployment import (
    ADMIN,
    AO,
    AUTHORITY,
    COMPILER,
    OFFICER,
    OPERATOR,
    PLANNER,
    REVIEW,
    SIGNAGE,
    WINDOW_START,
    matcher_for,
    plan,
    register_documents,
    register_evaluation,
    subject,
    trained,
)
from lfr_ledger.api.schemas import event_fields as typed_fields
from lfr_ledger.api.schemas import history
from lfr_ledger.api.schemas.alert_event_fields import RecordedOutcome
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim, AlertTopic, Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.complaint import ComplaintTopic
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.records import FaceCountTopic
from lfr_ledger.domain.values import (
    Camera,
    ComplianceResult,
    Confirmation,
    Decision,
    DeploymentPlan,
    Location,
    OutcomeType,
    PublicNotice,
)
from lfr_ledger.domain.watchlist import WatchlistEntryTopic
from tests.conftest import Clock
from tests.test_api import _reply_schema, _resolved

# What the history shows beside `data` (or, for the actor, as `actor`).
ENVELOPE = {"originator_id", "originator_version", "timestamp", "actor", "occurred_at"}
SHAPES: dict[str, type[history.HistoryEvent]] = {
    cls.__struct_config__.tag: cls for cls in typing.get_args(history.RecordedEvent)
}


def _topics(*holders: type) -> set[str]:
    return {v for holder in holders for k, v in vars(holder).items() if k.isupper()}


def _data_shape(shape: type[history.HistoryEvent]) -> type[typed_fields.Fields]:
    data: type[typed_fields.Fields] = typing.get_type_hints(shape)["data"]
    return data


def _names(cls: Any) -> list[str]:
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    return [f.name for f in msgspec.structs.fields(cls)]


def test_every_topic_of_a_deployments_history_has_its_shape() -> None:
    members = _topics(
        DeploymentTopic, WatchlistEntryTopic, AlertTopic, FaceCountTopic, ComplaintTopic
    )
    assert set(SHAPES) == members


def test_each_shape_has_the_events_fields_in_order() -> None:
    for topic, shape in SHAPES.items():
        event_fields = [n for n in _names(resolve_topic(topic)) if n not in ENVELOPE]
        assert _names(_data_shape(shape)) == event_fields, topic
    for value, typed in (
        (DeploymentPlan, typed_fields.Plan),
        (Location, typed_fields.PlanLocation),
        (Camera, typed_fields.PlanCamera),
        (PublicNotice, typed_fields.PlanNotice),
        (Outcome, RecordedOutcome),
    ):
        assert _names(typed) == _names(value), typed.__name__


def test_sealed_fields_are_typed_sealed() -> None:
    """A field the ledger seals can only ever read "[sealed]" (or null) in the history."""
    for topic, shape in SHAPES.items():
        fields = _data_shape(shape)
        for f in msgspec.structs.fields(fields):
            if f.name.startswith("sealed_") or f.name == "subject_digest":
                assert msgspec.convert(typed_fields.SEALED, f.type) == typed_fields.SEALED
                for personal in ("Jordan Prentice", "PNC-0001"):
                    try:
                        msgspec.convert(personal, f.type)
                    except msgspec.ValidationError:
                        continue
                    raise AssertionError(f"{topic} {f.name} would accept {personal!r}")


def test_openapi_gives_each_topic_its_typed_fields(tmp_path: Path) -> None:
    """The OpenAPI document tells the topics apart (`topic` is a constant per shape) and
    types each topic's `data`, down to the fields of a raised alert."""
    with TestClient(create_app(Settings(data_dir=tmp_path / "var"))) as client:
        doc = client.get("/schema/openapi.json").json()
    reply = _reply_schema(doc, "/deployments/{deployment_id}/history")
    shapes = {
        (shape := _resolved(doc, ref))["properties"]["topic"]["const"]: shape
        for ref in _resolved(doc, reply["properties"]["events"])["items"]["oneOf"]
    }
    assert set(shapes) == set(SHAPES)
    raised = _resolved(doc, shapes[AlertTopic.RAISED]["properties"]["data"])
    assert {"similarity", "threshold", "captured_at", "sealed_face_crop"} <= set(
        raised["properties"]
    )
    assert raised["properties"]["captured_at"]["format"] == "date-time"
    assert raised["properties"]["sealed_face_crop"]["enum"] == [typed_fields.SEALED, None]


def _record_every_topic(ledger: CaseLedger, clock: Clock) -> list[UUID]:
    """Two deployments of one operation whose histories hold every topic between them."""
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    trained(ledger)
    operation = ledger.open_operation(PLANNER, name="Op", force="demo", purpose="town centre")
    refused = ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version))
    ledger.refuse_deployment(AO, refused, "not necessary")
    deployment = ledger.propose_deployment(
        PLANNER,
        plan(
            operation,
            ledger.policy.version,
            location=Location("Market Square", "Corby", "town_centre", lat=52.49, lon=-0.69),
            cameras=(Camera("cam-1", "van mast"), Camera("cam-2", "tripod")),
            public_notice=PublicNotice("none", None, exemption="covert"),
            watchlist_categories=("subject_to_court_order", "test_subject"),
        ),
    )
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", urgent=True, **AUTHORITY)
    ledger.confirm_urgent_authority(AO, deployment, "WRITTEN-1")
    # The alert falls on someone subject to a court order: arrest and compliance check fit.
    entries = [
        ledger.enrol(COMPILER, deployment, subject(i, category="subject_to_court_order"))
        for i in range(3)
    ]
    ledger.withdraw_entry(COMPILER, entries[2], "no longer wanted")
    # A blue (test-subject) entry: a consenting officer walked past the cameras (analytics).
    blue = ledger.enrol(COMPILER, deployment, subject(9, category="test_subject"))
    ledger.review_watchlist(AO, deployment, confirmed_count=3, not_excessive=True, note="ok")
    threshold = ledger.deployment(deployment).threshold
    ledger.change_threshold(
        AO,
        deployment,
        round(threshold + 0.02, 2),
        "fewer false alerts",
        evaluation_ref=register_evaluation(ledger),
    )
    ledger.reconfirm_entries(COMPILER, deployment, still_in_force=True, checked="PNC, 07:30")
    clock.now = WINDOW_START
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    matcher = matcher_for(deployment)
    alert = ledger.raise_alert(
        matcher,
        AlertClaim(
            deployment,
            camera_id="cam-2",
            entry_id=entries[0],
            similarity=0.95,
            captured_at=clock.advance(seconds=5) - timedelta(seconds=2),
            track_id="t-1",
        ),
    )
    clock.advance(seconds=30)
    ledger.adjudicate(OPERATOR, alert, Decision.INCONCLUSIVE, "face half covered")
    ledger.correct_adjudication(OPERATOR, alert, Decision.MATCH, "second look at the frame")
    ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)
    ledger.record_perceived_demographics(OFFICER, alert, {"perceived_sex": "female"})
    for outcome in (
        Outcome(OutcomeType.ARREST, offences=("failing to appear",), reference="CUST-1"),
        Outcome(
            OutcomeType.COMPLIANCE_CHECK, conditions=("curfew",), result=ComplianceResult.BREACH
        ),
        Outcome(OutcomeType.OTHER, note="referred"),
    ):
        ledger.record_outcome(OFFICER, alert, outcome)
    ledger.correct_outcome(
        OFFICER, alert, 2, Outcome(OutcomeType.OTHER, note="referred to housing"), "wrong note"
    )
    ledger.close_alert(OFFICER, alert)
    ledger.record_blue_walk_past(
        OPERATOR, deployment, entry_id=blue, camera_id="cam-1", walked_at=WINDOW_START
    )
    clock.advance(hours=1)
    ledger.pause_deployment(OPERATOR, deployment, "rain")
    ledger.resume_deployment(OPERATOR, deployment)
    clock.advance(hours=1)
    # Camera health: the check records cam-1 silent, its next heartbeat reporting again.
    assert ledger.record_camera_silent(deployment, "cam-1", last_seen_at=WINDOW_START)
    assert ledger.record_camera_reporting(matcher, deployment, "cam-1")
    ledger.report_faces_counted(
        matcher,
        deployment,
        camera_id="cam-1",
        period_start=WINDOW_START,
        period_end=clock.now,
        count=1234,
    )
    ledger.end_deployment(OPERATOR, deployment)
    # The arrest placed an evidential hold (policy); the AO releases it, then holds for trial.
    ledger.release_legal_hold(AO, alert, "no charge")
    ledger.place_legal_hold(AO, alert, reason="trial", proceedings_ref="T-1")
    ledger.release_legal_hold(AO, alert, "trial over")
    ledger.erase_alert_images(alert, rule="after the case")
    complaint = ledger.record_complaint(
        AO, deployment, received_on=clock.now.date(), channel="email", summary="held too long"
    )
    ledger.resolve_complaint(AO, complaint, outcome="apology sent", resolved_on=clock.now.date())
    ledger.record_post_deployment_review(AO, deployment, REVIEW)
    ledger.destroy_watchlist(deployment, rule="after the deployment")
    lapsed = ledger.propose_deployment(PLANNER, plan(operation, ledger.policy.version))
    ledger.authorise_deployment(AO, lapsed, authority_ref="ORAL-1", urgent=True, **AUTHORITY)
    clock.advance(hours=ledger.policy.urgent_confirmation_hours + 1)
    assert ledger.end_on_deadline(lapsed)
    # Its results unpublished past the policy's days: recorded overdue, then published late.
    clock.advance(days=ledger.policy.results_within_days)
    assert ledger.record_publication_overdue(deployment)
    ledger.publish_results(PLANNER, deployment)
    return [deployment, refused, lapsed]


def test_history_over_http_shows_every_topic_with_the_events_own_values(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    deployments = _record_every_topic(ledger, clock)
    token = issue_token(settings, role="oversight", sub="ICO-1")
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "schema check"}
    seen: set[str] = set()
    with TestClient(create_app(settings)) as client:
        for deployment in deployments:
            reply = client.get(f"/deployments/{deployment}/history", headers=headers)
            assert reply.status_code == 200, reply.text
            events = reply.json()["events"]
            # The same values as the event's own fields, read straight from the log.
            decoded = [
                ledger.mapper.to_domain_event(n)
                for n in ledger.recorder.select_notifications(0, 10_000)
                if n.id in {e["notification_id"] for e in events}
            ]
            assert [e["data"] for e in events] == [_event_data(d) for d in decoded]
            assert "Quentin" not in reply.text and "PNC-0" not in reply.text
            seen |= {e["topic"] for e in events}
    assert seen == set(SHAPES)
