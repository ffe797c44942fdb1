"""The HTTP application, assembled in one place."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from lfr_ledger.api.allow_header import AllowHeaderMiddleware, methods_by_path
from lfr_ledger.api.auth import JWTAuthMiddleware, TokenVerifier
from lfr_ledger.api.body_guard import BodyGuardMiddleware
from lfr_ledger.api.bootstrap import build_ledger, build_retention, build_subject_index
from lfr_ledger.api.console.pages import (
    CONSOLE_ROUTES,
    console_error_page,
    is_console_page,
    template_config,
)
from lfr_ledger.api.console.sessions import SessionStore
from lfr_ledger.api.controllers.alerts import AlertController
from lfr_ledger.api.controllers.audit import AuditController
from lfr_ledger.api.controllers.camera_health import CAMERA_HEALTH_ROUTES
from lfr_ledger.api.controllers.checkpoints import CheckpointController
from lfr_ledger.api.controllers.complaints import ComplaintController
from lfr_ledger.api.controllers.deployment_lists import list_deployments
from lfr_ledger.api.controllers.deployments import DeploymentController
from lfr_ledger.api.controllers.engagement import EngagementController
from lfr_ledger.api.controllers.governance import GovernanceController
from lfr_ledger.api.controllers.grants import GrantController
from lfr_ledger.api.controllers.health import HealthController
from lfr_ledger.api.controllers.integrity import IntegrityController
from lfr_ledger.api.controllers.matcher import MATCHER_ROUTES
from lfr_ledger.api.controllers.metrics import MetricsController
from lfr_ledger.api.controllers.operations import OperationController
from lfr_ledger.api.controllers.oversight import OversightController
from lfr_ledger.api.controllers.policy import PolicyController
from lfr_ledger.api.controllers.projections import ProjectionsController
from lfr_ledger.api.controllers.public import PublicController, ResultsPublicationController
from lfr_ledger.api.controllers.publication import (
    BlueWalkPastController,
    EqualityTrendController,
    PublicationController,
    StatisticsController,
)
from lfr_ledger.api.controllers.retention import RetentionController
from lfr_ledger.api.controllers.scores import ScoresController
from lfr_ledger.api.controllers.start_gates import StartGatesController
from lfr_ledger.api.controllers.training import TrainingController
from lfr_ledger.api.controllers.watchlist import WatchlistController
from lfr_ledger.api.dependencies import DEPENDENCIES, Services
from lfr_ledger.api.docs import DescribedJsonRenderPlugin, OfflineSwaggerRenderPlugin
from lfr_ledger.api.guards import check_table_covers, role_guard
from lfr_ledger.api.idempotency import IdempotencyMiddleware
from lfr_ledger.api.idempotency_store import build_idempotency_store
from lfr_ledger.api.location_header import LocationHeaderMiddleware
from lfr_ledger.api.observability import JsonFormatter, observe_request
from lfr_ledger.api.oidc.controller import OIDC_ROUTES, OidcConsole, read_oidc_config
from lfr_ledger.api.problems import problem_response, status_of
from lfr_ledger.api.schemas.statistics import FIGURE_DESCRIPTIONS, FIGURE_ENUMS
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.clock import utcnow

# Images are at most 10 MB; base64 adds a third, JSON a little more.
MAX_BODY_BYTES = 14 * 1024 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

access_log = logging.getLogger("lfr.access")


class RequestContextMiddleware:
    """Gives each request an id (echoed as X-Request-ID) and writes one access-log line.

    The line names the route template, never the concrete path or query: those carry record
    ids and stated purposes, which do not belong in an operational log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", []) if k == b"x-request-id"), b"")
        text = given.decode("latin-1")
        rid = text if _REQUEST_ID.match(text) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        status = 0
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # The exception handler outside this middleware turns it into a problem response.
            status = status or status_of(exc)
            raise
        finally:
            seconds = time.perf_counter() - started
            method = str(scope.get("method", "-"))
            route = str(scope.get("path_template", "-"))
            observe_request(method, route, status or "-", seconds)
            access_log.info(
                "%s %s %s %.1fms %s",
                method,
                route,
                status or "-",
                seconds * 1000,
                rid,
                extra={
                    "request_id": rid,
                    "method": method,
                    "route": route,
                    "status": status or None,
                    "ms": round(seconds * 1000, 1),
                },
            )


# Every response: no inline script, nothing from another origin, no framing, no referrer (a
# console URL names records), and personal data never kept in a shared cache.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


# Over TLS only (the scheme as `lfr serve` sees it, X-Forwarded-Proto believed only from
# LFR_TRUSTED_PROXIES): the app sets it, so it holds whatever the proxy's configuration says.
# includeSubDomains covers names under the console's own host, never its siblings.
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
security_log = logging.getLogger("lfr.api")
# Whether the warning below was written: once a process (Litestar builds a stack per route).
_untrusted_proxy_reported: list[bool] = []


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        over_tls = scope.get("scheme") == "https"
        if not over_tls and not _untrusted_proxy_reported:
            _report_untrusted_proxy(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                names = {h[0].lower() for h in headers}
                extra = [h for h in SECURITY_HEADERS if h[0] not in names]
                if over_tls:
                    extra.append(HSTS)
                message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _report_untrusted_proxy(scope: Scope) -> None:
    """A proxy said the browser came over TLS and was not believed, so cookies go without
    Secure and no HSTS is sent: said once, for the operator to fix. No address is logged."""
    proto = next((v for k, v in scope.get("headers", []) if k == b"x-forwarded-proto"), b"")
    if proto.strip() == b"https":
        _untrusted_proxy_reported.append(True)
        security_log.warning(
            "a request carried X-Forwarded-Proto: https from a peer LFR_TRUSTED_PROXIES does "
            "not name; it was served as plain http (docs/tls.md)"
        )


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Problem details for the API; for a console page, a readable page (or the sign-in)."""
    if is_console_page(request):
        return console_error_page(request, exc)
    return problem_response(request, exc)


def create_app(
    settings: Settings | None = None,
    *,
    ledger: CaseLedger | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Litestar:
    settings = settings or Settings.from_env()
    # A bad OIDC mapping file stops start-up before anything is opened or written.
    oidc_config = read_oidc_config(settings)
    ledger = ledger or build_ledger(settings, clock=clock)
    verifier = TokenVerifier.from_settings(
        settings, maximum_lifetime_minutes=ledger.policy.token_maximum_lifetime_minutes
    )
    keys = build_idempotency_store(settings)
    sessions = SessionStore(settings)
    # OIDC sign-in when LFR_OIDC_CONFIG names a mapping file; then the provider's access
    # tokens are bearer tokens too, and the embedded ones still are (api/oidc/bearer.py).
    oidc = OidcConsole(oidc_config, sessions) if oidc_config is not None else None
    bearer = oidc.bearer_verifier(verifier) if oidc is not None else verifier
    services = Services(
        settings=settings,
        ledger=ledger,
        idempotency=keys,
        sessions=sessions,
        retention=partial(build_retention, ledger, settings),
    )
    # Subject access reads it (`OversightController`); one for the app, caught up per read.
    subject_index = build_subject_index(settings)
    allowed: dict[str, str] = {}
    app = Litestar(
        route_handlers=[
            HealthController,
            MetricsController,
            PolicyController,
            OperationController,
            DeploymentController,
            WatchlistController,
            StartGatesController,
            AlertController,
            EngagementController,
            AuditController,
            IntegrityController,
            PublicationController,
            RetentionController,
            ProjectionsController,
            CheckpointController,
            OversightController,
            GrantController,
            GovernanceController,
            ComplaintController,
            TrainingController,
            list_deployments,
            ScoresController,
            *CAMERA_HEALTH_ROUTES,
            *MATCHER_ROUTES,
            StatisticsController,
            BlueWalkPastController,
            EqualityTrendController,
            PublicController,
            ResultsPublicationController,
            *CONSOLE_ROUTES,
            *OIDC_ROUTES,
        ],
        template_config=template_config(),
        dependencies=DEPENDENCIES,
        guards=[role_guard],
        middleware=[
            RequestContextMiddleware,
            SecurityHeadersMiddleware,
            LocationHeaderMiddleware,
            DefineMiddleware(AllowHeaderMiddleware, allowed=allowed),
            DefineMiddleware(
                JWTAuthMiddleware, verifier=bearer, sessions=sessions, exclude=["^/schema"]
            ),
            DefineMiddleware(BodyGuardMiddleware, max_body_size=MAX_BODY_BYTES),
            DefineMiddleware(
                IdempotencyMiddleware, store=keys, ledger=ledger, max_body_size=MAX_BODY_BYTES
            ),
        ],
        exception_handlers={Exception: handle_error},
        state=State(
            {
                "services": services,
                "token_verifier": bearer,
                "subject_index": subject_index,
                "oidc": oidc,
            }
        ),
        on_shutdown=[services.close, *([oidc.close] if oidc is not None else [])],
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="lfr-ledger",
            version="0.1.0",
            description=(
                "Case system for police Live Facial Recognition. Bearer JWT with a role claim; "
                "every error is application/problem+json (RFC 9457); every POST accepts an "
                "Idempotency-Key; responses holding personal data need a stated purpose (the "
                "X-Purpose header or the `purpose` query parameter, one of the two) and are "
                "logged. `GET /policy` lists the closed lists (location types, watchlist "
                "categories) of the policy in force. This page and its files are served by "
                "`lfr serve` itself: nothing is fetched from another host."
            ),
            path="/schema",
            # Swagger UI at /schema (and /schema/swagger) from files this server serves itself,
            # never a CDN; the document at /schema/openapi.json (api/docs.py).
            render_plugins=[
                OfflineSwaggerRenderPlugin(),
                DescribedJsonRenderPlugin(FIGURE_DESCRIPTIONS, FIGURE_ENUMS),
            ],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"bearer": []}],
        ),
        logging_config=LoggingConfig(
            log_exceptions="never",
            # One JSON object per line, the access log's with its request id as a field.
            formatters={"standard": {"()": JsonFormatter}},
            loggers={
                "lfr.api": {"level": "INFO", "handlers": ["queue_listener"], "propagate": False},
                "lfr.access": {
                    "level": "INFO",
                    "handlers": ["queue_listener"],
                    "propagate": False,
                },
            },
        ),
        debug=False,
    )
    check_table_covers(app)
    allowed.update(methods_by_path(app))
    return app
