"""What a run gives back when it stops: its counts, the claims, face counts and heartbeats it
delivered, and why it stopped."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.commands.camera_health import HeartbeatReport
from lfr_ledger.matching.pipeline.ports import FacesCounted


@dataclass
class RunSummary:
    """`faces`: faces processed (tracks compared with the watchlist, one per passer-by);
    `detections`: faces found over all frames; `embeddings`: faces the recogniser embedded;
    `whole_frames`: frames searched whole (the rest only where motion or a track said a face could
    be, `regions.py`); `shed`: better sightings of tracks already compared that were not compared
    again because the second stage was behind."""

    frames: int = 0
    faces: int = 0
    detections: int = 0
    embeddings: int = 0
    whole_frames: int = 0
    shed: int = 0
    alerts: list[AlertClaim] = field(default_factory=list)
    counts: list[FacesCounted] = field(default_factory=list)
    heartbeats: list[HeartbeatReport] = field(default_factory=list)
    stopped: str = ""

    @property
    def alert_ids(self) -> list[UUID]:
        return [a.alert_id for a in self.alerts]
