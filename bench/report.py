"""The figures the README and docs/benchmarks.md quote, rendered from `bench/results/*.json`.

    python bench/report.py          # print the tables
    python bench/report.py --write  # put them into README.md and docs/benchmarks.md

Each row reads its figures from one result file and says when and at what commit they were
measured, with the machine's load average, so a figure in the docs is always the one a run wrote.
The docs hold the tables between `<!-- figures:… -->` markers; `tests/test_bench_report.py` fails
when they differ from what the committed results render to (a rerun without `--write`, or a hand
edit of a figure).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))  # run as a script, as the other benchmarks are

from bench.report_figures import (  # noqa: E402
    Result,
    Row,
    api,
    audit,
    backup,
    console,
    enrolment,
    event_store,
    event_store_met,
    inclusion,
    int8,
    kek,
    matching,
    national,
    oversight,
    projections,
    rolling,
    van,
    van_met,
)

ROWS: tuple[Row, ...] = (
    Row(
        "event store, SQLite (chain, idempotency, sealing on)",
        "event_store",
        event_store("sqlite"),
        "python bench/event_store.py",
        "simplest ≥ 0.5, live pair ≥ 0.3 of raw",
        event_store_met("sqlite", 0.5, 0.3),
        headline=True,
    ),
    Row(
        "event store, PostgreSQL",
        "event_store",
        event_store("postgres"),
        "〃",
        "simplest ≥ 0.25, live pair ≥ 0.2 of raw",
        event_store_met("postgres", 0.25, 0.2),
        headline=True,
    ),
    Row(
        "projection catch-up, SQLite",
        "projections",
        projections("sqlite"),
        "python bench/projections.py",
    ),
    Row("projection catch-up, PostgreSQL", "projections", projections("postgres"), "〃"),
    Row(
        "API under 16 concurrent clients (one process, SQLite)",
        "api",
        api,
        "python bench/api.py",
        "adjudications ≥ 0.6 of `/health`",
        lambda r: r["ratio_rps_adjudication_to_health"] >= 0.6,
        headline=True,
    ),
    Row(
        "matching: `analyse` vs the bare models; search; alert latency",
        "matching",
        matching,
        "python bench/matching.py",
        "≥ 0.85; ≤ 5 % at 10,000; p99 ≤ 250 ms",
        lambda r: (
            r["inference"]["end_to_end_ratio"] >= 0.85
            and r["search"]["by_watchlist_size"]["10000"]["share_of_per_face_cost"] <= 0.05
            and r["alert_latency"]["latency_ms"]["p99"] <= 250
        ),
    ),
    Row(
        "the van: 10 fps, 1280×720, 10,000-entry watchlist, real ledger",
        "van",
        van("tracked"),
        "python bench/van.py",
        "≤ 1.0 core-s/s, 0 dropped, p99 ≤ 250 ms, every pass once, 0 false",
        van_met("tracked"),
        headline=True,
    ),
    Row(
        "the van, two cameras (same run)",
        "van",
        van("compare"),
        "〃",
        "≤ 1.0 core-s/s, 0 dropped, p99 ≤ 250 ms, every pass once, 0 false",
        van_met("compare"),
    ),
    Row(
        "the van, two cameras beside a process spinning on one core",
        "van",
        van("loaded"),
        "〃",
        "frames may drop; no enrolled pass missed",
        van_met("loaded"),
    ),
    Row(
        "the van, two cameras, the runner before tracking (whole frame, every face)",
        "van",
        van("baseline"),
        "〃",
    ),
    Row(
        "console: matcher's POST → the operator's card (Chromium), SQLite",
        "console",
        console,
        "python bench/console.py",
        "p99 ≤ 100 ms",
        lambda r: r["post_to_card"]["p99_ms"] <= 100,
        headline=True,
    ),
    Row(
        "console, two API nodes on PostgreSQL",
        "console_postgres",
        console,
        "python bench/console.py --postgres",
        "p99 ≤ 100 ms",
        lambda r: r["post_to_card"]["p99_ms"] <= 100,
    ),
    Row(
        "national scale: a fleet year on PostgreSQL (1.0 ≈ 13 M events)",
        "national",
        national,
        "python bench/national.py --factors 0.1,1.0",
        "periodic jobs ≤ 1.5 × at 1.0 against 0.1; subject access ≤ 1 s; summary ≤ 100 ms; "
        "two-node p99 ≤ 250 ms",
        lambda r: bool(r.get("all_goals_met")) and r["runs"][-1]["factor"] >= 1.0,
    ),
    Row(
        "audit: verify since a checkpoint",
        "audit",
        audit,
        "python bench/audit.py",
        "≤ 1.5 × for 10 × the history",
        lambda r: all(
            r[b]["large_over_small"]["verify_since_checkpoint"] <= 1.5
            for b in ("sqlite", "postgres")
        ),
    ),
    Row(
        "subject access and a day's retention by index (SQLite)",
        "oversight_scale",
        oversight,
        "python bench/oversight_scale.py",
        "≤ 1.5 ×; ≤ 1 s",
        lambda r: (
            r["large_over_small"]["retention_index"] <= 1.5
            and r["runs"][-1]["subject_access"]["index_s"] <= 1.0
        ),
    ),
    Row(
        "the rolling re-verification",
        "audit_rolling",
        rolling,
        "python bench/audit.py",
    ),
    Row(
        "one event's inclusion in the latest checkpoint",
        "audit_inclusion",
        inclusion,
        "python bench/inclusion.py --sizes 130000 1300000",
    ),
    Row(
        "enrolment memory",
        "enrolment_memory",
        enrolment,
        "python bench/enrolment_memory.py",
    ),
    Row(
        "int8 SFace (final layer only)",
        "int8",
        int8,
        "python bench/int8.py",
        "drift < 0.01",
        lambda r: r["recipes"][r["default_recipe"]]["gate"]["max_drift"] < r["drift_bound"],
    ),
    Row("the KEK's cost per call", "kek", kek, "python bench/kek.py"),
    Row("backup and restore (RTO)", "backup", backup, "python bench/backup.py"),
)


def load(results: Path, name: str) -> Result | None:
    path = results / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def measured(result: Result) -> str:
    machine = result.get("machine", {})
    # Results written before machine() recorded it kept their own load figure, if any.
    load_average = machine.get("load_average_1_5_15m") or result.get("load_average_after")
    when = str(machine.get("at") or result.get("when") or result.get("recorded_at") or "?")[:10]
    text = f"{machine.get('commit') or '?'}, {when}"
    return f"{text}, load {load_average[0]:.1f}" if load_average else f"{text}, load not recorded"


def render(results: Path = RESULTS, *, headline_only: bool = False) -> str:
    lines = ["| what | figure | goal | met | measured | command |", "|---|---|---|---|---|---|"]
    for row in ROWS:
        if headline_only and not row.headline:
            continue
        result = load(results, row.result)
        if result is None:
            lines.append(f"| {row.what} | not measured | {row.goal} | | | `{row.command}` |")
            continue
        met = "" if row.met is None else ("yes" if row.met(result) else "**not met**")
        lines.append(
            f"| {row.what} | {row.figure(result)} | {row.goal} | {met} | {measured(result)} "
            f"| {'〃' if row.command == '〃' else f'`{row.command}`'} |"
        )
    return "\n".join(lines)


def marked(text: str, name: str, table: str) -> str:
    pattern = re.compile(rf"(<!-- figures:{name} -->\n)(?:.*?\n)?(<!-- /figures:{name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"no <!-- figures:{name} --> markers to write between")
    return pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text)


DOCS = {
    ROOT / "README.md": ("headline", True),
    ROOT / "docs" / "benchmarks.md": ("all", False),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="update README.md and the docs")
    args = parser.parse_args(argv)
    if not args.write:
        print(render())
        return 0
    for path, (name, headline_only) in DOCS.items():
        path.write_text(marked(path.read_text(), name, render(headline_only=headline_only)))
        print(f"wrote the figures into {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
