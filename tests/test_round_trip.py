"""Issue 10, defect 10: every value an event carries comes back from the store as the type its
readers expect. One case records every event type there is; each aggregate rebuilt from the
stored events must equal, value for value and type for type, the one the commands built in
memory. Both backends."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    AUTHORITY,
    COMPILER,
    OFFICER,
    OPERATOR,
    OVERSIGHT,
    PLANNER,
    REVIEW,
    SIGNAGE,
    matcher_for,
    plan,
    proposed,
    register_evaluation,
    subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain import (
    alert,
    complaint,
    deployment,
    face_count_timeline,
    governance,
    operation,
    records,
    watchlist,
)
from lfr_ledger.domain.alert import Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import ComplianceResult, Confirmation, Decision, OutcomeType
from tests.conftest import Clock
from tests.test_invariants import live, send_alert

TOPIC_CLASSES = (
    alert.AlertTopic,
    deployment.DeploymentTopic,
    operation.OperationTopic,
    watchlist.WatchlistEntryTopic,
    records.PolicyVersionTopic,
    records.FaceCountTopic,
    face_count_timeline.FaceCountTimelineTopic,
    records.ConsultationTopic,
    records.DisclosureTopic,
    records.IntegrityAlarmTopic,
    complaint.ComplaintTopic,
    governance.GovernanceDocumentTopic,
)


def every_topic() -> set[str]:
    return {
        value
        for cls in TOPIC_CLASSES
        for name, value in vars(cls).items()
        if name.isupper() and isinstance(value, str)
    }


def record_every_event(ledger: CaseLedger, clock: Clock) -> None:
    # Subject to a court order: both an arrest (for a breach) and a compliance check fit.
    live_id, entries = live(ledger, clock, entries=2, category="subject_to_court_order")
    # Still wanted, re-confirmed by the watchlist manager (what was checked: sealed).
    ledger.reconfirm_entries(COMPILER, live_id, still_in_force=True, checked="PNC at 10:30")
    ledger.change_threshold(
        AO,
        live_id,
        0.6,
        "fewer false alerts in a busy street",
        evaluation_ref=register_evaluation(ledger),
    )
    ledger.pause_deployment(OPERATOR, live_id, "van moved")
    ledger.resume_deployment(OPERATOR, live_id)
    # Camera health: the check records cam-1 silent, its next heartbeat reporting again.
    last_seen = clock.now
    clock.advance(seconds=ledger.policy.camera_silent_after_seconds + 1)
    assert ledger.record_camera_silent(live_id, "cam-1", last_seen_at=last_seen)
    assert ledger.record_camera_reporting(matcher_for(live_id), live_id, "cam-1")
    ledger.report_faces_counted(
        matcher_for(live_id),
        live_id,
        camera_id="cam-1",
        period_start=clock.now - timedelta(minutes=1),
        period_end=clock.now,
        count=42,
    )
    raised = send_alert(ledger, live_id, entries[0], clock, face_crop=b"\xff\xd8crop")
    ledger.adjudicate(OPERATOR, raised, Decision.MATCH, "same face")
    ledger.record_engagement(OFFICER, raised, engaged=True, confirmed=Confirmation.CONFIRMED)
    ledger.record_outcome(OFFICER, raised, Outcome(OutcomeType.ARREST, offences=("theft",)))
    ledger.record_outcome(
        OFFICER,
        raised,
        Outcome(
            OutcomeType.COMPLIANCE_CHECK,
            conditions=("curfew",),
            result=ComplianceResult.BREACH,
        ),
    )
    ledger.record_perceived_demographics(
        OFFICER, raised, {"perceived_sex": "female", "perceived_age_band": "25_34"}
    )
    ledger.correct_outcome(
        OFFICER,
        raised,
        1,
        Outcome(
            OutcomeType.COMPLIANCE_CHECK, conditions=("curfew",), result=ComplianceResult.COMPLIED
        ),
        "misrecorded",
    )
    ledger.correct_adjudication(OPERATOR, raised, Decision.INCONCLUSIVE, "checked again")
    # The arrest placed an evidential hold (policy); released before a hold for a trial.
    ledger.release_legal_hold(AO, raised, "no evidence needed")
    ledger.place_legal_hold(AO, raised, reason="trial", proceedings_ref="T2025/1")
    ledger.release_legal_hold(AO, raised, "trial over")
    ledger.erase_alert_images(raised, rule="test rule")
    ledger.close_alert(OFFICER, raised)
    ledger.end_deployment(OPERATOR, live_id)
    complained = ledger.record_complaint(
        AO,
        live_id,
        received_on=clock.now.date(),
        channel="email",
        summary="held too long after the alert",
        alert_id=raised,
    )
    ledger.resolve_complaint(AO, complained, outcome="apology sent", resolved_on=clock.now.date())
    ledger.record_post_deployment_review(AO, live_id, REVIEW)
    ledger.publish_results(PLANNER, live_id)
    ledger.destroy_watchlist(live_id, rule="test rule")

    operation_id = ledger.deployment(live_id).plan.operation_id
    # Analytics: a consenting officer on a blue (test-subject) entry walked past a camera.
    blue_run = ledger.propose_deployment(
        PLANNER,
        plan(UUID(operation_id), ledger.policy.version, watchlist_categories=("test_subject",)),
    )
    ledger.authorise_deployment(AO, blue_run, authority_ref="AUTH-B", **AUTHORITY)
    blue = ledger.enrol(COMPILER, blue_run, subject(8, "test_subject"))
    ledger.review_watchlist(AO, blue_run, confirmed_count=1, not_excessive=True)
    ledger.confirm_signage(OPERATOR, blue_run, **SIGNAGE)
    ledger.start_deployment(OPERATOR, blue_run)
    ledger.record_blue_walk_past(
        OPERATOR, blue_run, entry_id=blue, camera_id="cam-1", walked_at=clock.now
    )
    ledger.end_deployment(OPERATOR, blue_run)
    urgent = ledger.propose_deployment(PLANNER, plan(UUID(operation_id), ledger.policy.version))
    ledger.authorise_deployment(AO, urgent, authority_ref="ORAL-1", urgent=True, **AUTHORITY)
    ledger.confirm_urgent_authority(AO, urgent, "WRITTEN-1")
    lapsing = ledger.propose_deployment(PLANNER, plan(UUID(operation_id), ledger.policy.version))
    ledger.authorise_deployment(AO, lapsing, authority_ref="ORAL-2", urgent=True, **AUTHORITY)
    withdrawn = ledger.enrol(COMPILER, urgent, subject(7))
    ledger.withdraw_entry(COMPILER, withdrawn, "arrested elsewhere")
    refused = proposed(ledger)
    ledger.refuse_deployment(AO, refused, "not necessary")
    clock.advance(hours=ledger.policy.urgent_confirmation_hours + 1)
    assert ledger.end_on_deadline(lapsing)
    ledger.close_operation(PLANNER, UUID(operation_id))
    consulted = ledger.record_consultation(OVERSIGHT, record=f"alert:{raised}", purpose="audit")
    disclosed = ledger.record_disclosure(
        OVERSIGHT, recipient="CPS", record=f"alert:{raised}", legal_basis="s.35"
    )
    ledger.destroy_consultation_purpose(consulted, rule="test rule")
    ledger.destroy_disclosure_content(disclosed, rule="test rule")
    # The rolling re-verification's alarm: a row no longer hashing as it did (none unlocated).
    ledger.raise_integrity_alarm(
        events_table="stored_events", notification_id=3, kind="altered", detail="test"
    )
    ledger.raise_integrity_alarm(
        events_table="stored_events", notification_id=None, kind="chain_missing", detail="test"
    )
    # The register: a DPIA superseded, with its expiry, then withdrawn.
    dpia = ledger.register_document(
        AO,
        kind="dpia",
        reference="DPIA-OLD",
        version="0.9",
        title="Superseded DPIA",
        approved_on=date(2024, 1, 2),
        review_by=date(2025, 1, 2),
        expires_on=date(2025, 7, 1),
    )
    ledger.withdraw_document(AO, dpia, reason="superseded by DPIA-1")
    # The blue run's results, never published, fall past the policy's deadline.
    clock.advance(hours=24 * (ledger.policy.results_within_days + 1))
    assert ledger.record_publication_overdue(blue_run)


def assert_same(original: Any, decoded: Any, where: str) -> None:
    assert type(decoded) is type(original), f"{where}: {type(original)} became {type(decoded)}"
    if isinstance(original, dict):
        assert original.keys() == decoded.keys(), where
        for key in original:
            assert_same(original[key], decoded[key], f"{where}[{key!r}]")
    elif isinstance(original, list | tuple):
        assert len(original) == len(decoded), where
        for i, (a, b) in enumerate(zip(original, decoded, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif dataclasses.is_dataclass(original) and not isinstance(original, type):
        for field in dataclasses.fields(original):
            assert_same(
                getattr(original, field.name),
                getattr(decoded, field.name),
                where + "." + field.name,
            )
    else:
        assert decoded == original, f"{where}: {original!r} became {decoded!r}"


def test_every_event_type_round_trips_with_its_types(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    record_every_event(ledger, clock)
    notifications = ledger.recorder.select_notifications(0, 10_000)
    assert every_topic() <= {n.topic for n in notifications}, every_topic() - {
        n.topic for n in notifications
    }
    fresh = build_ledger(settings, clock=clock)
    try:
        for originator in {n.originator_id for n in notifications}:
            in_memory = ledger.repository.get(originator)
            stored = fresh.repository.get(originator)
            assert_same(vars(in_memory), vars(stored), type(in_memory).__name__)
    finally:
        fresh.close()
