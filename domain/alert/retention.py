"""The Alert's retention facet: the holds that keep its images and notes past their retention
(an authorising officer's legal hold, the evidential hold the policy places on an outcome) and
their erasure. Its events are the Alert's own (`domain/facets.py`)."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertTopic, HoldKind
from lfr_ledger.domain.alert.outcome import Outcome
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition
from lfr_ledger.domain.facets import AggregateFacet


class AlertRetention(AggregateFacet):
    """Holds and erasure. The state it reads and sets (`legal_hold`, `hold_kind`,
    `images_erased_at`) starts in `Alert.__init__`."""

    legal_hold: str | None
    hold_kind: str | None
    images_erased_at: datetime | None

    def place_legal_hold(
        self, *, reason: str, proceedings_ref: str, actor: Actor, occurred_at: datetime
    ) -> None:
        actor.require(Role.AUTHORISING_OFFICER)
        if self.legal_hold is not None:
            raise InvalidTransition(f"alert {self.id} is already under legal hold")
        if self.images_erased_at is not None:
            raise InvalidTransition(f"alert {self.id}'s images were already erased")
        if not reason.strip() or not proceedings_ref.strip():
            raise InvalidInput("a legal hold needs a reason and a proceedings reference")
        self._legal_hold_placed(
            reason=reason.strip(),
            proceedings_ref=proceedings_ref.strip(),
            kind=HoldKind.LEGAL,
            actor=actor,
            occurred_at=occurred_at,
        )

    def needs_evidential_hold(self, outcome: Outcome, hold_on: tuple[str, ...]) -> bool:
        """Whether recording `outcome` puts the alert's images under an evidential hold: its
        type is in the policy's `retention.evidential_hold_on`, and nothing holds them yet."""
        return (
            outcome.type.value in hold_on
            and self.legal_hold is None
            and self.images_erased_at is None
        )

    def place_evidential_hold(
        self, *, outcome: Outcome, policy_version: str, actor: Actor, occurred_at: datetime
    ) -> None:
        """The hold the policy places on an outcome (an arrest): recorded as a LegalHoldPlaced
        of kind "evidential", whose basis is the policy version, by whoever recorded the
        outcome. An authorising officer releases it like any legal hold."""
        if self.legal_hold is not None or self.images_erased_at is not None:
            raise InvalidTransition(f"alert {self.id} is already held or erased")
        self._legal_hold_placed(
            reason=f"evidential hold on {outcome.type.value} (retention.evidential_hold_on)",
            proceedings_ref=f"policy {policy_version}",
            kind=HoldKind.EVIDENTIAL,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("LegalHoldPlaced", topic=AlertTopic.LEGAL_HOLD_PLACED)
    def _legal_hold_placed(
        self,
        *,
        reason: str,
        proceedings_ref: str,
        actor: Actor,
        occurred_at: datetime,
        # Absent from holds placed before release 3: all placed by hand for proceedings.
        kind: str = HoldKind.LEGAL,
    ) -> None:
        self.legal_hold = proceedings_ref
        self.hold_kind = kind

    def release_legal_hold(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        actor.require(Role.AUTHORISING_OFFICER)
        if self.legal_hold is None:
            raise InvalidTransition(f"alert {self.id} is not under legal hold")
        if not reason.strip():
            raise InvalidInput("releasing a legal hold needs a reason")
        self._legal_hold_released(reason=reason.strip(), actor=actor, occurred_at=occurred_at)

    @event("LegalHoldReleased", topic=AlertTopic.LEGAL_HOLD_RELEASED)
    def _legal_hold_released(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        self.legal_hold = None
        self.hold_kind = None

    def erase_images(self, *, rule: str, actor: Actor, occurred_at: datetime) -> None:
        if self.legal_hold is not None:
            # Its kind, never its proceedings reference: refusals reach logs and reports.
            raise InvalidTransition(
                f"alert {self.id} is under a legal hold ({self.hold_kind or HoldKind.LEGAL}); "
                "its images are kept"
            )
        if self.images_erased_at is not None:
            raise InvalidTransition(f"alert {self.id}'s images were already erased")
        self._images_erased(rule=rule, actor=actor, occurred_at=occurred_at)

    @event("ImagesErased", topic=AlertTopic.IMAGES_ERASED)
    def _images_erased(self, *, rule: str, actor: Actor, occurred_at: datetime) -> None:
        self.images_erased_at = occurred_at
