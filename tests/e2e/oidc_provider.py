"""A real OpenID Provider for the tests: panva's certified `oidc-provider` (npm, pinned by
tests/oidc_provider/package-lock.json, installed by `make services`), started on a loopback
port by `tests/oidc_provider/provider.mjs`. Nothing is downloaded here.

Its issuer is `http://localhost:PORT` while `lfr serve` is reached at `http://127.0.0.1:PORT`:
two sites, so the browser's way back from the provider is a cross-site navigation, as it is
from a force's real provider.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lfr_ledger.api.oidc.flow import pkce_challenge
from tests.e2e.conftest import REPO

PROVIDER_DIR = REPO / "tests" / "oidc_provider"
CONSOLE_CLIENT = "lfr-ledger-console"
# A second client, as a force's API client would be registered (its tokens are for the API).
API_CLIENT = "lfr-ledger-api-client"
API_CLIENT_REDIRECT = "http://127.0.0.1:9/callback"  # never listened to: the code is read off it
API_AUDIENCE = "urn:lfr-ledger:api"


def signing_key(kid: str) -> dict[str, Any]:
    """A new RSA key as a private JWK, for the provider's key set."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private))
    jwk.pop("key_ops", None)  # PyJWT writes ["sign"], which would hide it from verification
    jwk.update(kid=kid, alg="RS256", use="sig")
    return jwk


def node_modules_ready() -> None:
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        message = "the OpenID Provider is not installed: run `make services` (npm ci)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class RealProvider:
    port: int
    lfr_url: str
    work: Path
    accounts: dict[str, dict[str, Any]]
    console_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    api_client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    keys: list[dict[str, Any]] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.work / f"provider-{self.port}.log"

    def setup(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "port": self.port,
            "jwks": {"keys": self.keys},
            "cookie_key": secrets.token_urlsafe(32),
            "api_resource": API_AUDIENCE,
            "accounts": self.accounts,
            "clients": [
                {
                    "client_id": CONSOLE_CLIENT,
                    "client_secret": self.console_secret,
                    "redirect_uris": [f"{self.lfr_url}/console/oidc/callback"],
                    "post_logout_redirect_uris": [f"{self.lfr_url}/console/sign-in"],
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                },
                {
                    "client_id": API_CLIENT,
                    "client_secret": self.api_client_secret,
                    "redirect_uris": [API_CLIENT_REDIRECT],
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                },
            ],
        }

    def start(self, keys: list[dict[str, Any]]) -> None:
        """Starts (or restarts, with another key set) the provider; returns once it answers."""
        self.stop()
        self.keys = keys
        setup_path = self.work / "provider-setup.json"
        setup_path.write_text(json.dumps(self.setup()))
        setup_path.chmod(0o600)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["node", str(PROVIDER_DIR / "provider.mjs"), str(setup_path)],
                cwd=PROVIDER_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        url = f"{self.issuer}/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the provider exited:\n{self.log_path.read_text()}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the provider did not answer within 20 s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def api_tokens(self, login: str) -> dict[str, Any]:
        """Signs `login` in as the API client would (authorization code with PKCE, through the
        provider's own login form, over plain HTTP) and returns the token endpoint's answer:
        an access token for the ledger's API, and an ID token for the client."""
        verifier = secrets.token_urlsafe(48)
        # By address, not as localhost: the standard cookie jar keeps no cookie for a host
        # name without a dot, and the provider's login needs its cookies.
        base = f"http://127.0.0.1:{self.port}"
        with httpx.Client(timeout=10, follow_redirects=False) as http:
            answer = http.get(
                f"{base}/auth",
                params={
                    "response_type": "code",
                    "client_id": API_CLIENT,
                    "redirect_uri": API_CLIENT_REDIRECT,
                    "scope": "openid profile ledger",
                    "resource": API_AUDIENCE,
                    "state": secrets.token_urlsafe(8),
                    "nonce": secrets.token_urlsafe(8),
                    "code_challenge": pkce_challenge(verifier),
                    "code_challenge_method": "S256",
                },
            )
            interaction = urljoin(base, answer.headers["location"])
            assert http.get(interaction).status_code == 200
            answer = http.post(
                interaction, data={"prompt": "login", "login": login, "password": "any"}
            )
            location = answer.headers["location"]
            while not location.startswith(API_CLIENT_REDIRECT):
                answer = http.get(urljoin(base, location))
                assert answer.status_code in (302, 303), (answer.status_code, answer.text[:500])
                location = answer.headers["location"]
            code = parse_qs(urlsplit(location).query)["code"][0]
            tokens = http.post(
                f"{base}/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": API_CLIENT_REDIRECT,
                    "code_verifier": verifier,
                    "resource": API_AUDIENCE,
                },
                auth=(API_CLIENT, self.api_client_secret),
            )
            assert tokens.status_code == 200, tokens.text
            result: dict[str, Any] = tokens.json()
            return result


def ledger_mapping(provider: RealProvider, *, refetch_seconds: int = 1) -> str:
    """The ledger's OIDC mapping file for this provider (docs/oidc.md)."""
    return f"""
[provider]
issuer = "{provider.issuer}"
display_name = "Test Force sign-in"
client_id = "{CONSOLE_CLIENT}"
client_secret_env = "LFR_TEST_OIDC_SECRET"
scopes = ["openid", "profile"]
jwks_refetch_seconds = {refetch_seconds}

[claims]
staff_number = "employee_id"
groups = "groups"
rank = "rank"

[roles]
"lfr-operators" = "operator"
"lfr-officers" = "officer"

[api]
accept_access_tokens = true
audience = "{API_AUDIENCE}"
"""
