"""What a matcher node reads when it has no access to the database (`lfr match --api`): its
deployment's live terms, between frame batches, and the watchlist changes its own index
applies. Both are open to the deployment's own matcher account only (the role guard binds the
token to the deployment); the changes carry templates, so every page that holds one is logged
as a consultation.

Plain handlers, not a Controller: a second controller on `/deployments` would bring a second
automatic OPTIONS handler for its path."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import get
from litestar.params import FromPath, Parameter

from lfr_ledger.api.dependencies import ActorDep, ReadsDep, ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.matcher import LiveTermsOut, WatchlistChangeOut, WatchlistChangesOut
from lfr_ledger.domain.actors import Role
from lfr_ledger.matching.index.follower import (
    DEFAULT_BATCH,
    Change,
    DeploymentProposed,
    Enrolled,
    Removed,
)
from lfr_ledger.matching.node.live_terms import LedgerWatch


@get(
    "/deployments/{deployment_id:uuid}/live-terms",
    sync_to_thread=True,
    tags=("deployments",),
    summary="The deployment's live terms a matcher obeys: status, window, threshold in force, "
    "model, cameras (the deployment's matcher)",
    description="Read between frame batches by a matcher node without the database: it "
    "matches only while `status` is live and a frame's capture time is inside the window.",
    responses=problem_spec(400, 401, 403, 404),
)
def get_live_terms(deployment_id: FromPath[UUID], services: ServicesDep) -> LiveTermsOut:
    terms = LedgerWatch(services.ledger, deployment_id).terms()
    return LiveTermsOut(
        deployment_id=deployment_id,
        status=terms.status,
        starts_at=terms.starts_at,
        ends_at=terms.ends_at,
        threshold=terms.threshold,
        model_id=terms.model_id,
        cameras=sorted(terms.cameras),
    )


@get(
    "/deployments/{deployment_id:uuid}/watchlist/changes",
    sync_to_thread=True,
    tags=("deployments",),
    summary="The deployment's watchlist changes after a position, templates included, for a "
    "matcher node's own index (the deployment's matcher; biometric, logged)",
    description="Enrolments (with the template, base64), withdrawals and destructions of "
    "this deployment's entries only, in log order, at most `limit` watchlist notifications a "
    "page. Ask again from `end` until it stops moving. Each page holding a template is logged "
    "as a consultation by the matcher account (record `watchlist_templates:{deployment_id}`); "
    "an empty poll logs nothing.",
    responses=problem_spec(400, 401, 403, 404),
)
def get_watchlist_changes(
    deployment_id: FromPath[UUID],
    reads: ReadsDep,
    actor: ActorDep,
    after: Annotated[
        int,
        Parameter(ge=0, description="The position the index has reached (0 at first)"),
    ] = 0,
    limit: Annotated[
        int,
        Parameter(ge=1, le=DEFAULT_BATCH, description="Watchlist notifications per page"),
    ] = DEFAULT_BATCH,
) -> WatchlistChangesOut:
    actor.require(Role.MATCHER)  # templates are for matching, whatever the table says
    # An unknown deployment is a 404, not an empty feed; a page with templates is logged.
    page = reads.watchlist_templates(deployment_id, after, limit)
    return WatchlistChangesOut(
        deployment_id=deployment_id,
        changes=[_change_out(c) for c in page.changes],
        end=page.end,
        notifications=page.notifications,
    )


def _change_out(change: Change) -> WatchlistChangeOut:
    if isinstance(change, DeploymentProposed):
        return WatchlistChangeOut(
            kind="deployment_proposed",
            deployment_id=change.deployment_id,
            model_id=change.model_id,
        )
    if isinstance(change, Enrolled):
        return WatchlistChangeOut(
            kind="enrolled",
            deployment_id=change.deployment_id,
            entry_id=change.entry_id,
            model_id=change.model_id,
            template=change.template,
        )
    if isinstance(change, Removed):
        return WatchlistChangeOut(kind="removed", entry_id=change.entry_id)
    return WatchlistChangeOut(kind="watchlist_destroyed", deployment_id=change.deployment_id)


MATCHER_ROUTES = (get_live_terms, get_watchlist_changes)
