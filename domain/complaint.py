"""A complaint about a deployment: from a member of the public, a solicitor, an MP, a body that
refers it on. An authorising officer records it, linked to the deployment and, where it is
about one, to one of that deployment's alerts, and later records how it was resolved.

Who complained and what they said may identify them (and the person stopped after an alert):
the summary and the resolution's outcome are sealed under the complaint's own key. What is kept
in clear names no one: the deployment, the alert's id, when it was received, by which channel,
when it was resolved.

A deployment's complaints are numbered 1, 2, 3 … and each one's id derives from (deployment,
number), so the complaints of a deployment are found without reading the log: the review counts
them, the list reads them. Two complaints recorded at the same moment under the same number
conflict, and the second is asked to record again (never a silent overwrite).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition, PolicyViolation
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.sealing import is_sealed_text

# A bound on the numbers probed for one deployment's complaints (a loop bounded by count).
MAXIMUM_COMPLAINTS_PER_DEPLOYMENT = 10_000
# A date a person gives is their local date: it may be "tomorrow" in UTC for up to 14 hours
# (UTC+14), so a date is refused as in the future only once no place has reached it.
_LATEST_OFFSET = timedelta(hours=14)


def today_anywhere(now: datetime) -> date:
    """The latest calendar date anywhere on Earth at the instant `now`."""
    return (now + _LATEST_OFFSET).date()


class ComplaintTopic:
    """The stored topic of each Complaint event. Stable strings, so classes can move without
    breaking stored events; readers of the log filter on these, never on literals."""

    RECORDED = "lfr/Complaint.Recorded"
    RESOLVED = "lfr/Complaint.Resolved"


def _day(value: date, field: str, *, today: date) -> str:
    """`value` as an ISO date, refused if it is a datetime or lies after `today`."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(f"{field} must be a date (YYYY-MM-DD)", field=field)
    if value > today:
        raise InvalidInput(
            f"{field} {value.isoformat()} is after today ({today.isoformat()})", field=field
        )
    if value.year < 2000:
        raise InvalidInput(f"{field} must lie after 2000", field=field)
    return value.isoformat()


def numbered_complaints(deployment_id: UUID, exists: Callable[[UUID], bool]) -> list[UUID]:
    """The deployment's complaints, in the order recorded: numbered from 1 without gaps, so
    found by their ids (`exists` asks the store), without reading the log."""
    found: list[UUID] = []
    for number in range(1, MAXIMUM_COMPLAINTS_PER_DEPLOYMENT + 1):
        complaint_id = Complaint.id_for(deployment_id, number)
        if not exists(complaint_id):
            break
        found.append(complaint_id)
    return found


class Complaint(Aggregate):
    TOPIC = "lfr/Complaint"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/Complaint.Created"

    @staticmethod
    def id_for(deployment_id: UUID, number: int) -> UUID:
        return uuid5(deployment_id, f"complaint:{number}")

    @staticmethod
    def check(
        *,
        received_on: date,
        channel: str,
        summary: str,
        alert_deployment_id: UUID | None,
        deployment_id: UUID,
        policy: Policy,
        actor: Actor,
        today: date,
    ) -> None:
        """Every rule of recording, checked before the summary is sealed: a refused complaint
        leaves no key behind. `alert_deployment_id`: the deployment of the alert cited, if one
        is (an alert of another deployment is refused)."""
        actor.require(Role.AUTHORISING_OFFICER)
        _day(received_on, "received_on", today=today)
        if channel not in policy.complaint_channels:
            raise PolicyViolation(
                f"channel {channel!r} is not in policy {policy.version}'s closed list: "
                + ", ".join(policy.complaint_channels),
                field="channel",
            )
        if not summary.strip():
            raise InvalidInput("a complaint needs its summary", field="summary")
        if alert_deployment_id is not None and alert_deployment_id != deployment_id:
            raise InvalidInput(
                f"the alert cited belongs to deployment {alert_deployment_id}, not to "
                f"{deployment_id}: a complaint is linked to an alert of its own deployment",
                field="alert_id",
            )

    @classmethod
    def record(
        cls,
        *,
        deployment_id: UUID,
        number: int,
        alert_id: UUID | None,
        alert_deployment_id: UUID | None,
        received_on: date,
        channel: str,
        sealed_summary: str,
        policy: Policy,
        actor: Actor,
        occurred_at: datetime,
    ) -> Complaint:
        """`sealed_summary` arrives sealed under the complaint's key (`id_for`)."""
        if not is_sealed_text(sealed_summary):
            raise InvalidInput("a complaint's summary is stored sealed", field="summary")
        cls.check(
            received_on=received_on,
            channel=channel,
            summary=sealed_summary,
            alert_deployment_id=alert_deployment_id,
            deployment_id=deployment_id,
            policy=policy,
            actor=actor,
            today=today_anywhere(occurred_at),
        )
        return cls(
            id=cls.id_for(deployment_id, number),
            deployment_id=deployment_id,
            number=number,
            alert_id=alert_id,
            received_on=received_on.isoformat(),
            channel=channel,
            sealed_summary=sealed_summary,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("Recorded", topic=ComplaintTopic.RECORDED)
    def __init__(
        self,
        *,
        id: UUID,
        deployment_id: UUID,
        number: int,
        alert_id: UUID | None,
        received_on: str,
        channel: str,
        sealed_summary: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.deployment_id = deployment_id
        self.number = number
        self.alert_id = alert_id
        self.received_on = received_on
        self.channel = channel
        self.sealed_summary = sealed_summary
        self.recorded_by = actor.id
        self.recorded_at = occurred_at
        self.sealed_outcome: str | None = None
        self.resolved_on: str | None = None
        self.resolved_by: str | None = None

    @property
    def resolved(self) -> bool:
        return self.resolved_on is not None

    def check_resolution(
        self, *, outcome: str, resolved_on: date, actor: Actor, today: date
    ) -> None:
        """The rules of a resolution, checked before its outcome is sealed."""
        actor.require(Role.AUTHORISING_OFFICER)
        if self.resolved:
            raise InvalidTransition(
                f"complaint {self.id} was resolved on {self.resolved_on}; a resolution is "
                "recorded once"
            )
        day = _day(resolved_on, "resolved_on", today=today)
        if day < self.received_on:
            raise InvalidInput(
                f"resolved_on {day} is before the complaint was received ({self.received_on})",
                field="resolved_on",
            )
        if not outcome.strip():
            raise InvalidInput("a resolution needs its outcome", field="outcome")

    def resolve(
        self, *, sealed_outcome: str, resolved_on: date, actor: Actor, occurred_at: datetime
    ) -> None:
        """`sealed_outcome` arrives sealed under the complaint's key."""
        if not is_sealed_text(sealed_outcome):
            raise InvalidInput("a resolution's outcome is stored sealed", field="outcome")
        self.check_resolution(
            outcome=sealed_outcome,
            resolved_on=resolved_on,
            actor=actor,
            today=today_anywhere(occurred_at),
        )
        self._resolved(
            sealed_outcome=sealed_outcome,
            resolved_on=resolved_on.isoformat(),
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("Resolved", topic=ComplaintTopic.RESOLVED)
    def _resolved(
        self, *, sealed_outcome: str, resolved_on: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.sealed_outcome = sealed_outcome
        self.resolved_on = resolved_on
        self.resolved_by = actor.id
