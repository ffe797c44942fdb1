"""Reads made in the course of the case work: a deployment's alerts (listed, streamed, one
alert's timeline), its face crops, its watchlist (listed, an entry, an enrolled image) and the
templates its matcher indexes. Each records its consultation first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec

from lfr_ledger.api.personal_data.base import Layer, NotHeld, Read
from lfr_ledger.api.stream import AlertFeed, current_position
from lfr_ledger.domain.alert.aggregate import Alert
from lfr_ledger.domain.commands.watchlist import RevealedEntry
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.watchlist import WatchlistEntry
from lfr_ledger.matching.index.follower import Enrolled, LedgerFeed, WatchlistPage
from lfr_ledger.projections.summaries import AlertRow


@dataclass(frozen=True)
class AlertTimeline:
    alert: Alert
    events: list[Any]  # the alert's domain events, in order


@dataclass(frozen=True)
class AlertList:
    alerts: list[AlertRow]
    # The log's position before the list was read: a stream from it misses nothing.
    stream_from: int


@dataclass(frozen=True)
class DeploymentWatchlist:
    deployment: Deployment
    entries: list[WatchlistEntry]


@dataclass(frozen=True)
class EntryRead:
    """An entry with its sealed fields opened: the revealed personal fields, and the sealed
    text of the enrolment (`[erased]` once the entry's key is shredded; text an earlier release
    stored in clear reads as stored)."""

    entry: WatchlistEntry
    revealed: RevealedEntry
    offence: str
    legal_basis: str
    image_source: str
    description: str | None = None
    under_18_justification: str | None = None


class CaseReads(Layer):
    # --- alerts -------------------------------------------------------------------------------

    def alert_timeline(self, alert_id: UUID) -> AlertTimeline:
        """One alert's state and every event of it (sealed fields stay sealed)."""
        alert = self.ledger.alert(alert_id)
        self._authorise(Read.ALERT_TIMELINE, alert.deployment_id)
        self._consult(Read.ALERT_TIMELINE, alert_id, self._in_role(f"alert {alert_id}"))
        events = list(self.ledger.repository.event_store.get(alert_id, lte=alert.version))
        self._check_integrity(originator_ids=[alert_id])
        return AlertTimeline(alert, events)

    def alert_list(self, deployment_id: UUID) -> AlertList:
        """One consultation per list read: the record names the deployment, and its time
        with the log says which alerts the list held."""
        self.ledger.deployment(deployment_id, to_change=False)  # 404 for an unknown one
        self._authorise(Read.ALERT_LIST, deployment_id)
        purpose = self._in_role(f"the alerts of deployment {deployment_id}")
        self._consult(Read.ALERT_LIST, deployment_id, purpose)
        # Read before the views catch up, so the list holds at least what precedes it.
        stream_from = current_position(self.ledger)
        alerts = self._statistics_reader().deployment_alerts(deployment_id)
        return AlertList([self._with_decider(row) for row in alerts], stream_from)

    def _with_decider(self, row: AlertRow) -> AlertRow:
        """The row with the staff number of the operator who decided, from the alert itself
        (views hold no staff numbers; docs/decisions.md), as the live stream shows it."""
        if row.decision is None:
            return row
        decider = self.ledger.alert(UUID(row.id), to_change=False).adjudicated_by
        return msgspec.structs.replace(row, adjudicated_by=decider)

    def alert_stream(self, deployment_id: UUID, after: int | None) -> AlertFeed:
        """A subscription to a deployment's live alerts: one consultation per subscription,
        not per event (a reconnect is a new subscription, and is logged again)."""
        self.ledger.deployment(deployment_id, to_change=False)
        self._authorise(Read.ALERT_STREAM, deployment_id)
        purpose = self._in_role(f"the alerts of deployment {deployment_id}")
        self._consult(Read.ALERT_STREAM, deployment_id, purpose)
        # Fixed before the response starts, so nothing raised after connecting is missed.
        return AlertFeed(
            self.ledger, deployment_id, current_position(self.ledger) if after is None else after
        )

    def face_crop(self, alert_id: UUID, *, purpose: str) -> bytes:
        alert = self.ledger.alert(alert_id)
        if alert.images_erased_at is not None:
            raise NotHeld(
                "images-erased",
                "Images erased",
                f"alert {alert_id}'s face crop was erased under retention at "
                f"{alert.images_erased_at.isoformat()}",
            )
        if alert.sealed_face_crop is None:
            raise NotHeld(
                "no-face-crop", "No face crop", f"the matcher sent no face crop for {alert_id}"
            )
        self._authorise(Read.FACE_CROP, alert.deployment_id)
        self._consult(Read.FACE_CROP, alert_id, purpose)
        crop = self.ledger.reveal_face_crop(alert_id)
        if crop is None:
            raise NotHeld("images-erased", "Images erased", f"alert {alert_id}'s key was shredded")
        return crop

    # --- the watchlist ------------------------------------------------------------------------

    def watchlist(self, deployment_id: UUID) -> DeploymentWatchlist:
        """A deployment's entries: ids, categories, states (no name, reference or image)."""
        deployment = self.ledger.deployment(deployment_id)
        self._authorise(Read.WATCHLIST, deployment_id)
        purpose = self._in_role(f"the watchlist of deployment {deployment_id}")
        self._consult(Read.WATCHLIST, deployment_id, purpose)
        entries = [self.ledger.watchlist_entry(e) for e in deployment.entry_ids]
        return DeploymentWatchlist(deployment, entries)

    def entry(self, entry_id: UUID, *, purpose: str) -> EntryRead:
        """An entry with its personal fields opened (`[erased]` once shredded), not its image."""
        entry = self.ledger.watchlist_entry(entry_id)
        self._authorise(Read.ENTRY, entry.deployment_id)
        self._consult(Read.ENTRY, entry_id, purpose)
        revealed = self.ledger.reveal_entry(entry_id)
        return EntryRead(
            entry,
            revealed,
            offence=self.ledger.reveal_text(entry_id, "offence", entry.offence),
            legal_basis=self.ledger.reveal_text(entry_id, "legal_basis", entry.legal_basis),
            image_source=self.ledger.reveal_text(entry_id, "image_source", entry.image_source),
            description=self._entry_description(entry),
            under_18_justification=(
                None
                if entry.under_18_justification is None
                else self.ledger.reveal_text(
                    entry_id, "under_18_justification", entry.under_18_justification
                )
            ),
        )

    def entry_image(self, entry_id: UUID, *, purpose: str) -> bytes:
        entry = self.ledger.watchlist_entry(entry_id)
        if entry.sealed_image is None:
            raise NotHeld("no-image", "No image", f"entry {entry_id} was enrolled without an image")
        if not self.ledger.vault.has_key(entry_id):
            raise NotHeld(
                "image-destroyed",
                "Image destroyed",
                f"entry {entry_id}'s image was destroyed with its watchlist",
            )
        self._authorise(Read.ENTRY_IMAGE, entry.deployment_id)
        self._consult(Read.ENTRY_IMAGE, entry_id, purpose)
        image = self.ledger.reveal_entry(entry_id).image
        if image is None:
            raise NotHeld(
                "image-destroyed", "Image destroyed", f"entry {entry_id}'s key was shredded"
            )
        return image

    def watchlist_templates(self, deployment_id: UUID, after: int, limit: int) -> WatchlistPage:
        """The deployment's watchlist changes for its matcher's own index. A page holding a
        template is a consultation by the matcher account; an empty poll logs nothing (the
        node polls between frame batches, and a page without templates holds only ids)."""
        self.ledger.deployment(deployment_id, to_change=False)
        self._authorise(Read.TEMPLATES, deployment_id)
        page = LedgerFeed(self.ledger, deployment_id).page(after, limit)
        templates = sum(1 for c in page.changes if isinstance(c, Enrolled) and c.template)
        if templates:
            self._consult(
                Read.TEMPLATES,
                deployment_id,
                f"live matching: {templates} watchlist templates for the matcher's index",
            )
        return page
