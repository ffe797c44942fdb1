"""The demo tells the press release's story: its dates, places and order, its 13 / 6 / 7, its
mutual-aid arrangement, and outcomes that fit who each person on the watchlist was.

The release (../shared/seed/press-release.txt) is read here, so a seed that drifts from it fails.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from lfr_ledger.api.cli.demo import press_release_check
from lfr_ledger.api.demo.seed import (
    EQUIPMENT_OWNER,
    FORCE,
    SEED_DEPLOYMENTS,
    DemoClock,
    SeedResult,
    record_seed_operation,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import OutcomeType
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.readers.statistics import StatisticsReader

RELEASE = Path(__file__).resolve().parents[2] / "shared" / "seed" / "press-release.txt"
MONTHS = {"November": 11, "December": 12}


@pytest.fixture
def recorded(ledger: CaseLedger) -> SeedResult:
    clock = DemoClock()
    ledger.clock = clock
    return record_seed_operation(ledger, clock.set)


# The release's sentences the seed must honour, for a clone that lacks ../shared: where the file
# is present (every developer machine), it is read instead, so the two cannot drift apart.
QUOTED = (
    "The cameras were deployed in Northampton on 28th November and 5th December, in Kettering "
    "on 29th November, and in Wellingborough on 6th December. During the four days of "
    "operation, there were 13 positive alerts, leading to six arrests. Officers also carried "
    "out checks on seven individuals to confirm they were complying with court or licence "
    "conditions. Northamptonshire Police plans to introduce its own LFR technology in 2026."
)


def release_text() -> str:
    if RELEASE.exists():
        return RELEASE.read_text(encoding="utf-8")
    return QUOTED


def released_days() -> list[tuple[int, int, str]]:
    """(month, day, town) of every deployment the release names, in date order."""
    text = release_text()
    sentence = re.search(r"deployed in (.+?)\. During", text)
    assert sentence, "the release's sentence of dates and towns"
    found = []
    for town, dates in re.findall(r"(?:in )?(\w+) on ([^,]+?(?: and [^,]+?)?)(?:,|$)", sentence[1]):
        for day, month in re.findall(r"(\d+)\w* (November|December)", dates):
            found.append((MONTHS[month], int(day), town))
    return sorted(found)


def test_the_release_is_parsed_as_four_days_in_three_towns() -> None:
    assert released_days() == [
        (11, 28, "Northampton"),
        (11, 29, "Kettering"),
        (12, 5, "Northampton"),
        (12, 6, "Wellingborough"),
    ]


def test_the_seed_keeps_the_releases_dates_places_and_order(
    ledger: CaseLedger, recorded: SeedResult
) -> None:
    deployments = [ledger.deployment(d) for d in recorded.deployment_ids]
    seen = [
        (d.plan.starts_at.month, d.plan.starts_at.day, d.plan.location.town) for d in deployments
    ]
    assert seen == released_days()
    assert all(d.plan.starts_at.year == 2025 for d in deployments), "the force's own kit is 2026"
    starts = [d.plan.starts_at for d in deployments]
    assert starts == sorted(starts)


def test_the_seed_is_a_mutual_aid_operation(ledger: CaseLedger, recorded: SeedResult) -> None:
    assert "introduce its own LFR technology in 2026" in release_text()
    for deployment_id in recorded.deployment_ids:
        plan = ledger.deployment(deployment_id).plan
        assert plan.controlling_force == FORCE
        assert plan.equipment_owner_force == EQUIPMENT_OWNER
        assert plan.mutual_aid and plan.mutual_aid_agreement


def test_the_seed_records_exactly_13_alerts_6_arrests_7_checks_that_fit_each_category(
    ledger: CaseLedger, recorded: SeedResult
) -> None:
    text = release_text()
    assert "13 positive alerts, leading to six arrests" in text
    assert "checks on seven individuals" in text
    outcomes: Counter[OutcomeType] = Counter()
    offences: list[str] = []
    for alert_id in recorded.alert_ids:
        alert = ledger.alert(alert_id)
        assert len(alert.outcomes) == 1
        outcome = alert.outcomes[0]
        outcomes[outcome.type] += 1
        if outcome.type == OutcomeType.COMPLIANCE_CHECK:
            # A compliance check belongs to someone subject to an order, never to the wanted.
            assert alert.category == "subject_to_court_order", alert.category
        if outcome.type == OutcomeType.ARREST:
            offences.extend(outcome.offences)
    assert len(recorded.alert_ids) == 13
    assert outcomes == {OutcomeType.ARREST: 6, OutcomeType.COMPLIANCE_CHECK: 7}
    # Every offence the release names is among the arrests.
    joined = " | ".join(offences)
    for named in (
        "sexual assault on a child",
        "lock knife",
        "failing to appear at court (drug offences)",
        "failing to appear at court (shoplifting)",
        "criminal damage",
        "immigration offences",
        "Sexual Harm Prevention Order",
    ):
        assert named in joined, named
    assert sum("Sexual Harm Prevention Order" in o for o in offences) == 2


def test_the_demo_checks_the_release_and_labels_what_it_made_up(
    ledger: CaseLedger, recorded: SeedResult, settings: Settings
) -> None:
    catch_up(settings)
    summary = msgspec.to_builtins(
        StatisticsReader(settings).operation_summary(recorded.operation_id)
    )
    report = press_release_check(summary)
    assert report.count("(as released") == 5, report
    assert "DIFFERS" not in report
    assert "illustrative" in report and "faces seen" in report
    assert len(SEED_DEPLOYMENTS) == 4


def test_the_quoted_sentences_are_the_releases_own() -> None:
    if not RELEASE.exists():
        pytest.skip("the press release lies outside this clone; the quote stands in for it")
    text = " ".join(RELEASE.read_text(encoding="utf-8").split())
    for sentence in QUOTED.rstrip(".").split(". "):
        assert sentence in text, sentence
