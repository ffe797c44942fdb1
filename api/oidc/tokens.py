"""Verifying the provider's tokens: an ID token at sign-in (audience: our client_id; nonce:
the one this sign-in sent), an access token as an API bearer token (audience: the API's).

The signature is checked with the provider's published key the token names, by the algorithm
that key is for (never one the token chooses: no `none`, no shared-secret HS256); then the
issuer, the audience, the authorised party, and the times with LEEWAY_SECONDS of clock skew
either way.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import jwt

from lfr_ledger.api.auth import LEEWAY_SECONDS, is_seconds
from lfr_ledger.api.oidc.claims import SignInRefused
from lfr_ledger.api.oidc.config import OidcConfig
from lfr_ledger.api.oidc.provider import (
    SIGNING_ALGORITHMS,
    ProviderKeys,
    ProviderUnreachable,
    UnknownSigningKey,
)

ID_TOKEN = "ID token"
ACCESS_TOKEN = "access token"
_REMEDY = "Sign in again; if it happens again, tell whoever runs the ledger."


def _refused(what: str, detail: str, kind: str = "oidc-token-refused") -> SignInRefused:
    return SignInRefused(401, kind, f"The provider's {what} was refused", detail, _REMEDY)


def verify_provider_token(
    token: str,
    *,
    keys: ProviderKeys,
    config: OidcConfig,
    audience: str,
    what: str,
    nonce: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of a token the provider signed for `audience`, or SignInRefused saying
    which check failed (never the token's contents)."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise _refused(what, f"the {what} is not a well-formed JWT") from None
    # Checked before any key is fetched: another issuer's token must not make us fetch ours.
    if unverified.get("iss") != config.issuer:
        raise _refused(what, f"the {what} was not issued by {config.issuer!r}", "oidc-wrong-issuer")
    algorithm = header.get("alg")
    if algorithm not in SIGNING_ALGORITHMS:
        raise _refused(what, f"the {what} is signed with an algorithm the ledger does not accept")
    kid = header.get("kid")
    try:
        key = keys.key_for(kid if isinstance(kid, str) else None)
    except UnknownSigningKey as unknown:
        raise _refused(what, f"the {what}'s signature cannot be checked: {unknown}") from None
    except ProviderUnreachable as down:
        raise SignInRefused(
            503,
            "oidc-provider-unreachable",
            "The sign-in provider cannot be reached",
            f"The ledger could not check the {what}: {down}.",
            "Try again in a minute; if it persists, tell whoever runs the ledger.",
        ) from None
    if key.algorithm_name != algorithm:
        raise _refused(what, f"the {what}'s algorithm does not match its key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            audience=audience,
            issuer=config.issuer,
            leeway=LEEWAY_SECONDS,
            options={
                "require": ["iss", "sub", "aud", "exp", "iat"],
                # Checked below, type first (as the embedded verifier does).
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.MissingRequiredClaimError as exc:
        raise _refused(what, f"the {what} lacks the claim {exc.claim!r}") from None
    except jwt.InvalidAudienceError:
        raise _refused(
            what, f"the {what} is not meant for {audience!r}", "oidc-wrong-audience"
        ) from None
    except jwt.InvalidIssuerError:
        raise _refused(what, f"the {what} was not issued by {config.issuer!r}") from None
    except jwt.ImmatureSignatureError:
        raise _refused(what, f"the {what} is not valid yet (nbf)") from None
    except jwt.InvalidTokenError:
        raise _refused(what, f"the {what}'s signature is invalid") from None
    _check_times(claims, what, time.time() if now is None else now)
    if what == ID_TOKEN:
        _check_authorised_party(claims, config)
        expected = nonce or ""
        given = claims.get("nonce")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
            raise _refused(
                what,
                "the ID token does not carry the nonce this sign-in sent (a replayed or "
                "mixed-up sign-in)",
                "oidc-wrong-nonce",
            )
    return claims


def _check_times(claims: dict[str, Any], what: str, now: float) -> None:
    for name in ("exp", "iat"):
        if not is_seconds(claims[name]):
            raise _refused(what, f"the {what}'s {name!r} must be a number of seconds")
    if claims["exp"] <= now - LEEWAY_SECONDS:
        raise _refused(
            what,
            f"the {what} has expired (more than {LEEWAY_SECONDS} s ago, the clock skew allowed)",
            "oidc-token-expired",
        )
    if claims["iat"] > now + LEEWAY_SECONDS:
        raise _refused(
            what,
            f"the {what} was issued in the future ('iat' more than {LEEWAY_SECONDS} s ahead of "
            "this server's clock): check both clocks",
            "oidc-token-from-the-future",
        )


def _check_authorised_party(claims: dict[str, Any], config: OidcConfig) -> None:
    """OIDC Core 3.1.3.7: with several audiences, `azp` must be present; when present, it
    must be our client."""
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 and azp is None) or (azp is not None and azp != config.client_id):
        raise _refused(ID_TOKEN, f"the ID token was not issued to the client {config.client_id!r}")
