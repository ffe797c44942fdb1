"""Each event the layer reads is checked against signed history before it is returned
(`eventlog/inclusion.py`: its link, and its inclusion in the latest checkpoint's Merkle tree or
its chain to the head). A failure withholds the read (`IntegrityFailure`, answered as a 409
problem naming the event and how it fails, never the data) and raises the integrity alarm the
rolling re-verification raises: an `IntegrityAlarm` in the log, which oversight reads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from uuid import UUID
from weakref import WeakKeyDictionary

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.checkpoint_signature import CheckpointError
from lfr_ledger.eventlog.inclusion import (
    FOUND_BY,
    InclusionChecker,
    InclusionReport,
    IntegrityFailure,
    kept_checkpoints_source,
)

log = logging.getLogger("lfr.integrity")

_checkers: WeakKeyDictionary[CaseLedger, tuple[Settings | None, InclusionChecker]] = (
    WeakKeyDictionary()
)
_lock = threading.Lock()


def checker_for(ledger: CaseLedger, settings: Settings | None) -> InclusionChecker | None:
    """One checker per ledger (it remembers the checkpoint's tree between reads); held to the
    checkpoints kept under `settings`, or, without settings, to the chain from the first event."""
    with _lock:
        held = _checkers.get(ledger)
        if held is not None and held[0] == settings:
            return held[1]
        chain_reader = getattr(ledger.recorder, "chain_reader", None)
        if chain_reader is None:
            return None
        source = kept_checkpoints_source(settings) if settings is not None else None
        checker = InclusionChecker(chain_reader(), source)
        _checkers[ledger] = (settings, checker)
        return checker


def check_read(
    ledger: CaseLedger,
    settings: Settings | None,
    *,
    notification_ids: Iterable[int] = (),
    originator_ids: Iterable[UUID] = (),
) -> InclusionReport | None:
    """Raises IntegrityFailure (after raising the alarm) unless every event read passes."""
    checker = checker_for(ledger, settings)
    if checker is None:
        return None
    try:
        ids = list(notification_ids)
        originators = list(originator_ids)
        if originators:
            ids.extend(checker.reader.ids_of(sorted(set(originators), key=str)))
        return checker.check(ids)
    except IntegrityFailure as failure:
        raise_alarm(
            ledger, failure.events_table, failure.notification_id, failure.reason, failure.detail
        )
        raise


def alarm_on_refused_bundle(ledger: CaseLedger, refused: CheckpointError) -> None:
    """A bundle re-hashes the whole log and signs a checkpoint extending the latest: refused,
    it found tampering, which is raised as the read's alarm too."""
    table = str(getattr(ledger.recorder, "events_table_name", ""))
    raise_alarm(ledger, table, None, "checkpoint_refused", str(refused))


def raise_alarm(
    ledger: CaseLedger, events_table: str, notification_id: int | None, kind: str, detail: str
) -> None:
    log.error(
        "integrity check on read: notification %s of %s fails (%s)",
        notification_id,
        events_table,
        kind,
    )
    try:
        ledger.raise_integrity_alarm(
            events_table=events_table,
            notification_id=notification_id,
            kind=kind,
            detail=detail,
            found_by=FOUND_BY,
        )
    except Exception as e:  # the read is refused all the same; the type only (the message
        # could quote stored data)
        log.error("integrity check on read: the alarm was not recorded (%s)", type(e).__name__)
