"""Commands of the live deployment: the matcher's face counts and alerts, the holds that keep
an alert's images and their erasure. What the operator and officers record on each alert is in
`decisions.py` (adjudication, engagement, closing) and `outcomes.py` (outcomes, perceived
characteristics); `AlertCommands` carries all three."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from time import monotonic, sleep
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.alert.aggregate import Alert, carries_sealed_notes
from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.commands.base import SYSTEM
from lfr_ledger.domain.commands.decisions import AlertDecisionCommands
from lfr_ledger.domain.commands.outcomes import OutcomeCommands
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.errors import (
    ConcurrentWrite,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PolicyViolation,
)
from lfr_ledger.domain.face_count_timeline import FaceCountTimeline
from lfr_ledger.domain.read_check import checked_reads
from lfr_ledger.domain.records import FaceCount
from lfr_ledger.domain.watchlist import WatchlistEntry

# How long a send of an alert waits for another send of it already holding its key (a
# matcher's resend after a timeout, on another node or thread) to be recorded: well past one
# write's time, and under the matcher's HTTP timeout, so the resend still gets its answer.
RESEND_WAIT = 5.0
RESEND_POLL = 0.002


class AlertCommands(AlertDecisionCommands, OutcomeCommands):
    resend_wait: float = RESEND_WAIT

    # --- live matching ----------------------------------------------------------------------

    @checked_reads
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

    @checked_reads
    def raise_alert(self, actor: Actor, claim: AlertClaim) -> UUID:
        """Raises the alert `claim` states. Idempotent on the claim's `alert_id`: a matcher that
        retries after a crash or a lost response gets the same alert, never a second one."""
        alert_id, deployment_id, entry_id = claim.alert_id, claim.deployment_id, claim.entry_id
        if self._exists(alert_id):
            return self._raised_before(claim)
        # The id of a key: the crop's key of this alert, sent again while the first send is
        # being recorded (on this node or another), or a key another record holds (its notes,
        # its images, the pseudonyms'), which an alert must not take: it would seal its crop
        # with that key, and its erasure shred it.
        deadline = monotonic() + self.resend_wait
        if self.vault.has_key(alert_id) and self._first_send_recorded(alert_id, deadline):
            return self._raised_before(claim)
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
        # Only an alert with a face crop has anything to seal, so only it gets a key. Made
        # unless it exists, so that of two sends at once exactly one makes it and goes on;
        # the other answers as a resend once the first is recorded, and deletes nothing.
        while crop is not None and not self.vault.create_key_if_absent(alert_id):
            if self._first_send_recorded(alert_id, deadline):
                return self._raised_before(claim)
        keyed = self._made_key(alert_id) if crop is not None else nullcontext()
        try:
            # The notes key comes from the vault's stock and is named by the Raised event, so
            # neither this command nor the adjudication after it writes to the vault for it.
            with keyed, self._fresh_key() as notes_key:
                alert = Alert.raise_(
                    claim,
                    category=entry.category,
                    threshold=deployment.threshold,
                    model_id=model_id,
                    sealed_face_crop=(
                        None if crop is None else self.vault.seal(alert_id, "face_crop", crop)
                    ),
                    notes_key=notes_key,
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

    def _raised_before(self, claim: AlertClaim) -> UUID:
        """A resend's answer: the id of the alert already recorded for `claim`."""
        alert_id = claim.alert_id
        try:
            existing = self.alert(alert_id)
        except NotFound:
            raise ConcurrentWrite(
                f"alert id {alert_id} is already the id of another record; send a new one"
            ) from None
        if existing.deployment_id != claim.deployment_id or existing.entry_id != claim.entry_id:
            raise ConcurrentWrite(f"alert id {alert_id} is already used by another alert")
        return alert_id

    def _first_send_recorded(self, alert_id: UUID, deadline: float) -> bool:
        """Waits while a key under `alert_id` exists and no record does: True once the record
        is there (the send that made the key was recorded), False once the key is gone (that
        send was refused or runs again, and this one may make the key). A key still unclaimed
        at `deadline` is another record's, or a send that died between its key and its event."""
        pause = RESEND_POLL
        while not self._exists(alert_id):
            if not self.vault.has_key(alert_id):
                return False
            if monotonic() >= deadline:
                raise ConcurrentWrite(
                    f"alert id {alert_id} is the id of a key in the vault and no alert was "
                    f"recorded under it within {self.resend_wait:g} s; send a new one"
                )
            sleep(pause)
            pause = min(2 * pause, 0.05)
        return True

    # --- retention: holds and erasure -------------------------------------------------------

    def place_legal_hold(
        self, actor: Actor, alert_id: UUID, *, reason: str, proceedings_ref: str
    ) -> None:
        alert = self.alert(alert_id)
        with self._notes_key(alert) as notes:
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
        with self._notes_key(alert) as notes:
            sealed = self._seal_text(notes, "legal_hold_release_reason", reason)
            alert.release_legal_hold(reason=sealed, actor=actor, occurred_at=self.clock())
            self._commit(alert)

    def erase_alert_images(self, alert_id: UUID, *, rule: str, actor: Actor = SYSTEM) -> None:
        alert = self.alert(alert_id)
        alert.erase_images(rule=rule, actor=actor, occurred_at=self.clock())
        self._commit(alert)
        for key_id in self.erased_alert_keys(alert_id):
            self.vault.shred(key_id)

    def erased_alert_keys(self, alert_id: UUID) -> list[UUID]:
        """The keys erasing the alert's images destroys: its images' key, and its notes key
        once anything was sealed under it. A notes key made with the alert (issue 28) that
        sealed nothing yet stays: the text a decision made after the erasure seals then goes
        under a key no tombstone names (a restore would destroy it again), as an alert raised
        before, whose key was made with its first text, always had."""
        alert = self.alert(alert_id, to_change=False)
        if alert.notes_key is not None and not any(
            carries_sealed_notes(e) for e in self.repository.event_store.get(alert_id)
        ):
            return [alert_id]
        return [alert_id, alert.notes_key_id]

    def reveal_face_crop(self, alert_id: UUID) -> bytes | None:
        alert = self.alert(alert_id)
        if alert.sealed_face_crop is None:
            return None
        return self.vault.unseal(alert_id, "face_crop", alert.sealed_face_crop)
