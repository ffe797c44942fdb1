"""What one retention run did, for the caller, the log line and the API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from lfr_ledger.oversight.reports import plain


@dataclass
class RetentionReport:
    """What one run did. Empty lists on a second run: nothing was due any more."""

    as_of: datetime
    dry_run: bool = False
    watchlists_destroyed: list[UUID] = field(default_factory=list)
    entries_destroyed: list[UUID] = field(default_factory=list)
    alert_images_erased: list[UUID] = field(default_factory=list)
    held: list[UUID] = field(default_factory=list)
    keys_shredded_late: list[UUID] = field(default_factory=list)
    not_ended: list[UUID] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    index_synced: bool = False
    consultation_purposes_destroyed: list[UUID] = field(default_factory=list)
    disclosure_contents_destroyed: list[UUID] = field(default_factory=list)
    # Disclosures past the period recorded before sealing: their text is in the log in clear.
    unsealed_disclosures: list[UUID] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.watchlists_destroyed
            or self.entries_destroyed
            or self.alert_images_erased
            or self.keys_shredded_late
            or self.consultation_purposes_destroyed
            or self.disclosure_contents_destroyed
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: plain(v) for k, v in asdict(self).items()}

    def summary(self) -> str:
        verb = "would destroy" if self.dry_run else "destroyed"
        lines = [
            f"retention as of {self.as_of.isoformat()}: {verb} "
            f"{len(self.watchlists_destroyed)} watchlist(s) "
            f"({len(self.entries_destroyed)} entries), "
            f"{len(self.alert_images_erased)} alert image set(s); "
            f"{len(self.held)} kept under legal hold"
        ]
        if self.consultation_purposes_destroyed or self.disclosure_contents_destroyed:
            lines.append(
                f"access log: {verb} the purpose of "
                f"{len(self.consultation_purposes_destroyed)} consultation(s) and the recipient "
                f"and record of {len(self.disclosure_contents_destroyed)} disclosure(s)"
            )
        if self.unsealed_disclosures:
            lines.append(
                f"access log: {len(self.unsealed_disclosures)} disclosure(s) past the period were "
                "recorded before sealing; their text stays in the log in clear"
            )
        if self.keys_shredded_late:
            lines.append(f"shredded {len(self.keys_shredded_late)} key(s) left by an earlier run")
        for deployment_id in self.not_ended:
            lines.append(
                f"ATTENTION: deployment {deployment_id}'s window has closed but it was never "
                "ended; an operator must end it before its watchlist can be destroyed"
            )
        lines += [f"FAILED: {f}" for f in self.failures]
        return "\n".join(lines)
