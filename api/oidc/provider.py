"""The issuer's discovery document and signing keys, fetched when first needed and kept.

A token signed with a key not in the kept set makes the keys be fetched again (a provider
rotates its keys by publishing the new one): at most once every `jwks_refetch_seconds`, so a
stream of tokens naming made-up keys cannot make the ledger hammer the provider. The kept keys
are also refreshed when older than `KEYS_MAX_AGE_SECONDS`, so a key the provider withdrew
stops verifying within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from lfr_ledger.api.oidc.config import OidcConfig

KEYS_MAX_AGE_SECONDS = 600.0
METADATA_MAX_AGE_SECONDS = 3600.0
# Asymmetric algorithms only: a provider's token is never verified with a shared secret.
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
)


class ProviderUnreachable(Exception):
    """The provider did not answer, or answered something that is not what OIDC says."""


class UnknownSigningKey(Exception):
    """The token names a key the provider does not publish (even after fetching them again,
    when that was allowed)."""


class ProviderKeys:
    def __init__(
        self,
        config: OidcConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self._http = httpx.Client(
            timeout=config.http_timeout_seconds, transport=transport, follow_redirects=False
        )
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_at: float | None = None
        self.fetches = 0  # how often the key set was fetched (shown by tests, and /metrics later)

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if (
                self._metadata is None
                or self.clock() - self._metadata_at > METADATA_MAX_AGE_SECONDS
            ):
                self._metadata = self._discover()
                self._metadata_at = self.clock()
            return self._metadata

    def endpoint(self, name: str) -> str:
        url = self.metadata().get(name)
        if not isinstance(url, str) or not url:
            raise ProviderUnreachable(f"the provider's discovery document names no {name}")
        return url

    def key_for(self, kid: str | None) -> jwt.PyJWK:
        """The provider's public key a token names by `kid` (or its only key, when the token
        names none and it publishes one)."""
        jwks_uri = self.endpoint("jwks_uri")
        with self._lock:
            now = self.clock()
            stale = self._keys_at is None or now - self._keys_at > KEYS_MAX_AGE_SECONDS
            if stale:
                self._fetch_keys(jwks_uri)
            found = self._pick(kid)
            if found is not None:
                return found
            assert self._keys_at is not None
            waited = now - self._keys_at
            if not stale and waited >= self.config.jwks_refetch_seconds:
                self._fetch_keys(jwks_uri)
                found = self._pick(kid)
                if found is not None:
                    return found
                waited = 0.0
            raise UnknownSigningKey(
                f"it was signed with key {kid!r}, which the provider does not publish (its keys "
                f"were fetched {waited:.0f} s ago, and are fetched again at most every "
                f"{self.config.jwks_refetch_seconds:.0f} s)"
            )

    def _pick(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is not None:
            return self._keys.get(kid)
        return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    def _discover(self) -> dict[str, Any]:
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get_json(url, "discovery document")
        # OpenID Connect Discovery 1.0 §4.3: the document must name exactly this issuer.
        if document.get("issuer") != self.config.issuer:
            raise ProviderUnreachable(
                f"the discovery document names the issuer {document.get('issuer')!r}, not "
                f"{self.config.issuer!r} as configured"
            )
        return document

    def _fetch_keys(self, jwks_uri: str) -> None:
        document = self._get_json(jwks_uri, "key set (JWKS)")
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []):
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(entry)
            except (jwt.PyJWKError, jwt.InvalidKeyError):
                continue  # a key type this ledger does not verify with; the others still serve
            if key.algorithm_name not in SIGNING_ALGORITHMS:
                continue
            keys[str(entry.get("kid", ""))] = key
        self._keys = keys
        self._keys_at = self.clock()
        self.fetches += 1

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderUnreachable(
                f"the provider's {what} could not be fetched ({type(exc).__name__})"
            ) from None
        if response.status_code != 200:
            raise ProviderUnreachable(f"the provider's {what} answered HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            raise ProviderUnreachable(f"the provider's {what} is not JSON") from None
        if not isinstance(document, dict):
            raise ProviderUnreachable(f"the provider's {what} is not a JSON object")
        return document

    def post_form(self, url: str, form: dict[str, str], auth: tuple[str, str]) -> httpx.Response:
        """The token endpoint's request (client_secret_basic)."""
        try:
            return self._http.post(
                url, data=form, auth=auth, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise ProviderUnreachable(
                f"the provider's token endpoint could not be reached ({type(exc).__name__})"
            ) from None

    def close(self) -> None:
        self._http.close()
