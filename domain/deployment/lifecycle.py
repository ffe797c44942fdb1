"""The live lifecycle: an operator starts a reviewed, authorised deployment inside its window
(its signs confirmed that day, each watchlist entry enrolled or re-confirmed recently enough),
pauses and resumes it, and ends it once every alert has its decision; the ledger ends it
itself when its window closes or its urgent authority lapses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.deployment import DeploymentTopic, EndReason
from lfr_ledger.domain.deployment.signage import uk_date
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidTransition, PolicyViolation
from lfr_ledger.domain.policy import Policy

# How many stale watchlist entries a refused start names (the rest are counted).
STALE_LISTED = 50


class Lifecycle(DeploymentState):
    def start(
        self,
        *,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
        entries_confirmed_at: Mapping[UUID, datetime],
        log_position: int | None = None,
    ) -> None:
        """`entries_confirmed_at`: each active watchlist entry, and when it was enrolled or
        last re-confirmed."""
        actor.require(Role.OPERATOR)
        self._require_status(S.AUTHORISED, doing="start")
        if not self.watchlist_reviewed:
            raise InvalidTransition(
                f"deployment {self.id}'s watchlist has not been reviewed by an authorising officer"
            )
        if not self.inside_window(occurred_at):
            raise InvalidTransition(
                f"deployment {self.id} is authorised for {self.plan.starts_at.isoformat()} to "
                f"{self.plan.ends_at.isoformat()}; it cannot start at {occurred_at.isoformat()}"
            )
        if self.urgent_authority_lapsed(occurred_at, policy):
            raise InvalidTransition(
                f"urgent authority for deployment {self.id} was not confirmed in writing "
                f"within {policy.urgent_confirmation_hours} h"
            )
        self._check_signage_today(occurred_at, policy)
        self._check_watchlist_fresh(entries_confirmed_at, occurred_at, policy)
        self._started(actor=actor, occurred_at=occurred_at, log_position=log_position)

    def _check_signage_today(self, at: datetime, policy: Policy) -> None:
        """The signs were confirmed today (UK date), before going live."""
        if not policy.signage_confirmed_before_start:
            return
        confirmed = self.signage_confirmed_at
        if confirmed is not None and uk_date(confirmed) == uk_date(at) and confirmed <= at:
            return
        last = "" if confirmed is None else f" (last confirmed {confirmed.isoformat()})"
        raise PolicyViolation(
            f"deployment {self.id}'s signage has not been confirmed today{last}: policy "
            f"{policy.version} needs the operator to record, on the day and before starting, "
            f"which signs stand where (POST /deployments/{self.id}/signage, or Confirm signage "
            "on the operator page); then start"
        )

    def _check_watchlist_fresh(
        self, confirmed_at: Mapping[UUID, datetime], at: datetime, policy: Policy
    ) -> None:
        """Each active entry was enrolled or re-confirmed recently enough before go-live: a
        warrant executed or an order lapsed since it was compiled would put a person on the
        list with no reason to be there."""
        hours = policy.reconfirm_within_hours
        if not hours:
            return
        oldest = at - timedelta(hours=hours)
        stale = [entry for entry, when in confirmed_at.items() if when < oldest]
        if not stale:
            return
        shown = ", ".join(str(e) for e in stale[:STALE_LISTED])
        more = f" and {len(stale) - STALE_LISTED} more" if len(stale) > STALE_LISTED else ""
        raise PolicyViolation(
            f"{len(stale)} active watchlist entr{'y' if len(stale) == 1 else 'ies'} of "
            f"deployment {self.id} {'was' if len(stale) == 1 else 'were'} enrolled or last "
            f"re-confirmed more than {hours} h before now, the most policy {policy.version} "
            f"allows: {shown}{more}. A watchlist manager re-confirms each (still wanted, order "
            f"still in force: POST /deployments/{self.id}/watchlist/reconfirmation) or "
            "withdraws it; then start"
        )

    @event("Started", topic=DeploymentTopic.STARTED)
    def _started(
        self, *, actor: Actor, occurred_at: datetime, log_position: int | None = None
    ) -> None:
        self.status = S.LIVE
        self.started_at = occurred_at
        self.log_position_at_start = log_position

    def check_pause(self, actor: Actor) -> None:
        """Whether `actor` may pause the deployment now: checked before its reason is sealed."""
        actor.require(Role.OPERATOR)
        self._require_status(S.LIVE, doing="pause")

    def pause(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        """`reason` arrives sealed under the deployment's notes key (or empty)."""
        self.check_pause(actor)
        self._paused(reason=reason.strip(), actor=actor, occurred_at=occurred_at)

    @event("Paused", topic=DeploymentTopic.PAUSED)
    def _paused(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        self.status = S.PAUSED

    def resume(self, *, policy: Policy, actor: Actor, occurred_at: datetime) -> None:
        actor.require(Role.OPERATOR)
        self._require_status(S.PAUSED, doing="resume")
        if self.urgent_authority_lapsed(occurred_at, policy):
            raise InvalidTransition(
                f"urgent authority for deployment {self.id} was not confirmed in writing "
                f"within {policy.urgent_confirmation_hours} h; end the deployment"
            )
        if not self.inside_window(occurred_at):
            raise InvalidTransition(
                f"deployment {self.id}'s window closed at {self.plan.ends_at.isoformat()}; "
                "end it instead"
            )
        self._resumed(actor=actor, occurred_at=occurred_at)

    @event("Resumed", topic=DeploymentTopic.RESUMED)
    def _resumed(self, *, actor: Actor, occurred_at: datetime) -> None:
        self.status = S.LIVE
        self.resumed_at = occurred_at  # camera health: silence counts from here

    def end(self, *, undecided_alerts: list[UUID], actor: Actor, occurred_at: datetime) -> None:
        """The operator ends the deployment, once every alert raised on it has its decision:
        human review of each alert is the condition of using LFR at all."""
        actor.require(Role.OPERATOR)
        self._require_status(S.AUTHORISED, S.LIVE, S.PAUSED, doing="end")
        if undecided_alerts:
            listed = ", ".join(str(a) for a in undecided_alerts[:10])
            more = f" and {len(undecided_alerts) - 10} more" if len(undecided_alerts) > 10 else ""
            raise InvalidTransition(
                f"deployment {self.id} has {len(undecided_alerts)} alert(s) awaiting an "
                f"operator's decision ({listed}{more}); adjudicate them, then end it"
            )
        self._ended(
            actor=actor, occurred_at=occurred_at, reason=EndReason.OPERATOR, undecided_alerts=[]
        )

    def deadline_passed(self, at: datetime, policy: Policy) -> bool:
        """Whether the deployment still runs (authorised, live or paused) past its window or on
        urgent authority that lapsed."""
        if self.status not in (S.AUTHORISED, S.LIVE, S.PAUSED):
            return False
        return at >= self.plan.ends_at or self.urgent_authority_lapsed(at, policy)

    def end_on_deadline(
        self, *, undecided_alerts: list[UUID], policy: Policy, actor: Actor, occurred_at: datetime
    ) -> bool:
        """The ledger ends a running deployment whose window closed or whose urgent authority
        lapsed, recording which alerts still await a decision. False when no deadline passed."""
        if not self.deadline_passed(occurred_at, policy):
            return False
        if self.urgent_authority_lapsed(occurred_at, policy):
            self._urgent_authority_lapsed(
                deadline=self._urgent_deadline(policy), actor=actor, occurred_at=occurred_at
            )
            reason = EndReason.URGENT_AUTHORITY_LAPSED
        else:
            reason = EndReason.WINDOW_CLOSED
        self._ended(
            actor=actor,
            occurred_at=occurred_at,
            reason=reason,
            undecided_alerts=list(undecided_alerts),
        )
        return True

    @event("UrgentAuthorityLapsed", topic=DeploymentTopic.URGENT_AUTHORITY_LAPSED)
    def _urgent_authority_lapsed(
        self, *, deadline: datetime | None, actor: Actor, occurred_at: datetime
    ) -> None:
        pass

    @event("Ended", topic=DeploymentTopic.ENDED)
    def _ended(
        self,
        *,
        actor: Actor,
        occurred_at: datetime,
        # Both absent from deployments ended before release 3: all ended by their operator.
        reason: str = EndReason.OPERATOR,
        undecided_alerts: list[UUID] | None = None,
    ) -> None:
        self.status = S.ENDED
        self.ended_at = occurred_at
        self.end_reason = reason
        self.undecided_at_end = list(undecided_alerts or [])
