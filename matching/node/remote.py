"""What a matcher node reads when it reaches the ledger only through the HTTP API
(`lfr match --api`): its deployment's live terms (`ApiWatch`) and the watchlist changes its
own index applies (`ApiWatchlistFeed`), over the same connection its alerts go out on
(`sinks.MatcherApi`). Such a node holds no database credentials: only its matcher token, bound
to one deployment, which the API lets read that deployment's templates and nothing else."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from lfr_ledger.matching.index.follower import (
    Change,
    DeploymentProposed,
    Enrolled,
    Removed,
    WatchlistDestroyed,
    WatchlistPage,
)
from lfr_ledger.matching.index.vectors import HasDataDir
from lfr_ledger.matching.node.sinks import MatcherApi
from lfr_ledger.matching.pipeline.ports import LiveTerms


def remote_index_path(settings: HasDataDir, deployment_id: UUID) -> Path:
    """A remote node's index of its one deployment, beside the camera journals: its positions
    are the API's, so it is never shared with an index that follows a database directly."""
    return settings.data_dir / "matchers" / str(deployment_id) / "watchlist.sqlite"


class ApiWatch:
    """The pipeline's `DeploymentWatch` over the API: one GET each time the runner checks."""

    def __init__(self, api: MatcherApi, deployment_id: UUID) -> None:
        self.api = api
        self.deployment_id = deployment_id

    def terms(self) -> LiveTerms:
        answer = self.api.request("GET", f"/deployments/{self.deployment_id}/live-terms")
        return LiveTerms(
            status=str(answer["status"]),
            starts_at=datetime.fromisoformat(answer["starts_at"]),
            ends_at=datetime.fromisoformat(answer["ends_at"]),
            threshold=float(answer["threshold"]),
            model_id=str(answer["model_id"]),
            cameras=frozenset(answer["cameras"]),
        )


class ApiWatchlistFeed:
    """`follower.WatchlistFeed` over the API: the deployment's watchlist changes, a page a
    request, for `WatchlistIndex.follow`."""

    def __init__(self, api: MatcherApi, deployment_id: UUID) -> None:
        self.api = api
        self.deployment_id = deployment_id

    def page(self, after: int, limit: int) -> WatchlistPage:
        answer = self.api.request(
            "GET",
            f"/deployments/{self.deployment_id}/watchlist/changes",
            params={"after": after, "limit": limit},
        )
        changes = [_change(c) for c in answer["changes"]]
        return WatchlistPage(changes, int(answer["end"]), int(answer["notifications"]))


def _change(change: dict[str, Any]) -> Change:
    kind = change["kind"]
    if kind == "enrolled":
        template = change.get("template")
        return Enrolled(
            UUID(change["entry_id"]),
            UUID(change["deployment_id"]),
            change.get("model_id"),
            None if template is None else base64.b64decode(template),
        )
    if kind == "removed":
        return Removed(UUID(change["entry_id"]))
    if kind == "deployment_proposed":
        return DeploymentProposed(UUID(change["deployment_id"]), str(change["model_id"]))
    if kind == "watchlist_destroyed":
        return WatchlistDestroyed(UUID(change["deployment_id"]))
    raise ValueError(f"the API sent a watchlist change of unknown kind {kind!r}")
