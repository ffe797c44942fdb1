"""The access log (DPA 2018 Part 3 s.62): who consulted or disclosed personal data, and why."""

from __future__ import annotations

from uuid import UUID, uuid4

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.domain.records import Consultation, Disclosure


class AccessLogCommands(LedgerBase):
    # --- access log -------------------------------------------------------------------------

    def record_consultation(self, actor: Actor, *, record: str, purpose: str) -> UUID:
        if not purpose.strip():
            raise InvalidInput("reading personal data needs a stated purpose")
        consultation_id = uuid4()
        with self._new_key(consultation_id):
            consultation = Consultation(
                id=consultation_id,
                record=record,
                purpose=self._seal_text(consultation_id, "purpose", purpose.strip()),
                actor=actor,
                occurred_at=self.clock(),
            )
            self._commit(consultation)
        return consultation.id

    def record_disclosure(
        self, actor: Actor, *, recipient: str, record: str, legal_basis: str
    ) -> UUID:
        if not recipient.strip() or not legal_basis.strip():
            raise InvalidInput("a disclosure needs its recipient and legal basis")
        disclosure = Disclosure(
            recipient=recipient.strip(),
            record=record,
            legal_basis=legal_basis.strip(),
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(disclosure)
        return disclosure.id
