"""Issue 10, defect 9: bearer tokens have a maximum lifetime (policy), numeric exp and iat, and
an issuer and audience that are checked when configured. Real tokens signed with PyJWT, the real
verifier."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.exceptions import NotAuthorizedException

from lfr_ledger.api.auth import ISSUER, TokenVerifier, issue_token, load_or_create_secret
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.policy import Policy

MAX = Policy.load().token_maximum_lifetime_minutes


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


def _hs(settings: Settings, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "PC-1", "role": "operator", "iat": now, "exp": now + 600}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, load_or_create_secret(settings), algorithm="HS256")


def _refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(NotAuthorizedException) as refused:
        verifier.actor(token)
    return str(refused.value.detail)


def test_the_policy_sets_the_maximum_lifetime() -> None:
    assert MAX == 720


def test_a_token_of_the_year_2200_is_refused(settings: Settings) -> None:
    verifier = TokenVerifier.from_settings(settings)
    year_2200 = 7_258_118_400
    detail = _refused(verifier, _hs(settings, exp=year_2200))
    assert f"maximum of {MAX} minutes" in detail


def test_lifetime_up_to_the_maximum_is_accepted_and_a_minute_more_refused(
    settings: Settings,
) -> None:
    verifier = TokenVerifier.from_settings(settings)
    now = int(time.time())
    assert verifier.actor(_hs(settings, iat=now, exp=now + MAX * 60)).id == "PC-1"
    detail = _refused(verifier, _hs(settings, iat=now, exp=now + MAX * 60 + 60))
    assert "longer than the policy's maximum" in detail


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_times_given_as_strings_are_refused(settings: Settings, claim: str) -> None:
    now = int(time.time())
    value = str(now + 600 if claim == "exp" else now)
    detail = _refused(TokenVerifier.from_settings(settings), _hs(settings, **{claim: value}))
    assert claim in detail


def test_a_token_without_iat_is_refused(settings: Settings) -> None:
    detail = _refused(TokenVerifier.from_settings(settings), _hs(settings, iat=None))
    assert "'iat'" in detail


def test_a_token_issued_in_the_future_is_refused(settings: Settings) -> None:
    now = int(time.time())
    detail = _refused(
        TokenVerifier.from_settings(settings), _hs(settings, iat=now + 3600, exp=now + 4000)
    )
    assert "future" in detail


def test_the_embedded_secret_checks_its_own_issuer(settings: Settings) -> None:
    verifier = TokenVerifier.from_settings(settings)
    assert verifier.actor(issue_token(settings, role="operator", sub="PC-1")).id == "PC-1"
    assert "not issued by" in _refused(verifier, _hs(settings, iss="someone-else"))


def _identity_provider(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "idp.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, pem


def _idp_token(key: Ed25519PrivateKey, **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "PC-9", "role": "officer", "iat": now, "exp": now + 600, **claims}
    return jwt.encode(body, key, algorithm="EdDSA")


def test_an_identity_providers_issuer_and_audience_are_checked_when_configured(
    tmp_path: Path,
) -> None:
    key, pem = _identity_provider(tmp_path)
    settings = Settings(
        data_dir=tmp_path / "var",
        jwt_public_key=pem,
        jwt_issuer="https://idp.force.example",
        jwt_audience="lfr-ledger",
    )
    verifier = TokenVerifier.from_settings(settings)
    good = {"iss": "https://idp.force.example", "aud": "lfr-ledger"}
    assert verifier.actor(_idp_token(key, **good)).id == "PC-9"
    assert "not issued by" in _refused(verifier, _idp_token(key, **{**good, "iss": "https://x"}))
    assert "not meant for" in _refused(verifier, _idp_token(key, **{**good, "aud": "other"}))
    assert "'aud'" in _refused(verifier, _idp_token(key, iss=good["iss"]))


def test_without_configuration_an_identity_providers_token_is_not_held_to_an_issuer(
    tmp_path: Path,
) -> None:
    key, pem = _identity_provider(tmp_path)
    verifier = TokenVerifier.from_settings(Settings(data_dir=tmp_path / "v", jwt_public_key=pem))
    assert verifier.actor(_idp_token(key, iss="anyone", aud="anything")).id == "PC-9"


@pytest.mark.parametrize("claim", ["exp", "iat"])
@pytest.mark.parametrize("value", ["soon", True, [1], 1.5e308 * 10], ids=repr)
def test_times_that_are_not_finite_numbers_are_refused_by_name(
    settings: Settings, claim: str, value: Any
) -> None:
    detail = _refused(TokenVerifier.from_settings(settings), _hs(settings, **{claim: value}))
    assert f"{claim!r} must be a number" in detail


def test_a_token_not_valid_yet_is_refused_for_its_nbf(settings: Settings) -> None:
    now = int(time.time())
    detail = _refused(TokenVerifier.from_settings(settings), _hs(settings, nbf=now + 3600))
    assert "(nbf)" in detail


def test_the_token_command_issues_nothing_longer_than_the_policy_allows(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from lfr_ledger.api.cli import token as token_cli

    with pytest.raises(ValueError, match=r"1\.\.60 minutes"):
        issue_token(settings, role="operator", sub="PC-1", ttl_minutes=61, maximum_ttl_minutes=60)
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path / "cli"))
    parser = argparse.ArgumentParser()
    token_cli.register(parser.add_subparsers())
    too_long = ["token", "--role", "operator", "--sub", "PC-1", "--ttl", str(MAX + 1)]
    args = parser.parse_args(too_long)
    assert args.handler(args) == 2


def test_the_app_refuses_with_a_401_problem_by_the_ledgers_policy(tmp_path: Path) -> None:
    """The app's verifier takes its maximum from the policy the ledger runs under."""
    from litestar.testing import TestClient

    from lfr_ledger.api.app import create_app
    from lfr_ledger.api.bootstrap import build_ledger

    text = Policy.load().text.replace(
        "maximum_lifetime_minutes = 720", "maximum_lifetime_minutes = 90"
    )
    assert text != Policy.load().text
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(text)
    settings = Settings(data_dir=tmp_path / "var")
    app = create_app(settings, ledger=build_ledger(settings, policy_path=policy_file))
    with TestClient(app) as client:

        def get(token: str) -> Any:
            return client.get("/audit/verify", headers={"Authorization": f"Bearer {token}"})

        two_hours = issue_token(settings, role="oversight", sub="x", ttl_minutes=120)
        refused = get(two_hours)
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "longer than the policy's maximum of 90 minutes" in refused.json()["detail"]
        year_2200 = _hs(settings, role="oversight", exp=7_258_118_400)
        assert get(year_2200).status_code == 401
        assert (
            get(issue_token(settings, role="oversight", sub="x", ttl_minutes=90)).status_code == 200
        )
