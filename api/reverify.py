"""The rolling re-verification, composed: one slice of the pass (`eventlog/rolling.py`), its
progress kept beside the read models (`projections/reverification.py`), and tampering it finds
raised as an alarm in the log (`CaseLedger.raise_integrity_alarm`) and in the server's log.

`lfr serve` runs `reverify_step` every minute through `run_alone` (one node at a time on
PostgreSQL); `lfr audit reverify` runs one by hand (cron, tests)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.clock import utcnow
from lfr_ledger.eventlog.chain.wiring import resolve_events_table
from lfr_ledger.eventlog.key_audit import LEDGER_TABLES
from lfr_ledger.eventlog.rolling import RUN_EVERY_SECONDS, SliceResult, run_slice
from lfr_ledger.projections.reverification import load_rolling, save_rolling

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from lfr_ledger.domain.application import CaseLedger

log = logging.getLogger("lfr.reverify")

JOB_ID = "audit:reverify"


def reverify_step(
    settings: Settings,
    ledger: CaseLedger | Callable[[], CaseLedger] | None = None,
    *,
    now: datetime | None = None,
    events: int | None = None,
    events_table: str | None = None,
) -> SliceResult | None:
    """Re-hashes the next slice and keeps where the pass stands; None when there is no log
    yet, or when another runner recorded a slice meanwhile (its own result stands).

    Tampering found is logged as an error (ids and kind only) and, for the case ledger's own
    log, recorded as an `IntegrityAlarm` through `ledger` (or the one it builds): oversight
    sees it in `GET /audit/verify` from the table at once, and in the log for good."""
    moment = now or utcnow()
    table = resolve_events_table(settings, events_table)
    if table is None:
        return None
    before = load_rolling(settings, table)
    result = run_slice(
        settings,
        before,
        now=moment,
        period=timedelta(hours=settings.reverify_period_hours),
        max_events=settings.reverify_max_events_per_minute,
        events=events,
        events_table=table,
    )
    if result is None or not save_rolling(settings, result.state, before):
        return None
    found = result.tampered
    if found is not None:
        log.error(
            "rolling re-verification: the log is tampered with at notification %s (%s)",
            found.first_bad_id,
            found.reason,
        )
        if table in LEDGER_TABLES and ledger is not None:
            _raise_alarm(ledger, table, found.first_bad_id, found.reason or "", found.detail)
    elif result.completed:
        log.info("rolling re-verification: events 1–%d intact", result.state.intact_last_id or 0)
    return result


def _raise_alarm(
    ledger: CaseLedger | Callable[[], CaseLedger],
    table: str,
    notification_id: int | None,
    kind: str,
    detail: str,
) -> None:
    """The alarm in the log; the table already holds the finding, so a log that will not take
    one more event (or a ledger that will not open on it) loses nothing oversight reads."""
    from lfr_ledger.domain.application import CaseLedger

    built_here = not isinstance(ledger, CaseLedger)
    try:
        case_ledger = ledger if isinstance(ledger, CaseLedger) else ledger()
    except Exception as e:  # the ledger replays its policy from the log, which may be the
        # tampered part: the finding is kept all the same
        log.error(
            "rolling re-verification: no ledger to record the alarm in (%s)", type(e).__name__
        )
        return
    try:
        case_ledger.raise_integrity_alarm(
            events_table=table, notification_id=notification_id, kind=kind, detail=detail
        )
    except Exception as e:  # the type only: the message could quote stored data
        log.error("rolling re-verification: the alarm was not recorded (%s)", type(e).__name__)
    finally:
        if built_here:
            case_ledger.close()


def schedule_reverification(
    scheduler: BaseScheduler, settings: Settings, ledger: CaseLedger
) -> None:
    """Every minute, on one node at a time: the next slice of the rolling pass."""
    from lfr_ledger.api.scheduling import every_alone

    every_alone(
        scheduler, settings, JOB_ID, reverify_step, settings, ledger, seconds=RUN_EVERY_SECONDS
    )
