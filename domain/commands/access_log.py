"""The access log (DPA 2018 Part 3 s.62): who consulted or disclosed personal data, and why."""

from __future__ import annotations

from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.commands.base import SYSTEM, LedgerBase
from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.domain.records import Consultation, Disclosure


class AccessLogCommands(LedgerBase):
    # --- access log -------------------------------------------------------------------------

    def record_consultation(self, actor: Actor, *, record: str, purpose: str) -> UUID:
        if not purpose.strip():
            raise InvalidInput("reading personal data needs a stated purpose")
        with self._fresh_key() as consultation_id:
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
        actor.require(Role.AUTHORISING_OFFICER, Role.OVERSIGHT)
        if not recipient.strip() or not legal_basis.strip():
            raise InvalidInput("a disclosure needs its recipient and legal basis")
        if not record.strip():
            raise InvalidInput("a disclosure needs the record it discloses")
        # Who received what can identify a person (a data subject's solicitor, a SAR digest):
        # sealed under the disclosure's own key, which access-log retention shreds.
        with self._fresh_key() as disclosure_id:
            disclosure = Disclosure(
                id=disclosure_id,
                recipient=self._seal_text(disclosure_id, "recipient", recipient.strip()),
                record=self._seal_text(disclosure_id, "record", record.strip()),
                legal_basis=legal_basis.strip(),
                actor=actor,
                occurred_at=self.clock(),
            )
            self._commit(disclosure)
        return disclosure.id

    def consultation(self, consultation_id: UUID) -> Consultation:
        return self._load(Consultation, consultation_id, "consultation")

    def disclosure(self, disclosure_id: UUID) -> Disclosure:
        return self._load(Disclosure, disclosure_id, "disclosure")

    def reveal_disclosure(
        self, disclosure_id: UUID, recipient: str, record: str
    ) -> tuple[str, str]:
        """(recipient, record) in clear; "[erased]" once retention shredded their key."""
        return (
            self.reveal_text(disclosure_id, "recipient", recipient),
            self.reveal_text(disclosure_id, "record", record),
        )

    # --- the access log's own retention -----------------------------------------------------

    def destroy_consultation_purpose(
        self, consultation_id: UUID, *, rule: str, actor: Actor = SYSTEM
    ) -> None:
        """Records the destruction (who, which rule, when), then shreds the purpose's key: the
        record of the access remains, its stated purpose is gone from every copy of the log."""
        consultation = self.consultation(consultation_id)
        consultation.destroy_purpose(rule=rule, actor=actor, occurred_at=self.clock())
        self._commit(consultation)
        self.vault.shred(consultation_id)

    def destroy_disclosure_content(
        self, disclosure_id: UUID, *, rule: str, actor: Actor = SYSTEM
    ) -> None:
        """The same for a disclosure: its recipient and record text go, the fact, the actor,
        the time and the legal basis stay."""
        disclosure = self.disclosure(disclosure_id)
        disclosure.destroy_content(rule=rule, actor=actor, occurred_at=self.clock())
        self._commit(disclosure)
        self.vault.shred(disclosure_id)
