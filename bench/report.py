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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

Result = Mapping[str, Any]


@dataclass(frozen=True)
class Row:
    what: str
    result: str
    figure: Callable[[Result], str]
    command: str
    goal: str = ""
    met: Callable[[Result], bool] | None = None
    headline: bool = False


def n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 1000 else f"{value:,.0f} ms"


def ratio(value: float) -> str:
    return f"{value:.2f}"


def _event_store(backend: str) -> Callable[[Result], str]:
    def figure(r: Result) -> str:
        b = r[backend]
        return (
            f"simplest command {n(b['simple_commands_per_s_with_chain'])} /s, "
            f"**{ratio(b['simple_ratio_with_chain'])}** of raw inserts "
            f"({n(b['raw_inserts_per_s'])} /s); live pair (alert + adjudication) "
            f"{n(b['alert_commands_per_s_with_chain'])} commands/s, "
            f"**{ratio(b['alert_ratio_with_chain'])}**"
        )

    return figure


def _event_store_met(backend: str, simple: float, alert: float) -> Callable[[Result], bool]:
    return lambda r: (
        r[backend]["simple_ratio_with_chain"] >= simple
        and r[backend]["alert_ratio_with_chain"] >= alert
    )


def _projections(backend: str) -> Callable[[Result], str]:
    def figure(r: Result) -> str:
        b = r["backends"][backend]
        return (
            f"{n(b['catch_up_events_per_s'])} events/s over {n(b['events'])} events; reading and "
            f"decoding alone {n(b['read_and_decode_events_per_s'])} /s → "
            f"**{ratio(b['catch_up_over_read_and_decode'])}**"
        )

    return figure


def _api(r: Result) -> str:
    a, h = r["adjudication"], r["health"]
    return (
        f"adjudications {n(a['requests_per_second'], 1)} req/s (p99 {ms(a['p99_ms'])}), "
        f"`GET /health` {n(h['requests_per_second'], 1)} req/s → "
        f"**{ratio(r['ratio_rps_adjudication_to_health'])}**"
    )


def _matching(r: Result) -> str:
    i, s = r["inference"], r["search"]["by_watchlist_size"]
    latency = r["alert_latency"]["latency_ms"]
    return (
        f"end to end {n(i['end_to_end_faces_per_s'], 1)} vs bare models "
        f"{n(i['bare_inference_faces_per_s'], 1)} faces/s → **{ratio(i['end_to_end_ratio'])}**; "
        f"search per probe at 10,000 entries {s['10000']['per_probe_ms']:.2f} ms "
        f"(**{s['10000']['share_of_per_face_cost']:.1%}** of a face's cost); frame → alert "
        f"durable p50 {ms(latency['p50'])}, **p99 {ms(latency['p99'])}**"
    )


def _van(mode: str) -> Callable[[Result], str]:
    def figure(r: Result) -> str:
        v = r[mode]
        latency = v["alert_latency_ms"]
        offered = sum(c["frames_offered"] for c in v["per_camera"].values())
        return (
            f"{v['cameras']} cameras: **{v['core_s_per_s']:.2f} core-s/s**, "
            f"**{n(v['frames_dropped'])} of {n(offered)} frames dropped**, alert p50 "
            f"{ms(latency['p50'])}, **p99 {ms(latency['p99'])}**, "
            f"**{v['passes_alerted_once']} / {v['enrolled_passes']}** enrolled passes alerted "
            f"once, **{v['false_alerts']}** false alerts"
        )

    return figure


def _van_met(mode: str) -> Callable[[Result], bool]:
    return lambda r: all(r[mode]["goals_met"].values())


def _console(r: Result) -> str:
    p = r["post_to_card"]
    return (
        f"{r['alerts']} alerts: p50 {ms(p['p50_ms'])}, **p99 {ms(p['p99_ms'])}** "
        f"(the page's own share p99 {ms(r['card_after_sse_event']['p99_ms'])})"
    )


def _audit(r: Result) -> str:
    parts = []
    for backend in ("sqlite", "postgres"):
        small, large = r[backend]["sizes"][0], r[backend]["sizes"][-1]
        growth = r[backend]["large_over_small"]
        parts.append(
            f"{backend}: {large['verify_since_checkpoint_s']:.3f} s after "
            f"{n(large['events_before_checkpoint'])} events "
            f"(**×{growth['verify_since_checkpoint']:.2f}** of "
            f"{n(small['events_before_checkpoint'])})"
        )
    return "verify since a checkpoint, 10,000 new events: " + "; ".join(parts)


def _oversight(r: Result) -> str:
    large = r["runs"][-1]
    growth = r["large_over_small"]
    return (
        f"at {n(large['events'])} events: subject access "
        f"{ms(large['subject_access']['index_s'] * 1000)} "
        f"(×{growth['subject_access_index']:.2f}), a day's retention "
        f"{ms(large['retention_day']['index']['seconds'] * 1000)} "
        f"(**×{growth['retention_index']:.2f}** of {n(r['runs'][0]['events'])})"
    )


def _rolling(r: Result) -> str:
    s, p = r["sqlite"][-1], r["postgres"][-1]
    return (
        f"at {n(s['events'])} events, an hour of one-a-minute slices: SQLite "
        f"**{s['core_seconds_per_hour']:.1f} core-s**, PostgreSQL "
        f"**{p['core_seconds_per_hour']:.1f} s** (client CPU {p['hour_of_slices_cpu_s']:.1f})"
    )


def _inclusion(r: Result) -> str:
    s, p = r["sqlite"][-1], r["postgres"][-1]
    return (
        f"at {n(s['events'])} events: SQLite median "
        f"**{ms(s['single_event_in_checkpoint_ms_median'])}** (p95 "
        f"{ms(s['single_event_in_checkpoint_ms_p95'])}), PostgreSQL median "
        f"**{ms(p['single_event_in_checkpoint_ms_median'])}** (p95 "
        f"{ms(p['single_event_in_checkpoint_ms_p95'])})"
    )


def _enrolment(r: Result) -> str:
    one, many = r["cases"]["one-face-24mp"], r["cases"]["many-faces-23mp"]
    return (
        f"a 24 MP photo: {one['seconds']:.2f} s, peak growth {one['peak_growth_mb']} MB, "
        f"kept {one['rss_mb_after'] - one['rss_mb_before']} MB; a 23 MP crowd: refused in "
        f"{many['seconds']:.2f} s with {many['faces_embedded']} embedded"
    )


def _int8(r: Result) -> str:
    gate = r["recipes"][r["default_recipe"]]["gate"]
    speed = r["speed"]["threads_1_batch_1"]
    return (
        f"drift **{gate['max_drift']:.4f}**; {speed[r['default_recipe']]['ms_per_face']:.1f} vs "
        f"{speed['fp32']['ms_per_face']:.1f} ms per face on one thread "
        f"(×{speed[r['default_recipe']]['ratio_to_fp32']:.2f})"
    )


def _kek(r: Result) -> str:
    return (
        f"unseal, key file {r['file, no cache']['unseal_us']:.0f} µs, SoftHSM2 "
        f"{r['pkcs11-softhsm2, no cache']['unseal_us']:.0f} µs uncached, "
        f"{r['pkcs11-softhsm2, cache']['unseal_us']:.0f} µs cached"
    )


def _backup(r: Result) -> str:
    s, p = r["sqlite"][-1], r["postgres"][-1]
    return (
        f"{n(s['events'])} events: SQLite backup {s['backup_s']:.2f} s, **restore "
        f"{s['restore_s']:.2f} s**; PostgreSQL backup {p['backup_s']:.2f} s, **restore "
        f"{p['restore_s']:.2f} s**"
    )


def _national(r: Result) -> str:
    small, large = r["runs"][0], r["runs"][-1]
    growth = r.get("large_over_small", {})
    jobs = ", ".join(
        f"{label} ×{growth[key]:.2f}"
        for key, label in (
            ("verify_since_checkpoint_s", "verify since checkpoint"),
            ("checkpoint_s", "checkpoint"),
            ("rolling_slice_s", "rolling slice"),
            ("retention_day_s", "a day's retention"),
            ("publication_day_s", "a day's publication"),
            ("end_deployment_ms", "ending a deployment"),
            ("node_start_s", "node start"),
        )
        if key in growth
    )
    fleet = large.get("fleet_load", {}).get("commands_ms", {}).get("p99")
    return (
        f"factor {large['factor']} ({n(large['events'])} events) against {small['factor']}: "
        f"{jobs}; subject access {large['subject_access_s']:.3f} s "
        f"({large['subject_entries_found']} watchlists), summary "
        f"{ms(large['deployment_summary_ms'])}"
        + (f", two-node command p99 **{ms(fleet)}**" if fleet is not None else "")
        + (
            f"; generated at {n(large['generate_events_per_s'])} events/s"
            if "generate_events_per_s" in large
            else ""
        )
    )


ROWS: tuple[Row, ...] = (
    Row(
        "event store, SQLite (chain, idempotency, sealing on)",
        "event_store",
        _event_store("sqlite"),
        "python bench/event_store.py",
        "simplest ≥ 0.5, live pair ≥ 0.3 of raw",
        _event_store_met("sqlite", 0.5, 0.3),
        headline=True,
    ),
    Row(
        "event store, PostgreSQL",
        "event_store",
        _event_store("postgres"),
        "〃",
        "simplest ≥ 0.25, live pair ≥ 0.2 of raw",
        _event_store_met("postgres", 0.25, 0.2),
        headline=True,
    ),
    Row(
        "projection catch-up, SQLite",
        "projections",
        _projections("sqlite"),
        "python bench/projections.py",
    ),
    Row("projection catch-up, PostgreSQL", "projections", _projections("postgres"), "〃"),
    Row(
        "API under 16 concurrent clients (one process, SQLite)",
        "api",
        _api,
        "python bench/api.py",
        "adjudications ≥ 0.6 of `/health`",
        lambda r: r["ratio_rps_adjudication_to_health"] >= 0.6,
        headline=True,
    ),
    Row(
        "matching: `analyse` vs the bare models; search; alert latency",
        "matching",
        _matching,
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
        _van("tracked"),
        "python bench/van.py",
        "≤ 1.0 core-s/s, 0 dropped, p99 ≤ 250 ms, every pass once, 0 false",
        _van_met("tracked"),
        headline=True,
    ),
    Row(
        "the van, two cameras (same run)",
        "van",
        _van("compare"),
        "〃",
        "≤ 1.0 core-s/s, 0 dropped, p99 ≤ 250 ms, every pass once, 0 false",
        _van_met("compare"),
    ),
    Row(
        "the van, two cameras beside a process spinning on one core",
        "van",
        _van("loaded"),
        "〃",
        "frames may drop; no enrolled pass missed",
        _van_met("loaded"),
    ),
    Row(
        "the van, two cameras, the runner before tracking (whole frame, every face)",
        "van",
        _van("baseline"),
        "〃",
    ),
    Row(
        "console: matcher's POST → the operator's card (Chromium), SQLite",
        "console",
        _console,
        "python bench/console.py",
        "p99 ≤ 100 ms",
        lambda r: r["post_to_card"]["p99_ms"] <= 100,
        headline=True,
    ),
    Row(
        "console, two API nodes on PostgreSQL",
        "console_postgres",
        _console,
        "python bench/console.py --postgres",
        "p99 ≤ 100 ms",
        lambda r: r["post_to_card"]["p99_ms"] <= 100,
    ),
    Row(
        "national scale: a fleet year on PostgreSQL (1.0 ≈ 13 M events)",
        "national",
        _national,
        "python bench/national.py --factors 0.1,1.0",
        "periodic jobs ≤ 1.5 × at 1.0 against 0.1; subject access ≤ 1 s; summary ≤ 100 ms; "
        "two-node p99 ≤ 250 ms",
        lambda r: bool(r.get("all_goals_met")) and r["runs"][-1]["factor"] >= 1.0,
    ),
    Row(
        "audit: verify since a checkpoint",
        "audit",
        _audit,
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
        _oversight,
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
        _rolling,
        "python bench/audit.py",
    ),
    Row(
        "one event's inclusion in the latest checkpoint",
        "audit_inclusion",
        _inclusion,
        "python bench/inclusion.py --sizes 130000 1300000",
    ),
    Row(
        "enrolment memory",
        "enrolment_memory",
        _enrolment,
        "python bench/enrolment_memory.py",
    ),
    Row(
        "int8 SFace (final layer only)",
        "int8",
        _int8,
        "python bench/int8.py",
        "drift < 0.01",
        lambda r: r["recipes"][r["default_recipe"]]["gate"]["max_drift"] < r["drift_bound"],
    ),
    Row("the KEK's cost per call", "kek", _kek, "python bench/kek.py"),
    Row("backup and restore (RTO)", "backup", _backup, "python bench/backup.py"),
)


def load(results: Path, name: str) -> Result | None:
    path = results / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def measured(result: Result) -> str:
    machine = result.get("machine", {})
    load_average = machine.get("load_average_1_5_15m")
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
