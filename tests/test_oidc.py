"""OIDC sign-in's rules, fast: the mapping file, the claims → Actor mapping, and one sign-in's
checks (PKCE, state, nonce, issuer, audience, times, keys) on real signed JWTs.

The provider here is a small real HTTP server on loopback serving a discovery document, a key
set and a token endpoint that checks the PKCE verifier: it stands in for the provider only to
hand the ledger tokens that a certified provider would never make (expired, from the future,
with a wrong nonce). The certified provider itself is exercised in tests/e2e/test_e2e_oidc.py.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from litestar.exceptions import NotAuthorizedException

from lfr_ledger.api.auth import TokenVerifier, issue_token
from lfr_ledger.api.console.sessions import SessionStore
from lfr_ledger.api.oidc.bearer import ProviderOrEmbeddedVerifier
from lfr_ledger.api.oidc.claims import SignInRefused, actor_from_oidc_claims
from lfr_ledger.api.oidc.config import OidcConfig, OidcConfigError, load_oidc_config
from lfr_ledger.api.oidc.flow import OidcSignIn, pkce_challenge
from lfr_ledger.api.oidc.provider import ProviderKeys
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Role

REPO = Path(__file__).resolve().parents[1]
CLIENT = "lfr-ledger-console"
API = "urn:lfr-ledger:api"


class Key:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_jwk = {**json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))}
        self.public_jwk.update(kid=kid, alg="RS256", use="sig")

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm="RS256", headers={"kid": self.kid, **header}
        )


class StandIn(http.server.ThreadingHTTPServer):
    issuer: str
    keys: list[Key]
    challenges: dict[str, str]  # code -> the PKCE challenge its authorization request carried
    id_tokens: dict[str, str]  # code -> the ID token the token endpoint answers with
    jwks_fetches: int


class Handler(http.server.BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *_: Any) -> None:
        pass

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        issuer = self.server.issuer
        if self.path == "/.well-known/openid-configuration":
            self._json(
                200,
                {
                    "issuer": issuer,
                    "authorization_endpoint": f"{issuer}/auth",
                    "token_endpoint": f"{issuer}/token",
                    "jwks_uri": f"{issuer}/jwks",
                    "end_session_endpoint": f"{issuer}/session/end",
                },
            )
        elif self.path == "/jwks":
            self.server.jwks_fetches += 1
            self._json(200, {"keys": [k.public_jwk for k in self.server.keys]})
        else:
            self._json(404, {})

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        code = form["code"][0]
        verifier = form["code_verifier"][0]
        if pkce_challenge(verifier) != self.server.challenges.get(code):
            self._json(400, {"error": "invalid_grant"})
            return
        self._json(200, {"id_token": self.server.id_tokens[code], "token_type": "Bearer"})


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn(("127.0.0.1", 0), Handler)
    server.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    server.keys = [Key("k1")]
    server.challenges, server.id_tokens, server.jwks_fetches = {}, {}, 0
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def config_for(issuer: str, **overrides: Any) -> OidcConfig:
    fields: dict[str, Any] = {
        "issuer": issuer,
        "client_id": CLIENT,
        "client_secret": "s3cret",
        "staff_number_claim": "employee_id",
        "rank_claim": "rank",
        "oversight_body_claim": "body",
        "roles": {
            "lfr-operators": Role.OPERATOR,
            "lfr-officers": Role.OFFICER,
            "hmicfrs": Role.OVERSIGHT,
        },
        "api_audience": API,
        "jwks_refetch_seconds": 60.0,
    }
    return OidcConfig(**{**fields, **overrides})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[SessionStore]:
    store = SessionStore(Settings(data_dir=tmp_path / "var"))
    try:
        yield store
    finally:
        store.close()


class SecondsFromNow(int):
    """A time claim relative to when the token is made, not to when the tests were collected
    (a whole suite may lie between the two)."""


def id_claims(issuer: str, sent_nonce: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    changes = {k: now + v if isinstance(v, SecondsFromNow) else v for k, v in changes.items()}
    claims = {
        "iss": issuer,
        "aud": CLIENT,
        "sub": "a1b2c3-opaque",
        "nonce": sent_nonce,
        "iat": now,
        "exp": now + 600,
        "employee_id": "PC-3381",
        "groups": ["all-staff", "lfr-operators"],
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def begin(stand_in: StandIn, flow: OidcSignIn, **claim_changes: Any) -> tuple[str, str, str]:
    """Starts a sign-in, plays the provider's part, and returns (state, code, browser)."""
    url, browser = flow.start("http://127.0.0.1:1/console/oidc/callback")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
    code = f"code-{len(stand_in.challenges)}"
    stand_in.challenges[code] = query["code_challenge"]
    claims = id_claims(stand_in.issuer, query["nonce"], **claim_changes)
    stand_in.id_tokens[code] = stand_in.keys[0].sign(claims)
    return query["state"], code, browser


def refusal(call: Any) -> SignInRefused:
    with pytest.raises(SignInRefused) as caught:
        call()
    return caught.value


# --- the mapping file --------------------------------------------------------------------------


def docs_example() -> str:
    """The mapping file docs/oidc.md shows: it must stay one the ledger reads."""
    text = (REPO / "docs" / "oidc.md").read_text()
    found = re.search(r"```toml\n(.*?)```", text, re.S)
    assert found, "docs/oidc.md shows no ```toml example"
    return found.group(1)


def test_the_documented_mapping_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "oidc.toml"
    path.write_text(docs_example())
    config = load_oidc_config(path, {"LFR_OIDC_CLIENT_SECRET": "from-the-environment"})
    assert config.issuer.startswith("https://")
    assert config.client_secret == "from-the-environment"
    assert "from-the-environment" not in repr(config)
    assert config.roles and all(role != Role.MATCHER for role in config.roles.values())
    assert config.staff_number_claim


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda t: t.replace('issuer = "https://', 'issuer = "http://'), "provider.issuer"),
        (lambda t: t.replace("client_id =", "client_key ="), "provider.client_key"),
        (lambda t: t + '\n[roles.extra]\n"x" = 1\n', "roles.'extra'"),
        (lambda t: re.sub(r'= "operator"', '= "constable"', t, count=1), "is not a role"),
        (
            lambda t: re.sub(r'= "operator"', '= "matcher"', t, count=1),
            "cannot sign in as a matcher",
        ),
        (
            lambda t: t.replace(
                'client_secret_env = "LFR_OIDC_CLIENT_SECRET"', 'client_secret = "x"'
            ),
            "provider.client_secret: the secret never goes in this file",
        ),
        (lambda t: t.replace("LFR_OIDC_CLIENT_SECRET", "LFR_UNSET_SECRET"), "LFR_UNSET_SECRET"),
        (lambda t: re.sub(r"staff_number = .*\n", "", t), "claims.staff_number: is required"),
        (lambda t: t + "\n[extras]\n", "extras: unknown section"),
        (lambda t: t.replace('"openid", ', ""), "must include 'openid'"),
        (lambda t: "issuer = ", "is not valid TOML"),
    ],
)
def test_a_bad_mapping_file_is_one_line_naming_the_key(
    tmp_path: Path, change: Any, named: str
) -> None:
    path = tmp_path / "oidc.toml"
    path.write_text(change(docs_example()))
    with pytest.raises(OidcConfigError) as caught:
        load_oidc_config(path, {"LFR_OIDC_CLIENT_SECRET": "x"})
    message = str(caught.value)
    assert named in message and str(path) in message and "\n" not in message


# --- claims to an Actor ------------------------------------------------------------------------


def test_claims_map_to_one_actor_by_group() -> None:
    config = config_for("https://idp.example")
    actor = actor_from_oidc_claims(
        {"employee_id": "PC-3381", "groups": "lfr-operators", "rank": "Chief Inspector"}, config
    )
    assert (actor.id, actor.role, actor.rank) == ("PC-3381", Role.OPERATOR, "chief_inspector")
    oversight = actor_from_oidc_claims(
        {"employee_id": "OV-7", "groups": ["hmicfrs"], "body": "hmicfrs"}, config
    )
    assert oversight.role == Role.OVERSIGHT and oversight.body == "HMICFRS"


def test_claims_that_map_to_no_role_or_several_are_refused() -> None:
    config = config_for("https://idp.example")
    none = refusal(
        lambda: actor_from_oidc_claims({"employee_id": "PC-1", "groups": ["hr"]}, config)
    )
    assert (none.status, none.kind) == (403, "oidc-no-role")
    both = {"employee_id": "PC-1", "groups": ["lfr-officers", "lfr-operators"]}
    ambiguous = refusal(lambda: actor_from_oidc_claims(both, config))
    assert ambiguous.kind == "oidc-role-ambiguous"
    assert ambiguous.roles == (Role.OPERATOR, Role.OFFICER)  # the mapping file's order
    assert actor_from_oidc_claims(both, config, chosen=Role.OFFICER).role == Role.OFFICER
    # A role the groups do not give cannot be chosen.
    assert refusal(lambda: actor_from_oidc_claims(both, config, chosen=Role.ADMIN)).kind == (
        "oidc-role-ambiguous"
    )


def test_the_staff_number_comes_from_the_named_claim_and_must_be_one() -> None:
    config = config_for("https://idp.example")
    missing = refusal(
        lambda: actor_from_oidc_claims({"sub": "PC-1", "groups": ["lfr-operators"]}, config)
    )
    assert missing.kind == "oidc-no-staff-number" and "'employee_id'" in missing.detail
    bad = {"employee_id": "=HYPERLINK()", "groups": ["lfr-operators"]}
    assert refusal(lambda: actor_from_oidc_claims(bad, config)).kind == "oidc-bad-staff-number"


# --- one sign-in -------------------------------------------------------------------------------


def sign_in(stand_in: StandIn, sessions: SessionStore, **config: Any) -> OidcSignIn:
    settings = config_for(stand_in.issuer, **config)
    return OidcSignIn(settings, ProviderKeys(settings), sessions)


def test_a_sign_in_verifies_the_id_token_and_its_answer_is_used_once(
    stand_in: StandIn, sessions: SessionStore
) -> None:
    flow = sign_in(stand_in, sessions)
    state, code, browser = begin(stand_in, flow)
    done = flow.finish(state=state, code=code, browser=browser, issuer=stand_in.issuer)
    assert (done.actor.id, done.actor.role) == ("PC-3381", Role.OPERATOR)
    assert done.id_token == stand_in.id_tokens[code]
    replayed = refusal(lambda: flow.finish(state=state, code=code, browser=browser, issuer=None))
    assert (replayed.status, replayed.kind) == (401, "oidc-flow-used")


def test_an_answer_for_another_browser_or_issuer_is_refused(
    stand_in: StandIn, sessions: SessionStore
) -> None:
    flow = sign_in(stand_in, sessions)
    state, code, _ = begin(stand_in, flow)
    stolen = refusal(lambda: flow.finish(state=state, code=code, browser="mine", issuer=None))
    assert stolen.kind == "oidc-flow-other-browser"
    unknown = refusal(lambda: flow.finish(state="made-up", code=code, browser="x", issuer=None))
    assert unknown.kind == "oidc-flow-unknown"
    state, code, browser = begin(stand_in, flow)
    mixed = refusal(
        lambda: flow.finish(state=state, code=code, browser=browser, issuer="https://evil.example")
    )
    assert mixed.kind == "oidc-wrong-issuer"


def test_the_pkce_verifier_sent_is_the_one_the_challenge_was_made_from(
    stand_in: StandIn, sessions: SessionStore
) -> None:
    flow = sign_in(stand_in, sessions)
    state, code, browser = begin(stand_in, flow)
    stand_in.challenges[code] = pkce_challenge("another verifier entirely, 43 chars or more..")
    refused = refusal(lambda: flow.finish(state=state, code=code, browser=browser, issuer=None))
    assert refused.kind == "oidc-code-refused" and "invalid_grant" in refused.detail
    # RFC 7636 appendix B's example: S256 is the standard's, not merely self-consistent.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"nonce": "not-the-one-sent"}, "oidc-wrong-nonce"),
        ({"nonce": None}, "oidc-wrong-nonce"),
        ({"aud": "another-client"}, "oidc-wrong-audience"),
        ({"iss": "https://other-force.example"}, "oidc-wrong-issuer"),
        ({"aud": [CLIENT, "another-client"]}, "oidc-token-refused"),  # no azp
        ({"azp": "another-client"}, "oidc-token-refused"),
        ({"exp": SecondsFromNow(-45)}, "oidc-token-expired"),
        ({"iat": SecondsFromNow(45)}, "oidc-token-from-the-future"),
        ({"exp": "soon"}, "oidc-token-refused"),
    ],
)
def test_an_id_token_failing_a_check_is_refused(
    stand_in: StandIn, sessions: SessionStore, changes: dict[str, Any], kind: str
) -> None:
    flow = sign_in(stand_in, sessions)
    state, code, browser = begin(stand_in, flow, **changes)
    refused = refusal(lambda: flow.finish(state=state, code=code, browser=browser, issuer=None))
    assert (refused.status, refused.kind) == (401, kind)


@pytest.mark.parametrize("changes", [{"exp": SecondsFromNow(-15)}, {"iat": SecondsFromNow(15)}])
def test_clock_skew_within_the_leeway_is_allowed(
    stand_in: StandIn, sessions: SessionStore, changes: dict[str, Any]
) -> None:
    flow = sign_in(stand_in, sessions)
    state, code, browser = begin(stand_in, flow, **changes)
    assert flow.finish(state=state, code=code, browser=browser, issuer=None).actor.id == "PC-3381"


def test_a_token_signed_otherwise_than_by_the_providers_key_is_refused(
    stand_in: StandIn, sessions: SessionStore
) -> None:
    config = config_for(stand_in.issuer)
    flow = OidcSignIn(config, ProviderKeys(config), sessions)
    state, code, browser = begin(stand_in, flow)
    claims = jwt.decode(stand_in.id_tokens[code], options={"verify_signature": False})
    # HS256 with the provider's public key as the secret: the classic confusion.
    public_pem = stand_in.keys[0].public_jwk["n"]
    stand_in.id_tokens[code] = jwt.encode(
        claims, public_pem, algorithm="HS256", headers={"kid": "k1"}
    )
    refused = refusal(lambda: flow.finish(state=state, code=code, browser=browser, issuer=None))
    assert "algorithm the ledger does not accept" in refused.detail


def test_a_rotated_key_is_fetched_again_at_most_once_a_period(
    stand_in: StandIn, sessions: SessionStore
) -> None:
    config = config_for(stand_in.issuer, jwks_refetch_seconds=30.0)
    clock = Clock()
    keys = ProviderKeys(config, clock=clock)
    flow = OidcSignIn(config, keys, sessions)
    state, code, browser = begin(stand_in, flow)
    flow.finish(state=state, code=code, browser=browser, issuer=None)
    assert stand_in.jwks_fetches == 1
    stand_in.keys = [Key("k2")]  # the provider rotates
    clock.now += 10
    state, code, browser = begin(stand_in, flow)
    early = refusal(lambda: flow.finish(state=state, code=code, browser=browser, issuer=None))
    assert "'k2', which the provider does not publish" in early.detail
    assert stand_in.jwks_fetches == 1  # within the period: not fetched again
    clock.now += 25
    state, code, browser = begin(stand_in, flow)
    assert flow.finish(state=state, code=code, browser=browser, issuer=None).actor.id == "PC-3381"
    assert stand_in.jwks_fetches == 2


def test_a_flow_lapses_after_ten_minutes(tmp_path: Path) -> None:
    clock = Clock()
    store = SessionStore(Settings(data_dir=tmp_path / "var"), clock=clock)
    try:
        store.add_flow("state", "browser", {"nonce": "n"})
        clock.now += 601
        assert store.take_flow("state", "browser") == ("expired", None)
    finally:
        store.close()


# --- bearer tokens -----------------------------------------------------------------------------


def test_the_providers_access_tokens_and_the_ledgers_own_are_bearer_tokens(
    stand_in: StandIn, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    config = config_for(stand_in.issuer)
    verifier = ProviderOrEmbeddedVerifier(
        TokenVerifier.from_settings(settings), config, ProviderKeys(config)
    )
    now = int(time.time())
    access = {"iss": stand_in.issuer, "aud": API, "sub": "opaque", "iat": now, "exp": now + 600}
    token = stand_in.keys[0].sign({**access, "employee_id": "PC-7", "groups": ["lfr-officers"]})
    assert verifier.actor(token).role == Role.OFFICER
    assert verifier.actor(issue_token(settings, role="admin", sub="AD-1")).id == "AD-1"
    both = stand_in.keys[0].sign(
        {**access, "employee_id": "PC-7", "groups": ["lfr-officers", "lfr-operators"]}
    )
    with pytest.raises(NotAuthorizedException, match="several roles"):
        verifier.actor(both)
    for_console = stand_in.keys[0].sign({**access, "aud": CLIENT, "employee_id": "PC-7"})
    with pytest.raises(NotAuthorizedException, match=f"not meant for '{API}'"):
        verifier.actor(for_console)
    # The policy's maximum token lifetime (12 hours by default) holds for the provider's too.
    too_long = stand_in.keys[0].sign(
        {**access, "exp": now + 13 * 3600, "employee_id": "PC-7", "groups": ["lfr-officers"]}
    )
    with pytest.raises(NotAuthorizedException, match="longer than the policy's maximum"):
        verifier.actor(too_long)
    foreign = Key("k9").sign({**access, "iss": "https://other.example", "employee_id": "PC-7"})
    with pytest.raises(NotAuthorizedException, match="issued neither by"):
        verifier.actor(foreign)


def test_a_bad_mapping_file_stops_the_app_before_anything_is_written(tmp_path: Path) -> None:
    from lfr_ledger.api.app import create_app

    path = tmp_path / "oidc.toml"
    path.write_text(docs_example().replace('"operator"', '"van driver"'))
    data_dir = tmp_path / "var"
    with pytest.raises(OidcConfigError, match="'van driver' is not a role"):
        create_app(Settings(data_dir=data_dir, oidc_config=path))
    assert not data_dir.exists()
