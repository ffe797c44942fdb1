"""`bench/national.py --remeasure-kept` (`bench/national_kept.py`): node start measured again on
each kept year, and subject access on the last run's, go into their runs of the results, marked,
with the goals judged again, and nothing else of the file changes. Checked on a small year of
the test's own (its schema and data folder named in a kept file of the test's), never on the
bench's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import national_kept
from bench.national_kept import remeasure_kept, remeasured
from lfr_ledger.api.demo.sample_deployment import COMPILER, authorised
from lfr_ledger.api.demo.seed import seed_subject
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from tests.conftest import PG_URL

MACHINE = {"commit": "abc1234", "at": "2026-12-07T23:12:31+00:00", "load_average_1_5_15m": [1]}
STAMP = {"commit": "def5678", "at": "2026-12-08T02:10:00+00:00", "load_average_1_5_15m": [0.2]}


def run(factor: float, subject_access_s: float, retention_day_s: float) -> dict[str, Any]:
    return {
        "factor": factor,
        "subject_access_s": subject_access_s,
        "subject_access_first_s": subject_access_s * 2,
        "subject_entries_found": int(factor * 440),
        "retention_day_s": retention_day_s,
        "deployment_summary_ms": 5.0,
        "node_start_s": 0.03 * (1 + factor),
    }


def committed() -> dict[str, Any]:
    return {
        "machine": MACHINE,
        "what": "a simulated fleet year",
        "runs": [run(0.1, 0.136, 1.0), run(1.0, 1.4, 1.2)],
        "large_over_small": {
            "subject_access_s": 10.29,
            "retention_day_s": 1.2,
            "node_start_s": 1.82,
        },
        "goal": "…",
        "goals_met": {"retention_day_s": True, "subject_access_s": False, "node_start_s": False},
        "all_goals_met": False,
        "load_average_1_5_15m": [1.07, 1.53, 1.81],
    }


def test_the_figures_replace_their_runs_marked_and_the_goals_are_judged_again() -> None:
    before = committed()
    access = {"subject_access_s": 0.05, "subject_access_first_s": 0.2, "subject_entries_found": 440}
    figures = {0.1: {"node_start_s": 0.04}, 1.0: {"node_start_s": 0.05, **access}}
    after = remeasured(before, figures, STAMP)

    small, large = after["runs"]
    assert small["node_start_s"] == 0.04 and small["subject_access_s"] == 0.136
    assert {k: large[k] for k in figures[1.0]} == figures[1.0]
    assert large["retention_day_s"] == 1.2
    assert large["remeasured"] == {
        "commit": "def5678",
        "at": "2026-12-08T02:10:00+00:00",
        "load_average_1_5_15m": [0.2],
        "replaced": {
            "node_start_s": 0.06,
            "subject_access_s": 1.4,
            "subject_access_first_s": 2.8,
            "subject_entries_found": 440,
        },
    }
    assert small["remeasured"]["replaced"] == {"node_start_s": 0.033}
    assert after["goals_met"]["subject_access_s"] is True
    assert after["goals_met"]["node_start_s"] is True
    assert after["all_goals_met"] is True
    assert after["large_over_small"]["subject_access_s"] == round(0.05 / 0.136, 2)
    assert after["large_over_small"]["node_start_s"] == round(0.05 / 0.04, 2)
    # The run's own record stands: its machine and the load it ended at.
    assert after["machine"] == MACHINE
    assert after["load_average_1_5_15m"] == [1.07, 1.53, 1.81]
    assert before == committed(), "the committed result is not changed in place"

    # Measured again later: `replaced` still holds what the run itself measured.
    again = remeasured(after, {1.0: {"node_start_s": 0.051}}, STAMP)
    assert again["runs"][-1]["remeasured"]["replaced"]["node_start_s"] == 0.06
    assert again["runs"][-1]["remeasured"]["replaced"]["subject_access_s"] == 1.4

    slower = remeasured(before, {1.0: {**access, "subject_access_s": 1.1}}, STAMP)
    assert slower["goals_met"]["subject_access_s"] is False and not slower["all_goals_met"]
    with pytest.raises(ValueError, match="retention_day_s"):
        remeasured(before, {1.0: {"retention_day_s": 0.1}}, STAMP)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_kept_year_is_measured_again_into_the_results(
    ledger: CaseLedger,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deployments = [authorised(ledger) for _ in range(2)]
    for deployment in deployments:
        ledger.enrol(COMPILER, deployment, seed_subject(0, 7))
    kept = tmp_path / "national-kept.json"
    schema, data_dir = settings.postgres_schema, str(settings.data_dir)
    kept.write_text(json.dumps({"1.0": {"schema": schema, "data_dir": data_dir}}))
    results = tmp_path / "national.json"
    results.write_text(json.dumps(committed()))
    monkeypatch.setattr(national_kept, "PG_URL", PG_URL)

    written = json.loads(remeasure_kept(kept, results).read_text())

    large = written["runs"][-1]
    assert large["subject_entries_found"] == 2
    assert large["subject_access_s"] > 0 and large["subject_access_first_s"] > 0
    assert large["remeasured"]["replaced"]["subject_access_s"] == 1.4
    assert large["node_start_s"] > 0 and large["remeasured"]["replaced"]["node_start_s"] == 0.06
    assert "remeasured" not in written["runs"][0], "factor 0.1 was not kept"
    assert written["goals_met"]["subject_access_s"] == (large["subject_access_s"] <= 1.0)
    assert written["machine"] == MACHINE

    # A kept year of another factor than the last run's is refused, the file left as it was.
    kept.write_text(json.dumps({"0.1": {"schema": schema, "data_dir": data_dir}}))
    with pytest.raises(SystemExit, match=r"factor 1\.0, the kept years factors 0\.1"):
        remeasure_kept(kept, results)
    assert json.loads(results.read_text()) == written
