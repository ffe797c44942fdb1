"""What the controllers and the console's pages share: the ledger, the idempotency store,
statistics, and small helpers, as Litestar dependencies."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, QueryParameter

from lfr_ledger.api.console.sessions import SessionStore
from lfr_ledger.api.idempotency import KEY_PATTERN
from lfr_ledger.api.idempotency_store import IdempotencyStore
from lfr_ledger.api.personal_data import PersonalData
from lfr_ledger.api.problems import ProblemException
from lfr_ledger.api.schemas.grants import BODY_CODE_PATTERN
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.oversight.retention.destruction import Retention
from lfr_ledger.projections.catch_up import catch_up, failure_count
from lfr_ledger.projections.readers.statistics import StatisticsReader

FAILURES_TTL_SECONDS = 5.0


class RetentionFactory(Protocol):
    def __call__(
        self, *, actor: Actor = ..., after_change: Callable[[], object] | None = None
    ) -> Retention: ...


class Services:
    """Not a dataclass: Litestar would try to validate a dataclass dependency field by field."""

    def __init__(
        self,
        settings: Settings,
        ledger: CaseLedger,
        idempotency: IdempotencyStore,
        sessions: SessionStore,
        retention: RetentionFactory,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.idempotency = idempotency
        self.sessions = sessions
        # Made by the composition root (`api/bootstrap.py`), which alone knows what retention
        # is handed (the deadline index, the watchlist index's sync): controllers never import it.
        self.retention = retention
        self._catch_up_lock = threading.Lock()
        self._reader: StatisticsReader | None = None
        self._failures = 0
        self._failures_read_at = -FAILURES_TTL_SECONDS

    def statistics(self) -> StatisticsReader:
        """The projections' reader, caught up first so a client reads its own writes.

        One catch-up at a time per process: concurrent readers would only repeat its work.
        """
        with self._catch_up_lock:
            catch_up(self.settings)
            if self._reader is None:
                # Blue (test-subject) categories of the policy in force stay out of the figures.
                self._reader = StatisticsReader(
                    self.settings,
                    blue_categories=self.ledger.policy.blue_categories,
                    clock=self.ledger.clock,
                )
        return self._reader

    def projection_failures(self) -> int:
        """How many events the projections skipped, re-read at most every few seconds."""
        now = time.monotonic()
        if now - self._failures_read_at > FAILURES_TTL_SECONDS:
            self._failures = failure_count(self.settings)
            self._failures_read_at = now
        return self._failures

    def close(self) -> None:
        close_reader = getattr(self._reader, "close", None)
        if callable(close_reader):
            close_reader()
        self.idempotency.close()
        self.sessions.close()
        self.ledger.close()
        close_vault = getattr(self.ledger.vault, "close", None)
        if callable(close_vault):
            close_vault()


def provide_services(state: State) -> Services:
    services: Services = state.services
    return services


def provide_ledger(state: State) -> CaseLedger:
    services: Services = state.services
    return services.ledger


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    actor = request.user
    if not isinstance(actor, Actor):  # the auth middleware guarantees it; be explicit anyway
        raise ProblemException(401, "unauthenticated", "Authentication required", "no actor")
    return actor


LedgerDep = NamedDependency[CaseLedger]
ActorDep = NamedDependency[Actor]
ServicesDep = NamedDependency[Services]
ReadsDep = NamedDependency[PersonalData]


def provide_reads(services: ServicesDep, actor: ActorDep) -> PersonalData:
    """The caller's one way to read personal data: each read is logged as a consultation."""
    return PersonalData(
        services.ledger, actor, settings=services.settings, statistics=services.statistics
    )


DEPENDENCIES = {
    "services": Provide(provide_services, sync_to_thread=False),
    "ledger": Provide(provide_ledger, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
    "reads": Provide(provide_reads, sync_to_thread=False),
}

# Declared on every POST so OpenAPI documents it and its shape is validated; the middleware in
# api/idempotency.py does the work.
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        pattern=KEY_PATTERN,
        max_length=255,
        description=(
            "Makes the POST safe to retry: the same key with the same body returns the first "
            "response and records nothing new; with another body it is refused (422). Keys are "
            "per actor and kept 24 hours."
        ),
    ),
]

# A purpose is required as "header OR query": OpenAPI cannot say either-or, so both parameters
# are optional in the document and their descriptions (and each route's) say that one of the
# two is required.
PURPOSE_REQUIRED = (
    "**Purpose required.** This response holds personal data: state why you read it in the "
    "`X-Purpose` header or in the `purpose` query parameter (one of the two is required; "
    "either will do). The read is logged as a consultation with that purpose; without one "
    "the request is refused (400 `purpose-required`)."
)

PurposeHeader = Annotated[
    str | None,
    HeaderParameter(
        name="X-Purpose",
        required=False,
        max_length=500,
        description="Why personal data is read, logged with the read as a consultation. "
        "Required unless the `purpose` query parameter is given: one of the two must be "
        "sent (OpenAPI cannot mark an either-or).",
    ),
]
PurposeQuery = Annotated[
    str | None,
    QueryParameter(
        name="purpose",
        required=False,
        max_length=500,
        description="Why personal data is read, logged with the read as a consultation. "
        "Required unless the X-Purpose header is given: one of the two must be sent (OpenAPI "
        "cannot mark an either-or). Prefer the header: it keeps the purpose out of URLs.",
    ),
]


# `?body=`: the routes oversight bodies are listed by (their reads, their grants) filter on it.
OversightBodyQuery = Annotated[
    str | None,
    QueryParameter(
        name="body",
        required=False,
        max_length=32,
        pattern=BODY_CODE_PATTERN,
        description="Only what concerns this oversight body (its code, e.g. ICO): the reads "
        "made for it, or its grants",
    ),
]


def require_purpose(header: str | None, query: str | None) -> str:
    purpose = (header or query or "").strip()
    if not purpose:
        raise ProblemException(
            400,
            "purpose-required",
            "Purpose required",
            "this response holds personal data: state why you read it in the X-Purpose header "
            "or the `purpose` query parameter; the read is logged with that purpose",
        )
    return purpose
