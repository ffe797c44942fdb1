"""Subject access measured again on the national year `bench/national.py --keep` left in
PostgreSQL (its schema and data folder named in var/national-kept.json), without generating the
year again: `python bench/national.py --remeasure-kept`.

Only `measure_oversight`'s subject-access part runs (the same subject, `seed_subject(0, 7)`, over
the same period), on a ledger built over the kept schema and data folder, with the views caught
up first as they were when the run measured them (the fleet load wrote after). The figures it
gives (`subject_access_s`, `subject_access_first_s`, `subject_entries_found`) replace those of
the last run of the committed `bench/results/national.json`, which must be the kept factor's;
the run records the commit, time and load they were remeasured at and the figures they
replaced (`subject_access_remeasured`), and the goals are judged again (`summary`). The rest of
the file, its `machine` block included, stays as the run wrote it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import PG_URL, RESULTS, machine
from bench.national import KEPT, measure_subject_access, summary
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.store import close_stores

# What a remeasurement replaces in the last run: `measure_subject_access`'s figures.
REMEASURED = ("subject_access_s", "subject_access_first_s", "subject_entries_found")


def kept_settings(kept: Path = KEPT) -> tuple[float, Settings]:
    """The kept year's factor, and settings over its schema and data folder."""
    if not kept.exists():
        raise SystemExit(f"{kept} does not exist: run `bench/national.py --keep` first")
    held = json.loads(kept.read_text())
    settings = Settings(
        data_dir=Path(held["data_dir"]), database_url=PG_URL, postgres_schema=held["schema"]
    )
    return float(held["factor"]), settings


def remeasure_kept(kept: Path = KEPT, results: Path | None = None) -> Path:
    """Measures subject access on the kept year and writes it into `results` (the committed
    `national.json` by default); returns the file written."""
    path = results or RESULTS / "national.json"
    committed = json.loads(path.read_text())
    factor, settings = kept_settings(kept)
    last = committed["runs"][-1]["factor"]
    if last != factor:
        raise SystemExit(
            f"the last run of {path} is factor {last}, the kept year factor {factor}: "
            "the figures would be written against another year"
        )
    ledger = build_ledger(settings)
    try:
        catch_up(settings)
        figures = measure_subject_access(settings, ledger)
    finally:
        ledger.close()
        close = getattr(ledger.vault, "close", None)
        if close:
            close()
        close_stores()
    path.write_text(json.dumps(remeasured(committed, figures, machine()), indent=2) + "\n")
    return path


def remeasured(
    committed: dict[str, Any], figures: dict[str, Any], stamp: dict[str, Any]
) -> dict[str, Any]:
    """`committed` (a national result) with `figures` in its last run, marked with `stamp`
    (`bench.common.machine()`: commit, time, load), and the goals judged again; everything else
    as it was."""
    unknown = set(figures) - set(REMEASURED)
    if unknown:
        raise ValueError(f"not figures a remeasurement replaces: {sorted(unknown)}")
    runs = [dict(run) for run in committed["runs"]]
    last = runs[-1]
    replaced = {key: last.get(key) for key in REMEASURED}
    last.update(figures)
    last["subject_access_remeasured"] = {
        "commit": stamp["commit"],
        "at": stamp["at"],
        "load_average_1_5_15m": stamp["load_average_1_5_15m"],
        "replaced": replaced,
    }
    judged = summary(runs)
    # The load the run ended at, not this one's (which the mark holds).
    judged["load_average_1_5_15m"] = committed.get("load_average_1_5_15m")
    return {**committed, **judged}
