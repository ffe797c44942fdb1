"""The deployment's watchlist: entries enrolled while it is proposed or authorised, the review
an authorising officer gives the whole list before it may start, and its destruction once
the deployment is over."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidTransition, PolicyViolation
from lfr_ledger.domain.policy import Policy


class Watchlist(DeploymentState):
    def add_watchlist_entry(
        self,
        *,
        entry_id: UUID,
        category: str,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
        subject_digest: str | None = None,
    ) -> None:
        actor.require(Role.WATCHLIST_MANAGER)
        self._require_status(
            S.PROPOSED,
            S.AUTHORISED,
            doing="enrol: the watchlist is frozen once the deployment starts",
        )
        self._check_separation("compile_watchlist", actor, policy)
        if category not in self.plan.watchlist_categories:
            raise PolicyViolation(
                f"category {category!r} is not among this deployment's authorised categories: "
                + ", ".join(self.plan.watchlist_categories)
            )
        self._watchlist_entry_added(
            entry_id=entry_id,
            category=category,
            actor=actor,
            occurred_at=occurred_at,
            subject_digest=subject_digest,
        )

    @event("WatchlistEntryAdded", topic=DeploymentTopic.WATCHLIST_ENTRY_ADDED)
    def _watchlist_entry_added(
        self,
        *,
        entry_id: UUID,
        category: str,
        actor: Actor,
        occurred_at: datetime,
        subject_digest: str | None = None,  # absent from entries added before release 2
    ) -> None:
        self.entry_ids.append(entry_id)
        if subject_digest is not None:
            self.entries_by_subject[subject_digest] = entry_id
        self._note_duty("compile_watchlist", actor.id)
        # A reviewed watchlist that changes must be reviewed again.
        self.watchlist_reviewed = False

    def check_reconfirmation(self, actor: Actor, policy: Policy) -> None:
        """Whether `actor` may re-confirm entries of this watchlist (still wanted, order still
        in force) now: a compiler's duty, until the deployment ends. The entries record it."""
        actor.require(Role.WATCHLIST_MANAGER)
        self._require_status(
            S.PROPOSED, S.AUTHORISED, S.LIVE, S.PAUSED, doing="re-confirm watchlist entries"
        )
        self._check_separation("compile_watchlist", actor, policy)

    def review_watchlist(
        self,
        *,
        entry_count: int,
        confirmed_count: int,
        not_excessive: bool,
        note: str,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        """`note` arrives sealed under the deployment's notes key (or empty)."""
        self.check_watchlist_review(
            entry_count=entry_count,
            confirmed_count=confirmed_count,
            not_excessive=not_excessive,
            policy=policy,
            actor=actor,
        )
        self._watchlist_reviewed(
            entry_count=entry_count, note=note.strip(), actor=actor, occurred_at=occurred_at
        )

    def check_watchlist_review(
        self,
        *,
        entry_count: int,
        confirmed_count: int,
        not_excessive: bool,
        policy: Policy,
        actor: Actor,
    ) -> None:
        """Whether `actor` may review the watchlist now: checked before its note is sealed."""
        self._require_status(S.PROPOSED, S.AUTHORISED, doing="review the watchlist")
        self._require_authority(actor, policy)
        self._check_separation("review_watchlist", actor, policy)
        if entry_count == 0:
            raise InvalidTransition(f"deployment {self.id} has an empty watchlist to review")
        if confirmed_count != entry_count:
            raise InvalidTransition(
                f"the watchlist has {entry_count} active entries, not {confirmed_count}: "
                "it changed since it was read; review it again"
            )
        if not not_excessive:
            raise PolicyViolation(
                "the reviewer did not confirm the watchlist is not excessive; "
                "remove entries, then review again"
            )

    @event("WatchlistReviewed", topic=DeploymentTopic.WATCHLIST_REVIEWED)
    def _watchlist_reviewed(
        self, *, entry_count: int, note: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.watchlist_reviewed = True
        self.reviewed_entry_count = entry_count
        self._note_duty("review_watchlist", actor.id)

    def destroy_watchlist(
        self, *, manifest: list[UUID], rule: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self._require_status(S.ENDED, S.REFUSED, doing="destroy the watchlist")
        if self.watchlist_destroyed_at is not None:
            raise InvalidTransition(f"the watchlist of deployment {self.id} is already destroyed")
        self._watchlist_destroyed(
            manifest=manifest, rule=rule, actor=actor, occurred_at=occurred_at
        )

    @event("WatchlistDestroyed", topic=DeploymentTopic.WATCHLIST_DESTROYED)
    def _watchlist_destroyed(
        self, *, manifest: list[UUID], rule: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.watchlist_destroyed_at = occurred_at
