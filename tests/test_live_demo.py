"""Demo v2: the seed operation, then a deployment matched live on the street video."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import msgspec
import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.live import run_live_demo
from lfr_ledger.api.demo.seed import DemoClock, record_seed_operation
from lfr_ledger.api.demo.street.script import DEMO_SCRIPT
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from tests.fixtures_faces import sface_engine, sface_model_dir  # noqa: F401


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
    sface_engine: InsightFaceEngine,  # noqa: F811
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
    # The live deployment has an operation of its own: the seed's published figures stay exact.
    assert deployment.plan.operation_id != str(seed.operation_id)
    from lfr_ledger.projections.catch_up import catch_up
    from lfr_ledger.projections.readers.statistics import StatisticsReader

    catch_up(settings)
    seed_summary = msgspec.to_builtins(
        StatisticsReader(settings).operation_summary(seed.operation_id)
    )
    assert seed_summary is not None and seed_summary["totals"]["alerts"] == 13
    assert str(deployment.status) == "ended"
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
