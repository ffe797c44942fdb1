"""A KEK held by a PKCS#11 token (issue 27): Debian's SoftHSM2 through python-pkcs11, a real
token initialised by this module in its own SOFTHSM2_CONF folder. Both backends.

- `lfr keys new-kek pkcs11:…` makes a sensitive, non-extractable AES-256 key in the token, and
  refuses a second under the same label.
- A real ledger runs with it: every row is wrapped under the token key's id (its check value),
  enrolled names open.
- A wrong PIN is one line that does not repeat the PIN.
- Rotation from the default key file into the token, and back out to a new file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import COMPILER, authorised, subject
from lfr_ledger.config.kek_spec import parse_kek_spec
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.kek import KekError, load_kek
from lfr_ledger.eventlog.kek.custody import HEADER
from tests.conftest import Clock
from tests.test_kek import env_of, events, lfr, rows, with_kek

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "40-19-77-pin"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh token labelled `lfr`; the PIN's file. SOFTHSM2_CONF is read when the module is
    first loaded in this process, so it is set for the whole module."""
    if shutil.which("softhsm2-util") is None or not os.path.exists(MODULE):
        if os.environ.get("CI"):
            pytest.fail("SoftHSM2 is required in CI (make services installs it)")
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\n")
    saved = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    init = ["--init-token", "--free", "--label", "lfr", "--so-pin", "so-1234", "--pin", PIN]
    subprocess.run(
        ["softhsm2-util", *init],
        check=True,
        capture_output=True,
        timeout=30,
    )
    pin_file = home / "pin"
    pin_file.write_text(PIN + "\n")
    pin_file.chmod(0o600)
    try:
        yield pin_file
    finally:
        if saved is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = saved


def spec(label: str) -> str:
    return f"pkcs11:module={MODULE};token=lfr;label={label}"


def on_token(settings: Settings, label: str, pin_file: Path) -> Settings:
    return Settings(
        **{**settings.__dict__, "kek": parse_kek_spec(spec(label)), "kek_pin_file": pin_file}
    )


def test_a_ledger_runs_with_its_kek_in_the_token(
    token: Path,
    settings: Settings,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    label = f"kek-{settings.postgres_schema or 'sqlite'}"
    env = env_of(settings) | {"LFR_KEK_PIN_FILE": str(token)}
    assert lfr(monkeypatch, env, "keys", "new-kek", spec(label)) == 0
    capsys.readouterr()
    assert lfr(monkeypatch, env, "keys", "new-kek", spec(label)) == 2
    assert "already holds a key labelled" in capsys.readouterr().err

    on = on_token(settings, label, token)
    ledger = build_ledger(on, clock=clock)
    try:
        deployment = authorised(ledger)
        entries = [ledger.enrol(COMPILER, deployment, subject(i)) for i in range(2)]
        assert [ledger.reveal_entry(e).name for e in entries] == [subject(i).name for i in (0, 1)]
        kek = ledger.vault.kek  # type: ignore[attr-defined]
    finally:
        ledger.close()
        ledger.vault.close()  # type: ignore[attr-defined]
    assert {row[:HEADER] for row in rows(settings).values()} == {b"\x02" + kek.kek_id}
    import pkcs11

    with pkcs11.lib(MODULE).get_token(token_label="lfr").open(user_pin=PIN) as session:
        key = session.get_key(label=label)
        assert key[pkcs11.Attribute.CHECK_VALUE] == kek.kek_id[:3]  # the token's own KCV
        assert key[pkcs11.Attribute.SENSITIVE] and not key[pkcs11.Attribute.EXTRACTABLE]
    # The default key file was never made: the token's key is the only KEK.
    assert not settings.default_kek_path.exists()

    wrong = token.parent / "wrong-pin"
    wrong.write_text("111111\n")
    capsys.readouterr()
    wrong_env = env | {"LFR_KEK": spec(label), "LFR_KEK_PIN_FILE": str(wrong)}
    assert lfr(monkeypatch, wrong_env, "keys", "status") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["lfr keys: token 'lfr' refused the PIN given for the KEK"]


def test_rotation_into_the_token_and_out_again(
    token: Path,
    settings: Settings,
    clock: Clock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    label = f"rot-{settings.postgres_schema or 'sqlite'}"
    ledger = build_ledger(settings, clock=clock)
    try:
        entry = ledger.enrol(COMPILER, authorised(ledger), subject(5))
    finally:
        ledger.close()
        ledger.vault.close()  # type: ignore[attr-defined]
    log = events(settings)
    env = env_of(settings) | {"LFR_KEK_PIN_FILE": str(token)}
    assert lfr(monkeypatch, env, "keys", "new-kek", spec(label)) == 0
    assert lfr(monkeypatch, env, "keys", "rotate-kek", "--to", spec(label)) == 0
    on = on_token(settings, label, token)
    with pytest.raises(KekError, match="wrapped by another KEK"):
        build_ledger(settings)  # the old file KEK opens nothing now
    assert events(on) == log

    out = tmp_path / "out.kek"
    env_on = env | {"LFR_KEK": spec(label)}
    assert lfr(monkeypatch, env_on, "keys", "new-kek", f"file:{out}") == 0
    assert lfr(monkeypatch, env_on, "keys", "rotate-kek", "--to", f"file:{out}") == 0
    with pytest.raises(KekError, match="wrapped by another KEK"):
        build_ledger(on)
    back = with_kek(settings, out)
    ledger = build_ledger(back)
    try:
        assert ledger.reveal_entry(entry).name == subject(5).name
    finally:
        ledger.close()
        ledger.vault.close()  # type: ignore[attr-defined]
    assert events(back) == log
    assert load_kek(back).kek_id != load_kek(on).kek_id
