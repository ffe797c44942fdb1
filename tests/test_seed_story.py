"""The demo tells the press release's story: its dates, places and order, its 13 / 6 / 7 (for
the operation and for the force's whole 2025), its mutual-aid arrangement with a lender it does
not name, outcomes that fit who each person on the watchlist was (the man's charge and bail as
what they are), the man and the three women as perceived, a policy named for 2025, each
deployment reviewed and the operation closed; and every value it had to invent labelled.

The release (../shared/seed/press-release.txt) is read here, so a seed that drifts from it fails.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from lfr_ledger.api.demo.release_check import invented_text, press_release_check
from lfr_ledger.api.demo.seed import (
    ANALYST,
    FORCE,
    POLICY_VERSION,
    DemoClock,
    SeedResult,
    invented,
    record_seed_operation,
    seed_policy,
)
from lfr_ledger.api.personal_data import Audience, PersonalData
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.notification_log import notifications
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.records import PolicyVersion
from lfr_ledger.domain.values import OutcomeType
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.readers.statistics import StatisticsReader

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO.parent / "shared" / "seed" / "press-release.txt"
MONTHS = {"November": 11, "December": 12}
YEAR_2025 = (date(2025, 1, 1), date(2025, 12, 31))


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
    "conditions. Among those arrested was a man wanted for a sexual assault on a child. He was "
    "also found in possession of a lock knife, leading to charges of carrying an offensive "
    "weapon, alongside being bailed in connection with the sexual assault. Three women were "
    "also arrested, two for failing to appear at court for drug and shoplifting offences, and "
    "one in relation to criminal damage. Northamptonshire Police plans to introduce its own "
    "LFR technology in 2026."
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


def test_the_seed_is_a_mutual_aid_operation_with_a_lender_not_named(
    ledger: CaseLedger, recorded: SeedResult
) -> None:
    assert "introduce its own LFR technology in 2026" in release_text()
    for deployment_id in recorded.deployment_ids:
        plan = ledger.deployment(deployment_id).plan
        assert plan.controlling_force in {FORCE, "northamptonshire"}
        # The release does not name the lender: an explicit unknown with its note, not a name.
        assert plan.equipment_owner_force is None
        assert "not name" in (plan.equipment_owner_note or "")
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
        assert alert.is_closed
        for outcome in alert.outcomes:
            outcomes[outcome.type] += 1
            if outcome.type == OutcomeType.COMPLIANCE_CHECK:
                # A compliance check belongs to someone subject to an order, never the wanted.
                assert alert.category == "subject_to_court_order", alert.category
            if outcome.type == OutcomeType.ARREST:
                offences.extend(outcome.offences)
    assert len(recorded.alert_ids) == 13
    # The man's charge and bail are what they are, and no arrest or check more.
    assert outcomes == {
        OutcomeType.ARREST: 6,
        OutcomeType.COMPLIANCE_CHECK: 7,
        OutcomeType.CHARGE: 1,
        OutcomeType.BAIL: 1,
    }
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


def test_the_man_is_charged_and_bailed_after_his_arrest(
    ledger: CaseLedger, recorded: SeedResult
) -> None:
    text = " ".join(release_text().split())
    assert "leading to charges of carrying an offensive weapon" in text
    assert "bailed in connection with the sexual assault" in text
    man = ledger.alert(recorded.alert_ids[0])
    arrest, charge, bail = man.outcomes
    assert arrest.type == OutcomeType.ARREST and "sexual assault on a child" in arrest.offences
    assert charge.type == OutcomeType.CHARGE
    assert charge.offences == ("carrying an offensive weapon (lock knife)",)
    assert bail.type == OutcomeType.BAIL and bail.offences == ("sexual assault on a child",)
    # The release gives no date to answer bail: none is invented.
    assert bail.due_at is None and not bail.conditions


def read_2025(settings: Settings, operation_id: Any) -> tuple[Any, Any, Any]:
    catch_up(settings)
    reader = StatisticsReader(settings)
    return (
        msgspec.to_builtins(reader.operation_summary(operation_id)),
        msgspec.to_builtins(reader.period_figures(*YEAR_2025)),
        msgspec.to_builtins(reader.publication_records(YEAR_2025)),
    )


def test_the_force_s_whole_2025_reads_as_the_release(
    recorded: SeedResult, settings: Settings
) -> None:
    summary, period, publication = read_2025(settings, recorded.operation_id)
    figures = ("deployments", "alerts", "arrests", "compliance_checks")
    assert tuple(period[f] for f in figures) == (4, 13, 6, 7)
    assert period["mutual_aid_deployments"] == 4
    assert len(publication) == 4
    assert sum(r["alerts"] for r in publication) == 13
    assert sum(r["arrests"] for r in publication) == 6
    assert sum(r["compliance_checks"] for r in publication) == 7
    assert all(r["mutual_aid"] for r in publication)

    report = press_release_check(summary, period, publication)
    assert "equal to the release's" in report and "NOT equal" not in report, report
    assert report.count("(as released") == 3, report
    assert "DIFFERS" not in report
    for row in ("deployments", "positive alerts", "arrests", "compliance checks"):
        (line,) = [x for x in report.splitlines() if x.strip().startswith(row)]
        assert len(set(line.split()[-4:])) == 1, line  # release, operation, period, publication
    assert "closed" in report


def test_the_check_says_so_when_2025_holds_more_than_the_release(
    recorded: SeedResult, settings: Settings
) -> None:
    """A fifth 2025 deployment (the old live demo's 7 December) would show, not pass."""
    summary, period, publication = read_2025(settings, recorded.operation_id)
    extra = {**publication[-1], "alerts": 3, "arrests": 1, "compliance_checks": 1}
    more = {**period, "deployments": 5, "alerts": 16, "arrests": 7, "compliance_checks": 8}
    report = press_release_check(summary, more, [*publication, extra])
    assert "NOT equal to the release's" in report
    assert "5" in next(x for x in report.splitlines() if x.strip().startswith("deployments"))


def test_a_policy_named_for_2025_with_the_shipped_rules(
    ledger: CaseLedger, recorded: SeedResult
) -> None:
    shipped = Policy.load()
    assert POLICY_VERSION == "LFR-POL-2025.1" != shipped.version
    for deployment_id in recorded.deployment_ids:
        assert ledger.deployment(deployment_id).plan.policy_ref == POLICY_VERSION
    adopted = ledger._load(PolicyVersion, PolicyVersion.id_for(POLICY_VERSION), "policy")
    # The shipped text, its version line alone renamed: the file is not duplicated.
    differing = [
        (ours, theirs)
        for ours, theirs in zip(adopted.text.splitlines(), shipped.text.splitlines(), strict=True)
        if ours != theirs
    ]
    assert differing == [(f'version = "{POLICY_VERSION}"', f'version = "{shipped.version}"')]
    assert seed_policy().content_hash == adopted.content_hash


def test_each_deployment_is_reviewed_then_the_operation_closed(
    ledger: CaseLedger, recorded: SeedResult
) -> None:
    operation = ledger.operation(recorded.operation_id)
    assert operation.closed_at is not None, "the seed closes its operation"
    for deployment_id in recorded.deployment_ids:
        reviewed = ledger.deployment(deployment_id).post_review_at
        assert reviewed is not None and reviewed < operation.closed_at


def perceived(ledger: CaseLedger) -> dict[Any, dict[str, str] | None]:
    found = {}
    for n in notifications(ledger.recorder, [AlertTopic.DEMOGRAPHICS_PERCEIVED]):
        event: Any = ledger.mapper.to_domain_event(n)
        found[n.originator_id] = ledger.reveal_perceived_demographics(
            n.originator_id, event.sealed_demographics
        )
    return found


def test_the_man_and_the_three_women_are_recorded_as_perceived_and_no_one_else(
    ledger: CaseLedger, recorded: SeedResult, settings: Settings
) -> None:
    text = " ".join(release_text().split())
    assert "a man wanted for a sexual assault on a child" in text
    assert "Three women were also arrested" in text
    by_offence = {}
    for alert_id, sex in perceived(ledger).items():
        (first,) = [o for o in ledger.alert(alert_id).outcomes if o.type == OutcomeType.ARREST]
        by_offence[first.offences[0]] = sex
    assert by_offence == {
        "sexual assault on a child": {"perceived_sex": "male"},
        "failing to appear at court (drug offences)": {"perceived_sex": "female"},
        "failing to appear at court (shoplifting)": {"perceived_sex": "female"},
        "criminal damage": {"perceived_sex": "female"},
    }
    # What an analyst sees: four people are cells under the minimum, withheld.
    report = PersonalData(ledger, ANALYST, settings=settings).equality(
        audience=Audience.ANALYST,
        start=datetime(2025, 1, 1, tzinfo=UTC),
        end=datetime(2026, 1, 1, tzinfo=UTC),
    )
    (sex,) = [t for t in report.tables if t.field == "perceived_sex"]
    rows = {g.value: g for g in sex.groups}
    assert rows["male"].suppressed and rows["female"].suppressed
    assert rows["male"].alerts is None and rows["female"].alerts is None
    assert report.alerts_with_characteristics is None


def test_every_invented_value_is_labelled_in_the_report_and_in_the_docs() -> None:
    printed = invented_text()
    assert "ILLUSTRATIVE" in printed
    docs = (REPO / "docs" / "seed.md").read_text(encoding="utf-8")
    for what, value in invented():
        assert what in printed and value in printed
        assert what in docs, f"docs/seed.md does not label {what!r} as invented"
    for value in ("0.64", "nec-neoface-v4", "24", "09:00", "0.66", "0.88", POLICY_VERSION):
        assert value in printed, value
        assert value in docs, value


def test_the_quoted_sentences_are_the_releases_own() -> None:
    if not RELEASE.exists():
        pytest.skip("the press release lies outside this clone; the quote stands in for it")
    text = " ".join(RELEASE.read_text(encoding="utf-8").split())
    for sentence in QUOTED.rstrip(".").split(". "):
        assert sentence in text, sentence
