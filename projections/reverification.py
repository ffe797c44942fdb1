"""Where the rolling re-verification stands (`eventlog/rolling.py`), kept beside the read
models in `audit_rolling_reverification`, one row per chained events table.

A slice's progress and its result are one row written by one statement, and only over the row
the slice started from: two runners that raced (the server's job and `lfr audit reverify` from
cron, on SQLite where no advisory lock decides) never both record, and the loser's slice is
simply re-done by the next run. Ids, times and hashes only: nothing here names anyone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.rolling import FinishedPass, RollingState
from lfr_ledger.projections.store import store_for

_TABLE = "audit_rolling_reverification"
_COLUMNS = (
    "events_table",
    "started_at",
    "covered",
    "anchor_id",
    "head",
    "events",
    "updated_at",
    "rehashed_total",
    "finished_started_at",
    "finished_at",
    "finished_last_id",
    "finished_events",
    "first_bad_id",
    "reason",
    "detail",
    "intact_at",
    "intact_last_id",
)
# What identifies the row a slice started from: a runner that raced another finds it changed.
_VERSION = ("started_at", "covered", "updated_at", "rehashed_total")


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _row(state: RollingState) -> tuple[Any, ...]:
    done = state.finished
    return (
        state.events_table,
        _text(state.started_at),
        state.covered,
        state.anchor_id,
        state.head,
        state.events,
        _text(state.updated_at),
        state.rehashed_total,
        _text(done.started_at) if done else None,
        _text(done.finished_at) if done else None,
        done.last_id if done else None,
        done.events if done else None,
        done.first_bad_id if done else None,
        done.reason if done else None,
        done.detail if done else None,
        _text(state.intact_at),
        state.intact_last_id,
    )


def _state(row: tuple[Any, ...]) -> RollingState:
    values = dict(zip(_COLUMNS, row, strict=True))
    finished = None
    if values["finished_at"] is not None:
        finished = FinishedPass(
            started_at=_time(values["finished_started_at"]) or datetime.min.replace(tzinfo=UTC),
            finished_at=_time(values["finished_at"]) or datetime.min.replace(tzinfo=UTC),
            last_id=int(values["finished_last_id"] or 0),
            events=int(values["finished_events"] or 0),
            first_bad_id=values["first_bad_id"],
            reason=values["reason"],
            detail=values["detail"] or "",
        )
    started = _time(values["started_at"])
    updated = _time(values["updated_at"])
    assert started is not None and updated is not None  # NOT NULL columns
    return RollingState(
        events_table=values["events_table"],
        started_at=started,
        covered=int(values["covered"]),
        anchor_id=int(values["anchor_id"]),
        head=values["head"],
        events=int(values["events"]),
        updated_at=updated,
        rehashed_total=int(values["rehashed_total"]),
        finished=finished,
        intact_at=_time(values["intact_at"]),
        intact_last_id=values["intact_last_id"],
    )


def load_rolling(settings: Settings, events_table: str | None = None) -> RollingState | None:
    """The pass of `events_table`, or of the only table kept (None before the first slice)."""
    with store_for(settings).connection() as db:
        columns = ", ".join(_COLUMNS)
        if events_table is None:
            rows = db.execute(f"SELECT {columns} FROM {_TABLE} ORDER BY events_table")
            rows = rows if len(rows) == 1 else []
        else:
            rows = db.execute(
                f"SELECT {columns} FROM {_TABLE} WHERE events_table = ?", (events_table,)
            )
    return _state(rows[0]) if rows else None


def all_rolling(settings: Settings) -> list[RollingState]:
    with store_for(settings).connection() as db:
        rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM {_TABLE} ORDER BY events_table")
    return [_state(r) for r in rows]


def save_rolling(
    settings: Settings, state: RollingState, started_from: RollingState | None
) -> bool:
    """Keeps `state` if the row still is `started_from` (absent when None); False if another
    runner recorded a slice meanwhile, and nothing is written."""
    row = _row(state)
    with store_for(settings).connection() as db, db.transaction():
        if started_from is None or started_from.events_table != state.events_table:
            marks = ", ".join("?" for _ in _COLUMNS)
            done = db.execute(
                f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES ({marks}) "
                "ON CONFLICT (events_table) DO NOTHING RETURNING events_table",
                row,
            )
            return bool(done)
        before = dict(zip(_COLUMNS, _row(started_from), strict=True))
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS[1:])
        guard = " AND ".join(f"{c} = ?" for c in _VERSION)
        done = db.execute(
            f"UPDATE {_TABLE} SET {assignments} WHERE events_table = ? AND {guard} "
            "RETURNING events_table",
            (*row[1:], state.events_table, *(before[c] for c in _VERSION)),
        )
        return bool(done)
