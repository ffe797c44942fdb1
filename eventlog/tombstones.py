"""The tombstone journal: every key the vault destroys, kept where no backup of the ledger is.

A backup taken before a destruction still holds the destroyed key, so restoring it would bring
the erased personal data back. Each destruction therefore first appends a tombstone here (the
key's id, when, and how far the log had got: ids only, never what the key sealed), and
`lfr restore` destroys again every key the journal names before the node serves.

The journal is one JSON object per line, appended with O_APPEND and fsynced before the key is
deleted: a crash between the two leaves a tombstone for a key still held, which a restore then
destroys as was intended, never the reverse (a destruction no tombstone records). It lives
outside the data folder (`LFR_TOMBSTONE_JOURNAL`), so neither `lfr backup` nor a restore over
the folder carries or rewinds it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from lfr_ledger.domain.clock import utcnow


class TombstoneError(Exception):
    pass


@dataclass(frozen=True)
class Tombstone:
    """One destroyed key. `position` is the log's last notification id when it was destroyed
    (None when the log could not be asked); `kind` what the key sealed, when the caller knew."""

    key_id: UUID
    destroyed_at: datetime
    position: int | None
    kind: str | None = None
    # Set by `lfr restore` on the line it adds for a key whose erasure the restored log lost
    # (recorded after the backup): the backup's start. Only such keys may be missing from the
    # vault without an erasure event; a tombstone alone never excuses one.
    restored_from: str | None = None

    def to_line(self) -> str:
        data: dict[str, Any] = {
            "key_id": str(self.key_id),
            "destroyed_at": self.destroyed_at.isoformat(),
            "position": self.position,
        }
        if self.kind is not None:
            data["kind"] = self.kind
        if self.restored_from is not None:
            data["restored_from"] = self.restored_from
        return json.dumps(data, sort_keys=True) + "\n"

    @classmethod
    def from_line(cls, line: str) -> Tombstone:
        data = json.loads(line)
        position = data.get("position")
        return cls(
            UUID(data["key_id"]),
            datetime.fromisoformat(data["destroyed_at"]),
            None if position is None else int(position),
            data.get("kind"),
            data.get("restored_from"),
        )


class TombstoneJournal:
    """The append-only journal at `path` (created, mode 0600, with its folder, on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(
        self,
        key_id: UUID,
        *,
        position: int | None,
        kind: str | None = None,
        restored_from: str | None = None,
    ) -> None:
        """Appends and fsyncs one tombstone; raises if it could not be made durable, so the
        destruction it precedes does not happen unrecorded."""
        line = Tombstone(key_id, utcnow(), position, kind, restored_from).to_line().encode()
        with self._lock:
            created = not self.path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)  # one write: lines from threads never interleave
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:  # the new file's name must survive a crash too
                dir_fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    def read(self) -> list[Tombstone]:
        """Every tombstone, in the order written. A last line cut short by a crash (the key
        was then never deleted) is skipped; a bad line before it means the journal was edited,
        and is refused rather than skipped."""
        if not self.path.exists():
            return []
        lines = self.path.read_text().split("\n")
        found: list[Tombstone] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                found.append(Tombstone.from_line(line))
            except (ValueError, KeyError, TypeError):
                if number == len(lines):  # no newline after it: the torn last write
                    continue
                raise TombstoneError(
                    f"{self.path} line {number} is not a tombstone: the journal was edited"
                ) from None
        return found

    def key_ids(self) -> frozenset[UUID]:
        return frozenset(t.key_id for t in self.read())

    def lost_erasures(self) -> frozenset[UUID]:
        """The keys a restore found destroyed with their erasure events lost (the log was
        restored from before them): the vault check counts these as recorded erasures."""
        return frozenset(t.key_id for t in self.read() if t.restored_from is not None)


def journal_destructions(
    vault: Any, journal: TombstoneJournal, position: Callable[[], int | None]
) -> None:
    """Makes `vault` append a tombstone to `journal` before each key it destroys."""

    def before_shred(key_id: UUID) -> None:
        try:
            at = position()
        except Exception:  # the log unreachable must not stop an erasure: the id still counts
            at = None
        journal.append(key_id, position=at)

    vault.before_shred = before_shred
