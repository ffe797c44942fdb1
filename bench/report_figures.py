"""How each benchmark's result reads in the docs' tables: one function per result file, turning
its JSON into the figure a reader needs, and the goal checks (`bench/report.py` lays them out)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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


def event_store(backend: str) -> Callable[[Result], str]:
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


def event_store_met(backend: str, simple: float, alert: float) -> Callable[[Result], bool]:
    return lambda r: (
        r[backend]["simple_ratio_with_chain"] >= simple
        and r[backend]["alert_ratio_with_chain"] >= alert
    )


def projections(backend: str) -> Callable[[Result], str]:
    def figure(r: Result) -> str:
        b = r["backends"][backend]
        return (
            f"{n(b['catch_up_events_per_s'])} events/s over {n(b['events'])} events; reading and "
            f"decoding alone {n(b['read_and_decode_events_per_s'])} /s → "
            f"**{ratio(b['catch_up_over_read_and_decode'])}**"
        )

    return figure


def api(r: Result) -> str:
    a, h = r["adjudication"], r["health"]
    return (
        f"adjudications {n(a['requests_per_second'], 1)} req/s (p99 {ms(a['p99_ms'])}), "
        f"`GET /health` {n(h['requests_per_second'], 1)} req/s → "
        f"**{ratio(r['ratio_rps_adjudication_to_health'])}**"
    )


def matching(r: Result) -> str:
    i, s = r["inference"], r["search"]["by_watchlist_size"]
    latency = r["alert_latency"]["latency_ms"]
    return (
        f"end to end {n(i['end_to_end_faces_per_s'], 1)} vs bare models "
        f"{n(i['bare_inference_faces_per_s'], 1)} faces/s → **{ratio(i['end_to_end_ratio'])}**; "
        f"search per probe at 10,000 entries {s['10000']['per_probe_ms']:.2f} ms "
        f"(**{s['10000']['share_of_per_face_cost']:.1%}** of a face's cost); frame → alert "
        f"durable p50 {ms(latency['p50'])}, **p99 {ms(latency['p99'])}**"
    )


def van(mode: str) -> Callable[[Result], str]:
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


def van_met(mode: str) -> Callable[[Result], bool]:
    return lambda r: all(r[mode]["goals_met"].values())


def console(r: Result) -> str:
    p = r["post_to_card"]
    return (
        f"{r['alerts']} alerts: p50 {ms(p['p50_ms'])}, **p99 {ms(p['p99_ms'])}** "
        f"(the page's own share p99 {ms(r['card_after_sse_event']['p99_ms'])})"
    )


def audit(r: Result) -> str:
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


def oversight(r: Result) -> str:
    large = r["runs"][-1]
    growth = r["large_over_small"]
    return (
        f"at {n(large['events'])} events: subject access "
        f"{ms(large['subject_access']['index_s'] * 1000)} "
        f"(×{growth['subject_access_index']:.2f}), a day's retention "
        f"{ms(large['retention_day']['index']['seconds'] * 1000)} "
        f"(**×{growth['retention_index']:.2f}** of {n(r['runs'][0]['events'])})"
    )


def rolling(r: Result) -> str:
    s, p = r["sqlite"][-1], r["postgres"][-1]
    return (
        f"at {n(s['events'])} events, an hour of one-a-minute slices: SQLite "
        f"**{s['core_seconds_per_hour']:.1f} core-s**, PostgreSQL "
        f"**{p['core_seconds_per_hour']:.1f} s** (client CPU {p['hour_of_slices_cpu_s']:.1f})"
    )


def inclusion(r: Result) -> str:
    s, p = r["sqlite"][-1], r["postgres"][-1]
    return (
        f"at {n(s['events'])} events: SQLite median "
        f"**{ms(s['single_event_in_checkpoint_ms_median'])}** (p95 "
        f"{ms(s['single_event_in_checkpoint_ms_p95'])}), PostgreSQL median "
        f"**{ms(p['single_event_in_checkpoint_ms_median'])}** (p95 "
        f"{ms(p['single_event_in_checkpoint_ms_p95'])})"
    )


def enrolment(r: Result) -> str:
    one, many = r["cases"]["one-face-24mp"], r["cases"]["many-faces-23mp"]
    return (
        f"a 24 MP photo: {one['seconds']:.2f} s, peak growth {one['peak_growth_mb']} MB, "
        f"kept {one['rss_mb_after'] - one['rss_mb_before']} MB; a 23 MP crowd: refused in "
        f"{many['seconds']:.2f} s with {many['faces_embedded']} embedded"
    )


def int8(r: Result) -> str:
    gate = r["recipes"][r["default_recipe"]]["gate"]
    speed = r["speed"]["threads_1_batch_1"]
    return (
        f"drift **{gate['max_drift']:.4f}**; {speed[r['default_recipe']]['ms_per_face']:.1f} vs "
        f"{speed['fp32']['ms_per_face']:.1f} ms per face on one thread "
        f"(×{speed[r['default_recipe']]['ratio_to_fp32']:.2f})"
    )


def kek(r: Result) -> str:
    return (
        f"unseal, key file {r['file, no cache']['unseal_us']:.0f} µs, SoftHSM2 "
        f"{r['pkcs11-softhsm2, no cache']['unseal_us']:.0f} µs uncached, "
        f"{r['pkcs11-softhsm2, cache']['unseal_us']:.0f} µs cached"
    )


def backup(r: Result) -> str:
    s, p = r["sqlite"][-1], r["postgres"][-1]
    return (
        f"{n(s['events'])} events: SQLite backup {s['backup_s']:.2f} s, **restore "
        f"{s['restore_s']:.2f} s**; PostgreSQL backup {p['backup_s']:.2f} s, **restore "
        f"{p['restore_s']:.2f} s**"
    )


def national(r: Result) -> str:
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
