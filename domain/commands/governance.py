"""The register of governance documents: versions registered and documents withdrawn by an
authorising officer or an admin, read by the proposal and the authority that cite them
(`domain/governance.py`)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.commands.base import LedgerBase
from lfr_ledger.domain.errors import NotFound
from lfr_ledger.domain.governance import (
    REGISTRARS,
    DocumentVersion,
    GovernanceDocument,
    GovernanceDocumentTopic,
    document_kind,
    reference_of,
)


class GovernanceCommands(LedgerBase):
    def register_document(
        self,
        actor: Actor,
        *,
        kind: str,
        reference: str,
        version: str,
        title: str,
        approved_on: date,
        review_by: date,
        expires_on: date | None = None,
        model_id: str | None = None,
        digest: str | None = None,
        approved_by: str | None = None,
    ) -> UUID:
        """Registers a version of the document `kind` `reference` (entering the document in
        the register with its first version) and returns the document's id. Registering the
        very same version again records nothing. `approved_by` names the office or board
        that approved it; without it, the registering officer vouches for the approval."""
        actor.require(*REGISTRARS)
        kind = document_kind(kind)
        reference = reference_of(reference)
        document_id = GovernanceDocument.id_for(kind, reference)
        now = self.clock()
        if self._exists(document_id):
            document = self.governance_document(document_id)
        else:
            document = GovernanceDocument.register(
                kind=kind, reference=reference, actor=actor, occurred_at=now
            )
        recorded = document.register_version(
            version=version,
            title=title,
            approved_on=approved_on,
            review_by=review_by,
            expires_on=expires_on,
            approved_by=approved_by if approved_by is not None else actor.id,
            model_id=model_id,
            digest=digest,
            actor=actor,
            occurred_at=now,
        )
        # A document entered at once by two registrars: the second save is a ConcurrentWrite.
        if recorded:
            self._commit(document)
        return document_id

    def withdraw_document(self, actor: Actor, document_id: UUID, *, reason: str) -> None:
        """From now on the document is not current, whatever its dates; deployments that
        cited it keep the versions they cited."""
        actor.require(*REGISTRARS)
        document = self.governance_document(document_id)
        document.withdraw(reason=reason, actor=actor, occurred_at=self.clock())
        self._commit(document)

    def governance_document(self, document_id: UUID) -> GovernanceDocument:
        return self._load(GovernanceDocument, document_id, "governance document")

    def registered_document(self, kind: str, reference: str) -> GovernanceDocument | None:
        """The document `kind` `reference`, if registered (read only: never changed here)."""
        document_id = GovernanceDocument.id_for(document_kind(kind), reference.strip())
        try:
            return self._load(
                GovernanceDocument, document_id, "governance document", to_change=False
            )
        except NotFound:
            return None

    def current_document(
        self, kind: str, reference: str, at: datetime | None = None
    ) -> DocumentVersion | None:
        """The version of `kind` `reference` in force at `at` (now by default), or None when
        the document is unknown, withdrawn, expired or due for review."""
        document = self.registered_document(kind, reference)
        return None if document is None else document.current_at(at or self.clock())

    def documents(self, kind: str | None = None) -> list[GovernanceDocument]:
        """Every registered document (of `kind`), with its versions, in the order entered:
        a scan of the register's topic, a short list (a force keeps tens of documents)."""
        wanted = None if kind is None else document_kind(kind)
        found = [
            self._load(
                GovernanceDocument,
                UUID(str(n.originator_id)),
                "governance document",
                to_change=False,
            )
            for n in self._scan([GovernanceDocumentTopic.REGISTERED])
        ]
        return [d for d in found if wanted is None or d.kind == wanted]
