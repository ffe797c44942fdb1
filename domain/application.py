"""The case ledger: every command an officer, a matcher or an administrator can give.

Each command loads the aggregates it touches, lets them decide, and saves their new events
atomically. Personal fields are sealed here, before they reach an event.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from domain.actors import Actor, Role
from domain.alert import Alert, Outcome
from domain.clock import utcnow
from domain.deployment import Deployment
from domain.errors import (
    ConcurrentWrite,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PolicyViolation,
)
from domain.operation import Operation
from domain.policy import Policy
from domain.records import Consultation, Disclosure, FaceCount, PolicyVersion
from domain.sealing import PersonalDataVault
from domain.transcodings import register_transcodings
from domain.values import ERASED, Confirmation, Decision, DeploymentPlan
from domain.watchlist import WatchlistEntry

A = TypeVar("A", bound=Aggregate)

SYSTEM = Actor(id="system:retention", role=Role.ADMIN)


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


class CaseLedger(Application[UUID]):
    name = "lfr"
    env: ClassVar[dict[str, str]] = {
        # Recently used aggregates stay in memory; fast-forward keeps them exact when
        # other processes write to the same store.
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        vault: PersonalDataVault,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(env)
        self.vault = vault
        self.policy = policy or Policy.load()
        self.clock = clock

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    # --- plumbing ---------------------------------------------------------------------------

    def _load(self, cls: type[A], aggregate_id: UUID, what: str, *, to_change: bool = True) -> A:
        """The aggregate, up to date. `to_change=False` skips copying it out of the cache,
        for checks that only read: the caller must not call its commands."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=to_change)
        except AggregateNotFoundError:
            raise NotFound(f"no {what} with id {aggregate_id}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"no {what} with id {aggregate_id}")
        return aggregate

    def _exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def _commit(self, *aggregates: Aggregate) -> None:
        try:
            self.save(*aggregates)
        except IntegrityError:
            ids = ", ".join(str(a.id) for a in aggregates)
            raise ConcurrentWrite(
                f"record {ids} was changed by someone else at the same moment; "
                "reload it and decide again"
            ) from None
        # The library caches only what it loaded; what was just saved is exactly the
        # recorded state, and the next command on it (an adjudication after a raise) is near.
        cache = self.repository.cache
        if cache is not None:
            for aggregate in aggregates:
                cache.put(aggregate.id, aggregate)

    @contextmanager
    def _new_key(self, key_id: UUID) -> Iterator[None]:
        """A key for what the block seals, shredded if the block fails: a refused or lost
        command leaves no key behind."""
        self.vault.create_key(key_id)
        try:
            yield
        except BaseException:
            self.vault.shred(key_id)
            raise

    def deployment(self, deployment_id: UUID) -> Deployment:
        return self._load(Deployment, deployment_id, "deployment")

    def operation(self, operation_id: UUID) -> Operation:
        return self._load(Operation, operation_id, "operation")

    def alert(self, alert_id: UUID) -> Alert:
        return self._load(Alert, alert_id, "alert")

    def watchlist_entry(self, entry_id: UUID) -> WatchlistEntry:
        return self._load(WatchlistEntry, entry_id, "watchlist entry")

    def watchlist(self, deployment_id: UUID) -> list[WatchlistEntry]:
        return [self.watchlist_entry(i) for i in self.deployment(deployment_id).entry_ids]

    # --- policy -----------------------------------------------------------------------------

    def adopt_policy(self, actor: Actor) -> UUID:
        """Records the policy file in force. Adopting the same text again changes nothing."""
        actor.require(Role.ADMIN)
        policy_id = PolicyVersion.id_for(self.policy.version)
        if self._exists(policy_id):
            adopted = self._load(PolicyVersion, policy_id, "policy version")
            if adopted.content_hash != self.policy.content_hash:
                raise PolicyViolation(
                    f"policy version {self.policy.version} was adopted with different content; "
                    "give the changed policy a new version"
                )
            return policy_id
        self._commit(
            PolicyVersion.adopt(
                version=self.policy.version,
                content_hash=self.policy.content_hash,
                text=self.policy.text,
                actor=actor,
                occurred_at=self.clock(),
            )
        )
        return policy_id

    def _require_policy_adopted(self) -> None:
        if not self._exists(PolicyVersion.id_for(self.policy.version)):
            raise PolicyViolation(
                f"policy {self.policy.version} has not been adopted; an admin must adopt it first"
            )

    # --- operations and deployments ---------------------------------------------------------

    def open_operation(self, actor: Actor, *, name: str, force: str, purpose: str) -> UUID:
        operation = Operation.open(
            name=name, force=force, purpose=purpose, actor=actor, occurred_at=self.clock()
        )
        self._commit(operation)
        return operation.id

    def close_operation(self, actor: Actor, operation_id: UUID) -> None:
        operation = self.operation(operation_id)
        operation.close(actor=actor, occurred_at=self.clock())
        self._commit(operation)

    def propose_deployment(
        self, actor: Actor, plan: DeploymentPlan, threshold: float | None = None
    ) -> UUID:
        self._require_policy_adopted()
        operation = self.operation(UUID(plan.operation_id))
        if not operation.is_open:
            raise InvalidTransition(f"operation {operation.id} is closed")
        deployment = Deployment.propose(
            plan=plan,
            threshold=threshold,
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)
        return deployment.id

    def authorise_deployment(
        self, actor: Actor, deployment_id: UUID, *, authority_ref: str, urgent: bool = False
    ) -> None:
        deployment = self.deployment(deployment_id)
        deployment.authorise(
            authority_ref=authority_ref,
            urgent=urgent,
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)

    def confirm_urgent_authority(self, actor: Actor, deployment_id: UUID, written_ref: str) -> None:
        deployment = self.deployment(deployment_id)
        deployment.confirm_urgent_authority(
            written_ref=written_ref, policy=self.policy, actor=actor, occurred_at=self.clock()
        )
        self._commit(deployment)

    def refuse_deployment(self, actor: Actor, deployment_id: UUID, reason: str) -> None:
        deployment = self.deployment(deployment_id)
        deployment.refuse(reason=reason, policy=self.policy, actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def change_threshold(
        self, actor: Actor, deployment_id: UUID, threshold: float, reason: str
    ) -> None:
        deployment = self.deployment(deployment_id)
        deployment.change_threshold(
            threshold=threshold,
            reason=reason,
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)

    def start_deployment(self, actor: Actor, deployment_id: UUID) -> None:
        deployment = self.deployment(deployment_id)
        deployment.start(policy=self.policy, actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def pause_deployment(self, actor: Actor, deployment_id: UUID, reason: str = "") -> None:
        deployment = self.deployment(deployment_id)
        deployment.pause(reason=reason, actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def resume_deployment(self, actor: Actor, deployment_id: UUID) -> None:
        deployment = self.deployment(deployment_id)
        deployment.resume(actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def end_deployment(self, actor: Actor, deployment_id: UUID) -> None:
        deployment = self.deployment(deployment_id)
        deployment.end(actor=actor, occurred_at=self.clock())
        self._commit(deployment)

    def record_post_deployment_review(
        self, actor: Actor, deployment_id: UUID, findings: str
    ) -> None:
        deployment = self.deployment(deployment_id)
        deployment.record_post_deployment_review(
            findings=findings, policy=self.policy, actor=actor, occurred_at=self.clock()
        )
        self._commit(deployment)

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
        if not enrolment.subject_ref.strip():
            raise InvalidInput("an enrolment needs a subject reference")
        if template is not None and model_id != deployment.plan.model_id:
            raise PolicyViolation(
                f"the template was computed with model {model_id!r}, but deployment "
                f"{deployment_id} matches with {deployment.plan.model_id!r}"
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
        )

        def seal(field: str, value: bytes) -> bytes:
            return self.vault.seal(entry_id, field, value)

        with self._new_key(entry_id):
            entry = WatchlistEntry.enrol(
                id=entry_id,
                deployment_id=deployment_id,
                subject_digest=self.vault.subject_digest(enrolment.subject_ref.strip()),
                sealed_subject_ref=seal("subject_ref", enrolment.subject_ref.strip().encode()),
                sealed_name=seal("name", enrolment.name.strip().encode()),
                sealed_rationale=seal("rationale", enrolment.rationale.strip().encode()),
                category=enrolment.category,
                legal_basis=enrolment.legal_basis,
                offence=enrolment.offence,
                image_source=enrolment.image_source,
                image_taken_on=enrolment.image_taken_on,
                under_18=enrolment.under_18,
                model_id=model_id,
                sealed_image=seal("image", image) if image is not None else None,
                sealed_template=seal("template", template) if template is not None else None,
                actor=actor,
                occurred_at=now,
            )
            self._commit(deployment, entry)
        return entry_id

    def withdraw_entry(self, actor: Actor, entry_id: UUID, reason: str) -> None:
        entry = self.watchlist_entry(entry_id)
        entry.withdraw(reason=reason, actor=actor, occurred_at=self.clock())
        self._commit(entry)

    def review_watchlist(
        self,
        actor: Actor,
        deployment_id: UUID,
        *,
        confirmed_count: int,
        not_excessive: bool,
        note: str = "",
    ) -> int:
        deployment = self.deployment(deployment_id)
        active = sum(1 for e in self.watchlist(deployment_id) if e.is_active)
        deployment.review_watchlist(
            entry_count=active,
            confirmed_count=confirmed_count,
            not_excessive=not_excessive,
            note=note,
            policy=self.policy,
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(deployment)
        return active

    def reveal_entry(self, entry_id: UUID) -> RevealedEntry:
        """Opens an entry's personal fields. Callers at the edge log the consultation."""
        entry = self.watchlist_entry(entry_id)

        def unseal(field: str, sealed: bytes | None) -> bytes | None:
            return None if sealed is None else self.vault.unseal(entry_id, field, sealed)

        name = unseal("name", entry.sealed_name)
        if name is None:
            return RevealedEntry(entry_id, ERASED, ERASED, ERASED, None, None, erased=True)
        return RevealedEntry(
            entry_id=entry_id,
            subject_ref=(unseal("subject_ref", entry.sealed_subject_ref) or b"").decode(),
            name=name.decode(),
            rationale=(unseal("rationale", entry.sealed_rationale) or b"").decode(),
            image=unseal("image", entry.sealed_image),
            template=unseal("template", entry.sealed_template),
            erased=False,
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
        return [e.id for e in entries]

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
        deployment = self._load(Deployment, deployment_id, "deployment", to_change=False)
        self._require_matcher_for(actor, deployment)
        if not deployment.has_camera(camera_id):
            raise InvalidInput(f"camera {camera_id!r} is not part of deployment {deployment_id}")
        report_id = FaceCount.id_for(deployment_id, camera_id, period_start)
        if self._exists(report_id):
            existing = self._load(FaceCount, report_id, "face count")
            if existing.count != count or existing.period_end != period_end:
                raise ConcurrentWrite(
                    f"faces for camera {camera_id} from {period_start.isoformat()} were already "
                    f"reported as {existing.count}"
                )
            return report_id
        report = FaceCount.report(
            deployment_id=deployment_id,
            camera_id=camera_id,
            period_start=period_start,
            period_end=period_end,
            count=count,
            actor=actor,
            occurred_at=self.clock(),
        )
        try:
            self._commit(report)
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

    def raise_alert(
        self,
        actor: Actor,
        deployment_id: UUID,
        *,
        camera_id: str,
        entry_id: UUID,
        similarity: float,
        captured_at: datetime,
        model_id: str | None = None,
        track_id: str | None = None,
        face_crop: bytes | None = None,
        alert_id: UUID | None = None,
    ) -> UUID:
        """Raises an alert. With an `alert_id` the call is idempotent: a matcher that retries
        after a crash or a lost response gets the same alert, never a second one."""
        if alert_id is not None and self._exists(alert_id):
            existing = self.alert(alert_id)
            if existing.deployment_id != deployment_id or existing.entry_id != entry_id:
                raise ConcurrentWrite(f"alert id {alert_id} is already used by another alert")
            return alert_id
        deployment = self._load(Deployment, deployment_id, "deployment", to_change=False)
        self._require_matcher_for(actor, deployment)
        if not deployment.is_live:
            raise InvalidTransition(
                f"deployment {deployment_id} is {deployment.status}; alerts are raised only "
                "while it is live"
            )
        if not deployment.inside_window(captured_at):
            raise InvalidTransition(
                f"captured_at {captured_at.isoformat()} lies outside deployment "
                f"{deployment_id}'s authorised window"
            )
        if not deployment.has_camera(camera_id):
            raise InvalidInput(f"camera {camera_id!r} is not part of deployment {deployment_id}")
        if entry_id not in deployment.entry_ids:
            raise NotFound(f"deployment {deployment_id} has no watchlist entry {entry_id}")
        entry = self._load(WatchlistEntry, entry_id, "watchlist entry", to_change=False)
        if not entry.is_active:
            raise InvalidTransition(f"watchlist entry {entry_id} is {entry.status}")
        model_id = model_id or deployment.plan.model_id
        if model_id != deployment.plan.model_id:
            raise PolicyViolation(
                f"deployment {deployment_id} matches with {deployment.plan.model_id!r}; "
                f"a score from {model_id!r} is on another scale"
            )
        alert_id = alert_id or uuid4()
        # Only an alert with a face crop has anything to seal, so only it gets a key.
        keyed = self._new_key(alert_id) if face_crop is not None else nullcontext()
        try:
            with keyed:
                alert = Alert.raise_(
                    id=alert_id,
                    deployment_id=deployment_id,
                    camera_id=camera_id,
                    entry_id=entry_id,
                    category=entry.category,
                    similarity=similarity,
                    threshold=deployment.threshold,
                    model_id=model_id,
                    captured_at=captured_at,
                    track_id=track_id,
                    sealed_face_crop=(
                        None
                        if face_crop is None
                        else self.vault.seal(alert_id, "face_crop", face_crop)
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

    def adjudicate(
        self, actor: Actor, alert_id: UUID, decision: Decision, reason: str = ""
    ) -> None:
        alert = self.alert(alert_id)
        alert.adjudicate(decision=decision, reason=reason, actor=actor, occurred_at=self.clock())
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
        alert.record_outcome(
            outcome=outcome, actor=actor, occurred_at=occurred_at or now, recorded_at=now
        )
        self._commit(alert)

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
        alert.place_legal_hold(
            reason=reason, proceedings_ref=proceedings_ref, actor=actor, occurred_at=self.clock()
        )
        self._commit(alert)

    def release_legal_hold(self, actor: Actor, alert_id: UUID, reason: str) -> None:
        alert = self.alert(alert_id)
        alert.release_legal_hold(reason=reason, actor=actor, occurred_at=self.clock())
        self._commit(alert)

    def erase_alert_images(self, alert_id: UUID, *, rule: str, actor: Actor = SYSTEM) -> None:
        alert = self.alert(alert_id)
        alert.erase_images(rule=rule, actor=actor, occurred_at=self.clock())
        self._commit(alert)
        self.vault.shred(alert_id)

    def reveal_face_crop(self, alert_id: UUID) -> bytes | None:
        alert = self.alert(alert_id)
        if alert.sealed_face_crop is None:
            return None
        return self.vault.unseal(alert_id, "face_crop", alert.sealed_face_crop)

    # --- access log -------------------------------------------------------------------------

    def record_consultation(self, actor: Actor, *, record: str, purpose: str) -> UUID:
        if not purpose.strip():
            raise InvalidInput("reading personal data needs a stated purpose")
        consultation = Consultation(
            record=record, purpose=purpose.strip(), actor=actor, occurred_at=self.clock()
        )
        self._commit(consultation)
        return consultation.id

    def record_disclosure(
        self, actor: Actor, *, recipient: str, record: str, legal_basis: str
    ) -> UUID:
        if not recipient.strip() or not legal_basis.strip():
            raise InvalidInput("a disclosure needs its recipient and legal basis")
        disclosure = Disclosure(
            recipient=recipient.strip(),
            record=record,
            legal_basis=legal_basis.strip(),
            actor=actor,
            occurred_at=self.clock(),
        )
        self._commit(disclosure)
        return disclosure.id

    def describe(self) -> dict[str, Any]:
        return {"policy": self.policy.version, "recorder": type(self.recorder).__name__}
