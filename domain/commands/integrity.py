"""The ledger's own alarm: tampering its rolling re-verification found in the log."""

from __future__ import annotations

from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.errors import ConcurrentWrite
from lfr_ledger.domain.records import IntegrityAlarm

# Who raises the alarm: the ledger's own re-verification, no person.
REVERIFICATION = Actor(id="system:reverification", role=Role.ADMIN)


class IntegrityCommands(LedgerBase):
    def raise_integrity_alarm(
        self,
        *,
        events_table: str,
        notification_id: int | None,
        kind: str,
        detail: str,
        found_by: str = "rolling_reverification",
    ) -> UUID | None:
        """Records the alarm in the log; None when this tampering (table, row, kind) was
        already alarmed, by this node or another at the same moment."""
        alarm_id = IntegrityAlarm.id_for(events_table, notification_id, kind)
        if self._exists(alarm_id):
            return None
        alarm = IntegrityAlarm(
            id=alarm_id,
            events_table=events_table,
            notification_id=notification_id,
            kind=kind,
            detail=detail,
            found_by=found_by,
            actor=REVERIFICATION,
            occurred_at=self.clock(),
        )
        try:
            self._commit(alarm)
        except ConcurrentWrite:
            return None
        return alarm.id

    def integrity_alarm(self, alarm_id: UUID) -> IntegrityAlarm:
        return self._load(IntegrityAlarm, alarm_id, "integrity alarm")
