"""The console's pages: server-rendered shells, one per family of users, whose forms and lists
call the JSON API with the browser's session (same routes, same role table, same problem
details, same idempotency keys and consultation logging as any other client).

Signing in turns a verified bearer token (pasted, or behind a one-time link from
`lfr console-link`), or the verified ID token of an OIDC sign-in (`api/oidc`), into a session
cookie; nothing else opens a session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.params import Body, FromPath
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from lfr_ledger.api.auth import SESSION_COOKIE, check_same_origin
from lfr_ledger.api.console.assets import chart_js
from lfr_ledger.api.console.labels import labels
from lfr_ledger.api.console.sessions import LinkState, Session
from lfr_ledger.api.dependencies import ActorDep, Services, ServicesDep
from lfr_ledger.api.guards import role_may_call
from lfr_ledger.api.problems import ProblemException, problem_for
from lfr_ledger.api.schemas.admin import ServiceIndex
from lfr_ledger.domain.actors import Actor, Role

HERE = Path(__file__).parent

# The pages, in the order the navigation shows them: path, title, script.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("/console/operator", "Deployment", "operator.js"),
    ("/console/officer", "Street", "officer.js"),
    ("/console/planning", "Planning and authority", "planning.js"),
    ("/console/oversight", "Oversight", "oversight.js"),
    ("/console/analyst", "Statistics", "analyst.js"),
    ("/console/admin", "Administration", "admin.js"),
)
HOME: dict[Role, str] = {
    Role.OPERATOR: "/console/operator",
    Role.OFFICER: "/console/officer",
    Role.PLANNER: "/console/planning",
    Role.AUTHORISING_OFFICER: "/console/planning",
    Role.WATCHLIST_MANAGER: "/console/planning",
    Role.ADMIN: "/console/admin",
    Role.OVERSIGHT: "/console/oversight",
    Role.ANALYST: "/console/analyst",
}
ROLE_LABELS: dict[Role, str] = {
    Role.PLANNER: "planner",
    Role.WATCHLIST_MANAGER: "watchlist manager",
    Role.AUTHORISING_OFFICER: "authorising officer",
    Role.OPERATOR: "operator",
    Role.OFFICER: "officer",
    Role.MATCHER: "matcher",
    Role.OVERSIGHT: "oversight",
    Role.ANALYST: "analyst",
    Role.ADMIN: "administrator",
}


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)


def _no_nul_in_file_name(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """A NUL byte names no file, and the file system raises on it rather than answering."""
    if "\x00" in connection.scope.get("path", ""):
        raise NotFoundException("no console file has a NUL byte in its name")


def static_files() -> Any:
    """The console's own scripts and styles; nothing is loaded from anywhere else."""
    return create_static_files_router(
        path="/console/static",
        directories=[HERE / "static"],
        opt={"public": True},
        include_in_schema=False,
        cache_control=None,
        guards=[_no_nul_in_file_name],
    )


def _page(request: Request[Any, Any, Any], actor: Actor, path: str, services: Services) -> Template:
    title, script = next((t, s) for p, t, s in PAGES if p == path)
    session = request.auth if isinstance(request.auth, Session) else None
    return Template(
        template_name=path.rsplit("/", 1)[-1] + ".html",
        context={
            "title": title,
            "script": script,
            "style": script.removesuffix(".js") + ".css",
            # "<" escaped: a label (a force's own policy text) cannot close the script element.
            "labels": msgspec.json.encode(labels(services.ledger.policy))
            .decode()
            .replace("<", "\\u003c"),
            "actor": actor,
            "role": actor.role.value,
            "role_label": ROLE_LABELS[actor.role],
            "csrf": session.csrf if session else "",
            "nav": [(p, t, p == path) for p, t, _ in PAGES if role_may_call(actor.role, "GET", p)],
        },
    )


def is_console_page(request: Request[Any, Any, Any]) -> bool:
    """A browser asking for a page (an API client asking the same path gets problem details)."""
    path = request.scope.get("path", "")
    return (
        request.method == "GET"
        and (path == "/console" or path.startswith("/console/"))
        and not path.startswith("/console/static/")
        and "text/html" in request.headers.get("accept", "")
    )


def console_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A refusal as a page: the sign-in when there is no session, else what was refused."""
    problem, _ = problem_for(exc, request.scope)
    if problem.status == 401:
        return Redirect("/console/sign-in", status_code=303)
    return Template(
        template_name="error.html",
        status_code=problem.status,
        context={"problem": problem, "title": problem.title},
    )


class ConsolePages(Controller):
    path = "/console"
    include_in_schema = False

    @get("/")
    async def home(self, actor: ActorDep) -> Redirect:
        return Redirect(HOME.get(actor.role, "/console/sign-in"))

    @post("/sign-out", status_code=200)
    async def sign_out(
        self, request: Request[Any, Any, Any], services: ServicesDep
    ) -> Response[dict[str, str]]:
        sid = request.cookies.get(SESSION_COOKIE)
        following = "/console/sign-in"
        if sid:
            id_token = await anyio.to_thread.run_sync(services.sessions.end, sid)
            # A session opened through OIDC ends at the provider too (RP-initiated logout),
            # which sends the browser back to the sign-in (app.state.oidc: api/oidc).
            oidc = getattr(request.app.state, "oidc", None)
            if id_token and oidc is not None:
                logout = await anyio.to_thread.run_sync(oidc.logout_url_for, request, id_token)
                following = logout or following
        return Response(
            {"next": following},
            cookies=[Cookie(key=SESSION_COOKIE, value="", path="/", max_age=0, httponly=True)],
        )


@dataclass(frozen=True)
class LinkRefusal:
    """Why a sign-in link cannot sign anyone in, in words, and what to do instead."""

    state: str
    title: str
    detail: str
    remedy: str
    # When it was used or expired (ISO 8601, UTC; the page shows it in UK time), if known.
    at: str | None
    at_words: str


REMEDY = (
    "Ask for a new link (it is made with lfr console-link, by whoever runs the ledger), or paste "
    "a bearer token to sign in."
)
_REFUSALS: dict[str, tuple[str, str, str]] = {
    "used": (
        "This sign-in link has been used",
        "This sign-in link was used already: each link signs in once.",
        "It was used on",
    ),
    "expired": (
        "This sign-in link has expired",
        "This sign-in link has expired: a link works only for a short time after it is made "
        "(15 minutes unless its maker chose otherwise).",
        "It expired on",
    ),
    "unknown": (
        "This sign-in link is not known",
        "This server does not know this sign-in link: it may have been copied only in part, be "
        "meant for another server, or have expired more than a day ago.",
        "",
    ),
}


def link_refusal(link: LinkState) -> LinkRefusal:
    """The message for a link that cannot sign in (a link that was valid a moment ago and is
    not now raced another browser: said as "used")."""
    state = link.state if link.state in _REFUSALS else "used"
    title, detail, at_words = _REFUSALS[state]
    at = (
        datetime.fromtimestamp(link.at, UTC).isoformat(timespec="seconds")
        if link.at is not None and at_words
        else None
    )
    return LinkRefusal(state, title, detail, REMEDY, at, at_words)


class SignInIn(msgspec.Struct, forbid_unknown_fields=True):
    """Either a bearer token, or the one-time code of a sign-in link."""

    token: Annotated[str, msgspec.Meta(max_length=8192)] | None = None
    code: Annotated[str, msgspec.Meta(max_length=128)] | None = None


class SignedIn(msgspec.Struct):
    actor: str
    role: str
    next: str
    expires_at: float


class ConsoleSignIn(Controller):
    path = "/console"
    include_in_schema = False
    opt = {"public": True}  # noqa: RUF012 (Controller declares it an instance attribute)

    @get("/sign-in")
    async def sign_in_page(self, request: Request[Any, Any, Any]) -> Template:
        return Template(
            template_name="sign-in.html", context={"code": "", "provider": _provider(request)}
        )

    @get("/sign-in/{code:str}")
    async def sign_in_link(
        self, request: Request[Any, Any, Any], code: FromPath[str], services: ServicesDep
    ) -> Template:
        # The link only fills the form: opening it (or a chat preview fetching it) uses nothing.
        # A link that can no longer sign in says why at once, beside the token form.
        link = await anyio.to_thread.run_sync(services.sessions.link_state, code)
        if link.state == "valid":
            return Template(template_name="sign-in.html", context={"code": code})
        return Template(
            template_name="sign-in.html",
            status_code=404 if link.state == "unknown" else 410,
            context={"code": "", "link": link_refusal(link), "provider": _provider(request)},
        )

    @post("/sign-in", status_code=200)
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SignInIn, Body()],
        services: ServicesDep,
    ) -> Response[SignedIn]:
        check_same_origin(request)
        sessions = services.sessions
        token = data.token
        if data.code:
            token = await anyio.to_thread.run_sync(sessions.take_link, data.code)
            if token is None:
                link = await anyio.to_thread.run_sync(sessions.link_state, data.code)
                refusal = link_refusal(link)
                raise ProblemException(
                    401,
                    f"sign-in-link-{refusal.state}",
                    refusal.title,
                    f"{refusal.detail} {refusal.remedy}",
                )
        if not token:
            raise ProblemException(
                400, "validation", "Invalid request", "token: paste a bearer token to sign in"
            )
        verifier = request.app.state.token_verifier
        # In a worker thread: a provider's token may make its keys be fetched (api/oidc).
        actor, token_expires_at = await anyio.to_thread.run_sync(verifier.verified, token.strip())
        if actor.role == Role.MATCHER:
            raise ProblemException(
                403, "forbidden", "Not permitted for this role", "a matcher account has no console"
            )
        expires_at = session_expiry(verifier, token_expires_at)
        sid, _ = await anyio.to_thread.run_sync(lambda: sessions.open(actor, expires_at=expires_at))
        return Response(
            SignedIn(
                actor=actor.id,
                role=actor.role.value,
                next=HOME.get(actor.role, "/console"),
                expires_at=expires_at,
            ),
            cookies=[session_cookie(request, sid, expires_at)],
            headers={"Cache-Control": "no-store"},
        )


def _provider(request: Request[Any, Any, Any]) -> str | None:
    """The OIDC provider's display name, when one is configured (api/oidc)."""
    oidc = getattr(request.app.state, "oidc", None)
    return str(oidc.config.display_name) if oidc is not None else None


def session_expiry(verifier: Any, token_expires_at: float) -> float:
    """A session ends when its token does, and never later than the policy's maximum."""
    return min(token_expires_at, time.time() + verifier.maximum_lifetime_minutes * 60)


def session_cookie(request: Request[Any, Any, Any], sid: str, expires_at: float) -> Cookie:
    """The session cookie, however the session was opened: HttpOnly, SameSite=Strict, and
    Secure whenever the console is served over TLS."""
    return Cookie(
        key=SESSION_COOKIE,
        value=sid,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=max(0, int(expires_at - time.time())),
    )


@get("/", name="root", include_in_schema=False, opt={"public": True})
async def root(request: Request[Any, Any, Any]) -> Response[Any]:
    """`/` leads to the console, which sends a signed-in user to their home and anyone else to
    the sign-in. An API client that asks for JSON (and not HTML) is told where things are."""
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return Response(
            ServiceIndex(
                console="/console",
                api_documentation="/schema",
                openapi="/schema/openapi.json",
                health="/health",
            )
        )
    return Redirect("/console", status_code=303)


def _page_route(path: str) -> HTTPRouteHandler:
    """One page's route, from its row of PAGES (the navigation is built from the same rows)."""

    async def show(
        request: Request[Any, Any, Any], actor: ActorDep, services: ServicesDep
    ) -> Template:
        return _page(request, actor, path, services)

    return get(path, name=f"console-{path.rsplit('/', 1)[-1]}", include_in_schema=False)(show)


CONSOLE_ROUTES = [
    ConsolePages,
    ConsoleSignIn,
    root,
    *(_page_route(path) for path, _, _ in PAGES),
    static_files(),
    chart_js,
]
