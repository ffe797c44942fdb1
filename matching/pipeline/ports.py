"""What the live pipeline reads and where it writes, declared by the pipeline itself.

It reads the deployment's terms (`DeploymentWatch` → `LiveTerms`: status, window, threshold in
force) and searches the deployment's watchlist (`WatchlistSearch`); it writes alert claims and
face counts to an `AlertSink` and heartbeats to a `HeartbeatSink`. The matcher node implements
them (`node/`: the ledger in process, or the HTTP API with a matcher token); the pipeline never
imports the node, so a runner can be fed by anything that keeps these promises.

A runner is built from a few bundles rather than a long list of keywords: the camera it matches
(`DeploymentCamera`), what it reads (`RunnerReads`), where it writes (`RunnerWrites`) and what
its caller is told as it goes (`RunnerHooks`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from uuid import UUID

from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.clock import utcnow
from lfr_ledger.domain.commands.camera_health import HeartbeatReport
from lfr_ledger.domain.records import FaceCount
from lfr_ledger.matching.pipeline.journal import AlertJournal
from lfr_ledger.matching.pipeline.sources import Frame, SourceCounts

if TYPE_CHECKING:
    from lfr_ledger.matching.index.vectors import Candidate


# --- what the runner reads --------------------------------------------------------------------


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


class WatchlistSearch(Protocol):
    """The deployment's watchlist index (`matching.index.follower.WatchlistIndex`)."""

    def search_many(
        self, deployment_id: UUID, embeddings: Any, k: int = 1, *, model_id: str
    ) -> Sequence[Sequence[Candidate]]: ...


# --- where it writes --------------------------------------------------------------------------


@dataclass(frozen=True)
class FacesCounted:
    """Faces processed by one camera over one period: the only trace a passer-by leaves."""

    deployment_id: UUID
    camera_id: str
    period_start: datetime
    period_end: datetime
    count: int

    @property
    def report_id(self) -> UUID:
        return FaceCount.id_for(self.deployment_id, self.camera_id, self.period_start)


class AlertSink(Protocol):
    """Where alerts and counts go. Both calls are idempotent on the claim's ids."""

    def raise_alert(self, claim: AlertClaim) -> UUID: ...

    def report_faces_counted(self, report: FacesCounted) -> UUID: ...


@runtime_checkable
class HeartbeatSink(Protocol):
    """Where heartbeats go. True when the heartbeat recorded a silent camera reporting again."""

    def send_heartbeat(self, report: HeartbeatReport) -> bool: ...


# --- what a runner is built from -------------------------------------------------------------


@dataclass(frozen=True)
class DeploymentCamera:
    """The one camera of one deployment a runner matches."""

    deployment_id: UUID
    camera_id: str


@dataclass(frozen=True)
class RunnerReads:
    """What the runner reads: the deployment's terms, its watchlist, and the time.

    `refresh` brings the index up to date (its sync, called at the start and now and then);
    `source_counts` reads the source's counters (`FrameSource.counts`: frames offered and
    dropped, and its gaps) for the heartbeats; `clock` is the ledger's time (checked against the
    window before the first frame), `monotonic` the wall time the heartbeats are paced by."""

    watch: DeploymentWatch
    index: WatchlistSearch
    refresh: Callable[[], object] | None = None
    source_counts: Callable[[], SourceCounts] | None = None
    clock: Callable[[], datetime] = utcnow
    monotonic: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class RunnerWrites:
    """Where the runner writes: alert claims and face counts to `sink`, each claim to the
    `journal` first (when there is one), heartbeats to `heartbeats` or else to the sink if it
    takes them."""

    sink: AlertSink
    heartbeats: HeartbeatSink | None = None
    journal: AlertJournal | None = None

    @property
    def heartbeat_sink(self) -> HeartbeatSink | None:
        if self.heartbeats is None and isinstance(self.sink, HeartbeatSink):
            return self.sink
        return self.heartbeats


@dataclass(frozen=True)
class RunnerHooks:
    """What the caller is told as the run goes: each alert raised, each frame read."""

    on_alert: Callable[[AlertClaim], None] | None = None
    on_frame: Callable[[Frame], None] | None = None
