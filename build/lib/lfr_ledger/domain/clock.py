"""The ledger's clock: every `occurred_at` and every "now" in the system comes from here."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (naive datetimes are refused everywhere they enter)."""
    return datetime.now(UTC)
