"""One subject on one deployment's watchlist.

The subject's name, the rationale (free text that may identify them), the image and the
template are sealed under the entry's own key; so are the offence, the legal basis (a warrant or
an order), the image's source, a child's justification and the description an officer engages
by, as sealed text in their string fields. The clear fields are those oversight and statistics
need and that identify no one.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition
from lfr_ledger.domain.values import EntryStatus


class WatchlistEntryTopic:
    """The stored topic of each WatchlistEntry event. Stable strings, so classes can move without
    breaking stored events; readers of the log filter on these, never on literals."""

    ENROLLED = "lfr/WatchlistEntry.Enrolled"
    WITHDRAWN = "lfr/WatchlistEntry.Withdrawn"
    RECONFIRMED = "lfr/WatchlistEntry.Reconfirmed"
    DESTROYED = "lfr/WatchlistEntry.Destroyed"


class WatchlistEntry(Aggregate):
    TOPIC = "lfr/WatchlistEntry"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/WatchlistEntry.Created"

    @classmethod
    def enrol(
        cls,
        *,
        id: UUID,
        deployment_id: UUID,
        subject_digest: str,
        sealed_subject_ref: bytes,
        sealed_name: bytes,
        sealed_rationale: bytes,
        category: str,
        legal_basis: str,
        offence: str,
        image_source: str,
        image_taken_on: date | None,
        under_18: bool,
        under_18_justification: str | None,
        model_id: str | None,
        sealed_image: bytes | None,
        sealed_template: bytes | None,
        actor: Actor,
        occurred_at: datetime,
        description: str | None = None,
    ) -> WatchlistEntry:
        actor.require(Role.WATCHLIST_MANAGER)
        for field, value in (
            ("legal_basis", legal_basis),
            ("offence", offence),
            ("image_source", image_source),
        ):
            if not value.strip():
                raise InvalidInput(f"an enrolment needs {field}")
        if image_taken_on is not None and image_taken_on > occurred_at.date():
            raise InvalidInput("image_taken_on cannot be in the future")
        if sealed_template is not None and model_id is None:
            raise InvalidInput("a template needs the id of the model that computed it")
        return cls(
            id=id,
            deployment_id=deployment_id,
            subject_digest=subject_digest,
            sealed_subject_ref=sealed_subject_ref,
            sealed_name=sealed_name,
            sealed_rationale=sealed_rationale,
            category=category,
            legal_basis=legal_basis.strip(),
            offence=offence.strip(),
            image_source=image_source.strip(),
            image_taken_on=image_taken_on.isoformat() if image_taken_on else None,
            under_18=under_18,
            under_18_justification=under_18_justification,
            model_id=model_id,
            sealed_image=sealed_image,
            sealed_template=sealed_template,
            actor=actor,
            occurred_at=occurred_at,
            description=description,
        )

    @event("Enrolled", topic=WatchlistEntryTopic.ENROLLED)
    def __init__(
        self,
        *,
        id: UUID,
        deployment_id: UUID,
        subject_digest: str,
        sealed_subject_ref: bytes,
        sealed_name: bytes,
        sealed_rationale: bytes,
        category: str,
        legal_basis: str,
        offence: str,
        image_source: str,
        image_taken_on: str | None,
        under_18: bool,
        model_id: str | None,
        sealed_image: bytes | None,
        sealed_template: bytes | None,
        actor: Actor,
        occurred_at: datetime,
        # Sealed text; absent from entries enrolled before release 3.
        under_18_justification: str | None = None,
        # Sealed text: how the officer sent to engage knows the person (build, clothing, marks,
        # warning markers). Optional; absent from entries enrolled before issue 25.
        description: str | None = None,
    ) -> None:
        self.deployment_id = deployment_id
        self.subject_digest = subject_digest
        self.sealed_subject_ref = sealed_subject_ref
        self.sealed_name = sealed_name
        self.sealed_rationale = sealed_rationale
        self.category = category
        self.legal_basis = legal_basis
        self.offence = offence
        self.image_source = image_source
        self.image_taken_on = image_taken_on
        self.under_18 = under_18
        self.under_18_justification = under_18_justification
        self.description = description
        self.model_id = model_id
        self.sealed_image = sealed_image
        self.sealed_template = sealed_template
        self.enrolled_by = actor.id
        self.enrolled_at = occurred_at
        # When a watchlist manager last stated the entry is still wanted: its enrolment, or its
        # latest re-confirmation. A start needs it recent (policy `reconfirm_within_hours`).
        self.confirmed_at = occurred_at
        self.status = EntryStatus.ACTIVE

    @property
    def is_active(self) -> bool:
        return self.status == EntryStatus.ACTIVE

    @property
    def has_template(self) -> bool:
        return self.sealed_template is not None

    def withdraw(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        actor.require(Role.WATCHLIST_MANAGER, Role.AUTHORISING_OFFICER)
        if not self.is_active:
            raise InvalidTransition(f"watchlist entry {self.id} is already {self.status}")
        if not reason.strip():
            raise InvalidInput("a withdrawal needs a reason")
        self._withdrawn(reason=reason.strip(), actor=actor, occurred_at=occurred_at)

    @event("Withdrawn", topic=WatchlistEntryTopic.WITHDRAWN)
    def _withdrawn(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        self.status = EntryStatus.WITHDRAWN

    def check_reconfirmation(self, *, still_in_force: bool, checked: str, actor: Actor) -> None:
        """Whether `actor` may re-confirm the entry now: checked before `checked` is sealed."""
        actor.require(Role.WATCHLIST_MANAGER)
        if not self.is_active:
            raise InvalidTransition(
                f"watchlist entry {self.id} is {self.status}: only an active entry is re-confirmed"
            )
        if not still_in_force:
            raise InvalidInput(
                f"re-confirming entry {self.id} states that the reason for it still holds (still "
                "wanted, order still in force); if it no longer does, withdraw the entry instead",
                field="still_in_force",
            )
        if not checked.strip():
            raise InvalidInput(
                "a re-confirmation says what was checked (e.g. the warrant on the PNC, the "
                "court order's register) and when",
                field="checked",
            )
        if len(checked.strip()) > 2000:
            raise InvalidInput("checked is longer than 2000 characters", field="checked")

    def reconfirm(
        self, *, still_in_force: bool, checked: str, actor: Actor, occurred_at: datetime
    ) -> None:
        """A watchlist manager states the entry is still wanted. `checked` (what was checked)
        arrives sealed under the entry's key."""
        self.check_reconfirmation(still_in_force=still_in_force, checked=checked, actor=actor)
        self._reconfirmed(
            still_in_force=still_in_force, checked=checked, actor=actor, occurred_at=occurred_at
        )

    @event("Reconfirmed", topic=WatchlistEntryTopic.RECONFIRMED)
    def _reconfirmed(
        self, *, still_in_force: bool, checked: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.confirmed_at = occurred_at

    def destroy(self, *, rule: str, actor: Actor, occurred_at: datetime) -> None:
        """Records that the entry's key was (about to be) shredded: metadata only."""
        if self.status == EntryStatus.DESTROYED:
            raise InvalidTransition(f"watchlist entry {self.id} is already destroyed")
        self._destroyed(rule=rule, actor=actor, occurred_at=occurred_at)

    @event("Destroyed", topic=WatchlistEntryTopic.DESTROYED)
    def _destroyed(self, *, rule: str, actor: Actor, occurred_at: datetime) -> None:
        self.status = EntryStatus.DESTROYED
        self.destroyed_at = occurred_at
        # The policy's rule it was destroyed under, as subject access reports it.
        self.destruction_rule = rule
