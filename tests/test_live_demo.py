"""Demo v2: the seed operation, then a deployment matched live on the street video: a
demonstration in 2026 on the force's own van, in an operation of its own, so the force's 2025
figures stay exactly the press release's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date

import msgspec
import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.live import LIVE_DAY, run_live_demo
from lfr_ledger.api.demo.release_check import press_release_check
from lfr_ledger.api.demo.seed import POLICY_VERSION, DemoClock, record_seed_operation
from lfr_ledger.api.demo.street.script import DEMO_SCRIPT
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine


@pytest.fixture
def demo_ledger(settings: Settings) -> Iterator[tuple[CaseLedger, DemoClock]]:
    clock = DemoClock()
    ledger = build_ledger(settings, clock=clock)
    try:
        yield ledger, clock
    finally:
        ledger.close()
        close_vault = getattr(ledger.vault, "close", None)
        if close_vault is not None:
            close_vault()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_live_demo_after_the_seed_operation(
    demo_ledger: tuple[CaseLedger, DemoClock],
    settings: Settings,
    sface_engine: InsightFaceEngine,
) -> None:
    ledger, clock = demo_ledger
    seed = record_seed_operation(ledger, clock.set)
    lines: list[str] = []
    # A sparser, smaller video than `lfr demo` shows, to keep the test short.
    result = run_live_demo(
        ledger, clock, settings, sface_engine, out=lines.append, fps=5.0, size=(480, 360)
    )
    text = "\n".join(lines)

    deployment = ledger.deployment(result.deployment_id)
    plan = deployment.plan
    # A demonstration, labelled so, in an operation of its own, in 2026 on the force's own van
    # (the release: its own LFR technology in 2026), under the shipped policy version.
    assert plan.operation_id == str(result.operation_id) != str(seed.operation_id)
    operation = ledger.operation(result.operation_id)
    assert operation.name.startswith("DEMONSTRATION") and "not in the release" in operation.name
    assert "demonstration" in operation.purpose.lower()
    assert plan.starts_at.year == LIVE_DAY.year == 2026
    assert not plan.mutual_aid and plan.equipment_owner_force == plan.controlling_force
    assert plan.policy_ref == Policy.load().version != POLICY_VERSION
    assert "DEMONSTRATION, not in the press release" in text
    from lfr_ledger.projections.catch_up import catch_up
    from lfr_ledger.projections.readers.statistics import StatisticsReader

    catch_up(settings)
    reader = StatisticsReader(settings)
    year = (date(2025, 1, 1), date(2025, 12, 31))
    seed_summary = msgspec.to_builtins(reader.operation_summary(seed.operation_id))
    period = msgspec.to_builtins(reader.period_figures(*year))
    publication = msgspec.to_builtins(reader.publication_records(year))
    # The force's whole 2025 is the release's, the live part beside it notwithstanding.
    figures = ("deployments", "alerts", "arrests", "compliance_checks")
    assert tuple(period[f] for f in figures) == (4, 13, 6, 7)
    assert len(publication) == 4 and sum(r["alerts"] for r in publication) == 13
    report = press_release_check(seed_summary, period, publication)
    assert "equal to the release's" in report and "NOT equal" not in report, report
    later = msgspec.to_builtins(reader.period_figures(date(2026, 1, 1), date(2026, 12, 31)))
    assert (later["deployments"], later["alerts"]) == (1, 3)
    assert str(deployment.status) == "ended"
    assert operation.closed_at is not None and deployment.post_review_at is not None
    # The wanted man walks by twice, eleven seconds apart (cool-down 5 s); the woman under a
    # court order once; the five others never alert.
    by_subject = Counter(
        ref for a in result.alerts for ref, e in result.entries.items() if e == a.entry_id
    )
    assert by_subject == {"LIVE-001": 2, "LIVE-002": 1}
    assert text.count("ALERT ") == 3
    for claim in result.alerts:
        alert = ledger.alert(claim.alert_id)
        assert alert.decision == Decision.MATCH
        assert alert.is_closed
    assert result.run is not None and result.run.stopped == "source ended"
    faces = sum(c.count for c in result.run.counts)
    # Faces are tracked: each of the eight walks past is one face processed, however many frames
    # it fills.
    assert faces == len(DEMO_SCRIPT)

    summary = result.summary
    assert summary is not None, "the statistics projection should summarise the deployment"
    totals = summary["totals"]
    assert totals["faces_processed"] == faces
    assert totals["alerts"] == totals["true_alerts"] == 3
    assert totals["arrests"] == 1 and totals["compliance_checks"] == 1
    assert summary["watchlist_size"] == 2
    assert "Deployment summary" in text
    assert verify_ledger(settings).ok
