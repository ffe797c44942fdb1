"""Small single-event records: the policy adopted, faces counted, consultations, disclosures."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.complaint import ComplaintTopic
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition
from lfr_ledger.domain.sealing import is_sealed_text

# Fixed namespace so ids derived from natural keys are the same in every process.
LFR_NAMESPACE = UUID("6f1c1a52-3c0b-4b8e-9a57-1f2d7c3e9b10")


class PolicyVersionTopic:
    """The stored topic of each PolicyVersion event. Stable strings, so classes can move without
    breaking stored events; readers of the log filter on these, never on literals."""

    ADOPTED = "lfr/PolicyVersion.Adopted"


class PolicyVersion(Aggregate):
    TOPIC = "lfr/PolicyVersion"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/PolicyVersion.Created"

    @staticmethod
    def id_for(version: str) -> UUID:
        return uuid5(LFR_NAMESPACE, f"policy:{version}")

    @classmethod
    def adopt(
        cls, *, version: str, content_hash: str, text: str, actor: Actor, occurred_at: datetime
    ) -> PolicyVersion:
        actor.require(Role.ADMIN)
        return cls(
            id=cls.id_for(version),
            policy_version=version,
            content_hash=content_hash,
            text=text,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("Adopted", topic=PolicyVersionTopic.ADOPTED)
    def __init__(
        self,
        *,
        id: UUID,
        policy_version: str,
        content_hash: str,
        text: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        # Not `version`: that name is the aggregate's own sequence number.
        self.policy_version = policy_version
        self.content_hash = content_hash
        self.text = text
        self.adopted_at = occurred_at


class FaceCountTopic:
    """The stored topic of each FaceCount event. Stable strings, so classes can move without
    breaking stored events; readers of the log filter on these, never on literals."""

    FACES_COUNTED = "lfr/FaceCount.FacesCounted"


class FaceCount(Aggregate):
    """The only trace a non-matching face leaves: a count per camera per period.

    Its id derives from (deployment, camera, period start), so a matcher that resends the
    same report after a network failure records it once.
    """

    TOPIC = "lfr/FaceCount"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/FaceCount.Created"

    @staticmethod
    def id_for(deployment_id: UUID, camera_id: str, period_start: datetime) -> UUID:
        return uuid5(LFR_NAMESPACE, f"faces:{deployment_id}:{camera_id}:{period_start.isoformat()}")

    @classmethod
    def report(
        cls,
        *,
        deployment_id: UUID,
        camera_id: str,
        period_start: datetime,
        period_end: datetime,
        count: int,
        actor: Actor,
        occurred_at: datetime,
    ) -> FaceCount:
        actor.require(Role.MATCHER)
        if count < 0:
            raise InvalidInput("a face count cannot be negative")
        period_start = recorded_time(period_start, "period_start")
        period_end = recorded_time(period_end, "period_end")
        if period_end <= period_start:
            raise InvalidInput("period_end must be after period_start")
        return cls(
            id=cls.id_for(deployment_id, camera_id, period_start),
            deployment_id=deployment_id,
            camera_id=camera_id,
            period_start=period_start,
            period_end=period_end,
            count=count,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("FacesCounted", topic=FaceCountTopic.FACES_COUNTED)
    def __init__(
        self,
        *,
        id: UUID,
        deployment_id: UUID,
        camera_id: str,
        period_start: datetime,
        period_end: datetime,
        count: int,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.deployment_id = deployment_id
        self.camera_id = camera_id
        self.period_start = period_start
        self.period_end = period_end
        self.count = count


class ConsultationTopic:
    """The stored topic of each Consultation event. Stable strings, so classes can move without
    breaking stored events; readers of the log filter on these, never on literals."""

    RECORDED = "lfr/Consultation.Recorded"
    PURPOSE_DESTROYED = "lfr/Consultation.PurposeDestroyed"


class Consultation(Aggregate):
    """A record of personal data being read (DPA 2018 Part 3 s.62 logging)."""

    TOPIC = "lfr/Consultation"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/Consultation.Created"

    @event("Recorded", topic=ConsultationTopic.RECORDED)
    def __init__(
        self, *, id: UUID, record: str, purpose: str, actor: Actor, occurred_at: datetime
    ) -> None:
        # `purpose` is sealed under the consultation's own key (`CaseLedger.reveal_text`).
        self.record = record
        self.purpose = purpose
        self.actor_id = actor.id
        self.occurred_at = occurred_at
        self.purpose_destroyed_at: datetime | None = None

    @event("PurposeDestroyed", topic=ConsultationTopic.PURPOSE_DESTROYED)
    def _purpose_destroyed(self, *, rule: str, actor: Actor, occurred_at: datetime) -> None:
        self.purpose_destroyed_at = occurred_at

    def destroy_purpose(self, *, rule: str, actor: Actor, occurred_at: datetime) -> None:
        """Records that retention shreds the purpose's key (the access itself stays on record:
        who read which record, when). Metadata only: the rule, who, when."""
        if self.purpose_destroyed_at is not None:
            raise InvalidTransition(f"consultation {self.id}'s purpose was already destroyed")
        actor.require(Role.ADMIN)
        self._purpose_destroyed(rule=rule, actor=actor, occurred_at=occurred_at)


class DisclosureTopic:
    """The stored topic of each Disclosure event. Stable strings, so classes can move without
    breaking stored events; readers of the log filter on these, never on literals."""

    RECORDED = "lfr/Disclosure.Recorded"
    CONTENT_DESTROYED = "lfr/Disclosure.ContentDestroyed"


class Disclosure(Aggregate):
    """A record of personal data given to someone outside the system (export, SAR)."""

    TOPIC = "lfr/Disclosure"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/Disclosure.Created"

    @event("Recorded", topic=DisclosureTopic.RECORDED)
    def __init__(
        self,
        *,
        id: UUID,
        recipient: str,
        record: str,
        legal_basis: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        # `recipient` and `record` are sealed under the disclosure's own key (`reveal_text`);
        # disclosures recorded before sealing hold them in clear, and keep them so.
        self.recipient = recipient
        self.record = record
        self.legal_basis = legal_basis
        self.actor_id = actor.id
        self.occurred_at = occurred_at
        self.content_destroyed_at: datetime | None = None

    @property
    def sealed(self) -> bool:
        return is_sealed_text(self.recipient) or is_sealed_text(self.record)

    @event("ContentDestroyed", topic=DisclosureTopic.CONTENT_DESTROYED)
    def _content_destroyed(self, *, rule: str, actor: Actor, occurred_at: datetime) -> None:
        self.content_destroyed_at = occurred_at

    def destroy_content(self, *, rule: str, actor: Actor, occurred_at: datetime) -> None:
        """Records that retention shreds the key of the recipient and record text; the
        disclosure itself (who, when, on which legal basis) stays on record."""
        if self.content_destroyed_at is not None:
            raise InvalidTransition(f"disclosure {self.id}'s content was already destroyed")
        if not self.sealed:
            raise InvalidTransition(
                f"disclosure {self.id} was recorded before sealing: its text cannot be erased"
            )
        actor.require(Role.ADMIN)
        self._content_destroyed(rule=rule, actor=actor, occurred_at=occurred_at)


class IntegrityAlarmTopic:
    """The stored topic of each IntegrityAlarm event (stable strings)."""

    RAISED = "lfr/IntegrityAlarm.Raised"


class IntegrityAlarm(Aggregate):
    """The ledger found its own log tampered with: a row that no longer hashes as it did when
    written, found by the rolling re-verification. Recorded in the chain itself, so the alarm
    cannot be wiped with the table that found it without that being found in turn. One per
    (events table, row, kind): the same tampering met by every later pass is one alarm."""

    TOPIC = "lfr/IntegrityAlarm"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/IntegrityAlarm.Created"

    @staticmethod
    def id_for(events_table: str, notification_id: int | None, kind: str) -> UUID:
        return uuid5(LFR_NAMESPACE, f"integrity-alarm:{events_table}:{notification_id}:{kind}")

    @event("Raised", topic=IntegrityAlarmTopic.RAISED)
    def __init__(
        self,
        *,
        id: UUID,
        events_table: str,
        notification_id: int | None,
        kind: str,
        detail: str,
        found_by: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        # The verifier's own words, ids and names of tables: nothing of a record's content.
        self.events_table = events_table
        self.notification_id = notification_id
        self.kind = kind
        self.detail = detail
        self.found_by = found_by
        self.occurred_at = occurred_at


# Records whose first event names their deployment in a field (`deployment_id`) instead of
# being listed by it: whoever gathers one deployment's records looks for these.
NAMES_ITS_DEPLOYMENT: tuple[str, ...] = (
    AlertTopic.RAISED,
    FaceCountTopic.FACES_COUNTED,
    ComplaintTopic.RECORDED,
)
