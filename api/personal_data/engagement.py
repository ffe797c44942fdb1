"""What the officer sent to engage on an alert reads: the watchlist entry the alert matched (the
name, category, offence and description) and the entry's enrolled image, to tell who to stop.

Only for an alert an operator decided is a match (after any correction): an officer reads no
entry it is not engaging on, and none at all through the watchlist's own routes. Each read is
recorded as the entry or image read it is, with the purpose "engaging on alert <id>".
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from lfr_ledger.api.personal_data.base import Layer, NotHeld, Read
from lfr_ledger.domain.alert.aggregate import Alert
from lfr_ledger.domain.errors import NotPermitted
from lfr_ledger.domain.values import Decision
from lfr_ledger.domain.watchlist import WatchlistEntry


@dataclass(frozen=True)
class EngagedEntry:
    """The matched entry's fields an officer engages by; sealed text opened (`[erased]` once
    the entry's key is shredded)."""

    alert: Alert
    entry: WatchlistEntry
    # The name the officer asks for and checks (by radio, against the PNC): identity is
    # confirmed on the name as well as the face; `[erased]` once shredded.
    name: str
    offence: str
    description: str | None
    has_image: bool
    erased: bool


class EngagementReads(Layer):
    def _engaged(self, alert_id: UUID, read: Read) -> tuple[Alert, WatchlistEntry]:
        """The alert and its entry, once the reader may read them for engaging on it."""
        alert = self.ledger.alert(alert_id)
        self._authorise(read, alert.deployment_id)
        if alert.decision != Decision.MATCH:
            decided = alert.decision.value if alert.decision else "not decided yet"
            raise NotPermitted(
                f"alert {alert_id} is {decided}: an officer reads the watchlist entry only of an "
                "alert an operator decided is a match"
            )
        return alert, self.ledger.watchlist_entry(alert.entry_id)

    def engaged_entry(self, alert_id: UUID) -> EngagedEntry:
        alert, entry = self._engaged(alert_id, Read.ENGAGED_ENTRY)
        self._consult(Read.ENTRY, entry.id, self._in_role(f"alert {alert_id}"))
        erased = not self.ledger.vault.has_key(entry.id)
        return EngagedEntry(
            alert=alert,
            entry=entry,
            name=self.ledger.reveal_entry(entry.id, images=False).name,
            offence=self.ledger.reveal_text(entry.id, "offence", entry.offence),
            description=self._entry_description(entry),
            has_image=entry.sealed_image is not None and not erased,
            erased=erased,
        )

    def engaged_image(self, alert_id: UUID) -> bytes:
        _, entry = self._engaged(alert_id, Read.ENGAGED_IMAGE)
        if entry.sealed_image is None:
            raise NotHeld("no-image", "No image", f"entry {entry.id} was enrolled without an image")
        if not self.ledger.vault.has_key(entry.id):
            raise NotHeld(
                "image-destroyed",
                "Image destroyed",
                f"entry {entry.id}'s image was destroyed with its watchlist",
            )
        self._consult(Read.ENTRY_IMAGE, entry.id, self._in_role(f"alert {alert_id}"))
        # The image alone: the name and template stay sealed, which the officer has no use for.
        image = self.ledger.vault.unseal(entry.id, "image", entry.sealed_image)
        if image is None:
            raise NotHeld(
                "image-destroyed", "Image destroyed", f"entry {entry.id}'s key was shredded"
            )
        return image
