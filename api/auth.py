"""Bearer JWT authentication: who is calling, as the identity provider vouched.

Two ways to trust a token:
- embedded default: HS256 with a shared secret, from LFR_JWT_SECRET or else generated once and
  kept in `data_dir/keys/jwt_secret` (mode 0600), so `lfr token` and `lfr serve` agree;
- an external identity provider: its public key (PEM file named by LFR_JWT_PUBLIC_KEY), and the
  algorithm its key type implies (RS256, ES256 or EdDSA). Then the API holds no signing secret.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from jwt.types import Options
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from lfr_ledger.api.console.sessions import SessionStore
from lfr_ledger.api.verified_tokens import VerifiedTokens
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import ACTOR_ID_RULE, Actor, Role, is_actor_id
from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.domain.oversight_grant import body_code

ISSUER = "lfr-ledger"
DEFAULT_TTL_MINUTES = 60
MAX_TTL_MINUTES = 12 * 60  # one shift
LEEWAY_SECONDS = 30
# The claim naming the oversight body an oversight token's holder acts for.
BODY_CLAIM = "oversight_body"


def secret_path(settings: Settings) -> Path:
    return settings.data_dir / "keys" / "jwt_secret"


def load_or_create_secret(settings: Settings) -> str:
    """The HS256 secret: configured, or created once with O_EXCL so that two processes starting
    together (serve and token) cannot write two different secrets."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = secret_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    for _ in range(50):
        text = path.read_text().strip()
        if text:
            return text
        time.sleep(0.02)  # the creator has not written it yet
    raise RuntimeError(f"the JWT secret file {path} is empty; delete it to generate a new one")


def key_id(key: Any) -> str:
    """A short public name for a signing key (a digest: it reveals nothing of the key), written
    into each token's `kid` header so a mismatch can be named on both sides."""
    if isinstance(key, str):
        material = key.encode()
    else:
        public = key.public_key() if hasattr(key, "private_bytes") else key
        material = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(b"lfr-ledger jwt key\0" + material).hexdigest()[:12]


def key_source(settings: Settings) -> str:
    """Where the embedded secret or the identity provider's key comes from, for messages."""
    if settings.jwt_public_key:
        return f"the identity provider's public key {settings.jwt_public_key}"
    if settings.jwt_secret:
        return "LFR_JWT_SECRET"
    return f"the secret in {secret_path(settings)}"


def _algorithm_for(key: Any) -> str:
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return "ES256"
    raise ValueError(f"unsupported key type {type(key).__name__}: use RSA, Ed25519 or EC P-256")


@dataclass(frozen=True)
class TokenVerifier:
    key: Any
    algorithms: tuple[str, ...]
    issuer: str | None = None
    audience: str | None = None
    maximum_lifetime_minutes: int = MAX_TTL_MINUTES
    key_source: str = "its key"
    # Verified once, then checked for time only (`verified_tokens.py`).
    _verified: VerifiedTokens = field(default_factory=VerifiedTokens, init=False, compare=False)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, maximum_lifetime_minutes: int = MAX_TTL_MINUTES
    ) -> TokenVerifier:
        """The embedded secret checks its own issuer; an identity provider's key checks the
        issuer and audience the settings name (each only when named)."""
        if settings.jwt_public_key:
            key = load_pem_public_key(settings.jwt_public_key.read_bytes())
            return cls(
                key=key,
                algorithms=(_algorithm_for(key),),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                maximum_lifetime_minutes=maximum_lifetime_minutes,
                key_source=key_source(settings),
            )
        return cls(
            key=load_or_create_secret(settings),
            algorithms=("HS256",),
            issuer=settings.jwt_issuer or ISSUER,
            audience=settings.jwt_audience,
            maximum_lifetime_minutes=maximum_lifetime_minutes,
            key_source=key_source(settings),
        )

    def actor(self, token: str) -> Actor:
        return self.verified(token)[0]

    def verified(self, token: str) -> tuple[Actor, float]:
        """The Actor a token names, and when the token expires (epoch seconds). Raises
        NotAuthorizedException with the reason a client can act on (expired, bad signature,
        missing claim), never with the token's contents."""
        kept = self._verified.get(token)
        if kept is not None:
            self._check_times(kept[1])
            return kept[0], float(kept[1]["exp"])
        claims = self._decoded(token)
        self._check_times(claims)
        actor = actor_from_claims(claims)
        self._verified.keep(token, actor, claims)
        return actor, float(claims["exp"])

    def _decoded(self, token: str) -> dict[str, Any]:
        """The token's claims, its signature, issuer, audience and required claims checked."""
        options: Options = {
            "require": ["sub", "role", "exp", "iat"],
            "verify_aud": self.audience is not None,
            # exp and iat are checked in _check_times, type first: PyJWT would read
            # "exp": "9999999999" or true as a number, and name no claim for "exp": "soon".
            "verify_exp": False,
            "verify_iat": False,
        }
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=list(self.algorithms),
                options=options,
                leeway=LEEWAY_SECONDS,
                issuer=self.issuer,
                audience=self.audience,
            )
        except jwt.MissingRequiredClaimError as exc:
            raise _unauthorised(f"the bearer token lacks the claim {exc.claim!r}") from None
        except jwt.InvalidIssuerError:
            raise _unauthorised(f"the bearer token was not issued by {self.issuer!r}") from None
        except jwt.InvalidAudienceError:
            raise _unauthorised(f"the bearer token is not meant for {self.audience!r}") from None
        except jwt.ImmatureSignatureError:
            raise _unauthorised("the bearer token is not valid yet (nbf)") from None
        except jwt.InvalidSignatureError:
            raise _unauthorised(self._signature_mismatch(token)) from None
        except jwt.InvalidTokenError:
            raise _unauthorised(
                "the bearer token is malformed or its signature is invalid"
            ) from None
        return claims

    def _signature_mismatch(self, token: str) -> str:
        """Names both keys by their public ids: the usual cause is a token made with another
        data directory's secret (`lfr token` run with another LFR_DATA_DIR)."""
        ours = key_id(self.key)
        try:
            theirs = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            theirs = None
        signed = f"was signed with key {theirs}" if theirs else "names no signing key"
        return (
            f"the bearer token's signature is invalid: it {signed}, and this server verifies "
            f"with key {ours} ({self.key_source}); issue tokens with the same LFR_DATA_DIR or "
            "LFR_JWT_SECRET as `lfr serve`"
        )

    def _check_times(self, claims: dict[str, Any]) -> None:
        """exp and iat: finite JSON numbers (not strings, not true/false), not expired, not
        issued in the future, and no further apart, nor exp further ahead, than the policy's
        maximum lifetime."""
        for name in ("exp", "iat"):
            if not is_seconds(claims[name]):
                raise _unauthorised(f"the bearer token's {name!r} must be a number of seconds")
        now = time.time()
        if claims["exp"] <= now - LEEWAY_SECONDS:
            raise _unauthorised("the bearer token has expired; obtain a new one")
        if claims["iat"] > now + LEEWAY_SECONDS:
            raise _unauthorised("the bearer token was issued in the future ('iat')")
        limit = self.maximum_lifetime_minutes * 60
        if claims["exp"] - claims["iat"] > limit or claims["exp"] - now > limit + LEEWAY_SECONDS:
            raise _unauthorised(
                "the bearer token lives longer than the policy's maximum of "
                f"{self.maximum_lifetime_minutes} minutes; obtain a shorter-lived one"
            )


class BearerVerifier(Protocol):
    """What authenticates a bearer token: TokenVerifier, or with OIDC configured the one that
    also accepts the provider's tokens (`api/oidc/bearer.py`)."""

    @property
    def maximum_lifetime_minutes(self) -> int: ...

    def actor(self, token: str) -> Actor: ...

    def verified(self, token: str) -> tuple[Actor, float]: ...


def is_seconds(value: Any) -> bool:
    """A JWT time claim as RFC 7519 has it: a finite JSON number (PyJWT would also read the
    string "9999999999" or true as one)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def actor_from_claims(claims: dict[str, Any]) -> Actor:
    try:
        role = Role(str(claims["role"]))
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise _unauthorised(f"the token's role is not one of: {known}") from None
    sub = str(claims["sub"]).strip()
    if not is_actor_id(sub):
        raise _unauthorised(
            f"the token's subject (sub) must be a staff or service number: {ACTOR_ID_RULE}"
        )

    def opt(name: str) -> str | None:
        value = claims.get(name)
        return None if value in (None, "") else str(value)

    deployment_id = opt("deployment_id")
    if role == Role.MATCHER and deployment_id is None:
        raise _unauthorised("a matcher token must name its deployment (claim deployment_id)")
    return Actor(
        id=sub,
        role=role,
        rank=opt("rank"),
        force=opt("force"),
        deployment_id=deployment_id,
        body=_body(role, opt(BODY_CLAIM)),
    )


def _body(role: Role, claimed: str | None) -> str | None:
    """The oversight body the token's holder acts for: only an oversight token names one (its
    reads are then held to the body's grants, `domain/oversight_grant.py`)."""
    if claimed is None:
        return None
    if role != Role.OVERSIGHT:
        raise _unauthorised(
            f"only an oversight token may name an oversight body (claim {BODY_CLAIM}); this "
            f"token's role is {role}"
        )
    try:
        return body_code(claimed, BODY_CLAIM)
    except InvalidInput as refused:
        raise _unauthorised(f"the token's {refused.detail}") from None


def _unauthorised(detail: str) -> NotAuthorizedException:
    return NotAuthorizedException(
        detail=detail, headers={"WWW-Authenticate": 'Bearer realm="lfr-ledger"'}
    )


def issue_token(
    settings: Settings,
    *,
    role: Role | str,
    sub: str,
    name: str | None = None,
    rank: str | None = None,
    force: str | None = None,
    deployment_id: str | None = None,
    body: str | None = None,
    ttl_minutes: int = DEFAULT_TTL_MINUTES,
    maximum_ttl_minutes: int = MAX_TTL_MINUTES,
    private_key_pem: bytes | None = None,
    now: float | None = None,
) -> str:
    """Signs a token for the embedded default (HS256 secret) or with a given private key.
    `maximum_ttl_minutes` is the policy's maximum lifetime, so no token is issued that the
    verifier would refuse."""
    role = Role(role)
    if not 0 < ttl_minutes <= maximum_ttl_minutes:
        raise ValueError(f"ttl must lie in 1..{maximum_ttl_minutes} minutes (policy maximum)")
    if role == Role.MATCHER and not deployment_id:
        raise ValueError("a matcher token needs --deployment")
    if body and role != Role.OVERSIGHT:
        raise ValueError("only an oversight token may name a body (--body)")
    if body:
        try:
            body = body_code(body, "--body")
        except InvalidInput as refused:
            raise ValueError(refused.detail) from None
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer or ISSUER,
        "sub": sub,
        "role": role.value,
        "iat": issued,
        "exp": issued + ttl_minutes * 60,
    }
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    for key, value in (
        ("name", name),
        ("rank", rank),
        ("force", force),
        ("deployment_id", deployment_id),
        (BODY_CLAIM, body),
    ):
        if value:
            claims[key] = value
    if private_key_pem is not None:
        private: Any = load_pem_private_key(private_key_pem, password=None)
        return jwt.encode(
            claims,
            private,
            algorithm=_algorithm_for(private),
            headers={"kid": key_id(private)},
        )
    secret = load_or_create_secret(settings)
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": key_id(secret)})


SESSION_COOKIE = "lfr_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class JWTAuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets `connection.user` to the Actor of the bearer token, or of the console session.

    A session cookie travels with every request the browser makes, forged ones included, so a
    request it authenticates that changes anything must also carry the session's CSRF token in
    `X-CSRF-Token` (which a cross-site form cannot set) and, when the browser says where it
    came from, come from this origin.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: BearerVerifier,
        sessions: SessionStore | None = None,
        exclude: list[str] | None = None,
    ) -> None:
        # Only OPTIONS (CORS preflight, no data) skips authentication; HEAD does not.
        super().__init__(
            app,
            exclude=exclude,
            exclude_from_auth_key="public",
            exclude_http_methods=["OPTIONS"],
        )
        self.verifier = verifier
        self.sessions = sessions

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if not header:
            cookie = connection.cookies.get(SESSION_COOKIE)
            if cookie and self.sessions is not None:
                return await self._from_session(connection, cookie)
            raise _unauthorised("send a bearer token: Authorization: Bearer <token>")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorised("the Authorization header must be: Bearer <token>")
        if isinstance(self.verifier, TokenVerifier):  # no I/O: verified in the event loop
            return AuthenticationResult(user=self.verifier.actor(token.strip()), auth=None)
        # A provider's token may make its keys be fetched (api/oidc): in a worker thread.
        actor = await anyio.to_thread.run_sync(self.verifier.actor, token.strip())
        return AuthenticationResult(user=actor, auth=None)

    async def _from_session(
        self, connection: ASGIConnection[Any, Any, Any, Any], cookie: str
    ) -> AuthenticationResult:
        assert self.sessions is not None
        session = await anyio.to_thread.run_sync(self.sessions.resume, cookie)
        if session is None:
            raise _unauthorised("the console session has ended or expired; sign in again")
        if connection.scope.get("method", "GET") not in _SAFE_METHODS:
            check_same_origin(connection)
            if not session.csrf_matches(connection.headers.get(CSRF_HEADER)):
                raise cross_site_refused(
                    "a request made with the console session must carry its CSRF token "
                    "(X-CSRF-Token); reload the page and try again"
                )
        return AuthenticationResult(user=session.actor, auth=session)


def check_same_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Refuses a request the browser says came from another site or origin."""
    fetch_site = connection.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise cross_site_refused(f"a {fetch_site} request may not act through the console")
    origin = connection.headers.get("origin")
    if origin is not None:
        host = connection.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            raise cross_site_refused("the request came from another origin")


def cross_site_refused(detail: str) -> PermissionDeniedException:
    # 403, not 401: the session is valid, the request is not one it may make.
    return PermissionDeniedException(detail=detail)
