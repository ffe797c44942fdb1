"""The period a report covers, from what a client asked for: `from`/`to`, a year or a month."""

from __future__ import annotations

from datetime import date, timedelta

from lfr_ledger.domain.errors import InvalidInput


def period_bounds(
    start: str | None = None,
    end: str | None = None,
    *,
    year: int | None = None,
    month: str | None = None,
) -> tuple[date, date]:
    """The dates (both inclusive) a report covers: `from`/`to` as YYYY-MM-DD, or a whole
    `year`, or a whole `month` (YYYY-MM). Exactly one of the three ways; InvalidInput else."""
    ways = sum(x is not None for x in (year, month)) + (start is not None or end is not None)
    if ways != 1:
        raise InvalidInput("give the period as from and to (YYYY-MM-DD), or year, or month")
    try:
        if year is not None:
            if not 2000 <= year <= 2999:
                raise ValueError(f"year {year} out of range")
            return date(year, 1, 1), date(year, 12, 31)
        if month is not None:
            if len(month) != 7 or month[4] != "-":
                raise ValueError(month)
            first = date(int(month[:4]), int(month[5:]), 1)
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return first, following - timedelta(days=1)
        if start is None or end is None:
            raise ValueError("both from and to are needed")
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        if len(start) != 10 or len(end) != 10:
            raise ValueError("dates are YYYY-MM-DD")
    except ValueError as bad:
        raise InvalidInput(
            f"invalid period ({bad}): from and to are YYYY-MM-DD, year YYYY, month YYYY-MM"
        ) from None
    if last < first:
        raise InvalidInput("`to` must not be before `from`")
    return first, last
