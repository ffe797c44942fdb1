"""The Alert's engagement facet: what the engagement officer records of the person the alert
named (engaged or not, the identity confirmed or not, when, and why a false alert was false)
and, for equality monitoring, what the officer perceived. Its events are the Alert's own
(`domain/facets.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import CLOCK_SKEW, AlertTopic
from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition
from lfr_ledger.domain.facets import AggregateFacet
from lfr_ledger.domain.values import Confirmation, Decision


class AlertEngagement(AggregateFacet):
    """Engagement and perceived characteristics. The state it reads and sets starts in
    `Alert.__init__`."""

    captured_at: datetime
    decision: Decision | None
    engaged: bool | None
    confirmed: Confirmation | None
    engaged_from: datetime | None
    engaged_until: datetime | None
    engagement_false_alert_factors: tuple[str, ...]
    demographics_recorded: bool

    if TYPE_CHECKING:

        def _require_open(self, doing: str) -> None: ...

    def record_engagement(
        self,
        *,
        engaged: bool,
        confirmed: Confirmation,
        actor: Actor,
        occurred_at: datetime,
        engaged_from: datetime | None = None,
        engaged_until: datetime | None = None,
        false_alert_factors: tuple[str, ...] = (),
    ) -> None:
        """`engaged_from`, `engaged_until`: when the officer was with the person (both or
        neither). `false_alert_factors`: why the alert was false, when the engagement found
        the identity not confirmed."""
        actor.require(Role.OFFICER)
        self._require_open("record an engagement")
        if self.decision is None:
            raise InvalidTransition(
                f"alert {self.id} has not been adjudicated; no one may be engaged before an "
                "operator decides"
            )
        if self.decision == Decision.NO_MATCH and engaged:
            raise InvalidTransition(
                f"alert {self.id} was adjudicated no_match; the person must not be engaged"
            )
        if self.engaged is not None:
            raise InvalidTransition(f"alert {self.id} already has its engagement recorded")
        if not engaged and Confirmation(confirmed) != Confirmation.UNKNOWN:
            raise InvalidInput("identity can only be confirmed or refuted by engaging the person")
        if false_alert_factors and Confirmation(confirmed) != Confirmation.NOT_CONFIRMED:
            raise InvalidInput(
                "false-alert factors say why an alert was false; an engagement names them only "
                'when it found the identity not confirmed (confirmed "false")'
            )
        times = self._engagement_times(engaged, engaged_from, engaged_until, occurred_at)
        self._engagement_recorded(
            engaged=engaged,
            confirmed=Confirmation(confirmed),
            actor=actor,
            occurred_at=occurred_at,
            engaged_from=times[0],
            engaged_until=times[1],
            false_alert_factors=tuple(false_alert_factors),
        )

    def _engagement_times(
        self, engaged: bool, start: datetime | None, end: datetime | None, now: datetime
    ) -> tuple[datetime | None, datetime | None]:
        """The engagement's start and end in UTC, refused unless both are given or neither, the
        person was engaged, the end is after the start, the start not before the face was
        captured and the end not in the future (each within the clock skew allowed)."""
        if start is None and end is None:
            return None, None
        if start is None or end is None:
            raise InvalidInput("engaged_from and engaged_until go together: give both, or neither")
        if not engaged:
            raise InvalidInput(
                "engaged_from and engaged_until time an engagement; this person was not engaged"
            )
        start = recorded_time(start, "engaged_from")
        end = recorded_time(end, "engaged_until")
        if end <= start:
            raise InvalidInput("engaged_until must be after engaged_from")
        if start < self.captured_at - CLOCK_SKEW:
            raise InvalidInput("engaged_from lies before the alert's face was captured")
        if end > now + CLOCK_SKEW:
            raise InvalidInput("engaged_until lies in the future")
        return start, end

    @event("EngagementRecorded", topic=AlertTopic.ENGAGEMENT_RECORDED)
    def _engagement_recorded(
        self,
        *,
        engaged: bool,
        confirmed: Confirmation,
        actor: Actor,
        occurred_at: datetime,
        # The three below are absent from engagements recorded before release 4.
        engaged_from: datetime | None = None,
        engaged_until: datetime | None = None,
        false_alert_factors: tuple[str, ...] = (),
    ) -> None:
        self.engaged = engaged
        self.confirmed = Confirmation(confirmed)
        self.engaged_from = engaged_from
        self.engaged_until = engaged_until
        self.engagement_false_alert_factors = tuple(false_alert_factors)

    def record_perceived_demographics(
        self, *, sealed_demographics: bytes, actor: Actor, occurred_at: datetime
    ) -> None:
        """Equality monitoring: what the officer perceived, sealed under its own key."""
        self.check_perceived_demographics_allowed(actor)
        self._demographics_perceived(
            sealed_demographics=sealed_demographics, actor=actor, occurred_at=occurred_at
        )

    def check_perceived_demographics_allowed(self, actor: Actor) -> None:
        actor.require(Role.OFFICER)
        if not self.engaged:
            raise InvalidTransition(
                f"perceived characteristics are recorded only for an engaged person; alert "
                f"{self.id} has no engagement"
            )
        if self.demographics_recorded:
            raise InvalidTransition(f"alert {self.id} already has perceived characteristics")

    @event("DemographicsPerceived", topic=AlertTopic.DEMOGRAPHICS_PERCEIVED)
    def _demographics_perceived(
        self, *, sealed_demographics: bytes, actor: Actor, occurred_at: datetime
    ) -> None:
        self.demographics_recorded = True
