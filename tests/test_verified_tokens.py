"""Issue 28: a bearer token is verified once (signature, issuer, audience, required claims) and
then recognised by its exact text, so a client's every request does not pay the signature
again. What depends on the hour is checked at every use, a refused token is never kept, another
token (one changed byte) is verified afresh, and the store is bounded. Real tokens, the real
verifier."""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar.exceptions import NotAuthorizedException

import lfr_ledger.api.auth as auth
from lfr_ledger.api.auth import ISSUER, TokenVerifier, load_or_create_secret
from lfr_ledger.api.guards import role_guard
from lfr_ledger.api.verified_tokens import VerifiedTokens
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


def _token(settings: Settings, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "PC-1", "role": "operator", "iat": now, "exp": now + 600}
    claims.update(changes)
    return jwt.encode(claims, load_or_create_secret(settings), algorithm="HS256")


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token the verifier decoded (checked the signature of)."""
    seen: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(auth.jwt, "decode", counting)
    return seen


def test_a_token_is_verified_once_for_all_its_requests(
    settings: Settings, decodes: list[str]
) -> None:
    verifier = TokenVerifier.from_settings(settings)
    token = _token(settings)
    actors = [verifier.actor(token) for _ in range(5)]
    assert decodes == [token]
    assert actors[0] == actors[-1] and actors[0].id == "PC-1" and actors[0].role == Role.OPERATOR


def test_a_kept_token_is_refused_once_it_expires(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = TokenVerifier.from_settings(settings)
    token = _token(settings)
    verifier.actor(token)
    later = time.time() + 600 + auth.LEEWAY_SECONDS + 1
    monkeypatch.setattr(auth.time, "time", lambda: later)
    with pytest.raises(NotAuthorizedException, match="expired"):
        verifier.actor(token)


def test_a_refused_or_altered_token_is_never_taken_for_a_kept_one(
    settings: Settings, decodes: list[str]
) -> None:
    verifier = TokenVerifier.from_settings(settings)
    token = _token(settings)
    verifier.actor(token)
    head, body, signature = token.split(".")
    altered = ".".join((head, body, ("A" if signature[0] != "A" else "B") + signature[1:]))
    for _ in range(2):
        with pytest.raises(NotAuthorizedException, match="signature"):
            verifier.actor(altered)
    assert decodes == [token, altered, altered]
    other_key = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}), "another-secret-" * 3
    )
    with pytest.raises(NotAuthorizedException, match="signature"):
        verifier.actor(other_key)


def test_another_verifier_keeps_nothing_of_the_first(settings: Settings, tmp_path: Path) -> None:
    token = _token(settings)
    TokenVerifier.from_settings(settings).actor(token)
    elsewhere = TokenVerifier.from_settings(Settings(data_dir=tmp_path / "other"))
    with pytest.raises(NotAuthorizedException, match="signature"):
        elsewhere.actor(token)


def test_the_store_is_bounded_and_lets_the_oldest_go() -> None:
    kept = VerifiedTokens(capacity=3)
    actor = Actor("PC-1", Role.OPERATOR)
    for i in range(5):
        kept.keep(f"t{i}", actor, {"exp": i})
    assert len(kept) == 3
    assert kept.get("t0") is None and kept.get("t1") is None
    assert kept.get("t4") == (actor, {"exp": 4})


def test_the_role_guard_runs_in_the_event_loop() -> None:
    """A plain function guard would be sent to a worker thread on every request."""
    assert inspect.iscoroutinefunction(role_guard)
