"""LFR_TRUSTED_PROXIES: addresses and networks only, normalised as uvicorn matches them; the
real proxy in front of a real `lfr serve` is tests/e2e/test_e2e_tls.py."""

from __future__ import annotations

import pytest

from lfr_ledger.config.settings import Settings


def proxies(text: str) -> tuple[str, ...]:
    return Settings.from_env({"LFR_TRUSTED_PROXIES": text}).trusted_proxies


def test_none_are_trusted_unless_named_not_even_loopback() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    assert proxies(" , ") == ()


def test_addresses_and_networks_of_either_family_are_taken() -> None:
    assert proxies("127.0.0.1, 10.20.1.0/24 ,::1,fd00::/8") == (
        "127.0.0.1/32",
        "10.20.1.0/24",
        "::1/128",
        "fd00::/8",
    )


@pytest.mark.parametrize(
    "bad", ["*", "proxy.force.example", "10.0.0.1/8", "10.0.0.300", "1.2.3.4;"]
)
def test_anything_else_is_refused_naming_the_variable_and_the_value(bad: str) -> None:
    with pytest.raises(ValueError, match=r"^LFR_TRUSTED_PROXIES holds '.+': each must be an IP"):
        proxies(f"127.0.0.1,{bad}")
