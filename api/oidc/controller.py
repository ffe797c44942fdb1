"""The console's OIDC routes: /console/oidc/start sends the browser to the provider, and
/console/oidc/callback turns its answer into a session, as POST /console/sign-in turns a
pasted token into one. Anything refused is a readable page (401/403/503) and opens nothing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from lfr_ledger.api.auth import TokenVerifier
from lfr_ledger.api.console.pages import HOME, ROLE_LABELS, session_cookie, session_expiry
from lfr_ledger.api.console.sessions import FLOW_SECONDS, SessionStore
from lfr_ledger.api.oidc.bearer import ProviderOrEmbeddedVerifier
from lfr_ledger.api.oidc.claims import SignInRefused
from lfr_ledger.api.oidc.config import OidcConfig, load_oidc_config
from lfr_ledger.api.oidc.flow import OidcSignIn, oauth_error_code
from lfr_ledger.api.oidc.provider import ProviderKeys
from lfr_ledger.api.problems import request_id_of
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Role

FLOW_COOKIE = "lfr_oidc_flow"
CALLBACK_PATH = "/console/oidc/callback"
log = logging.getLogger("lfr.api")


class OidcConsole:
    """Everything the console's OIDC routes need, made once by the app (app.state.oidc)."""

    def __init__(self, config: OidcConfig, sessions: SessionStore) -> None:
        self.config = config
        self.keys = ProviderKeys(config)
        self.sign_in = OidcSignIn(config, self.keys, sessions)

    def base_url(self, request: Request[Any, Any, Any]) -> str:
        """Where the provider sends the browser back to: configured (behind a proxy that
        ends TLS, say), else this request's own scheme and host. The provider accepts only
        the redirect URIs registered for the client, so a forged Host leads nowhere."""
        if self.config.redirect_base_url:
            return self.config.redirect_base_url
        return f"{request.url.scheme}://{request.url.netloc}"

    def logout_url_for(self, request: Request[Any, Any, Any], id_token: str) -> str | None:
        return self.sign_in.logout_url(id_token, self.base_url(request) + "/console/sign-in")

    def bearer_verifier(self, embedded: TokenVerifier) -> ProviderOrEmbeddedVerifier:
        return ProviderOrEmbeddedVerifier(embedded, self.config, self.keys)

    def close(self) -> None:
        self.keys.close()


def read_oidc_config(settings: Settings) -> OidcConfig | None:
    """The mapping file LFR_OIDC_CONFIG names, if any; a bad one stops start-up with one
    line (OidcConfigError) naming the file and the key."""
    if settings.oidc_config is None:
        return None
    return load_oidc_config(settings.oidc_config)


def _oidc(request: Request[Any, Any, Any]) -> OidcConsole | None:
    found = getattr(request.app.state, "oidc", None)
    return found if isinstance(found, OidcConsole) else None


def refusal_page(
    request: Request[Any, Any, Any], refused: SignInRefused, oidc: OidcConsole | None
) -> Template:
    # The kind only: never a claim, a name or a token.
    log.info(
        "console sign-in refused: %s",
        refused.kind,
        extra={"request_id": request_id_of(request.scope), "kind": refused.kind},
    )
    return Template(
        template_name="oidc-refused.html",
        status_code=refused.status,
        context={
            "refusal": refused,
            "choices": [(r.value, ROLE_LABELS[r]) for r in refused.roles],
            "provider": oidc.config.display_name if oidc else None,
            "request_id": request_id_of(request.scope),
        },
        headers={"Cache-Control": "no-store"},
        cookies=[_flow_cookie(request, "", 0)],
    )


def _flow_cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    # Lax, not Strict: the provider's answer comes back as a cross-site top-level navigation,
    # on which a Strict cookie is not sent. Only this path sees it.
    return Cookie(
        key=FLOW_COOKIE,
        value=value,
        path="/console/oidc",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=max_age,
    )


NOT_CONFIGURED = SignInRefused(
    404,
    "oidc-not-configured",
    "Sign-in with a provider is not set up here",
    "This ledger has no OpenID Connect provider configured (LFR_OIDC_CONFIG).",
    "Sign in with a one-time link or a bearer token instead.",
)


class OidcSignInRoutes(Controller):
    path = "/console/oidc"
    include_in_schema = False
    opt = {"public": True}  # noqa: RUF012 (Controller declares it an instance attribute)

    @get("/start")
    async def start(self, request: Request[Any, Any, Any]) -> Response[Any]:
        oidc = _oidc(request)
        if oidc is None:
            return refusal_page(request, NOT_CONFIGURED, None)
        wanted = request.query_params.get("role")
        role = Role(wanted) if wanted in {r.value for r in ROLE_LABELS} else None
        redirect_uri = oidc.base_url(request) + CALLBACK_PATH
        try:
            url, browser = await anyio.to_thread.run_sync(oidc.sign_in.start, redirect_uri, role)
        except SignInRefused as refused:
            return refusal_page(request, refused, oidc)
        return Redirect(
            url,
            status_code=303,
            cookies=[_flow_cookie(request, browser, FLOW_SECONDS)],
            headers={"Cache-Control": "no-store"},
        )

    @get("/callback")
    async def callback(self, request: Request[Any, Any, Any]) -> Response[Any]:
        oidc = _oidc(request)
        if oidc is None:
            return refusal_page(request, NOT_CONFIGURED, None)
        query = request.query_params
        error = query.get("error")
        if error is not None:
            denied = error == "access_denied"
            return refusal_page(
                request,
                SignInRefused(
                    403 if denied else 401,
                    "oidc-provider-refused",
                    "The provider did not sign you in",
                    f"{oidc.config.display_name} answered that it would not sign you in to the "
                    f"ledger ({oauth_error_code(error)}).",
                    "If you cancelled, start again; if not, ask whoever runs your force's "
                    "sign-in why it refused.",
                ),
                oidc,
            )
        state, code = query.get("state"), query.get("code")
        browser = request.cookies.get(FLOW_COOKIE, "")
        if not state or not code:
            return refusal_page(
                request,
                SignInRefused(
                    400,
                    "oidc-callback-incomplete",
                    "This is not a sign-in answer",
                    "The address lacks the code and state a provider's answer carries.",
                    "Start the sign-in from the sign-in page.",
                ),
                oidc,
            )
        try:
            done = await anyio.to_thread.run_sync(
                lambda: oidc.sign_in.finish(
                    state=state, code=code, browser=browser, issuer=query.get("iss")
                )
            )
        except SignInRefused as refused:
            return refusal_page(request, refused, oidc)
        verifier = request.app.state.token_verifier
        expires_at = session_expiry(verifier, done.expires_at)
        if expires_at <= time.time():
            return refusal_page(
                request,
                SignInRefused(
                    401,
                    "oidc-token-expired",
                    "The provider's ID token was refused",
                    "The ID token expired as it arrived (the clock skew allowed let it pass).",
                    "Sign in again; if it happens again, check the clocks of both servers.",
                ),
                oidc,
            )
        sessions = request.app.state.services.sessions
        sid, _ = await anyio.to_thread.run_sync(
            lambda: sessions.open(done.actor, expires_at=expires_at, logout_hint=done.id_token)
        )
        home = HOME.get(done.actor.role, "/console")
        # A page, not a redirect: this answers a cross-site navigation (from the provider), and
        # Chromium does not send a SameSite=Strict cookie on a redirect that continues it. The
        # page's own refresh is a new, same-site navigation, which carries the session.
        return Template(
            template_name="oidc-signed-in.html",
            context={
                "next": home,
                "actor_id": done.actor.id,
                "role_label": ROLE_LABELS[done.actor.role],
            },
            cookies=[
                session_cookie(request, sid, expires_at),
                _flow_cookie(request, "", 0),
            ],
            headers={"Cache-Control": "no-store"},
        )


OIDC_ROUTES = [OidcSignInRoutes]
