"""Node start and subject access measured again on the national years `bench/national.py --keep`
left in PostgreSQL (each year's schema and data folder named in var/national-kept.json under its
factor), without generating them again: `python bench/national.py --remeasure-kept`.

Node start runs again on every kept year that is one of the committed runs' factors (after one
start that is not timed: it creates what a newer release adds to a year written by an older
one, as a node's first start after an upgrade does); subject access on the last run's year (the
same subject, `seed_subject(0, 7)`, over the same period), with the views caught up first as
they were when the run measured them (the fleet load wrote after). The figures replace those of
the runs in the committed `bench/results/national.json`; each run so changed records the
commit, time and load it was remeasured at and the figures it replaced (`remeasured`), and the
goals are judged again (`summary`). The rest of the file, its `machine` block included, stays as
the run wrote it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import PG_URL, RESULTS, machine
from bench.national import KEPT, measure_node_start, measure_subject_access, summary
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.store import close_stores

# What a remeasurement may replace in a run.
SUBJECT_ACCESS = ("subject_access_s", "subject_access_first_s", "subject_entries_found")
REMEASURED = ("node_start_s", *SUBJECT_ACCESS)


def kept_years(kept: Path = KEPT) -> dict[float, Settings]:
    """Each kept year's factor, with settings over its schema and data folder."""
    if not kept.exists():
        raise SystemExit(f"{kept} does not exist: run `bench/national.py --keep` first")
    held = json.loads(kept.read_text())
    return {
        float(factor): Settings(
            data_dir=Path(year["data_dir"]), database_url=PG_URL, postgres_schema=year["schema"]
        )
        for factor, year in held.items()
    }


def remeasure_kept(kept: Path = KEPT, results: Path | None = None) -> Path:
    """Measures node start on each kept year among the runs, and subject access on the last
    run's, into `results` (the committed `national.json` by default); returns the file
    written."""
    path = results or RESULTS / "national.json"
    committed = json.loads(path.read_text())
    years = kept_years(kept)
    last = committed["runs"][-1]["factor"]
    if last not in years:
        raise SystemExit(
            f"the last run of {path} is factor {last}, the kept years factors "
            f"{', '.join(map(str, sorted(years)))}: subject access would be written against "
            "another year"
        )
    figures: dict[float, dict[str, Any]] = {}
    for factor in [run["factor"] for run in committed["runs"] if run["factor"] in years]:
        figures[factor] = _measure(years[factor], subject_access=factor == last)
    path.write_text(json.dumps(remeasured(committed, figures, machine()), indent=2) + "\n")
    return path


def _measure(settings: Settings, *, subject_access: bool) -> dict[str, Any]:
    build_ledger(settings).close()  # not timed: what an upgrade's first start creates
    figures = measure_node_start(settings)
    if subject_access:
        ledger = build_ledger(settings)
        try:
            catch_up(settings)
            figures |= measure_subject_access(settings, ledger)
        finally:
            ledger.close()
            close = getattr(ledger.vault, "close", None)
            if close:
                close()
    close_stores()
    return figures


def remeasured(
    committed: dict[str, Any], figures: dict[float, dict[str, Any]], stamp: dict[str, Any]
) -> dict[str, Any]:
    """`committed` (a national result) with each run's `figures` (by factor) in it, marked with
    `stamp` (`bench.common.machine()`: commit, time, load), and the goals judged again;
    everything else as it was. A figure remeasured before keeps the run's own in `replaced`."""
    unknown = {key for each in figures.values() for key in each} - set(REMEASURED)
    if unknown:
        raise ValueError(f"not figures a remeasurement replaces: {sorted(unknown)}")
    runs = [dict(run) for run in committed["runs"]]
    for run in runs:
        new = figures.get(run["factor"])
        if not new:
            continue
        earlier = run.get("remeasured", {}).get("replaced", {})
        replaced = {key: earlier.get(key, run.get(key)) for key in new}
        run.update(new)
        run["remeasured"] = {
            "commit": stamp["commit"],
            "at": stamp["at"],
            "load_average_1_5_15m": stamp["load_average_1_5_15m"],
            "replaced": {**earlier, **replaced},
        }
    judged = summary(runs)
    # The load the run ended at, not this one's (which the mark holds).
    judged["load_average_1_5_15m"] = committed.get("load_average_1_5_15m")
    return {**committed, **judged}
