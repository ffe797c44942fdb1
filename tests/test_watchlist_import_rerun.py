"""Issue 26: `lfr watchlist import` run again. Rows enrolled exactly as they stand are left as
they are (exit 0, "0 enrolled, N already enrolled (unchanged)", nothing recorded); a row whose
subject is enrolled with other details is refused naming the fields that differ, never their
values (exit 1). The CSV is the demo's sample watchlist, the faces real, the ledger real."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lfr_ledger.api.cli import main
from lfr_ledger.api.demo.sample_deployment import authorised
from lfr_ledger.api.demo.sample_watchlist import write_sample_watchlist
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.notification_log import notifications
from lfr_ledger.domain.records import ConsultationTopic
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from tests.test_retention import cli_env  # noqa: F401


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the rule lives in the CLI, above either store


def events(ledger: CaseLedger) -> int:
    """Every event but the consultations a comparison logs."""
    return sum(1 for n in notifications(ledger.recorder) if n.topic != ConsultationTopic.RECORDED)


def consultations(ledger: CaseLedger) -> int:
    return len(list(notifications(ledger.recorder, [ConsultationTopic.RECORDED])))


def test_a_rerun_enrols_nothing_new_and_a_changed_row_is_refused_by_name(
    ledger: CaseLedger,
    tmp_path: Path,
    sface_engine: InsightFaceEngine,
    sface_model_dir: Path,
    cli_env: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LFR_MODEL_DIR", str(sface_model_dir))
    deployment = authorised(ledger)
    sample = write_sample_watchlist(tmp_path / "sample", sface_engine)
    argv = ["watchlist", "import", "--deployment", str(deployment), "--actor-id", "SGT-1"]

    assert main([*argv, str(sample)]) == 0
    first = capsys.readouterr().out
    assert "2 enrolled, 0 already enrolled (unchanged), 0 refused" in first
    entries = {e.id for e in ledger.watchlist(deployment)}
    recorded, consulted = events(ledger), consultations(ledger)

    assert main([*argv, str(sample)]) == 0
    again = capsys.readouterr().out
    assert "0 enrolled, 2 already enrolled (unchanged), 0 refused" in again
    for entry in entries:
        assert f"already enrolled as {entry} (unchanged)" in again
    assert main([*argv, str(sample), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["unchanged"], r["refused"]) for r in rows] == [(True, None), (True, None)]
    assert {e.id for e in ledger.watchlist(deployment)} == entries
    assert events(ledger) == recorded, "a re-run records nothing"
    # But comparing is reading: the entry and its image, for each row, on each of the two runs.
    assert consultations(ledger) == consulted + 2 * 2 * 2

    # Same references, other details: the first row now carries the second's photo, the
    # second another offence.
    with sample.open(newline="") as handle:
        table = list(csv.DictReader(handle))
    table[0]["image_path"] = table[1]["image_path"]
    table[1]["offence"] = "breach of a different order"
    changed = sample.with_name("changed.csv")
    with changed.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    assert main([*argv, str(changed)]) == 1
    said = capsys.readouterr().out
    assert "line 2: refused: this subject is already enrolled as entry" in said
    assert "with a different image;" in said
    assert "line 3: refused:" in said and "with a different offence;" in said
    assert "0 enrolled, 0 already enrolled (unchanged), 2 refused" in said
    for personal in ("Robin", "Pemberton", "breach of a different order", "LIVE-00"):
        assert personal not in said
    assert events(ledger) == recorded, "a refused row records nothing"
