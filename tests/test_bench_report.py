"""The figures the README and docs/benchmarks.md quote are the ones the benchmarks wrote.

`bench/report.py` renders them from `bench/results/*.json`; a result rerun without `--write`, or a
figure edited by hand in the docs, fails here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import report

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("doc", "name", "headline_only"),
    [("README.md", "headline", True), ("docs/benchmarks.md", "all", False)],
)
def test_the_docs_quote_the_committed_results(doc: str, name: str, headline_only: bool) -> None:
    text = (ROOT / doc).read_text()
    expected = report.marked(text, name, report.render(headline_only=headline_only))
    assert text == expected, f"{doc}: run `python bench/report.py --write` after a benchmark"


def test_every_row_reads_a_committed_result() -> None:
    missing = {row.result for row in report.ROWS} - {
        path.stem for path in report.RESULTS.glob("*.json")
    }
    assert not missing


def test_a_goal_missed_reads_not_met_and_a_result_missing_reads_not_measured(
    tmp_path: Path,
) -> None:
    shutil.copy(report.RESULTS / "console.json", tmp_path / "console.json")
    result = json.loads((tmp_path / "console.json").read_text())
    result["post_to_card"]["p99_ms"] = 100.0
    (tmp_path / "console.json").write_text(json.dumps(result))
    met = report.render(tmp_path)
    result["post_to_card"]["p99_ms"] = 100.1
    (tmp_path / "console.json").write_text(json.dumps(result))
    missed = report.render(tmp_path)

    console_row = next(line for line in met.splitlines() if "Chromium), SQLite" in line)
    assert "| yes |" in console_row and "p99 100.0 ms" in console_row
    console_row = next(line for line in missed.splitlines() if "Chromium), SQLite" in line)
    assert "**not met**" in console_row and "p99 100.1 ms" in console_row
    api_row = next(line for line in missed.splitlines() if "16 concurrent clients" in line)
    assert "not measured" in api_row


def test_a_doc_without_markers_is_refused() -> None:
    with pytest.raises(SystemExit, match="markers"):
        report.marked("# no figures here\n", "all", "| table |")
