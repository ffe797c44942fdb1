"""Commands of the live deployment: the matcher's face counts and alerts, and what the operator and
officers then record on each alert (adjudication, engagement, outcomes, holds, erasure)."""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid5

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertClaim, Outcome
from lfr_ledger.domain.alert.aggregate import Alert
from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.commands.base import SYSTEM, LedgerBase
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.errors import (
    ConcurrentWrite,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PolicyViolation,
    RoleSeparationViolated,
)
from lfr_ledger.domain.face_count_timeline import FaceCountTimeline
from lfr_ledger.domain.records import FaceCount
from lfr_ledger.domain.sealing import is_sealed_text
from lfr_ledger.domain.values import Confirmation, Decision
from lfr_ledger.domain.watchlist import WatchlistEntry


class AlertCommands(LedgerBase):
    # --- live matching ----------------------------------------------------------------------

    def report_faces_counted(
        self,
        actor: Actor,
        deployment_id: UUID,
        *,
        camera_id: str,
        period_start: datetime,
        period_end: datetime,
        count: int,
    ) -> UUID:
        """Records faces a camera processed in a period. A new count's period lies in the
        deployment's live time, follows the camera's last count without overlapping it, and
        claims no more faces than the policy allows for its length; a resend of a recorded
        count (same start, end and count) returns its id and records nothing."""
        # In UTC before anything derives from it: the report's id is made from its start.
        period_start = recorded_time(period_start, "period_start")
        period_end = recorded_time(period_end, "period_end")
        deployment = self._load(Deployment, deployment_id, "deployment", to_change=False)
        self._require_matcher_for(actor, deployment)
        if not deployment.has_camera(camera_id):
            raise InvalidInput(f"camera {camera_id!r} is not part of deployment {deployment_id}")
        report_id = FaceCount.id_for(deployment_id, camera_id, period_start)
        if self._exists(report_id):
            # A resend is the same count whatever has happened since (later counts, the end):
            # the rules below were applied when it was first recorded.
            existing = self._load(FaceCount, report_id, "face count")
            if existing.count != count or existing.period_end != period_end:
                raise ConcurrentWrite(
                    f"faces for camera {camera_id} from {period_start.isoformat()} were already "
                    f"reported as {existing.count}"
                )
            return report_id
        now = self.clock()
        report = FaceCount.report(
            deployment_id=deployment_id,
            camera_id=camera_id,
            period_start=period_start,
            period_end=period_end,
            count=count,
            actor=actor,
            occurred_at=now,
        )
        deployment.check_face_count(
            camera_id=camera_id,
            period_start=period_start,
            period_end=period_end,
            count=count,
            policy=self.policy,
            now=now,
        )
        timeline_id = FaceCountTimeline.id_for(deployment_id, camera_id)
        timeline = (
            self._load(FaceCountTimeline, timeline_id, "face count timeline")
            if self._exists(timeline_id)
            else FaceCountTimeline.open(
                deployment_id=deployment_id, camera_id=camera_id, actor=actor, occurred_at=now
            )
        )
        timeline.count(
            report_id=report_id,
            period_start=period_start,
            period_end=period_end,
            actor=actor,
            occurred_at=now,
        )
        try:
            self._commit(report, timeline)
        except ConcurrentWrite:
            # The same report arrived twice at once: the first one stands.
            if not self._exists(report_id):
                raise
        return report_id

    @staticmethod
    def _require_matcher_for(actor: Actor, deployment: Deployment) -> None:
        actor.require(Role.MATCHER)
        if actor.deployment_id != str(deployment.id):
            raise NotPermitted(f"matcher {actor.id} is not bound to deployment {deployment.id}")

    def raise_alert(self, actor: Actor, claim: AlertClaim) -> UUID:
        """Raises the alert `claim` states. Idempotent on the claim's `alert_id`: a matcher that
        retries after a crash or a lost response gets the same alert, never a second one."""
        alert_id, deployment_id, entry_id = claim.alert_id, claim.deployment_id, claim.entry_id
        if self._exists(alert_id):
            try:
                existing = self.alert(alert_id)
            except NotFound:
                raise ConcurrentWrite(
                    f"alert id {alert_id} is already the id of another record; send a new one"
                ) from None
            if existing.deployment_id != deployment_id or existing.entry_id != entry_id:
                raise ConcurrentWrite(f"alert id {alert_id} is already used by another alert")
            return alert_id
        if self.vault.has_key(alert_id):
            # The id of a key another record holds (its notes, its images, the pseudonyms'):
            # an alert under it would seal its crop with that key, and its erasure shred it.
            raise ConcurrentWrite(
                f"alert id {alert_id} is already the id of a key in the vault; send a new one"
            )
        deployment = self._load(Deployment, deployment_id, "deployment", to_change=False)
        self._require_matcher_for(actor, deployment)
        if not deployment.is_live:
            raise InvalidTransition(
                f"deployment {deployment_id} is {deployment.status}; alerts are raised only "
                "while it is live"
            )
        if deployment.urgent_authority_lapsed(self.clock(), self.policy):
            raise InvalidTransition(
                f"deployment {deployment_id} runs on urgent authority that was not confirmed in "
                "writing in time; it is being ended, and raises no more alerts"
            )
        if not deployment.inside_window(claim.captured_at):
            raise InvalidTransition(
                f"captured_at {claim.captured_at.isoformat()} lies outside deployment "
                f"{deployment_id}'s authorised window"
            )
        if not deployment.has_camera(claim.camera_id):
            raise InvalidInput(
                f"camera {claim.camera_id!r} is not part of deployment {deployment_id}"
            )
        if entry_id not in deployment.entry_ids:
            raise NotFound(f"deployment {deployment_id} has no watchlist entry {entry_id}")
        entry = self._load(WatchlistEntry, entry_id, "watchlist entry", to_change=False)
        if not entry.is_active:
            raise InvalidTransition(f"watchlist entry {entry_id} is {entry.status}")
        model_id = claim.model_id or deployment.plan.model_id
        if model_id != deployment.plan.model_id:
            raise PolicyViolation(
                f"deployment {deployment_id} matches with {deployment.plan.model_id!r}; "
                f"a score from {model_id!r} is on another scale"
            )
        crop = claim.face_crop
        # Only an alert with a face crop has anything to seal, so only it gets a key.
        keyed = self._new_key(alert_id) if crop is not None else nullcontext()
        try:
            with keyed:
                alert = Alert.raise_(
                    claim,
                    category=entry.category,
                    threshold=deployment.threshold,
                    model_id=model_id,
                    sealed_face_crop=(
                        None if crop is None else self.vault.seal(alert_id, "face_crop", crop)
                    ),
                    actor=actor,
                    occurred_at=self.clock(),
                )
                self._commit(alert)
        except ConcurrentWrite:
            # The same alert arrived twice at once (a matcher's retry): the first one stands.
            if self._exists(alert_id):
                return alert_id
            raise
        return alert_id

    # --- alerts: decisions and outcomes -----------------------------------------------------

    def _check_adjudicator(self, actor: Actor, alert: Alert) -> None:
        """Separation of duties reaches adjudication: whoever holds a duty the policy keeps
        apart from "adjudicate" on the alert's deployment (by default, its authoriser) may
        not decide its alerts."""
        deployment = self._load(Deployment, alert.deployment_id, "deployment", to_change=False)
        for other in sorted(self.policy.conflicting_duties("adjudicate")):
            if actor.id in deployment.duties.get(other, []):
                raise RoleSeparationViolated(
                    f"actor {actor.id} performed '{other}' on deployment {deployment.id}; "
                    f"policy {self.policy.version} forbids the same person to adjudicate its "
                    "alerts"
                )

    def adjudicate(self, actor: Actor, alert_id: UUID, decision: Decision, reason: str) -> None:
        alert = self.alert(alert_id)
        actor.require(Role.OPERATOR)
        self._check_adjudicator(actor, alert)
        notes = self.notes_key_id(alert_id)
        if not reason.strip():
            # Refused before a key is made: a refusal leaves nothing behind.
            alert.adjudicate(decision=decision, reason="", actor=actor, occurred_at=self.clock())
        with self._text_key(notes):
            sealed = self._seal_text(notes, "adjudication_reason", reason.strip())
            alert.adjudicate(
                decision=decision, reason=sealed, actor=actor, occurred_at=self.clock()
            )
            self._commit(alert)

    def correct_adjudication(
        self, actor: Actor, alert_id: UUID, decision: Decision, reason: str
    ) -> None:
        """A new AdjudicationCorrected event (who, when, why, the previous decision); the
        original adjudication stays. An operator or an authorising officer, not one who holds
        a duty the policy keeps apart from adjudicating."""
        alert = self.alert(alert_id)
        actor.require(Role.OPERATOR, Role.AUTHORISING_OFFICER)
        self._check_adjudicator(actor, alert)
        alert.check_correctable(reason)
        notes = self.notes_key_id(alert_id)
        with self._text_key(notes):
            alert.correct_adjudication(
                decision=decision,
                reason=self._seal_text(notes, "correction_reason", reason.strip()),
                actor=actor,
                occurred_at=self.clock(),
            )
            self._commit(alert)

    def record_engagement(
        self, actor: Actor, alert_id: UUID, *, engaged: bool, confirmed: Confirmation
    ) -> None:
        alert = self.alert(alert_id)
        alert.record_engagement(
            engaged=engaged, confirmed=confirmed, actor=actor, occurred_at=self.clock()
        )
        self._commit(alert)

    def record_outcome(
        self, actor: Actor, alert_id: UUID, outcome: Outcome, occurred_at: datetime | None = None
    ) -> None:
        alert = self.alert(alert_id)
        now = self.clock()
        notes = self.notes_key_id(alert_id)
        with self._text_key(notes):
            outcome = self._sealed_outcome(notes, outcome)
            alert.record_outcome(
                outcome=outcome, actor=actor, occurred_at=occurred_at or now, recorded_at=now
            )
            # After the alert's own rules (a match first, then an outcome that fits the entry).
            self.policy.check_outcome_fits(alert.category, outcome.type)
            self._hold_if_evidential(alert, outcome, actor, now)
            self._commit(alert)

    def _hold_if_evidential(
        self, alert: Alert, outcome: Outcome, actor: Actor, now: datetime
    ) -> None:
        """An outcome the policy names in `retention.evidential_hold_on` (an arrest) puts the
        alert's images under an evidential hold, in the same save as the outcome."""
        if alert.needs_evidential_hold(outcome, self.policy.evidential_hold_on):
            alert.place_evidential_hold(
                outcome=outcome, policy_version=self.policy.version, actor=actor, occurred_at=now
            )

    def correct_outcome(
        self, actor: Actor, alert_id: UUID, outcome_index: int, outcome: Outcome, reason: str
    ) -> None:
        """A new OutcomeCorrected event (who, when, why, the previous outcome) replaces
        outcome `outcome_index` (0-based) in every read model; the original stays in the log.
        A correction to an outcome the policy holds evidence for places that hold too."""
        alert = self.alert(alert_id)
        now = self.clock()
        actor.require(Role.OFFICER)
        alert.check_correctable(reason)
        notes = self.notes_key_id(alert_id)
        with self._text_key(notes):
            in_range = 0 <= outcome_index < len(alert.outcomes)
            previous = alert.outcomes[outcome_index] if in_range else None
            outcome = self._sealed_outcome(notes, outcome, previous)
            alert.correct_outcome(
                outcome_index=outcome_index,
                outcome=outcome,
                reason=self._seal_text(notes, "correction_reason", reason.strip()),
                actor=actor,
                occurred_at=now,
            )
            self.policy.check_outcome_fits(alert.category, outcome.type)
            self._hold_if_evidential(alert, outcome, actor, now)
            self._commit(alert)

    def _sealed_outcome(
        self, notes: UUID, outcome: Outcome, previous: Outcome | None = None
    ) -> Outcome:
        """`outcome` with its free text sealed under the alert's notes key: the note, the
        force's reference and each condition checked (the offences are the law's words, in
        clear: docs/personal-data.md). Sealed text differs at every sealing, so text that says
        what `previous` said keeps its sealing, and a correction that changes nothing is still
        seen as the same outcome."""

        def seal(field: str, text: str, before: str | None) -> str:
            if not text:
                return text
            if is_sealed_text(before) and self.reveal_text(notes, field, str(before)) == text:
                return str(before)
            return self._seal_text(notes, field, text)

        earlier: list[str | None] = [*previous.conditions] if previous is not None else []
        earlier += [None] * (len(outcome.conditions) - len(earlier))
        note, reference = outcome.note, outcome.reference
        return replace(
            outcome,
            note=None
            if note is None
            else seal("outcome_note", note, previous.note if previous else None),
            reference=None
            if reference is None
            else seal("outcome_reference", reference, previous.reference if previous else None),
            conditions=tuple(
                seal("outcome_condition", c, b)
                for c, b in zip(outcome.conditions, earlier, strict=False)
            ),
        )

    def reveal_outcome(self, alert_id: UUID, outcome: Outcome) -> Outcome:
        """`outcome` as its reader sees it: its note, reference and conditions opened
        (`[erased]` once the alert's notes were erased)."""
        notes = self.notes_key_id(alert_id)

        def reveal(field: str, text: str | None) -> str | None:
            return text if text is None else self.reveal_text(notes, field, text)

        return replace(
            outcome,
            note=reveal("outcome_note", outcome.note),
            reference=reveal("outcome_reference", outcome.reference),
            conditions=tuple(
                self.reveal_text(notes, "outcome_condition", c) for c in outcome.conditions
            ),
        )

    @staticmethod
    def equality_key_id(alert_id: UUID) -> UUID:
        """Equality data has its own key: it outlives the alert's images, and is shredded by
        its own rule."""
        return uuid5(alert_id, "equality")

    def record_perceived_demographics(
        self, actor: Actor, alert_id: UUID, fields: dict[str, str]
    ) -> None:
        self.policy.check_perceived_demographics(fields)
        if not fields:
            raise InvalidInput("no perceived characteristics given")
        alert = self.alert(alert_id)
        key_id = self.equality_key_id(alert_id)
        # Checked before a key exists, so a refusal leaves nothing behind.
        alert.check_perceived_demographics_allowed(actor)
        payload = json.dumps(fields, sort_keys=True).encode()
        with self._new_key(key_id):
            alert.record_perceived_demographics(
                sealed_demographics=self.vault.seal(key_id, "demographics", payload),
                actor=actor,
                occurred_at=self.clock(),
            )
            self._commit(alert)

    def reveal_perceived_demographics(self, alert_id: UUID, sealed: bytes) -> dict[str, str] | None:
        plain = self.vault.unseal(self.equality_key_id(alert_id), "demographics", sealed)
        return None if plain is None else dict(json.loads(plain))

    def close_alert(self, actor: Actor, alert_id: UUID) -> None:
        alert = self.alert(alert_id)
        alert.close(actor=actor, occurred_at=self.clock())
        self._commit(alert)

    def place_legal_hold(
        self, actor: Actor, alert_id: UUID, *, reason: str, proceedings_ref: str
    ) -> None:
        alert = self.alert(alert_id)
        notes = self.notes_key_id(alert_id)
        with self._text_key(notes):
            alert.place_legal_hold(
                reason=self._seal_text(notes, "legal_hold_reason", reason),
                # A court case's or a custody number, which leads to the person.
                proceedings_ref=self._seal_text(notes, "proceedings_ref", proceedings_ref.strip()),
                actor=actor,
                occurred_at=self.clock(),
            )
            self._commit(alert)

    def release_legal_hold(self, actor: Actor, alert_id: UUID, reason: str) -> None:
        alert = self.alert(alert_id)
        notes = self.notes_key_id(alert_id)
        with self._text_key(notes):
            sealed = self._seal_text(notes, "legal_hold_release_reason", reason)
            alert.release_legal_hold(reason=sealed, actor=actor, occurred_at=self.clock())
            self._commit(alert)

    def erase_alert_images(self, alert_id: UUID, *, rule: str, actor: Actor = SYSTEM) -> None:
        alert = self.alert(alert_id)
        alert.erase_images(rule=rule, actor=actor, occurred_at=self.clock())
        self._commit(alert)
        self.vault.shred(alert_id)
        self.vault.shred(self.notes_key_id(alert_id))

    def reveal_face_crop(self, alert_id: UUID) -> bytes | None:
        alert = self.alert(alert_id)
        if alert.sealed_face_crop is None:
            return None
        return self.vault.unseal(alert_id, "face_crop", alert.sealed_face_crop)
