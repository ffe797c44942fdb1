"""The rolling re-verification: the whole log re-hashed a slice at a time, within a period.

The default check re-hashes only what was recorded since the latest signed checkpoint, so an
event edited under it is left to the checkpoint's head, and nothing looked at it again. `lfr
serve` therefore runs one slice of this pass every minute (one node at a time): each slice
re-hashes the events after the last one the previous slice re-hashed, from the head that slice
recomputed, so over its runs a pass recomputes the chain from the first event exactly as
`--full` would, at a bounded cost per minute. When a pass reaches the head of the log it is
complete and the next one starts again from the first event.

Where a pass stands (the last event re-hashed and the head recomputed there), the last pass
that finished (its range, when, and the first bad row it stopped at) and when a pass last
found the log intact are one `RollingState`, kept by the caller in one row per events table
(`projections/reverification.py`), written in one transaction with the progress it records.

Sizing: each slice takes what is left of the log (ids up to the head) over the minutes left in
the period, so the whole log is covered within it as it grows; never fewer than
`MIN_EVENTS_PER_RUN` (a small log is re-verified every few minutes, for a few milliseconds),
never more than `max_events_per_minute` (the bound on cost: at the verifier's speed a slice of
30,000 events takes well under a second of one core on either backend).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import OperationalError, ProgrammingError

from lfr_ledger.eventlog.chain.hashing import CHAIN_SUFFIX, GENESIS
from lfr_ledger.eventlog.chain.verify import ChainReport, verify_chain
from lfr_ledger.eventlog.chain.wiring import open_chain_reader, resolve_events_table

if TYPE_CHECKING:
    from lfr_ledger.config.settings import Settings

RUN_EVERY_SECONDS = 60
MIN_EVENTS_PER_RUN = 1_000
DEFAULT_PERIOD_HOURS = 24.0
DEFAULT_MAX_EVENTS_PER_MINUTE = 30_000


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class FinishedPass:
    """A pass that reached the head of the log, or stopped at its first bad row.

    Events 1–`last_id` were re-hashed and chain as they did when written; `first_bad_id`, when
    set, is the row the pass stopped at (and `reason` its kind, as the chain's verifier names
    it)."""

    started_at: datetime
    finished_at: datetime
    last_id: int
    events: int
    first_bad_id: int | None = None
    reason: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "rehashed_from": 1 if self.last_id else None,
            "rehashed_to": self.last_id or None,
            "events": self.events,
            "ok": self.ok,
            "first_bad_id": self.first_bad_id,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class RollingState:
    """Where the pass under way stands, and what the last finished pass found.

    `covered` is the highest id the pass has looked at (ids are not dense on PostgreSQL, so it
    can lie past the last event re-hashed, `anchor_id`, at whose link `head` was recomputed)."""

    events_table: str
    started_at: datetime
    covered: int
    anchor_id: int
    head: str
    events: int
    updated_at: datetime
    # Every event every slice re-hashed since this row was first written (a counter).
    rehashed_total: int = 0
    finished: FinishedPass | None = None
    # When a pass last reached the head without finding anything, and the last id it covered.
    intact_at: datetime | None = None
    intact_last_id: int | None = None

    @classmethod
    def begin(cls, events_table: str, now: datetime) -> RollingState:
        return cls(events_table, now, 0, 0, GENESIS.hex(), 0, now)

    def restarted(self, now: datetime, **changes: Any) -> RollingState:
        """The next pass, from the first event, keeping the record of the ones before."""
        return dataclasses.replace(
            self,
            started_at=now,
            covered=0,
            anchor_id=0,
            head=GENESIS.hex(),
            events=0,
            updated_at=now,
            **changes,
        )

    @property
    def first_bad_id(self) -> int | None:
        """The row the last finished pass stopped at: the alarm, until a pass finds none."""
        return self.finished.first_bad_id if self.finished is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "events_table": self.events_table,
            "under_way": {
                "started_at": _iso(self.started_at),
                "rehashed_to": self.anchor_id or None,
                "covered_to": self.covered,
                "events": self.events,
                "updated_at": _iso(self.updated_at),
            },
            "last_pass": self.finished.to_dict() if self.finished is not None else None,
            "last_intact_pass_at": _iso(self.intact_at) if self.intact_at else None,
            "last_intact_pass_to": self.intact_last_id,
            "events_rehashed_total": self.rehashed_total,
            "first_bad_id": self.first_bad_id,
        }

    def verified(self) -> str:
        """What the rolling pass vouches for, in the words of the integrity report."""
        done = self.finished
        intact = None
        if self.intact_at is not None and self.intact_last_id:
            intact = (
                f"events 1–{self.intact_last_id} re-hashed by the rolling pass completed at "
                f"{_iso(self.intact_at)}"
            )
        if done is not None and not done.ok:
            stopped = (
                f"the rolling pass finished at {_iso(done.finished_at)} stopped at event "
                f"{done.first_bad_id} ({done.reason})"
            )
            return f"{stopped}; before it, {intact}" if intact else stopped
        return intact or self.under_way()

    def under_way(self) -> str:
        return f"no rolling pass has completed yet ({self.progress()})"

    def progress(self) -> str:
        so_far = f"events 1–{self.anchor_id} re-hashed" if self.anchor_id else "nothing re-hashed"
        return f"a pass under way since {_iso(self.started_at)}: {so_far}"


def slice_size(
    state: RollingState,
    head_id: int,
    now: datetime,
    *,
    period: timedelta,
    max_events: int,
) -> int:
    """How many ids the next slice covers: what is left over the runs left in the period,
    within [MIN_EVENTS_PER_RUN, max_events]. A pass running late (a node was down) takes the
    most it may until it has caught up."""
    remaining = max(0, head_id - state.covered)
    seconds_left = (state.started_at + period - now).total_seconds()
    runs_left = max(1, int(seconds_left // RUN_EVERY_SECONDS))
    wanted = -(-remaining // runs_left)
    return max(1, min(max_events, max(MIN_EVENTS_PER_RUN, wanted)))


@dataclass(frozen=True)
class SliceResult:
    """One run: the state to keep, the ids it re-hashed, and, when it found tampering, the
    finished pass that names it (the alarm to raise)."""

    state: RollingState
    rehashed: tuple[int, int] | None
    completed: bool
    tampered: FinishedPass | None = None


def run_slice(
    settings: Settings,
    state: RollingState | None,
    *,
    now: datetime,
    period: timedelta,
    max_events: int,
    events: int | None = None,
    events_table: str | None = None,
) -> SliceResult | None:
    """Re-hashes the next slice of the pass `state` is in (a new pass without one); None when
    there is no log yet, or nothing in it. `events` overrides the slice's size (a run by hand).
    `events_table` is the chained table to re-hash, found from the settings when not given."""
    table = events_table or resolve_events_table(settings)
    if table is None:
        return None
    if state is None or state.events_table != table:
        state = RollingState.begin(table, now)
    with open_chain_reader(settings, table) as reader:
        try:
            head_id = reader.bounds()
            if head_id == 0:
                return None
            size = (
                events
                if events is not None
                else slice_size(state, head_id, now, period=period, max_events=max_events)
            )
            until = state.covered + max(1, size)
            anchor = (state.anchor_id, bytes.fromhex(state.head))
            report = verify_chain(reader, start=anchor, until=until)
        except (ProgrammingError, OperationalError) as e:
            if CHAIN_SUFFIX not in str(e):
                raise
            # Someone dropped the chain table: every link is gone.
            gone = "the chain table is gone"
            report = ChainReport(
                False, 0, state.head, state.anchor_id, state.anchor_id + 1, "chain_missing", gone
            )
    return _advance(state, report, now=now, until=until, head_id=head_id)


def _advance(
    state: RollingState, report: ChainReport, *, now: datetime, until: int, head_id: int
) -> SliceResult:
    rehashed = (state.anchor_id + 1, report.last_id) if report.events_checked else None
    events = state.events + report.events_checked
    total = state.rehashed_total + report.events_checked
    if not report.ok:
        detail = report.detail
        if report.first_bad_id == state.anchor_id and report.reason == "checkpoint_mismatch":
            detail = (
                "the stored link no longer holds the head this pass recomputed there: the chain "
                "was rewritten after the pass re-hashed it"
            )
        found = dataclasses.replace(
            FinishedPass(state.started_at, now, report.last_id, events),
            first_bad_id=report.first_bad_id,
            reason=report.reason,
            detail=detail,
        )
        # The next pass starts over, so a log restored from a copy is seen intact again.
        after = state.restarted(now, rehashed_total=total, finished=found)
        return SliceResult(after, rehashed, completed=True, tampered=found)
    if until >= head_id:
        done = FinishedPass(state.started_at, now, report.last_id, events)
        after = state.restarted(
            now, rehashed_total=total, finished=done, intact_at=now, intact_last_id=report.last_id
        )
        return SliceResult(after, rehashed, completed=True)
    after = dataclasses.replace(
        state,
        covered=until,
        anchor_id=report.last_id,
        head=report.head,
        events=events,
        updated_at=now,
        rehashed_total=total,
    )
    return SliceResult(after, rehashed, completed=False)
