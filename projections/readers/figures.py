"""Figures worked out from view rows that more than one reader gives: a ratio that is null
without a denominator, a deployment's hours live, and the blue watchlist's figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

# A view row by column name, or a reply being built from rows before msgspec types it.
Row = dict[str, Any]


def ratio(numerator: float, denominator: float | None) -> float | None:
    return numerator / denominator if denominator else None


def hours_live(operation: Row | None, now: datetime, window_end: str | None = None) -> float:
    """Hours a deployment was live: its closed live intervals, and the open one up to `now`,
    at most to the end of its authorised window (where the ledger ends it)."""
    if operation is None:
        return 0.0
    ms = int(operation["live_ms"])
    if operation["live_since"] is not None:
        since = datetime.fromisoformat(operation["live_since"])
        until = now if window_end is None else min(now, datetime.fromisoformat(window_end))
        ms += max(int((until - since).total_seconds() * 1000), 0)
    return ms / 3_600_000


def blue_figures(alerts: Iterable[Row], walk_pasts: Iterable[Row], entries: int) -> Row:
    """The blue watchlist's figures (see `BlueFigures`): each blue entry's walk-pasts count as
    identified up to its alerts adjudicated match."""
    alerts = list(alerts)
    matched: dict[str, int] = defaultdict(int)
    for a in alerts:
        if a["decision"] == "match":
            matched[a["entry_id"]] += 1
    passes: dict[str, int] = defaultdict(int)
    for w in walk_pasts:
        passes[w["entry_id"]] += 1
    identified = sum(min(n, matched.get(entry, 0)) for entry, n in passes.items())
    total = sum(passes.values())
    return {
        "blue_entries": entries,
        "walk_pasts": total,
        "alerts": len(alerts),
        "true_alerts": sum(matched.values()),
        "identified_walk_pasts": identified,
        "true_positive_identification_rate": ratio(identified, total),
    }
