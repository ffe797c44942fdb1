"""The alerts in the making: one per watchlist entry per cool-down, claimed, journalled, sent.

A face that matches opens (or feeds) the alert in making for its watchlist entry. It lasts one
cool-down from its first matching sighting; it raises one alert carrying the best-quality crop
seen before the alert was raised (`best_shot` of captured time, zero by default so the alert is
raised from the first matching sighting). Once sent, the crop is let go.

Alert ids derive from (deployment, camera, entry, first matching sighting): a runner restarted
on a replayed recording stamps its frames exactly as before, so every alert it sends again is
recognised and recorded once. A live camera cannot be replayed; there the `AlertJournal`
(`journal.py`) carries the last cool-down's claims over a restart: each claim is written to it
before it is sent, and a restarted runner takes them up (`resume`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid5

import cv2
import numpy as np

from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition, NotFound, PolicyViolation
from lfr_ledger.domain.records import LFR_NAMESPACE
from lfr_ledger.matching.engines.faces import Face
from lfr_ledger.matching.pipeline.config import RunnerConfig
from lfr_ledger.matching.pipeline.crops import portrait
from lfr_ledger.matching.pipeline.ports import (
    DeploymentCamera,
    DeploymentWatch,
    LiveTerms,
    RunnerHooks,
    RunnerWrites,
)
from lfr_ledger.matching.pipeline.sources import Frame
from lfr_ledger.matching.pipeline.summary import RunSummary

logger = logging.getLogger("lfr.matching")


def alert_id_for(
    deployment_id: UUID, camera_id: str, entry_id: UUID, track_start: datetime
) -> UUID:
    return uuid5(
        LFR_NAMESPACE,
        f"alert:{deployment_id}:{camera_id}:{entry_id}:{track_start.astimezone(UTC).isoformat()}",
    )


@dataclass
class _EntryAlert:
    """The alert in making for one watchlist entry: one per cool-down from its first sighting."""

    entry_id: UUID
    started_at: datetime
    alert_id: UUID
    similarity: float
    quality: float
    crop: bytes | None
    raised: bool = False


class AlertsInMaking:
    """One camera's alerts in the making, fed by the second stage's matching sightings.

    `note_error` passes a refusal on to the next heartbeat; a claim sent is added to `summary`
    and told to `hooks.on_alert`."""

    def __init__(
        self,
        camera: DeploymentCamera,
        config: RunnerConfig,
        writes: RunnerWrites,
        watch: DeploymentWatch,
        summary: RunSummary,
        hooks: RunnerHooks,
        note_error: Callable[[str], None],
    ) -> None:
        self.camera = camera
        self.config = config
        self.writes = writes
        self.watch = watch
        self.summary = summary
        self.hooks = hooks
        self.note_error = note_error
        self._alerts: dict[UUID, _EntryAlert] = {}
        self._resumed = False

    @property
    def pending(self) -> bool:
        """Whether an alert in making is still to be raised."""
        return any(not a.raised for a in self._alerts.values())

    def resume(self, first_frame: datetime) -> None:
        """Once per run, at its first frame: takes up the journal's claims of the last
        cool-down. Their entries count as alerted, and each claim is sent again (the ledger
        records it once), in case the previous run died between writing it and sending it."""
        if self._resumed:
            return
        self._resumed = True
        journal = self.writes.journal
        if journal is None:
            return
        since = first_frame - self.config.cooldown
        for claim in journal.claims_since(self.camera.deployment_id, self.camera.camera_id, since):
            self._alerts[claim.entry_id] = _EntryAlert(
                entry_id=claim.entry_id,
                started_at=claim.captured_at,
                alert_id=claim.alert_id,
                similarity=claim.similarity,
                quality=0.0,
                crop=None,
                raised=True,
            )
            self._send(claim, resent=True)

    def sighting(
        self, entry_id: UUID, similarity: float, face: Face, quality: float, frame: Frame
    ) -> None:
        """A face in `frame` matched `entry_id`: it opens the entry's alert in making, or feeds
        it (a better crop, a higher similarity) until it is raised."""
        alert = self._alerts.get(entry_id)
        at = frame.captured_at
        if alert is not None and at < alert.started_at + self.config.cooldown:
            if alert.raised:
                return
            if quality > alert.quality:
                alert.quality, alert.crop = quality, self._crop(frame.image, face)
            alert.similarity = max(alert.similarity, similarity)
            return
        deployment_id, camera_id = self.camera.deployment_id, self.camera.camera_id
        self._alerts[entry_id] = _EntryAlert(
            entry_id=entry_id,
            started_at=at,
            alert_id=alert_id_for(deployment_id, camera_id, entry_id, at),
            similarity=similarity,
            quality=quality,
            crop=self._crop(frame.image, face),
        )

    def _crop(self, image: np.ndarray, face: Face) -> bytes | None:
        crop = portrait(image, face.detection, margin=self.config.crop_margin)
        ok, encoded = cv2.imencode(
            ".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, self.config.crop_jpeg_quality]
        )
        return encoded.tobytes() if ok else None

    def raise_due(self, now: datetime | None, terms: LiveTerms) -> bool:
        """Raises the alerts whose best-shot wait is over at `now` (all of them when None).
        False once one was refused because the deployment is no longer live."""
        for alert in list(self._alerts.values()):
            if alert.raised:
                continue
            if now is not None and now - alert.started_at < self.config.best_shot:
                continue
            if not self._raise(alert, terms):
                return False
        return True

    def _raise(self, alert: _EntryAlert, terms: LiveTerms) -> bool:
        claim = AlertClaim(
            alert_id=alert.alert_id,
            deployment_id=self.camera.deployment_id,
            camera_id=self.camera.camera_id,
            entry_id=alert.entry_id,
            similarity=round(min(1.0, alert.similarity), 6),
            captured_at=alert.started_at,
            model_id=terms.model_id,
            track_id=f"trk-{alert.alert_id.hex[:16]}",
            face_crop=alert.crop,
        )
        alert.raised = True
        alert.crop = None  # sent once; the runner keeps no image it no longer needs
        if self.writes.journal is not None:
            self.writes.journal.write(claim)
        return self._send(claim)

    def _send(self, claim: AlertClaim, *, resent: bool = False) -> bool:
        """Sends a claim; a refusal is noted and matching goes on, unless it says the deployment
        is no longer live (False). A `resent` claim is an earlier run's: not this run's news."""
        try:
            self.writes.sink.raise_alert(claim)
        except InvalidTransition as refusal:
            current = self.watch.terms()
            if not current.is_live:
                self.summary.stopped = f"deployment {current.status}"
                return False
            # Live, yet refused: the entry was withdrawn, or the frame fell outside the window.
            logger.warning("alert %s refused: %s", claim.alert_id, refusal)
            self.note_error(f"alert refused: {type(refusal).__name__}: {refusal}")
            return True
        except (InvalidInput, NotFound, PolicyViolation) as refusal:
            logger.warning("alert %s refused: %s", claim.alert_id, refusal)
            self.note_error(f"alert refused: {type(refusal).__name__}: {refusal}")
            return True
        if resent:
            return True
        self.summary.alerts.append(claim)
        logger.info(
            "alert %s raised: deployment %s camera %s entry %s similarity %.3f",
            claim.alert_id,
            self.camera.deployment_id,
            self.camera.camera_id,
            claim.entry_id,
            claim.similarity,
        )
        if self.hooks.on_alert is not None:
            self.hooks.on_alert(claim)
        return True
