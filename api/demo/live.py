"""The live demo: a DEMONSTRATION deployment matched live on a street video. It is not in the
press release: it is dated 2026, when the force has its own LFR van (the release says it plans
its own technology in 2026), runs on that van (no mutual aid) under the shipped policy version,
and sits in an operation of its own whose name says it is a demonstration. So the force's 2025
figures (the period report, the publication records) stay exactly the release's.

Two people are enrolled from their original photos; the video shows them (in other light, one
mirrored) among five people who are not on the watchlist. The runner replays the video as if live,
a scripted operator adjudicates each alert, an officer records what happened, the operator ends
the deployment, and the deployment's summary is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from lfr_ledger.api.demo.seed import (
    ADMIN,
    AUTHORISING_OFFICER,
    FORCE,
    OFFICER,
    OPERATOR,
    PLANNER,
    SIGNS,
    WATCHLIST_MANAGER,
    DemoClock,
    arrest,
    compliance,
    register_documents,
)
from lfr_ledger.api.demo.seed_story import Document
from lfr_ledger.api.demo.street.people import encode_jpeg
from lfr_ledger.api.demo.street.script import (
    ENROLLED,
    FPS,
    FRAME_SIZE,
    build_street_video,
    portraits,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.application import CaseLedger, Enrolment
from lfr_ledger.domain.deployment.review import Review
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import (
    Camera,
    Confirmation,
    Decision,
    DeploymentPlan,
    Location,
    PublicNotice,
)
from lfr_ledger.matching.engines.enrolment import enrol_from_image
from lfr_ledger.matching.engines.faces import FaceEngine
from lfr_ledger.matching.node.assembly import InProcessLedger, assemble_matcher
from lfr_ledger.matching.pipeline.config import RunnerConfig
from lfr_ledger.matching.pipeline.ports import RunnerHooks
from lfr_ledger.matching.pipeline.sources import Frame, FrameSource
from lfr_ledger.matching.pipeline.summary import RunSummary

# In 2026, on the force's own van: outside the 2025 the release reports.
LIVE_DAY = date(2026, 3, 14)
OPERATION_NAME = "DEMONSTRATION: live matching on a recorded street scene (not in the release)"
OPERATION_PURPOSE = (
    "A demonstration recorded by `lfr demo`: live matching of a rendered street video on the "
    "force's own van, in 2026. Not one of the deployments the press release reports; its "
    "people, places and references are fictional"
)
CAMERA = "cam-1"
# The force's own documents for its own van (illustrative references), approved in 2026.
DPIA, EIA, APD = "DPIA-LFR-2026-01", "EIA-LFR-2026-01", "APD-LFR-2026-01"
DOCUMENTS = (
    Document("dpia", DPIA, "Data protection impact assessment: the force's own LFR van"),
    Document("eia", EIA, "Equality impact assessment: the force's own LFR van"),
    Document("appropriate_policy_document", APD, "Appropriate policy document (DPA 2018 s.42)"),
    Document(
        "equality_evidence",
        "EQE-LFR-2026-01",
        "The own van's matcher across demographic groups at the threshold used",
    ),
)
DOCUMENTS_APPROVED_ON = date(2026, 2, 2)
COOLDOWN = timedelta(seconds=5)

# Fictional subjects for the two enrolled sample people.
SUBJECTS: dict[str, Enrolment] = {
    "t1-2": Enrolment(
        subject_ref="LIVE-001",
        name="Robin Ashcombe",
        category="wanted_by_courts",
        legal_basis="DPA 2018 Part 3, s.35; common law policing purpose",
        rationale="Wanted on a warrant for failing to appear at Northampton Crown Court",
        offence="failing to appear (warrant NN-W-2025-0417)",
        image_source="custody image",
        image_taken_on=date(2024, 11, 3),
    ),
    "astronaut": Enrolment(
        subject_ref="LIVE-002",
        name="Leigh Pemberton",
        category="subject_to_court_order",
        legal_basis="DPA 2018 Part 3, s.35; Sentencing Act 2020 s.343",
        rationale="Subject to a Sexual Harm Prevention Order with an exclusion zone",
        offence="SHPO NN-O-2023-0112: town-centre exclusion zone",
        image_source="custody image",
        image_taken_on=date(2025, 2, 14),
    ),
}

# What the officer found, by subject: the first alert for each is followed up.
OUTCOMES = {
    "LIVE-001": arrest("failing to appear", custody="NN-C-0101"),
    "LIVE-002": compliance("SHPO: town-centre exclusion zone"),
}


@dataclass
class LiveDemoResult:
    operation_id: UUID
    deployment_id: UUID
    entries: dict[str, UUID]  # subject ref -> entry id
    alerts: list[AlertClaim] = field(default_factory=list)
    run: RunSummary | None = None
    video: Path | None = None  # the street video it matched
    summary: dict[str, Any] | None = None


def _at(hour: int, minute: int = 0, second: float = 0.0) -> datetime:
    return datetime.combine(LIVE_DAY, time(hour, minute), tzinfo=UTC) + timedelta(seconds=second)


def run_live_demo(
    ledger: CaseLedger,
    clock: DemoClock,
    settings: Settings,
    engine: FaceEngine,
    out: Callable[[str], object] = print,
    *,
    fps: float = FPS,
    size: tuple[int, int] = FRAME_SIZE,
) -> LiveDemoResult:
    """Records a live-matched deployment end to end, after the seed (whose operator and
    engagement officer it relies on having been trained); returns what it recorded. `fps`
    and `size` shape the street video (tests use a smaller, sparser one)."""
    # An operation of its own in 2026, under the shipped policy (a node runs under the policy
    # adopted last), so the seed's 2025 figures stay exactly the release's.
    clock.set(_at(8) - timedelta(days=7))
    ledger.adopt_policy(ADMIN, Policy.load())
    register_documents(ledger, DOCUMENTS, DOCUMENTS_APPROVED_ON)
    operation_id = ledger.open_operation(
        PLANNER, name=OPERATION_NAME, force=FORCE, purpose=OPERATION_PURPOSE
    )
    out(
        f"\n== DEMONSTRATION, not in the press release: live matching in Market Square, "
        f"Northampton, {LIVE_DAY:%d %B %Y}, on the force's own van ==\n"
        f"Operation {operation_id} '{OPERATION_NAME}', under policy {ledger.policy.version}. "
        "It is dated 2026 so that it stays out of the force's 2025 figures."
    )
    clock.set(_at(10) - timedelta(days=3))
    deployment_id = ledger.propose_deployment(
        PLANNER,
        DeploymentPlan(
            operation_id=str(operation_id),
            location=Location("Market Square", "Northampton", "town_centre"),
            starts_at=_at(10),
            ends_at=_at(16),
            purpose="Locate a person wanted on warrant and check a court order's exclusion zone",
            intelligence_case="NN-IC-2026-DEMO",
            watchlist_categories=("wanted_by_courts", "subject_to_court_order"),
            cameras=(Camera(CAMERA, "van mast camera"),),
            controlling_force=FORCE,
            equipment_owner_force=FORCE,
            dpia_ref=DPIA,
            eia_ref=EIA,
            policy_ref=ledger.policy.version,
            public_notice=PublicNotice(
                "force website and social media", _at(9) - timedelta(days=1)
            ),
            model_id=engine.model_id,
        ),
    )
    deployment = ledger.deployment(deployment_id)
    out(
        f"Proposed deployment {deployment_id} on {engine.model_id}, threshold "
        f"{deployment.threshold} (the policy's default for this model)"
    )
    clock.set(_at(11) - timedelta(days=2))
    ledger.authorise_deployment(
        AUTHORISING_OFFICER,
        deployment_id,
        authority_ref="AUTH-LFR-2026-DEMO",
        necessity_and_proportionality=(
            "Two people wanted on warrants are reported in Market Square daily; one overt "
            "morning of LFR with signage is the least intrusive way to locate them"
        ),
        appropriate_policy_document=APD,
    )

    clock.set(_at(14) - timedelta(days=1))
    photos = portraits(engine)
    entries: dict[str, UUID] = {}
    for person in ENROLLED:
        enrolment = SUBJECTS[person]
        entries[enrolment.subject_ref] = enrol_from_image(
            ledger,
            engine,
            WATCHLIST_MANAGER,
            deployment_id,
            enrolment,
            encode_jpeg(photos[person]),
        )
    out(f"Enrolled {len(entries)} subjects from their photos: {', '.join(entries)}")
    clock.set(_at(16) - timedelta(days=1))
    ledger.review_watchlist(
        AUTHORISING_OFFICER,
        deployment_id,
        confirmed_count=len(entries),
        not_excessive=True,
        note="Two subjects, both linked to the intelligence case",
    )
    clock.set(_at(9, 30))
    ledger.confirm_signage(
        OPERATOR, deployment_id, signs=SIGNS, locations="Market Square: every approach"
    )
    clock.set(_at(10))
    ledger.start_deployment(OPERATOR, deployment_id)

    video = build_street_video(settings.data_dir / "demo-street.avi", engine, fps=fps, size=size)
    subject_of = {entry: ref for ref, entry in entries.items()}
    result = LiveDemoResult(
        operation_id=operation_id, deployment_id=deployment_id, entries=entries, video=video
    )

    def shown(claim: AlertClaim) -> None:
        result.alerts.append(claim)
        out(
            f"  ALERT {claim.captured_at:%H:%M:%S.%f}"[:-5]
            + f"  {subject_of[claim.entry_id]}  similarity {claim.similarity:.3f}"
            f"  alert {claim.alert_id}"
        )

    def follow(frame: Frame) -> None:
        # The ledger's clock keeps pace with the replayed recording.
        clock.set(frame.captured_at)

    stream_start = _at(10, 2)
    account = Actor("matcher-own-van-1", Role.MATCHER, deployment_id=str(deployment_id))
    with assemble_matcher(
        InProcessLedger(ledger, account, settings),
        deployment_id,
        CAMERA,
        engine,
        config=RunnerConfig(cooldown=COOLDOWN, count_interval=timedelta(seconds=10)),
        clock=lambda: stream_start,
        hooks=RunnerHooks(on_alert=shown, on_frame=follow),
    ) as matcher:
        out(f"Matching {video.name} on {CAMERA} as if live from {stream_start:%H:%M:%S} ...")
        result.run = run = matcher.runner.run(FrameSource(str(video), start=stream_start))
    out(
        f"Runner stopped ({run.stopped}): {run.frames} frames, {run.faces} faces processed, "
        f"{len(run.alerts)} alerts; faces of people not on the watchlist were counted and dropped"
    )

    # The operator adjudicates each alert as it comes; the officer then follows up the first
    # alert for each subject (a repeat sighting of someone already stopped is closed).
    last = clock()
    for claim in result.alerts:
        last = max(last, claim.captured_at + timedelta(seconds=35))
        clock.set(last)
        ledger.adjudicate(OPERATOR, claim.alert_id, Decision.MATCH, "Likeness confirmed on screen")
    followed: set[str] = set()
    for claim in result.alerts:
        ref = subject_of[claim.entry_id]
        if ref in followed:
            ledger.close_alert(OPERATOR, claim.alert_id)
            out(f"  {ref}: adjudicated match; a repeat sighting of someone already stopped, closed")
            continue
        followed.add(ref)
        last += timedelta(minutes=3)
        clock.set(last)
        ledger.record_engagement(
            OFFICER, claim.alert_id, engaged=True, confirmed=Confirmation.CONFIRMED
        )
        last += timedelta(minutes=10)
        clock.set(last)
        outcome = OUTCOMES[ref]
        ledger.record_outcome(OFFICER, claim.alert_id, outcome)
        ledger.close_alert(OFFICER, claim.alert_id)
        out(f"  {ref}: adjudicated match, engaged, identity confirmed, {outcome.type}")

    clock.set(max(last, _at(10, 30)) + timedelta(minutes=1))
    ledger.end_deployment(OPERATOR, deployment_id)
    out(f"Deployment {deployment_id} ended at {clock():%H:%M}")
    result.summary = _summary(settings, deployment_id)
    _print_summary(ledger, deployment_id, result, out)
    # The next morning, as for any deployment: reviewed, its results published; the
    # demonstration's operation then closed.
    clock.set(_at(9) + timedelta(days=1))
    ledger.record_post_deployment_review(
        AUTHORISING_OFFICER,
        deployment_id,
        Review(
            objectives_met="met",
            objectives_statement="A demonstration: both people on the watchlist were found "
            "and engaged; the five others left only a count",
            issues="none",
            community_impact="none: a recorded street scene, not a street",
            lessons="none: a demonstration",
        ),
    )
    ledger.publish_results(PLANNER, deployment_id)
    ledger.close_operation(PLANNER, operation_id)
    out("Reviewed and its results published the next morning; the demonstration closed")
    return result


def _summary(settings: Settings, deployment_id: UUID) -> dict[str, Any] | None:
    try:
        from lfr_ledger.projections.catch_up import catch_up
        from lfr_ledger.projections.readers.statistics import StatisticsReader
    except ImportError:
        return None
    catch_up(settings)
    summary = StatisticsReader(settings).deployment_summary(deployment_id)
    return None if summary is None else msgspec.to_builtins(summary)


def _print_summary(
    ledger: CaseLedger,
    deployment_id: UUID,
    result: LiveDemoResult,
    out: Callable[[str], object],
) -> None:
    if result.summary is not None:
        totals = result.summary.get("totals", {})
        out("Deployment summary (statistics projection):")
        for key in (
            "faces_processed",
            "alerts",
            "true_alerts",
            "false_alerts",
            "engagements",
            "arrests",
            "compliance_checks",
            "alerts_per_1000_faces",
            "median_adjudication_seconds",
        ):
            if key in totals:
                value = totals[key]
                shown = f"{value:.1f}" if isinstance(value, float) else str(value)
                out(f"  {key.replace('_', ' '):<28} {shown}")
        out(f"  {'watchlist size':<28} {result.summary.get('watchlist_size')}")
        out(f"  {'threshold':<28} {result.summary.get('threshold')}")
        return
    run = result.run
    out("Deployment summary (from the ledger):")
    out(f"  faces processed    {sum(c.count for c in run.counts) if run else 0}")
    out(f"  alerts             {len(result.alerts)}")
    out(f"  watchlist size     {len(ledger.deployment(deployment_id).entry_ids)}")
    out(f"  threshold          {ledger.deployment(deployment_id).threshold}")
