"""The one place that assembles a matcher: a `MatchRunner` for one camera of one deployment,
wired to the ledger in process (`InProcessLedger`) or through the HTTP API (`LedgerOverHttp`).

`lfr match`, the live demo and the benches all build their runner with `assemble_matcher` and
differ only in what they hand it: how the ledger is reached, the engine, the camera and its
source, the runner's settings, and (for the benches, which time every claim) a sink of their
own. The watchlist index is opened here and closed with the `Matcher` it comes in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.clock import utcnow
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.index.vectors import HasDataDir
from lfr_ledger.matching.node.live_terms import LedgerWatch
from lfr_ledger.matching.node.remote import ApiWatch, ApiWatchlistFeed, remote_index_path
from lfr_ledger.matching.node.sinks import HttpSink, LedgerSink, MatcherApi
from lfr_ledger.matching.pipeline.journal import AlertJournal
from lfr_ledger.matching.pipeline.ports import (
    AlertSink,
    DeploymentCamera,
    DeploymentWatch,
    RunnerHooks,
    RunnerReads,
    RunnerWrites,
)
from lfr_ledger.matching.pipeline.runner import MatchRunner

if TYPE_CHECKING:
    from lfr_ledger.domain.application import CaseLedger
    from lfr_ledger.domain.commands.camera_health import HeartbeatReport
    from lfr_ledger.matching.engines.faces import FaceEngine
    from lfr_ledger.matching.pipeline.config import RunnerConfig
    from lfr_ledger.matching.pipeline.sources import FrameSource


class LedgerLink(Protocol):
    """How a matcher node reaches the ledger: where its runner writes, what it reads, and the
    watchlist index it searches with the call that brings that index up to date."""

    def sink(self) -> AlertSink: ...

    def watch(self, deployment_id: UUID) -> DeploymentWatch: ...

    def open_index(self, deployment_id: UUID) -> tuple[WatchlistIndex, Callable[[], int]]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class InProcessLedger:
    """The ledger in this process: claims go to its commands as the matcher `actor`, the terms
    are read from the event store, and the node's index follows the log. `heartbeats` keeps a
    heartbeat as the HTTP route would (the composition root's `api.camera_health`); without it
    heartbeats are dropped."""

    ledger: CaseLedger
    actor: Actor
    settings: HasDataDir
    heartbeats: Callable[[Actor, HeartbeatReport], bool] | None = None

    def sink(self) -> LedgerSink:
        return LedgerSink(self.ledger, self.actor, heartbeats=self.heartbeats)

    def watch(self, deployment_id: UUID) -> LedgerWatch:
        return LedgerWatch(self.ledger, deployment_id)

    def open_index(self, deployment_id: UUID) -> tuple[WatchlistIndex, Callable[[], int]]:
        index = WatchlistIndex.open(self.settings)
        return index, functools.partial(index.sync, self.ledger)

    def close(self) -> None:
        """Closes the ledger and its key vault: for a node that opened the ledger for this link
        (`lfr match`); a caller that shares its ledger (the demo, the benches) leaves it open."""
        self.ledger.close()
        close_vault = getattr(self.ledger.vault, "close", None)
        if close_vault is not None:
            close_vault()


@dataclass(frozen=True)
class LedgerOverHttp:
    """A remote node: no database, only the API (its nodes tried in turn) and the matcher
    token `api` carries. Its index, of its one deployment, follows the API's watchlist feed."""

    api: MatcherApi
    settings: HasDataDir

    @classmethod
    def connect(cls, api_urls: Sequence[str], token: str, settings: HasDataDir) -> LedgerOverHttp:
        """A link over the API nodes at `api_urls`, tried in turn, with the matcher `token`."""
        return cls(MatcherApi(api_urls, token), settings)

    def sink(self) -> HttpSink:
        return HttpSink(self.api)

    def watch(self, deployment_id: UUID) -> ApiWatch:
        return ApiWatch(self.api, deployment_id)

    def open_index(self, deployment_id: UUID) -> tuple[WatchlistIndex, Callable[[], int]]:
        index = WatchlistIndex(remote_index_path(self.settings, deployment_id))
        feed = ApiWatchlistFeed(self.api, deployment_id)
        return index, functools.partial(index.follow, feed)

    def close(self) -> None:
        self.api.close()


def matcher_account(deployment_id: UUID, camera_id: str, account_id: str | None = None) -> Actor:
    """The service account a camera's matcher acts as (default `matcher:CAMERA`)."""
    return Actor(
        account_id or f"matcher:{camera_id}", Role.MATCHER, deployment_id=str(deployment_id)
    )


def camera_journal(
    settings: HasDataDir, deployment_id: UUID, camera_id: str, path: Path | None = None
) -> AlertJournal:
    """A camera's alert journal: at `path`, else beside the data in
    `matchers/DEPLOYMENT/CAMERA.jsonl`."""
    if path is not None:
        return AlertJournal(path)
    return AlertJournal(settings.data_dir / "matchers" / str(deployment_id) / f"{camera_id}.jsonl")


@dataclass
class Matcher:
    """A runner ready to run, its index and the call that syncs it. Closing it (or leaving its
    `with`) closes the index; the link stays open (`LedgerLink.close` is its maker's to call)."""

    runner: MatchRunner
    index: WatchlistIndex
    refresh: Callable[[], int]

    def ready(self) -> int:
        """Refuses (RunnerRefused) before the index is synced or a frame read, then syncs the
        index; the number of watchlist entries it holds for the deployment."""
        self.runner.check_can_start()
        self.refresh()
        return self.index.count(self.runner.camera.deployment_id)

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> Matcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def assemble_matcher(
    link: LedgerLink,
    deployment_id: UUID,
    camera_id: str,
    engine: FaceEngine,
    *,
    config: RunnerConfig | None = None,
    source: FrameSource | None = None,
    journal: AlertJournal | None = None,
    sink: AlertSink | None = None,
    clock: Callable[[], datetime] = utcnow,
    hooks: RunnerHooks | None = None,
) -> Matcher:
    """A runner for `camera_id` of `deployment_id`, reaching the ledger through `link`.

    `source`: the frame source whose counters its heartbeats report (the frames themselves are
    handed to `run`); `journal`: where claims are written before they are sent; `sink`: a ready
    sink in place of the link's (one the benches wrap around `link.sink()` to time each claim);
    `clock`: the time the window is checked against before the first frame."""
    index, refresh = link.open_index(deployment_id)
    try:
        runner = MatchRunner(
            camera=DeploymentCamera(deployment_id, camera_id),
            engine=engine,
            reads=RunnerReads(
                watch=link.watch(deployment_id),
                index=index,
                refresh=refresh,
                source_counts=None if source is None else source.counts,
                clock=clock,
            ),
            writes=RunnerWrites(sink=link.sink() if sink is None else sink, journal=journal),
            config=config,
            hooks=hooks,
        )
    except BaseException:
        index.close()
        raise
    return Matcher(runner, index, refresh)
