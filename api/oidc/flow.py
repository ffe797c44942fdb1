"""One OIDC sign-in: the authorization code flow with PKCE (S256), state and nonce.

`start` keeps the PKCE verifier and the nonce server-side (in the session store, so any node
can finish the sign-in), under the state's hash and bound to a random value the browser holds
in a short-lived cookie: the provider's answer is taken once, and only by the browser that
asked, so nobody can slip their own sign-in into someone else's browser. `finish` exchanges the
code, verifies the ID token and maps its claims to the Actor the session is opened for.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from lfr_ledger.api.console.sessions import SessionStore
from lfr_ledger.api.oidc.claims import SignInRefused, actor_from_oidc_claims
from lfr_ledger.api.oidc.config import OidcConfig
from lfr_ledger.api.oidc.provider import ProviderKeys, ProviderUnreachable
from lfr_ledger.api.oidc.tokens import ID_TOKEN, verify_provider_token
from lfr_ledger.domain.actors import Actor, Role

_AGAIN = "Start the sign-in again from the sign-in page."
_FLOW_REFUSALS: dict[str, tuple[str, str]] = {
    "used": (
        "This sign-in has already been used",
        "The provider's answer was already used to sign in: each answer signs in once (the "
        "back button, or a reload, brings it again).",
    ),
    "expired": (
        "This sign-in took too long",
        "The sign-in was started more than 10 minutes ago, and has lapsed.",
    ),
    "other-browser": (
        "This sign-in was started in another browser",
        "The provider's answer belongs to a sign-in started in another browser (or with its "
        "cookies cleared), so it cannot sign in this one.",
    ),
    "unknown": (
        "This sign-in is not known here",
        "The provider's answer names a sign-in this ledger did not start (or forgot a day "
        "after it lapsed).",
    ),
}


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SignedInWithProvider:
    actor: Actor
    expires_at: float
    id_token: str


class OidcSignIn:
    def __init__(self, config: OidcConfig, keys: ProviderKeys, sessions: SessionStore) -> None:
        self.config = config
        self.keys = keys
        self.sessions = sessions

    def start(self, redirect_uri: str, role: Role | None = None) -> tuple[str, str]:
        """The provider's authorization URL to send the browser to, and the value its flow
        cookie must hold when it comes back."""
        endpoint = self._endpoint("authorization_endpoint")
        state, nonce, browser = (secrets.token_urlsafe(32) for _ in range(3))
        verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 allows 43 to 128
        flow = {"nonce": nonce, "verifier": verifier, "redirect_uri": redirect_uri}
        if role is not None:
            flow["role"] = role.value
        self.sessions.add_flow(state, browser, flow)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(self.config.scopes),
                "state": state,
                "nonce": nonce,
                "code_challenge": pkce_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", browser

    def finish(
        self, *, state: str, code: str, browser: str, issuer: str | None, now: float | None = None
    ) -> SignedInWithProvider:
        status, flow = self.sessions.take_flow(state, browser)
        if flow is None:
            title, detail = _FLOW_REFUSALS[status]
            raise SignInRefused(401, f"oidc-flow-{status}", title, detail, _AGAIN)
        # RFC 9207: an answer naming another issuer is a mix-up, whatever else it carries.
        if issuer is not None and issuer != self.config.issuer:
            raise SignInRefused(
                401,
                "oidc-wrong-issuer",
                "The answer came from another provider",
                f"The sign-in's answer names an issuer other than {self.config.issuer!r}.",
                _AGAIN,
            )
        id_token = self._exchange(code, flow)
        claims = verify_provider_token(
            id_token,
            keys=self.keys,
            config=self.config,
            audience=self.config.client_id,
            what=ID_TOKEN,
            nonce=flow["nonce"],
            now=now,
        )
        chosen = Role(flow["role"]) if "role" in flow else None
        actor = actor_from_oidc_claims(claims, self.config, chosen=chosen)
        return SignedInWithProvider(actor, float(claims["exp"]), id_token)

    def _exchange(self, code: str, flow: dict[str, str]) -> str:
        endpoint = self._endpoint("token_endpoint")
        # RFC 6749 §2.3.1: client_secret_basic form-encodes the id and secret first.
        auth = (quote(self.config.client_id, safe=""), quote(self.config.client_secret, safe=""))
        try:
            response = self.keys.post_form(
                endpoint,
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": flow["redirect_uri"],
                    "code_verifier": flow["verifier"],
                },
                auth,
            )
        except ProviderUnreachable as down:
            raise _unreachable(str(down)) from None
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise SignInRefused(
                401,
                "oidc-code-refused",
                "The provider would not complete the sign-in",
                "The provider refused to exchange the sign-in's code for tokens"
                + (
                    f" ({oauth_error_code(error)})."
                    if isinstance(error, str)
                    else f" (HTTP {response.status_code})."
                ),
                _AGAIN,
            )
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise SignInRefused(
                401,
                "oidc-no-id-token",
                "The provider sent no ID token",
                "The provider's token endpoint answered without an ID token: the client may "
                "lack the 'openid' scope.",
                "Tell whoever runs the ledger.",
            )
        return id_token

    def _endpoint(self, name: str) -> str:
        try:
            return self.keys.endpoint(name)
        except ProviderUnreachable as down:
            raise _unreachable(str(down)) from None

    def logout_url(self, id_token: str, post_logout_redirect_uri: str) -> str | None:
        """RP-initiated logout: the provider's end-session URL, or None if it has none."""
        try:
            endpoint = self.keys.metadata().get("end_session_endpoint")
        except ProviderUnreachable:
            return None
        if not isinstance(endpoint, str) or not endpoint:
            return None
        query = urlencode(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": post_logout_redirect_uri,
                "client_id": self.config.client_id,
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _unreachable(detail: str) -> SignInRefused:
    return SignInRefused(
        503,
        "oidc-provider-unreachable",
        "The sign-in provider cannot be reached",
        f"The ledger could not reach the sign-in provider: {detail}.",
        "Try again in a minute; if it persists, tell whoever runs the ledger. A one-time link "
        "or a bearer token still signs in.",
    )


def oauth_error_code(error: str) -> str:
    """An OAuth error code as the provider sent it, shown only when it is one (RFC 6749 §5.2:
    printable ASCII, no quotes or backslash)."""
    ok = (
        error and len(error) <= 64 and all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in error)
    )
    return error if ok else "an unrecognised error"
