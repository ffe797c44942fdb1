"""The ledger's clock: every `occurred_at` and every "now" in the system comes from here."""

from __future__ import annotations

from datetime import UTC, datetime

from lfr_ledger.domain.errors import InvalidInput


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (naive datetimes are refused everywhere they enter)."""
    return datetime.now(UTC)


# Every time the ledger records lies in this window: wide enough for any real record, narrow
# enough that each converts to UTC, to a date and back without overflowing (year 1 at +00:30
# or year 9999 at −01:00 would halt every reader).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def recorded_time(value: datetime, field: str) -> datetime:
    """`value` in UTC, refused unless it carries a UTC offset and lies in [EARLIEST, LATEST)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a time zone offset, e.g. 2025-06-02T10:00:00Z")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise InvalidInput(
            f"{field} must lie between {EARLIEST.year} and {LATEST.year - 1} (got year "
            f"{value.year})"
        )
    return utc
