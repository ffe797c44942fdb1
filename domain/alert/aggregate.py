"""The Alert aggregate: raised on the matcher's claim, then decided by an operator, followed up
by officers (engagement, outcomes, perceived characteristics), corrected and closed; held and
erased under retention. The engagement officer's commands are its facet in `engagement.py`, the
holds and erasure its facet in `retention.py` (`domain/facets.py`: their events are the
Alert's own). Each command checks its rule and records one event."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import CLOCK_SKEW, AlertClaim, AlertTopic, Outcome
from lfr_ledger.domain.alert.engagement import AlertEngagement
from lfr_ledger.domain.alert.outcome import NEEDS_ENGAGED_MATCH, check_outcome_order
from lfr_ledger.domain.alert.retention import AlertRetention
from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition
from lfr_ledger.domain.sealing import is_sealed_text
from lfr_ledger.domain.values import AlertStatus, Confirmation, Decision


def legacy_notes_key_id(alert_id: UUID) -> UUID:
    """The notes key of an alert raised before issue 28, derived from its id."""
    return uuid5(alert_id, "notes")


def carries_sealed_notes(event: object) -> bool:
    """Whether an alert's (or a deployment's) event holds free text sealed under its notes key:
    a reason, a note, a hold's proceedings, an outcome's note, references or conditions."""
    outcome = getattr(event, "outcome", None)
    texts = [getattr(event, name, None) for name in ("reason", "note", "proceedings_ref")]
    texts += [
        getattr(outcome, name, None) for name in ("note", "reference", "custody_ref", "crime_ref")
    ]
    texts += list(getattr(outcome, "conditions", ()))
    return any(is_sealed_text(text) for text in texts)


class Alert(AlertEngagement, AlertRetention, Aggregate):
    TOPIC = "lfr/Alert"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/Alert.Created"

    @classmethod
    def raise_(
        cls,
        claim: AlertClaim,
        *,
        category: str,
        threshold: float,
        model_id: str,
        sealed_face_crop: bytes | None,
        actor: Actor,
        occurred_at: datetime,
        notes_key: UUID | None = None,
    ) -> Alert:
        """Raises the alert `claim` states, with what the ledger adds to it: the entry's
        category, the threshold in force, the model it was scored with (the deployment's when
        the claim names none), the crop as sealed and the id of the key its notes will be
        sealed under (`notes_key_id`)."""
        actor.require(Role.MATCHER)
        if not -1.0 <= claim.similarity <= 1.0:
            raise InvalidInput(f"similarity must lie in [-1, 1], got {claim.similarity}")
        if claim.similarity < threshold:
            raise InvalidInput(
                f"similarity {claim.similarity:.4f} is below the threshold in force {threshold}"
            )
        captured_at = recorded_time(claim.captured_at, "captured_at")
        if captured_at > occurred_at + CLOCK_SKEW:
            raise InvalidInput("captured_at lies in the future")
        return cls(
            id=claim.alert_id,
            deployment_id=claim.deployment_id,
            camera_id=claim.camera_id,
            entry_id=claim.entry_id,
            category=category,
            similarity=claim.similarity,
            threshold=threshold,
            model_id=model_id,
            captured_at=captured_at,
            track_id=claim.track_id,
            sealed_face_crop=sealed_face_crop,
            notes_key=notes_key,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("Raised", topic=AlertTopic.RAISED)
    def __init__(
        self,
        *,
        id: UUID,
        deployment_id: UUID,
        camera_id: str,
        entry_id: UUID,
        category: str,
        similarity: float,
        threshold: float,
        model_id: str,
        captured_at: datetime,
        track_id: str | None,
        sealed_face_crop: bytes | None,
        actor: Actor,
        occurred_at: datetime,
        # Absent from the Raised events of releases before issue 28 (see `notes_key_id`).
        notes_key: UUID | None = None,
    ) -> None:
        self.deployment_id = deployment_id
        self.camera_id = camera_id
        self.entry_id = entry_id
        self.category = category
        self.similarity = similarity
        self.threshold = threshold
        self.model_id = model_id
        self.captured_at = captured_at
        self.track_id = track_id
        self.sealed_face_crop = sealed_face_crop
        self.notes_key = notes_key
        self.raised_at = occurred_at
        self.decision: Decision | None = None
        # Why the operator found it false (a no_match), and why the officer did (an identity
        # not confirmed): codes of the policy's `[outcomes] false_alert_factors`.
        self.false_alert_factors: tuple[str, ...] = ()
        self.engagement_false_alert_factors: tuple[str, ...] = ()
        self.adjudicated_by: str | None = None
        self.adjudicated_at: datetime | None = None
        self.corrections = 0
        self.engaged: bool | None = None
        self.confirmed: Confirmation | None = None
        self.engaged_from: datetime | None = None
        self.engaged_until: datetime | None = None
        self.outcomes: list[Outcome] = []
        self.closed_at: datetime | None = None
        self.legal_hold: str | None = None
        self.hold_kind: str | None = None
        self.images_erased_at: datetime | None = None
        self.demographics_recorded = False

    @property
    def notes_key_id(self) -> UUID:
        """The key of the alert's free text (reasons, notes), apart from its images' key and
        erased with them. Since issue 28 a key of its own, made ahead in the vault's stock and
        named by the Raised event, so no command on the alert writes to the vault; an alert
        raised before names none, and its key's id is derived from the alert's (made with its
        first text)."""
        return self.notes_key if self.notes_key is not None else legacy_notes_key_id(self.id)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def status(self) -> AlertStatus:
        return AlertStatus.after(
            adjudicated=self.decision is not None,
            engagement_recorded=self.engaged is not None,
            outcomes=len(self.outcomes),
            closed=self.is_closed,
        )

    def _require_open(self, doing: str) -> None:
        if self.is_closed:
            raise InvalidTransition(f"cannot {doing}: alert {self.id} is closed")

    # --- the operator decides ---------------------------------------------------------------

    def adjudicate(
        self,
        *,
        decision: Decision,
        reason: str,
        actor: Actor,
        occurred_at: datetime,
        false_alert_factors: tuple[str, ...] = (),
    ) -> None:
        """`false_alert_factors`: why the alert was false, for a no_match only (the commands
        check them against the policy's closed list)."""
        actor.require(Role.OPERATOR)
        self._require_open("adjudicate")
        if self.decision is not None:
            raise InvalidTransition(
                f"alert {self.id} was already adjudicated '{self.decision}' by "
                f"{self.adjudicated_by}; an adjudication is never changed"
            )
        if not reason.strip():
            raise InvalidInput(
                f"a decision of {Decision(decision).value} needs a reason: what the operator saw"
            )
        self._check_false_alert_factors(Decision(decision), false_alert_factors)
        self._adjudicated(
            decision=Decision(decision),
            reason=reason.strip(),
            actor=actor,
            occurred_at=occurred_at,
            false_alert_factors=tuple(false_alert_factors),
        )

    @staticmethod
    def _check_false_alert_factors(decision: Decision, factors: tuple[str, ...]) -> None:
        if factors and decision != Decision.NO_MATCH:
            raise InvalidInput(
                f"false-alert factors say why an alert was false; a decision of "
                f"{decision.value} names none"
            )

    @event("Adjudicated", topic=AlertTopic.ADJUDICATED)
    def _adjudicated(
        self,
        *,
        decision: Decision,
        reason: str,
        actor: Actor,
        occurred_at: datetime,
        # Absent from adjudications recorded before release 4.
        false_alert_factors: tuple[str, ...] = (),
    ) -> None:
        self.decision = Decision(decision)
        self.adjudicated_by = actor.id
        self.adjudicated_at = occurred_at
        self.false_alert_factors = tuple(false_alert_factors)

    # --- corrections: new events that keep the original -------------------------------------

    def check_correctable(self, reason: str) -> None:
        """Refuses a correction without a reason, or once the notes' key is gone: checked
        before any key is made, so a refusal leaves nothing behind."""
        if self.images_erased_at is not None:
            raise InvalidTransition(
                f"alert {self.id}'s images and notes were erased under retention; its record "
                "can no longer be corrected"
            )
        if not reason.strip():
            raise InvalidInput("a correction needs a reason: why the record was wrong")

    def correct_adjudication(
        self,
        *,
        decision: Decision,
        reason: str,
        actor: Actor,
        occurred_at: datetime,
        false_alert_factors: tuple[str, ...] = (),
    ) -> None:
        """A mistaken decision is corrected by a new event naming the previous one; the
        original adjudication stays in the log. Allowed after closure, never after erasure."""
        actor.require(Role.OPERATOR, Role.AUTHORISING_OFFICER)
        if self.decision is None:
            raise InvalidTransition(
                f"alert {self.id} has not been adjudicated; there is nothing to correct"
            )
        self.check_correctable(reason)
        if Decision(decision) == self.decision:
            raise InvalidInput(
                f"alert {self.id} is already adjudicated {self.decision.value}; a correction "
                "must change the decision"
            )
        self._check_false_alert_factors(Decision(decision), false_alert_factors)
        self._adjudication_corrected(
            decision=Decision(decision),
            previous=self.decision,
            reason=reason.strip(),
            actor=actor,
            occurred_at=occurred_at,
            false_alert_factors=tuple(false_alert_factors),
        )

    @event("AdjudicationCorrected", topic=AlertTopic.ADJUDICATION_CORRECTED)
    def _adjudication_corrected(
        self,
        *,
        decision: Decision,
        previous: Decision,
        reason: str,
        actor: Actor,
        occurred_at: datetime,
        # Absent from corrections recorded before release 4.
        false_alert_factors: tuple[str, ...] = (),
    ) -> None:
        self.decision = Decision(decision)
        # The corrected decision's factors replace the first's (none unless a no_match).
        self.false_alert_factors = tuple(false_alert_factors)
        self.corrections += 1

    def record_outcome(
        self, *, outcome: Outcome, actor: Actor, occurred_at: datetime, recorded_at: datetime
    ) -> None:
        actor.require(Role.OFFICER)
        self._require_open("record an outcome")
        if self.decision is None:
            raise InvalidTransition(f"alert {self.id} has no adjudication; record that first")
        self._check_outcome_allowed(outcome)
        check_outcome_order([*self.outcomes, outcome])
        occurred_at = recorded_time(occurred_at, "occurred_at")
        if occurred_at < self.captured_at:
            raise InvalidInput("an outcome cannot occur before the alert's capture time")
        if occurred_at > recorded_at + CLOCK_SKEW:
            raise InvalidInput("occurred_at lies in the future")
        if outcome.due_at is not None and outcome.due_at < occurred_at:
            raise InvalidInput(
                "due_at (when to answer bail or attend) lies before the outcome's occurred_at"
            )
        self._outcome_recorded(outcome=outcome, actor=actor, occurred_at=occurred_at)

    def _check_outcome_allowed(self, outcome: Outcome) -> None:
        if outcome.type in NEEDS_ENGAGED_MATCH:
            if self.decision != Decision.MATCH:
                raise InvalidTransition(
                    f"an {outcome.type} needs the alert adjudicated match; alert {self.id} is "
                    f"{self.decision}"
                )
            if not self.engaged:
                raise InvalidTransition(
                    f"an {outcome.type} needs an engagement; record the engagement of alert "
                    f"{self.id} first"
                )

    @event("OutcomeRecorded", topic=AlertTopic.OUTCOME_RECORDED)
    def _outcome_recorded(self, *, outcome: Outcome, actor: Actor, occurred_at: datetime) -> None:
        self.outcomes.append(outcome)

    def correct_outcome(
        self,
        *,
        outcome_index: int,
        outcome: Outcome,
        reason: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        """Replaces outcome number `outcome_index` (0-based, in recording order) by a new event
        naming the previous outcome; the original stays in the log."""
        actor.require(Role.OFFICER)
        if not 0 <= outcome_index < len(self.outcomes):
            raise InvalidInput(
                f"alert {self.id} has {len(self.outcomes)} outcome(s); there is no outcome "
                f"{outcome_index} to correct (outcomes are numbered from 0)"
            )
        self.check_correctable(reason)
        previous = self.outcomes[outcome_index]
        if outcome == previous:
            raise InvalidInput("a correction must change the outcome; this one is the same")
        self._check_outcome_allowed(outcome)
        check_outcome_order(
            [outcome if i == outcome_index else o for i, o in enumerate(self.outcomes)]
        )
        if outcome.due_at is not None and outcome.due_at < self.captured_at:
            raise InvalidInput("due_at (when to answer bail or attend) lies before the alert")
        self._outcome_corrected(
            outcome_index=outcome_index,
            outcome=outcome,
            previous=previous,
            reason=reason.strip(),
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("OutcomeCorrected", topic=AlertTopic.OUTCOME_CORRECTED)
    def _outcome_corrected(
        self,
        *,
        outcome_index: int,
        outcome: Outcome,
        previous: Outcome,
        reason: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.outcomes[outcome_index] = outcome
        self.corrections += 1

    def close(self, *, actor: Actor, occurred_at: datetime) -> None:
        actor.require(Role.OFFICER, Role.OPERATOR)
        self._require_open("close")
        if self.decision is None:
            raise InvalidTransition(f"alert {self.id} cannot close before it is adjudicated")
        self._closed(actor=actor, occurred_at=occurred_at)

    @event("Closed", topic=AlertTopic.CLOSED)
    def _closed(self, *, actor: Actor, occurred_at: datetime) -> None:
        self.closed_at = occurred_at
