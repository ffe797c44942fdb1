"""Who may call which route: ONE table, read by the guard, checked against the routes at start-up
and used by the role-matrix tests.

Principles (DESIGN.md): analysts read statistics and publication records only, never personal
data; matcher accounts only raise alerts and report counts, and read their deployment's live
terms and watchlist templates (for matching, logged), for their own deployment; oversight
reads what its body's grants open (`domain/oversight_grant.py`; a token naming no body reads
everything, unless the policy requires a body) and writes no case data; admin adopts policy,
grants oversight bodies their remit with authorising officers, and reads no personal data. The
domain checks roles again (Actor.require), so a route opened here by mistake still refuses.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.routes import HTTPRoute

from lfr_ledger.api.problems import ProblemException
from lfr_ledger.domain.actors import Actor, Role

P = Role.PLANNER
WM = Role.WATCHLIST_MANAGER
AO = Role.AUTHORISING_OFFICER
OP = Role.OPERATOR
OF = Role.OFFICER
M = Role.MATCHER
OV = Role.OVERSIGHT
AN = Role.ANALYST
AD = Role.ADMIN

# Routes open to every caller without a token: the service's health, and the console's sign-in
# and its own scripts and styles (which hold no data).
PUBLIC: frozenset[str] = frozenset(
    {
        "GET /health",
        "GET /health/live",
        # `/` sends a browser to the console (which asks who it is), an API client to the docs
        "GET /",
        "GET /health/ready",
        "GET /metrics",
        "GET /console/sign-in",
        "GET /console/sign-in/{code}",
        "POST /console/sign-in",
        # OIDC sign-in (api/oidc): to the provider, and back with its answer
        "GET /console/oidc/start",
        "GET /console/oidc/callback",
        "GET /console/static/{file_path}",
        # Chart.js for the analyst's charts, pinned and fetched at set-up (api/console/assets.py)
        "GET /console/vendor/chart.umd.js",
        # the transparency page and its data: no personal data, for anyone (issue 24)
        "GET /public",
        "GET /public/deployments.json",
        "GET /public/deployments.csv",
    }
)

# "METHOD /path/{param}" -> roles allowed. Every route of the app appears here exactly once.
ACCESS: dict[str, frozenset[Role]] = {
    # policy
    "POST /policy/adopt": frozenset({AD}),
    "GET /policy": frozenset({P, WM, AO, OP, OF, OV, AD}),
    "GET /policy/text": frozenset({AD}),
    # operations
    "POST /operations": frozenset({P}),
    "POST /operations/{operation_id}/close": frozenset({P}),
    "GET /operations/{operation_id}/summary": frozenset({P, AO, OV, AN}),
    "GET /operations": frozenset({P, AO, OV, AN}),
    "GET /deployments": frozenset({P, WM, AO, OP, OF, OV}),
    "GET /deployments/{deployment_id}/scores": frozenset({P, AO, OV, AN}),
    # deployments: planning and authority
    "POST /deployments": frozenset({P}),
    "GET /deployments/{deployment_id}": frozenset({P, WM, AO, OP, OF, OV}),
    "POST /deployments/{deployment_id}/authorisation": frozenset({AO}),
    "POST /deployments/{deployment_id}/authorisation/confirmation": frozenset({AO}),
    "POST /deployments/{deployment_id}/threshold": frozenset({AO}),
    "POST /deployments/{deployment_id}/review": frozenset({AO}),
    # complaints about a deployment: handled by an authorising officer (docs/lawful-operations.md)
    "POST /complaints": frozenset({AO}),
    "POST /complaints/{complaint_id}/resolution": frozenset({AO}),
    "GET /deployments/{deployment_id}/complaints": frozenset({AO, OV}),
    # watchlist
    "POST /deployments/{deployment_id}/watchlist/entries": frozenset({WM}),
    "POST /deployments/{deployment_id}/watchlist/review": frozenset({AO}),
    "GET /watchlist/entries/{entry_id}": frozenset({WM, AO, OV}),
    "GET /deployments/{deployment_id}/watchlist": frozenset({WM, AO, OV}),
    "POST /watchlist/entries/{entry_id}/withdrawal": frozenset({WM, AO}),
    # close to go-live: entries still wanted (WM); the signs stand, on the day (operator)
    "POST /deployments/{deployment_id}/watchlist/reconfirmation": frozenset({WM}),
    "POST /deployments/{deployment_id}/signage": frozenset({OP}),
    # live operation
    "POST /deployments/{deployment_id}/start": frozenset({OP}),
    "POST /deployments/{deployment_id}/pause": frozenset({OP}),
    "POST /deployments/{deployment_id}/resume": frozenset({OP}),
    "POST /deployments/{deployment_id}/end": frozenset({OP}),
    # matcher
    "POST /deployments/{deployment_id}/faces-counted": frozenset({M}),
    "POST /deployments/{deployment_id}/alerts": frozenset({M}),
    # a matcher node without the database reads its terms, and its watchlist's templates for
    # its own index (biometric: the deployment's matcher alone, each page logged)
    "GET /deployments/{deployment_id}/live-terms": frozenset({M}),
    "GET /deployments/{deployment_id}/watchlist/changes": frozenset({M}),
    # camera and matcher health: heartbeats, each camera's state
    "POST /deployments/{deployment_id}/heartbeat": frozenset({M}),
    "GET /deployments/{deployment_id}/cameras": frozenset({AO, OP, OF, OV}),
    "GET /deployments/{deployment_id}/cameras/stream": frozenset({AO, OP, OF, OV}),
    # alerts
    "GET /deployments/{deployment_id}/alerts": frozenset({AO, OP, OF, OV}),
    "GET /alerts/stream": frozenset({OP, OF}),
    "POST /alerts/{alert_id}/adjudication": frozenset({OP}),
    "POST /alerts/{alert_id}/engagement": frozenset({OF}),
    "POST /alerts/{alert_id}/outcomes": frozenset({OF}),
    "POST /alerts/{alert_id}/perceived-characteristics": frozenset({OF}),
    "POST /alerts/{alert_id}/close": frozenset({OP, OF}),
    # human review: corrections, the alert's timeline, the images compared
    "POST /alerts/{alert_id}/adjudication/correction": frozenset({OP, AO}),
    "POST /alerts/{alert_id}/outcomes/{index}/correction": frozenset({OF}),
    "GET /alerts/{alert_id}": frozenset({AO, OP, OF, OV}),
    "GET /alerts/{alert_id}/face-crop": frozenset({OP, OF, AO, OV}),
    "GET /watchlist/entries/{entry_id}/image": frozenset({WM, AO, OP, OV}),
    # the officer engaging on a match: who to look for (only that alert's entry, logged)
    "GET /alerts/{alert_id}/entry": frozenset({OF}),
    "GET /alerts/{alert_id}/entry/image": frozenset({OF}),
    # statistics and publication
    "GET /deployments/{deployment_id}/summary": frozenset({P, AO, OV, AN}),
    "GET /publication/deployments": frozenset({OV, AN}),
    "GET /publication/deployments.csv": frozenset({OV, AN}),
    # the results of an ended deployment put on the public page, after checking its figures
    "POST /deployments/{deployment_id}/publication": frozenset({P, AO}),
    # analytics: figures over a period; blue walk-pasts (for the identification
    # rate); the equality trend alarm (oversight only, logged: perceived groups)
    "GET /statistics/period": frozenset({P, AO, OV, AN}),
    "POST /deployments/{deployment_id}/blue-walk-pasts": frozenset({OP}),
    "GET /oversight/equality/trend": frozenset({OV}),
    # oversight
    "GET /deployments/{deployment_id}/history": frozenset({OV}),
    "GET /audit/verify": frozenset({OV}),
    "GET /audit/alarms": frozenset({OV}),
    "GET /audit/witnesses": frozenset({OV}),
    "GET /audit/consultations": frozenset({OV}),
    # legal hold and retention
    "POST /alerts/{alert_id}/legal-hold": frozenset({AO}),
    "POST /alerts/{alert_id}/legal-hold/release": frozenset({AO}),
    "POST /retention/run": frozenset({AD}),
    # the administrator's page: retention's backlog, views' lag, the latest checkpoint's age
    "GET /retention/due": frozenset({AD}),
    "GET /projections": frozenset({AD}),
    "GET /checkpoints/latest": frozenset({AD}),
    # oversight: subject access, equality monitoring, access review
    "GET /subject-access": frozenset({OV}),
    "GET /oversight/equality": frozenset({OV}),
    "GET /oversight/access-review": frozenset({OV}),
    # oversight: the disclosure log (AO records what it hands to the CPS, say) and bundles
    "POST /oversight/disclosures": frozenset({AO, OV}),
    "GET /audit/disclosures": frozenset({OV}),
    "GET /oversight/bundles/{deployment_id}": frozenset({OV}),
    # oversight bodies' grants: made and revoked by an AO or admin, read by them and oversight
    "POST /oversight/grants": frozenset({AO, AD}),
    "POST /oversight/grants/{grant_id}/revocation": frozenset({AO, AD}),
    "GET /oversight/grants": frozenset({AO, OV, AD}),
    # the register of governance documents (DPIA, EIA, APD, equality evidence, model
    # evaluations): kept by an AO or admin, read by all who plan, authorise, oversee or
    # publish (it holds no personal data; the analyst reads statistics only)
    "POST /governance/documents": frozenset({AO, AD}),
    "POST /governance/documents/{document_id}/withdrawal": frozenset({AO, AD}),
    "GET /governance/documents": frozenset({P, AO, OV, AD}),
    "GET /governance/documents/{document_id}": frozenset({P, AO, OV, AD}),
    # LFR training: recorded and withdrawn by an AO or admin, read by them, planners, oversight
    "POST /training": frozenset({AO, AD}),
    "POST /training/{record_id}/withdrawal": frozenset({AO, AD}),
    "GET /training": frozenset({P, AO, OV, AD}),
    # the console: each page is a shell whose data comes from the routes above, so a page
    # open to a role shows only what that role could read anyway
    "GET /console": frozenset({P, WM, AO, OP, OF, OV, AN, AD}),
    "POST /console/sign-out": frozenset({P, WM, AO, OP, OF, OV, AN, AD}),
    "GET /console/operator": frozenset({OP}),
    "GET /console/officer": frozenset({OF}),
    "GET /console/planning": frozenset({P, WM, AO, AD}),
    "GET /console/oversight": frozenset({OV}),
    "GET /console/analyst": frozenset({P, AO, OV, AN}),
    "GET /console/admin": frozenset({AD}),
}

# What each route's reply holds about people (DPA 2018 s.62). Every route of ACCESS is in
# exactly one of the four sets below, or the app refuses to start (`check_table_covers`); the
# routes of the first two read through the query layer (`api/personal_data/`), which logs each
# read as a consultation (actor, role, purpose, record), and `tests/test_consultation_walk.py`
# calls each with every role above and finds that record.

# Personal data the reader must state a purpose for (X-Purpose or ?purpose=). Kept here too so
# the tests can check no such route admits an analyst.
PERSONAL_DATA: frozenset[str] = frozenset(
    {
        "GET /watchlist/entries/{entry_id}",
        "GET /watchlist/entries/{entry_id}/image",
        "GET /alerts/{alert_id}/face-crop",
        "GET /deployments/{deployment_id}/history",
        "GET /subject-access",
        "GET /oversight/equality",
        "GET /oversight/equality/trend",
        "GET /oversight/bundles/{deployment_id}",
    }
)
# Personal or pseudonymous personal data (alerts and entries by id, category, camera and time;
# templates) read in the course of the role's own work: the query layer names the purpose from
# the role and the record (an operator reading a live deployment's alerts adjudicates them).
PERSONAL_DATA_IN_ROLE: frozenset[str] = frozenset(
    {
        "GET /alerts/{alert_id}",
        "GET /deployments/{deployment_id}/alerts",
        "GET /alerts/stream",
        "GET /deployments/{deployment_id}/watchlist",
        "GET /deployments/{deployment_id}/watchlist/changes",
        "GET /deployments/{deployment_id}/complaints",
        "GET /alerts/{alert_id}/entry",
        "GET /alerts/{alert_id}/entry/image",
    }
)
# The s.62 log itself: who consulted or disclosed what. Read through the query layer (which
# unseals its purposes and recipients), and not logged as a consultation of itself.
ACCESS_LOG: frozenset[str] = frozenset(
    {"GET /audit/consultations", "GET /audit/disclosures", "GET /oversight/access-review"}
)
# No personal data: policy, plans and states without people, statistics and publication
# records, the console's shells, and every write (its reply is an id, a state, or what the
# writer sent). A new route is declared here only after asking what its reply holds.
NO_PERSONAL_DATA: frozenset[str] = frozenset(
    {
        "GET /policy",
        "GET /operations",
        "GET /operations/{operation_id}/summary",
        "GET /deployments",
        "GET /deployments/{deployment_id}",
        "GET /deployments/{deployment_id}/scores",
        "GET /deployments/{deployment_id}/live-terms",
        "GET /deployments/{deployment_id}/cameras",
        "GET /deployments/{deployment_id}/cameras/stream",
        "GET /deployments/{deployment_id}/summary",
        "GET /publication/deployments",
        "GET /publication/deployments.csv",
        "GET /statistics/period",
        "GET /audit/verify",
        "GET /audit/alarms",
        "GET /audit/witnesses",
        "GET /console",
        "GET /console/operator",
        "GET /console/officer",
        "GET /console/planning",
        "GET /console/oversight",
        "GET /console/analyst",
        "GET /console/admin",
        "GET /policy/text",
        "GET /retention/due",
        "GET /projections",
        "GET /checkpoints/latest",
        "POST /policy/adopt",
        "POST /operations",
        "POST /operations/{operation_id}/close",
        "POST /deployments",
        "POST /deployments/{deployment_id}/authorisation",
        "POST /deployments/{deployment_id}/authorisation/confirmation",
        "POST /deployments/{deployment_id}/threshold",
        "POST /deployments/{deployment_id}/review",
        "POST /complaints",
        "POST /complaints/{complaint_id}/resolution",
        "POST /deployments/{deployment_id}/watchlist/entries",
        "POST /deployments/{deployment_id}/watchlist/review",
        "POST /watchlist/entries/{entry_id}/withdrawal",
        "POST /deployments/{deployment_id}/watchlist/reconfirmation",
        "POST /deployments/{deployment_id}/signage",
        "POST /deployments/{deployment_id}/start",
        "POST /deployments/{deployment_id}/pause",
        "POST /deployments/{deployment_id}/resume",
        "POST /deployments/{deployment_id}/end",
        "POST /deployments/{deployment_id}/faces-counted",
        "POST /deployments/{deployment_id}/alerts",
        "POST /deployments/{deployment_id}/heartbeat",
        "POST /deployments/{deployment_id}/blue-walk-pasts",
        "POST /deployments/{deployment_id}/publication",
        "POST /alerts/{alert_id}/adjudication",
        "POST /alerts/{alert_id}/adjudication/correction",
        "POST /alerts/{alert_id}/engagement",
        "POST /alerts/{alert_id}/outcomes",
        "POST /alerts/{alert_id}/outcomes/{index}/correction",
        "POST /alerts/{alert_id}/perceived-characteristics",
        "POST /alerts/{alert_id}/close",
        "POST /alerts/{alert_id}/legal-hold",
        "POST /alerts/{alert_id}/legal-hold/release",
        "POST /retention/run",
        "POST /oversight/disclosures",
        "POST /oversight/grants",
        "POST /oversight/grants/{grant_id}/revocation",
        "GET /oversight/grants",
        "POST /governance/documents",
        "POST /governance/documents/{document_id}/withdrawal",
        "GET /governance/documents",
        "GET /governance/documents/{document_id}",
        "POST /training",
        "POST /training/{record_id}/withdrawal",
        "GET /training",
        "POST /console/sign-out",
    }
)
READ_KINDS = (PERSONAL_DATA, PERSONAL_DATA_IN_ROLE, ACCESS_LOG, NO_PERSONAL_DATA)


def route_key(method: str, path_template: str) -> str:
    return f"{method.upper()} {path_template}"


def _forbidden(detail: str) -> ProblemException:
    return ProblemException(403, "forbidden", "Not permitted for this role", detail)


def role_may_call(role: Role, method: str, path_template: str) -> bool:
    """Whether ACCESS opens the route to `role` (the role guard decides; others may ask)."""
    return role in ACCESS.get(route_key(method, path_template), frozenset())


async def role_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Allows the request only if the token's role is in the route's row of ACCESS. A
    coroutine although it awaits nothing: Litestar runs a plain function guard in a worker
    thread, a hop per request for a look-up in a table (issue 28)."""
    method = str(connection.scope.get("method", "GET"))
    template = str(connection.scope.get("path_template", ""))
    key = route_key(method, template)
    if method == "OPTIONS" or key in PUBLIC or template.startswith("/schema"):
        return
    allowed = ACCESS.get(key)
    if allowed is None:
        # A route missing from the table is closed, never open.
        raise _forbidden("this route is not open to any role")
    actor = connection.user
    if not isinstance(actor, Actor):
        raise _forbidden("no authenticated actor")
    if actor.role not in allowed:
        roles = ", ".join(sorted(r.value for r in allowed))
        raise _forbidden(f"{key} is open to the roles {roles}; the token's role is {actor.role}")
    if actor.role == Role.MATCHER:
        bound = actor.deployment_id
        target = connection.path_params.get("deployment_id")
        if target is None or str(target) != bound:
            raise _forbidden(
                f"matcher {actor.id} is bound to deployment {bound} and may act only on it"
            )


def app_route_keys(app: Litestar) -> set[str]:
    """Every "METHOD /path" the app serves, without the automatic OPTIONS handlers."""
    keys: set[str] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method in ("OPTIONS", "HEAD"):
                    continue
                if route.path_format.startswith("/schema"):
                    continue
                keys.add(route_key(method, route.path_format))
    return keys


def check_table_covers(app: Litestar) -> None:
    """Fails start-up if a route is missing from ACCESS, or ACCESS names a route that is gone."""
    served = app_route_keys(app)
    declared = set(ACCESS) | PUBLIC
    missing = served - declared
    stale = declared - served
    if missing or stale:
        raise RuntimeError(
            f"guards.ACCESS does not match the routes: missing {sorted(missing)}, "
            f"stale {sorted(stale)}"
        )
    check_reads_declared()


def check_reads_declared() -> None:
    """Fails start-up unless every route of ACCESS says, exactly once, what its reply holds
    about people: a route that returns personal data must read it through the query layer."""
    undeclared = [k for k in ACCESS if sum(k in kind for kind in READ_KINDS) != 1]
    stale = set().union(*READ_KINDS) - set(ACCESS)
    if undeclared or stale:
        raise RuntimeError(
            "declare in exactly one of guards.PERSONAL_DATA, PERSONAL_DATA_IN_ROLE, ACCESS_LOG "
            f"or NO_PERSONAL_DATA: {sorted(undeclared)}; stale: {sorted(stale)}"
        )
