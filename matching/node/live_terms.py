"""What the runner reads between frame batches: the deployment's terms (status, window, threshold
in force) and the watchlist search it matches against."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from lfr_ledger.domain.application import CaseLedger
    from lfr_ledger.matching.index.vectors import Candidate

logger = logging.getLogger("lfr.matching")


@dataclass(frozen=True)
class LiveTerms:
    """The deployment's terms the runner obeys, as last read."""

    status: str
    starts_at: datetime
    ends_at: datetime
    threshold: float
    model_id: str
    cameras: frozenset[str]

    @property
    def is_live(self) -> bool:
        return self.status == "live"

    def inside_window(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


class DeploymentWatch(Protocol):
    def terms(self) -> LiveTerms: ...


class LedgerWatch:
    """Reads the deployment from the event store (up to date across processes)."""

    def __init__(self, ledger: CaseLedger, deployment_id: UUID) -> None:
        self.ledger = ledger
        self.deployment_id = deployment_id

    def terms(self) -> LiveTerms:
        d = self.ledger.deployment(self.deployment_id)
        return LiveTerms(
            status=str(d.status),
            starts_at=d.plan.starts_at,
            ends_at=d.plan.ends_at,
            threshold=float(d.threshold),
            model_id=d.plan.model_id,
            cameras=frozenset(c.id for c in d.plan.cameras),
        )


class WatchlistSearch(Protocol):
    """The deployment's watchlist index (`matching.index.follower.WatchlistIndex`)."""

    def search_many(
        self, deployment_id: UUID, embeddings: Any, k: int = 1, *, model_id: str
    ) -> Sequence[Sequence[Candidate]]: ...
