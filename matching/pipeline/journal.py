"""The matcher's journal of the alerts it claims, written before each claim is sent.

A replayed recording stamps its frames as before, so a restarted runner derives the same alert
ids and the ledger recognises them. A live camera does not: after a restart the same passer-by
is first sighted at a new moment, which would derive a new id and raise a second alert inside the
cool-down. The journal closes that gap: a restarted runner reads the claims of the last cool-down,
treats their entries as already alerted, and sends each claim again (recorded once, by its id),
so a claim written just before a crash is raised rather than lost — without its crop, which
lived only in the dead process's memory.

One JSON line per claim: ids, the capture time and the score. No image, no embedding.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from lfr_ledger.domain.alert import AlertClaim


class AlertJournal:
    """An append-only file of alert claims; each line is flushed to disk before the claim is
    sent. One journal per camera runner (a camera is matched by one runner at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, claim: AlertClaim) -> None:
        # The claim as msgspec writes it, less its crop: no image ever reaches the disk.
        line: dict[str, Any] = msgspec.to_builtins(replace(claim, face_crop=None))
        del line["face_crop"]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as journal:
            journal.write(msgspec.json.encode(line) + b"\n")
            journal.flush()
            os.fsync(journal.fileno())

    def claims_since(
        self, deployment_id: UUID, camera_id: str, since: datetime
    ) -> list[AlertClaim]:
        """This camera's claims captured at or after `since`, oldest first (crops never kept).
        A line cut short by a crash mid-write is skipped: its claim was never sent."""
        if not self.path.is_file():
            return []
        claims = []
        for line in self.path.read_bytes().splitlines():
            try:
                claim = msgspec.json.decode(line, type=AlertClaim)
            except msgspec.DecodeError:
                continue
            if (
                claim.deployment_id == deployment_id
                and claim.camera_id == camera_id
                and claim.captured_at >= since
            ):
                claims.append(claim)
        return sorted(claims, key=lambda c: c.captured_at)
