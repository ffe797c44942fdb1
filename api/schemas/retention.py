"""Legal holds and retention runs."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from lfr_ledger.api.schemas.base import Reply, ShortText, Struct, Text


class LegalHoldIn(Struct):
    reason: Text
    proceedings_ref: ShortText


class LegalHoldReleaseIn(Struct):
    reason: Text


class LegalHold(Reply):
    """An alert's retention state after the command: no personal data."""

    id: UUID
    under_legal_hold: bool
    proceedings_ref: str | None
    images_erased_at: datetime | None


class RetentionRun(Reply):
    as_of: datetime
    dry_run: bool
    watchlists_destroyed: list[UUID]
    entries_destroyed: list[UUID]
    alert_images_erased: list[UUID]
    held: list[UUID]
    keys_shredded_late: list[UUID]
    not_ended: list[UUID]
    failures: list[str]
    index_synced: bool
    # The access and disclosure logs' own retention (`retention.access_log_years`).
    consultation_purposes_destroyed: list[UUID]
    disclosure_contents_destroyed: list[UUID]
    unsealed_disclosures: list[UUID]
