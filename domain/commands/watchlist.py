"""Commands that compile, re-confirm, review and destroy a deployment's watchlist. Personal
fields are sealed here, under the entry's own key, before they reach an event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.commands.base import SYSTEM, LedgerBase
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition, PolicyViolation
from lfr_ledger.domain.sealing import Keyring
from lfr_ledger.domain.subject_ref import SubjectRef
from lfr_ledger.domain.values import ERASED, EntryStatus
from lfr_ledger.domain.watchlist import WatchlistEntry


@dataclass(frozen=True)
class Enrolment:
    """What a watchlist manager submits for one subject."""

    subject_ref: str
    name: str
    category: str
    legal_basis: str
    rationale: str
    offence: str
    image_source: str
    image_taken_on: date | None = None
    under_18: bool = False
    # Why a child must be on this watchlist at all: required, and sealed, when under_18.
    under_18_justification: str = ""
    # What the officer sent to engage goes by: build, clothing, marks, warning markers. Optional;
    # sealed like the offence, erased with the entry's key.
    description: str = ""


@dataclass(frozen=True)
class RevealedEntry:
    """A watchlist entry's personal fields, opened; `[erased]` once the key is shredded."""

    entry_id: UUID
    subject_ref: str
    name: str
    rationale: str
    image: bytes | None
    template: bytes | None
    erased: bool
    under_18_justification: str | None = None


class WatchlistCommands(LedgerBase):
    # --- watchlist --------------------------------------------------------------------------

    def enrol(
        self,
        actor: Actor,
        deployment_id: UUID,
        enrolment: Enrolment,
        *,
        image: bytes | None = None,
        template: bytes | None = None,
        model_id: str | None = None,
        entry_id: UUID | None = None,
    ) -> UUID:
        """Enrols one subject. `template` is the float32 embedding the matcher computed from
        `image`; an entry with neither serves an external matcher that holds the biometrics."""
        deployment = self.deployment(deployment_id)
        self.policy.check_category(enrolment.category, enrolment.rationale)
        if not enrolment.name.strip():
            raise InvalidInput("an enrolment needs the subject's name")
        subject_ref = SubjectRef.parse(enrolment.subject_ref)
        self._check_under_18(enrolment)
        if template is not None and model_id != deployment.plan.model_id:
            raise PolicyViolation(
                f"the template was computed with model {model_id!r}, but deployment "
                f"{deployment_id} matches with {deployment.plan.model_id!r}"
            )
        digest = subject_ref.digest(self.vault)
        enrolled = deployment.entries_by_subject.get(digest)
        if enrolled is not None and self.watchlist_entry(enrolled).status == EntryStatus.ACTIVE:
            raise InvalidTransition(
                f"this subject is already on deployment {deployment_id}'s watchlist as entry "
                f"{enrolled}; withdraw that entry first to enrol them again"
            )
        entry_id = entry_id or uuid4()
        now = self.clock()
        # Validate against the deployment before any key exists, so a refusal leaves nothing.
        deployment.add_watchlist_entry(
            entry_id=entry_id,
            category=enrolment.category,
            policy=self.policy,
            actor=actor,
            occurred_at=now,
            subject_digest=digest,
        )

        def seal(field: str, value: bytes) -> bytes:
            return self.vault.seal(entry_id, field, value)

        with self._new_key(entry_id):
            entry = WatchlistEntry.enrol(
                id=entry_id,
                deployment_id=deployment_id,
                subject_digest=digest,
                sealed_subject_ref=seal("subject_ref", subject_ref.text.encode()),
                sealed_name=seal("name", enrolment.name.strip().encode()),
                sealed_rationale=seal("rationale", enrolment.rationale.strip().encode()),
                category=enrolment.category,
                legal_basis=self._seal_text(entry_id, "legal_basis", enrolment.legal_basis.strip()),
                offence=self._seal_text(entry_id, "offence", enrolment.offence.strip()),
                image_source=self._seal_text(
                    entry_id, "image_source", enrolment.image_source.strip()
                ),
                image_taken_on=enrolment.image_taken_on,
                under_18=enrolment.under_18,
                under_18_justification=(
                    self._seal_text(
                        entry_id, "under_18_justification", enrolment.under_18_justification.strip()
                    )
                    if enrolment.under_18
                    else None
                ),
                model_id=model_id,
                sealed_image=seal("image", image) if image is not None else None,
                sealed_template=seal("template", template) if template is not None else None,
                actor=actor,
                occurred_at=now,
                description=(
                    self._seal_text(entry_id, "description", enrolment.description.strip())
                    if enrolment.description.strip()
                    else None
                ),
            )
            self._commit(deployment, entry)
        return entry_id

    def _check_under_18(self, enrolment: Enrolment) -> None:
        justification = " ".join(enrolment.under_18_justification.split())
        if not enrolment.under_18:
            if justification:
                raise InvalidInput(
                    "under_18_justification belongs to an entry for a person under 18; "
                    "this one has under_18 false"
                )
            return
        needed = self.policy.under_18_justification_length
        if len(justification) < needed:
            raise PolicyViolation(
                f"an entry for a person under 18 needs under_18_justification of at least "
                f"{needed} characters under policy {self.policy.version}: why this child must be "
                f"on the watchlist at all (it has {len(justification)})"
            )

    def withdraw_entry(self, actor: Actor, entry_id: UUID, reason: str) -> None:
        entry = self.watchlist_entry(entry_id)
        with self._text_key(entry_id):
            sealed = self._seal_text(entry_id, "withdrawal_reason", reason)
            entry.withdraw(reason=sealed, actor=actor, occurred_at=self.clock())
            self._commit(entry)

    def reconfirm_entries(
        self,
        actor: Actor,
        deployment_id: UUID,
        *,
        still_in_force: bool,
        checked: str,
        entry_ids: Sequence[UUID] | None = None,
    ) -> list[UUID]:
        """A watchlist manager states that each entry (every active one when `entry_ids` is
        None) is still wanted, and what was checked: that text may name the subject, so it is
        sealed under each entry's own key. All or nothing: one entry refused, none recorded."""
        deployment = self.deployment(deployment_id, to_change=False)
        deployment.check_reconfirmation(actor, self.policy)
        if entry_ids is None:
            entries = [e for e in self.watchlist(deployment_id) if e.is_active]
            if not entries:
                raise InvalidTransition(
                    f"deployment {deployment_id} has no active watchlist entry to re-confirm"
                )
        else:
            wanted = list(dict.fromkeys(entry_ids))
            if not wanted:
                raise InvalidInput(
                    "name the entries to re-confirm, or omit entry_ids for every active entry",
                    field="entry_ids",
                )
            elsewhere = [e for e in wanted if e not in deployment.entry_ids]
            if elsewhere:
                raise InvalidInput(
                    f"not on deployment {deployment_id}'s watchlist: "
                    + ", ".join(str(e) for e in elsewhere[:20])
                    + (f" and {len(elsewhere) - 20} more" if len(elsewhere) > 20 else ""),
                    field="entry_ids",
                )
            entries = [self.watchlist_entry(e) for e in wanted]
        for entry in entries:
            entry.check_reconfirmation(still_in_force=still_in_force, checked=checked, actor=actor)
        now = self.clock()
        for entry in entries:
            with self._text_key(entry.id):
                sealed = self._seal_text(entry.id, "reconfirmation_checked", checked.strip())
            entry.reconfirm(
                still_in_force=still_in_force, checked=sealed, actor=actor, occurred_at=now
            )
        self._commit(*entries)
        return [e.id for e in entries]

    def review_watchlist(
        self,
        actor: Actor,
        deployment_id: UUID,
        *,
        confirmed_count: int,
        not_excessive: bool,
        note: str = "",
    ) -> int:
        """The note, on whom the list holds, may name them: sealed under the deployment's notes
        key, erased with the watchlist."""
        deployment = self.deployment(deployment_id)
        active = sum(1 for e in self.watchlist(deployment_id) if e.is_active)
        deployment.check_watchlist_review(
            entry_count=active,
            confirmed_count=confirmed_count,
            not_excessive=not_excessive,
            policy=self.policy,
            actor=actor,
        )
        deployment.review_watchlist(
            entry_count=active,
            confirmed_count=confirmed_count,
            not_excessive=not_excessive,
            note=self._seal_deployment_note(deployment_id, "watchlist_review_note", note),
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)
        return active

    def reveal_entry(self, entry_id: UUID, *, images: bool = True) -> RevealedEntry:
        """Opens an entry's personal fields. Callers at the edge log the consultation.
        `images=False` leaves the image and the template sealed (None), for a reader that
        needs the text only."""
        entry = self._load(WatchlistEntry, entry_id, "watchlist entry", to_change=False)
        return self.reveal_loaded_entry(entry, images=images)

    def reveal_loaded_entry(
        self, entry: WatchlistEntry, *, images: bool = True, keys: Keyring | None = None
    ) -> RevealedEntry:
        """`reveal_entry` of an entry already loaded (`watchlist_entries`), its fields opened
        with `keys` when given (read for many entries at once: `PersonalDataVault.keyring`)."""
        entry_id, vault = entry.id, keys or self.vault

        def unseal(field: str, sealed: bytes | None) -> bytes | None:
            return None if sealed is None else vault.unseal(entry_id, field, sealed)

        name = unseal("name", entry.sealed_name)
        if name is None:
            return RevealedEntry(entry_id, ERASED, ERASED, ERASED, None, None, erased=True)
        return RevealedEntry(
            entry_id=entry_id,
            subject_ref=(unseal("subject_ref", entry.sealed_subject_ref) or b"").decode(),
            name=name.decode(),
            rationale=(unseal("rationale", entry.sealed_rationale) or b"").decode(),
            image=unseal("image", entry.sealed_image) if images else None,
            template=unseal("template", entry.sealed_template) if images else None,
            erased=False,
            under_18_justification=(
                None
                if entry.under_18_justification is None
                else self.reveal_text(
                    entry_id, "under_18_justification", entry.under_18_justification, keys=keys
                )
            ),
        )

    def entry_template(self, entry_id: UUID) -> bytes | None:
        """Only the template, for the matcher's index: opening the name and image as well
        would put them in a matcher node's memory for no purpose."""
        entry = self.watchlist_entry(entry_id)
        if entry.sealed_template is None:
            return None
        return self.vault.unseal(entry_id, "template", entry.sealed_template)

    def destroy_watchlist(
        self, deployment_id: UUID, *, rule: str, actor: Actor = SYSTEM
    ) -> list[UUID]:
        """Shreds every entry's key and records a manifest of what was destroyed."""
        deployment = self.deployment(deployment_id)
        entries = self.watchlist(deployment_id)
        now = self.clock()
        deployment.destroy_watchlist(
            manifest=[e.id for e in entries], rule=rule, actor=actor, occurred_at=now
        )
        pending = [e for e in entries if e.status != "destroyed"]
        for entry in pending:
            entry.destroy(rule=rule, actor=actor, occurred_at=now)
        # The record of erasure is durable before the erasure itself: a crash in between
        # leaves keys to shred on the next run, never data erased without trace.
        self._commit(deployment, *pending)
        for entry in entries:
            self.vault.shred(entry.id)
        # The deployment's notes (its review's note, its pause reasons) name whom it concerned.
        self.vault.shred(self.deployment_notes_key_id(deployment_id))
        return [e.id for e in entries]
