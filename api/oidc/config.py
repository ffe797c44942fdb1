"""The OIDC mapping file (LFR_OIDC_CONFIG): which provider, which client, which claims, and
which directory groups are which of the ledger's roles.

Read once at start-up; anything wrong stops `lfr serve` with one line naming the file and the
key. The client secret is never in the file: it names a file or an environment variable that
holds it, so the mapping can be reviewed and versioned like the policy.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lfr_ledger.domain.actors import Role

DEFAULT_SCOPES = ("openid", "profile")
DEFAULT_JWKS_REFETCH_SECONDS = 60.0
DEFAULT_HTTP_TIMEOUT_SECONDS = 5.0
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_SECTIONS = frozenset({"provider", "claims", "roles", "api"})
_PROVIDER_KEYS = frozenset(
    {
        "issuer",
        "display_name",
        "client_id",
        "client_secret_file",
        "client_secret_env",
        "scopes",
        "redirect_base_url",
        "jwks_refetch_seconds",
        "http_timeout_seconds",
    }
)
_CLAIM_KEYS = frozenset({"staff_number", "groups", "rank", "force", "oversight_body"})
_API_KEYS = frozenset({"accept_access_tokens", "audience"})


class OidcConfigError(ValueError):
    """A mapping file that cannot be used, said in one line naming the file and the key."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    staff_number_claim: str
    display_name: str = "your force's sign-in"
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    # Unset: the redirect URI is built from the request's own scheme and host.
    redirect_base_url: str | None = None
    groups_claim: str = "groups"
    rank_claim: str | None = None
    force_claim: str | None = None
    oversight_body_claim: str | None = None
    roles: dict[str, Role] = field(default_factory=dict)
    # Set: the provider's access tokens for this audience are accepted as API bearer tokens.
    api_audience: str | None = None
    jwks_refetch_seconds: float = DEFAULT_JWKS_REFETCH_SECONDS
    http_timeout_seconds: float = DEFAULT_HTTP_TIMEOUT_SECONDS


def load_oidc_config(path: Path, environ: dict[str, str] | None = None) -> OidcConfig:
    env = dict(os.environ if environ is None else environ)
    where = f"LFR_OIDC_CONFIG {path}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OidcConfigError(f"{where}: cannot be read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OidcConfigError(f"{where}: is not valid TOML ({exc})") from None
    return parse_oidc_config(data, where=where, environ=env)


def parse_oidc_config(data: dict[str, Any], *, where: str, environ: dict[str, str]) -> OidcConfig:
    def fail(key: str, message: str) -> OidcConfigError:
        return OidcConfigError(f"{where}: {key}: {message}")

    unknown = set(data) - _SECTIONS
    if unknown:
        raise fail(
            sorted(unknown)[0], "unknown section; expected [provider], [claims], [roles], [api]"
        )
    provider = _table(data, "provider", fail, required=True)
    claims = _table(data, "claims", fail, required=True)
    roles_table = _table(data, "roles", fail, required=True)
    api = _table(data, "api", fail, required=False)
    if "client_secret" in provider:
        raise fail(
            "provider.client_secret",
            "the secret never goes in this file: name a file holding it (client_secret_file) "
            "or an environment variable (client_secret_env)",
        )
    for section, table, known in (
        ("provider", provider, _PROVIDER_KEYS),
        ("claims", claims, _CLAIM_KEYS),
        ("api", api, _API_KEYS),
    ):
        extra = set(table) - known
        if extra:
            raise fail(
                f"{section}.{sorted(extra)[0]}", f"unknown key; known: {', '.join(sorted(known))}"
            )

    def text(table: dict[str, Any], section: str, key: str, *, required: bool) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise fail(f"{section}.{key}", "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{section}.{key}", "must be a non-empty string")
        return value.strip()

    issuer = text(provider, "provider", "issuer", required=True)
    assert issuer is not None
    _check_url(issuer, "provider.issuer", fail)
    redirect_base = text(provider, "provider", "redirect_base_url", required=False)
    if redirect_base is not None:
        _check_url(redirect_base, "provider.redirect_base_url", fail)
    client_id = text(provider, "provider", "client_id", required=True)
    assert client_id is not None
    scopes = provider.get("scopes", list(DEFAULT_SCOPES))
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
        raise fail("provider.scopes", "must be a list of scope names")
    if "openid" not in scopes:
        raise fail("provider.scopes", "must include 'openid'")
    staff = text(claims, "claims", "staff_number", required=True)
    assert staff is not None
    roles = _roles(roles_table, fail)
    accept = api.get("accept_access_tokens", False)
    if not isinstance(accept, bool):
        raise fail("api.accept_access_tokens", "must be true or false")
    audience = text(api, "api", "audience", required=accept)
    if audience is not None and audience == client_id:
        raise fail(
            "api.audience",
            "must not be the client_id: an ID token is meant for the console, not for the API",
        )
    return OidcConfig(
        # Exactly as written: it must equal the discovery document's and each token's `iss`.
        issuer=issuer,
        display_name=text(provider, "provider", "display_name", required=False)
        or OidcConfig.display_name,
        client_id=client_id,
        client_secret=_client_secret(provider, environ, fail),
        scopes=tuple(scopes),
        redirect_base_url=redirect_base.rstrip("/") if redirect_base else None,
        staff_number_claim=staff,
        groups_claim=text(claims, "claims", "groups", required=False) or "groups",
        rank_claim=text(claims, "claims", "rank", required=False),
        force_claim=text(claims, "claims", "force", required=False),
        oversight_body_claim=text(claims, "claims", "oversight_body", required=False),
        roles=roles,
        api_audience=audience if accept else None,
        jwks_refetch_seconds=_seconds(provider, "jwks_refetch_seconds", 1, 3600, fail)
        or DEFAULT_JWKS_REFETCH_SECONDS,
        http_timeout_seconds=_seconds(provider, "http_timeout_seconds", 0.5, 60, fail)
        or DEFAULT_HTTP_TIMEOUT_SECONDS,
    )


def _table(data: dict[str, Any], name: str, fail: Any, *, required: bool) -> dict[str, Any]:
    value = data.get(name)
    if value is None:
        if required:
            raise fail(f"[{name}]", "the section is required")
        return {}
    if not isinstance(value, dict):
        raise fail(f"[{name}]", "must be a table")
    return value


def _check_url(url: str, key: str, fail: Any) -> None:
    """https only, but for a provider on this machine (a test's, or a developer's)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return
    raise fail(key, f"must be an https:// URL (http:// only on loopback), not {url!r}")


def _client_secret(provider: dict[str, Any], environ: dict[str, str], fail: Any) -> str:
    file_name = provider.get("client_secret_file")
    env_name = provider.get("client_secret_env")
    if (file_name is None) == (env_name is None):
        raise fail(
            "provider.client_secret_file",
            "name exactly one of client_secret_file (a file holding the secret) or "
            "client_secret_env (an environment variable holding it)",
        )
    if file_name is not None:
        if not isinstance(file_name, str) or not file_name:
            raise fail("provider.client_secret_file", "must be a file path")
        try:
            secret = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise fail("provider.client_secret_file", f"cannot be read ({exc.strerror})") from None
        if not secret:
            raise fail("provider.client_secret_file", f"the file {file_name} is empty")
        return secret
    if not isinstance(env_name, str) or not env_name:
        raise fail("provider.client_secret_env", "must name an environment variable")
    secret = environ.get(env_name, "").strip()
    if not secret:
        raise fail("provider.client_secret_env", f"the environment variable {env_name} is not set")
    return secret


def _roles(table: dict[str, Any], fail: Any) -> dict[str, Role]:
    """Group name → role. A person signs in, so no group may make a matcher (a service
    account bound to one deployment, which a directory group cannot name)."""
    if not table:
        raise fail("[roles]", "map at least one group to a role")
    known = ", ".join(r.value for r in Role if r != Role.MATCHER)
    roles: dict[str, Role] = {}
    for group, name in table.items():
        try:
            role = Role(name)
        except ValueError:
            raise fail(f"roles.{group!r}", f"{name!r} is not a role; one of: {known}") from None
        if role == Role.MATCHER:
            raise fail(f"roles.{group!r}", f"a person cannot sign in as a matcher; one of: {known}")
        roles[group] = role
    return roles


def _seconds(table: dict[str, Any], key: str, low: float, high: float, fail: Any) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise fail(f"provider.{key}", f"must be a number of seconds from {low} to {high}")
    return float(value)
