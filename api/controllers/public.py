"""What the public reads, without signing in: the transparency page (`GET /public`) and its data
(`GET /public/deployments.json`, `.csv`); and the command that puts a deployment's results on
it (`POST /deployments/{id}/publication`, the planner or an authorising officer, after checking
the figures). Read-only and free of personal data: where, when and why, how the public was told,
the law, how to complain, and the publication record's figures."""

from __future__ import annotations

import threading
import weakref
from datetime import UTC
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath
from litestar.response import Template

from lfr_ledger.api.dependencies import ActorDep, IdempotencyKey, LedgerDep, ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.public_page import page_context
from lfr_ledger.api.schemas.public import PublicFeed, ResultsPublicationOut
from lfr_ledger.projections.readers.public import UK, public_csv

LISTING_RULES = [
    "A deployment is listed here once the force has issued its public notice, until it ends.",
    "A deployment for which the force recorded an exemption from advance notice is not listed "
    "before it takes place; its results are published like any other's.",
    "Results are published after the deployment ends, once the force has checked the figures, "
    "within the number of days the force's policy sets; results not yet published are listed "
    "with the day they are due.",
    "Times are UK time (Europe/London: GMT in winter, BST in summer); the data also gives each "
    "as a UTC instant.",
]


class _FeedCache:
    """The feed as last read, kept while the log and the minute are the same: the page is open
    to anyone, and each read would otherwise replay the views and the records. A new event, or
    a new minute (a notice coming due, a deadline passing), reads it afresh."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[Any, ...] | None = None
        self.feed: PublicFeed | None = None


_caches: weakref.WeakKeyDictionary[Any, _FeedCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def public_feed(services: Any) -> PublicFeed:
    """The feed as of the ledger's clock (a minute at most behind the log's last event)."""
    with _caches_lock:
        cache = _caches.setdefault(services, _FeedCache())
    ledger = services.ledger
    policy = ledger.policy
    now = ledger.clock()
    key = (
        ledger.recorder.max_notification_id(),
        now.replace(second=0, microsecond=0),
        policy.content_hash,
    )
    with cache.lock:
        if cache.key == key and cache.feed is not None:
            return cache.feed
        found = services.statistics().public_feed(results_within_days=policy.results_within_days)
        feed = msgspec.convert(
            {
                **found,
                "force_policy": policy.version,
                "time_zone": str(UK),
                "legal_basis": policy.publication_legal_basis,
                "complaints": policy.publication_complaints,
                "listing_rules": LISTING_RULES,
            },
            PublicFeed,
            from_attributes=True,
        )
        cache.key, cache.feed = key, feed
        return feed


class PublicController(Controller):
    path = "/public"
    tags = ("public",)
    opt = {"public": True}  # noqa: RUF012

    @get(
        "/",
        sync_to_thread=True,
        security=[],
        media_type="text/html",
        summary="The transparency page (public, no sign-in): the same as the data, for people",
        description="Server-rendered, no script, nothing loaded from another host; times in "
        "UK local time, each in a `<time>` element whose `datetime` is the UTC instant.",
        responses={
            200: ResponseSpec(data_container=str, media_type="text/html", description="The page"),
            **problem_spec(503),
        },
    )
    def page(self, services: ServicesDep) -> Template:
        """The transparency page: server-rendered, no script, nothing from another host."""
        return Template(template_name="public.html", context=page_context(public_feed(services)))

    @get(
        "/deployments.json",
        sync_to_thread=True,
        security=[],
        summary="Deployments announced, results published and results due (public, no sign-in)",
        description="No personal data. `upcoming`: deployments whose public notice is issued "
        "and that have not ended (one with a recorded exemption from notice is not listed "
        "before it runs); `results`: published results with their publication record; "
        "`results_due`: ended deployments whose results are not published yet, with the day "
        "due and whether it passed. Every time is a UTC instant with the same instant in UK "
        "local time beside it (`_uk`). At most a minute behind the log.",
        responses=problem_spec(503),
    )
    def feed(self, services: ServicesDep) -> PublicFeed:
        return public_feed(services)

    @get(
        "/deployments.csv",
        sync_to_thread=True,
        security=[],
        media_type="text/csv",
        summary="The same, one row per deployment listed (public, no sign-in)",
        description="`section` names the list (upcoming, result, result_due); times in UTC "
        "(`_utc`) and UK local time (`_uk`); the figures are the publication record's. Text a "
        "spreadsheet would run as a formula starts with a single quote.",
        responses={
            200: ResponseSpec(
                data_container=str, media_type="text/csv", description="One row per deployment"
            ),
            **problem_spec(503),
        },
    )
    def feed_csv(self, services: ServicesDep) -> Response[str]:
        return Response(
            content=public_csv(msgspec.to_builtins(public_feed(services))),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="lfr-public-deployments.csv"'},
        )


class ResultsPublicationController(Controller):
    path = "/deployments"
    tags = ("publication",)

    @post(
        "/{deployment_id:uuid}/publication",
        status_code=200,
        sync_to_thread=True,
        summary="Publish an ended deployment's results on the public page (planner or AO)",
        description="After checking the figures of its publication record "
        "(`GET /publication/deployments`): from now on `/public` shows them. Once per "
        "deployment; refused before it ends, for one that never went live, or while an alert "
        "awaits its decision (the true and false alerts published are final). Due within the "
        "policy's `publication.results_within_days` of the end: later, the ledger records the "
        "results overdue (in the history oversight reads) and `/metrics` counts them.",
        responses=problem_spec(400, 401, 403, 404, 409, 422),
    )
    def publish_results(
        self,
        deployment_id: FromPath[UUID],
        ledger: LedgerDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> ResultsPublicationOut:
        ledger.publish_results(actor, deployment_id)
        deployment = ledger.deployment(deployment_id, to_change=False)
        published = deployment.results_published_at
        due_by = deployment.publication_due_by(ledger.policy)
        assert published is not None and due_by is not None  # the command just recorded it
        return ResultsPublicationOut(
            deployment_id=deployment_id,
            published_at=published.astimezone(UTC),
            due_by=due_by.astimezone(UTC),
            published_late=published > due_by,
        )
