"""Equality monitoring: perceived characteristics sealed, analysts never see a cell below the
policy's minimum (nor one they could work out from the others), oversight sees every count and
95 % Wilson intervals for the false-alert rates. Both backends."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import Any

import pytest

import lfr_ledger.api.cli
from lfr_ledger.api.demo.sample_deployment import OFFICER
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Confirmation
from lfr_ledger.oversight.access_review import access_review
from lfr_ledger.oversight.equality import (
    NOT_AVAILABLE,
    Audience,
    GroupRow,
    equality_report,
    suppress,
)
from lfr_ledger.oversight.equality import wilson_interval as wilson
from tests.conftest import Clock
from tests.test_retention import Scene, cli_env, ran_deployment  # noqa: F401


def test_wilson_interval_matches_published_values() -> None:
    low, high = wilson(0, 10) or (math.nan, math.nan)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson(5, 10) or (math.nan, math.nan)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    low, high = wilson(81, 263) or (math.nan, math.nan)  # Newcombe (1998), example
    assert (low, high) == (pytest.approx(0.2553, abs=1e-4), pytest.approx(0.3662, abs=1e-4))
    assert wilson(0, 0) is None


def perceive(ledger: CaseLedger, scene: Scene, groups: list[dict[str, str]]) -> None:
    for alert_id, fields in zip(scene.alert_ids, groups, strict=True):
        ledger.record_perceived_demographics(OFFICER, alert_id, fields)


def recorded(ledger: CaseLedger, clock: Clock) -> tuple[Scene, Scene]:
    """24 true alerts (12 male, 12 female; 22 white, 2 asian) and 13 false ones (10 male,
    3 female; 10 black, 3 white)."""
    true = ran_deployment(ledger, clock, alerts=24, seed=1, crops=False)
    perceive(
        ledger,
        true,
        [
            {
                "perceived_sex": "male" if i % 2 else "female",
                "perceived_ethnicity": "asian" if i < 2 else "white",
            }
            for i in range(24)
        ],
    )
    clock.advance(days=1)
    false = ran_deployment(ledger, clock, alerts=13, seed=2, confirmed=Confirmation.NOT_CONFIRMED)
    perceive(
        ledger,
        false,
        [
            {
                "perceived_sex": "male" if i < 10 else "female",
                "perceived_ethnicity": "black" if i < 10 else "white",
            }
            for i in range(13)
        ],
    )
    return true, false


def table(report: Any, name: str) -> dict[str, GroupRow]:
    return {g.value: g for t in report.tables if t.field == name for g in t.groups}


def test_oversight_sees_counts_and_intervals_analysts_no_small_cells(
    ledger: CaseLedger, clock: Clock
) -> None:
    true, false = recorded(ledger, clock)
    report = equality_report(ledger, audience=Audience.OVERSIGHT)
    assert report.alerts_with_characteristics == 37
    sex = table(report, "perceived_sex")
    male = sex["male"]
    assert (male.alerts, male.engagements, male.true_alerts, male.false_alerts) == (22, 22, 12, 10)
    assert male.false_alert_rate == pytest.approx(10 / 22)
    assert (male.ci_low, male.ci_high) == wilson(10, 22)
    assert (sex["female"].alerts, sex["female"].false_alerts) == (15, 3)
    assert sex["not_recorded"].alerts == 0 and sex["not_recorded"].false_alert_rate is None
    ethnicity = table(report, "perceived_ethnicity")
    assert (ethnicity["asian"].alerts, ethnicity["black"].false_alerts) == (2, 10)
    # Fields the officer did not give count as not recorded.
    assert table(report, "perceived_age_band")["not_recorded"].alerts == 37

    report = equality_report(ledger, audience=Audience.ANALYST)
    assert report.minimum_cell_size == 10
    sex = table(report, "perceived_sex")
    # Groups are large enough, but 3 and 10 false alerts: 3 is a small cell, and its true
    # alerts would give it away (15 - 12), so both go.
    assert (sex["male"].alerts, sex["male"].false_alerts) == (22, 10)
    assert (sex["female"].alerts, sex["female"].true_alerts, sex["female"].false_alerts) == (
        15,
        None,
        None,
    )
    ethnicity = table(report, "perceived_ethnicity")
    assert ethnicity["asian"].suppressed and ethnicity["asian"].alerts is None
    # With one group withheld the total would reveal it: the next smallest goes too.
    assert ethnicity["black"].suppressed
    assert ethnicity["white"].alerts == 25
    for t in report.tables:
        for g in t.groups:
            assert g.false_alert_rate is None and g.ci_low is None, "no rates for analysts"
            for count in (g.alerts, g.engagements, g.true_alerts, g.false_alerts):
                assert count is None or count == 0 or count >= 10

    # Scope: one deployment, one period; a shredded equality key leaves the group unknown.
    only_false = equality_report(
        ledger, audience=Audience.OVERSIGHT, deployment_id=false.deployment_id
    )
    assert only_false.alerts_with_characteristics == 13
    first_day = equality_report(
        ledger,
        audience=Audience.OVERSIGHT,
        start=clock.now - timedelta(days=5),
        end=clock.now.replace(hour=0, minute=0),
    )
    assert first_day.alerts_with_characteristics == 24
    ledger.vault.shred(ledger.equality_key_id(true.alert_ids[0]))
    report = equality_report(ledger, audience=Audience.OVERSIGHT)
    assert table(report, "perceived_sex")[NOT_AVAILABLE].alerts == 1


def test_small_totals_and_lone_groups_are_withheld() -> None:
    rows = [GroupRow("a", 4, 4, 4, 0), GroupRow("b", 0, 0, 0, 0)]
    shown, total_shown = suppress(rows, 10)
    assert shown[0].suppressed and not total_shown


def test_cli_equality(
    ledger: CaseLedger,
    clock: Clock,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    scene = ran_deployment(ledger, clock, alerts=11, crops=False)
    perceive(ledger, scene, [{"perceived_sex": "male" if i else "female"} for i in range(11)])
    assert lfr_ledger.api.cli.main(["equality"]) == 0
    out = capsys.readouterr().out
    assert "<10" in out and "CI" not in out
    assert lfr_ledger.api.cli.main(["equality", "--audience", "oversight"]) == 2  # no purpose
    capsys.readouterr()
    argv = ["equality", "--audience", "oversight", "--purpose", "PCC panel", "--json"]
    assert lfr_ledger.api.cli.main([*argv, "--actor", "PCC-1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["audience"] == "oversight" and data["alerts_with_characteristics"] == 11
    [read] = access_review(ledger, actor_id="PCC-1").records
    assert read.record == "equality:all"
