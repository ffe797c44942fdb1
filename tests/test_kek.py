"""The vault's keys are wrapped by a KEK that never enters the store (issue 27). Both backends.

- Every stored row is the wrapped form, bound to its key's id: a row moved onto another key's
  row does not open.
- The wrong KEK, or the default KEK file gone, stops the start with one line, and no new KEK is
  made for a vault that already holds keys.
- Rows an earlier release stored raw are wrapped at the first start, and their raw bytes are
  gone from the key store.
- `lfr keys rotate-kek` re-wraps every key: the old KEK then opens nothing, the new one opens
  everything, a shredded key stays shredded (even one shredded mid-batch), and not one byte of
  the event log changes.
- The cache of unwrapped keys never serves a key another node has shredded.
- `LFR_KEK` is checked when read; `credential:NAME` is found in systemd's credentials folder.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import lfr_ledger.api.cli
from lfr_ledger.api.bootstrap import build_ledger, build_vault
from lfr_ledger.api.demo.sample_deployment import COMPILER, authorised, subject
from lfr_ledger.config.kek_spec import parse_kek_spec
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.kek import KekError, load_kek
from lfr_ledger.eventlog.kek.custody import HEADER
from lfr_ledger.eventlog.kek.file import create_kek_file
from lfr_ledger.eventlog.vault import FORMAT, NONCE, PEPPER_ID, _aad
from tests.conftest import PG_URL, Clock

RELEASE_KEYS = Path(__file__).parent / "fixtures" / "release-r2" / "keys.sqlite.gz"


def rows(settings: Settings) -> dict[UUID, bytes]:
    if settings.uses_postgres:
        with psycopg.connect(PG_URL) as conn:
            found = conn.execute(f'SELECT key_id, key FROM "{settings.postgres_schema}".vault_keys')
            return {k: bytes(v) for k, v in found}
    with sqlite3.connect(settings.keys_path) as conn:
        return {UUID(bytes=k): bytes(v) for k, v in conn.execute("SELECT * FROM vault_keys")}


def env_of(settings: Settings, kek: Path | None = None) -> dict[str, str]:
    env = {"LFR_DATA_DIR": str(settings.data_dir)}
    if settings.uses_postgres:
        env |= {"LFR_DATABASE_URL": PG_URL, "LFR_POSTGRES_SCHEMA": str(settings.postgres_schema)}
    if kek is not None:
        env["LFR_KEK"] = f"file:{kek}"
    return env


def lfr(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *argv: str) -> int:
    for name in [n for n in os.environ if n.startswith("LFR_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return lfr_ledger.api.cli.main(list(argv))


def with_kek(settings: Settings, path: Path) -> Settings:
    return Settings(**{**settings.__dict__, "kek": parse_kek_spec(f"file:{path}")})


@pytest.fixture
def enrolled(ledger: CaseLedger) -> Iterator[list[UUID]]:
    deployment = authorised(ledger)
    yield [ledger.enrol(COMPILER, deployment, subject(i)) for i in range(3)]


def test_keys_are_stored_wrapped_and_bound_to_their_id(
    ledger: CaseLedger, settings: Settings, enrolled: list[UUID]
) -> None:
    stored = rows(settings)
    kek = load_kek(settings)
    assert set(enrolled) | {PEPPER_ID} <= set(stored)
    for key_id, row in stored.items():
        assert len(row) == HEADER + NONCE + 48 and row[:HEADER] == b"\x02" + kek.kek_id
        assert len(kek.unwrap(key_id, row[HEADER:])) == 32
    assert ledger.reveal_entry(enrolled[0]).name == subject(0).name
    # A wrapped key moved onto another key's row does not open there.
    a, b = enrolled[:2]
    with pytest.raises(KekError, match=f"does not open the vault's key {b}"):
        kek.unwrap(b, stored[a][HEADER:])
    assert settings.default_kek_path.stat().st_mode & 0o777 == 0o600
    assert not str(settings.default_kek_path).startswith(str(settings.data_dir.resolve()) + "/")


def test_the_wrong_kek_is_refused_at_start_in_one_line(
    ledger: CaseLedger,
    settings: Settings,
    enrolled: list[UUID],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = tmp_path / "other.kek"
    create_kek_file(other)
    with pytest.raises(KekError, match="wrapped by another KEK"):
        build_vault(with_kek(settings, other))
    assert lfr(monkeypatch, env_of(settings, other), "audit", "verify") != 0
    capsys.readouterr()
    assert lfr(monkeypatch, env_of(settings, other), "keys", "status") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lfr keys: the vault's keys are wrapped by another")
    # The default KEK gone: one line, and no new KEK is made that would open nothing.
    default = settings.default_kek_path
    default.rename(tmp_path / "kept.kek")
    assert lfr(monkeypatch, env_of(settings), "keys", "status") == 2
    assert "is absent: restore it" in capsys.readouterr().err
    assert not default.exists()


def test_raw_keys_of_an_earlier_release_are_wrapped_at_the_first_start(
    settings: Settings, clock: Clock
) -> None:
    """The previous release's vault: on SQLite its own keys.sqlite (tests/fixtures/release-r2);
    on PostgreSQL its table, written as that release wrote it, with a field it sealed."""
    sealed_by_old: dict[UUID, bytes] = {}
    if settings.uses_postgres:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            table = f'"{settings.postgres_schema}".vault_keys'
            conn.execute(f"CREATE TABLE {table} (key_id uuid PRIMARY KEY, key bytea NOT NULL)")
            for _ in range(3):
                key_id, key, nonce = uuid4(), os.urandom(32), os.urandom(NONCE)
                conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (key_id, key))
                body = AESGCM(key).encrypt(nonce, b"old secret", _aad(key_id, "name"))
                sealed_by_old[key_id] = FORMAT + nonce + body
    else:
        settings.data_dir.mkdir(parents=True)
        settings.keys_path.write_bytes(gzip.decompress(RELEASE_KEYS.read_bytes()))
    before = rows(settings)
    assert before and all(len(raw) == 32 for raw in before.values())

    vault = build_vault(settings)
    try:
        after = rows(settings)
        assert after.keys() == before.keys()
        assert all(len(row) == HEADER + NONCE + 48 for row in after.values())
        for key_id, raw in before.items():
            assert vault._key(key_id) == raw  # the same key, now wrapped
        for key_id, sealed in sealed_by_old.items():
            assert vault.unseal(key_id, "name", sealed) == b"old secret"
        if not settings.uses_postgres:
            on_disk = settings.keys_path.read_bytes()
            assert not any(raw in on_disk for raw in before.values())
    finally:
        vault.close()
    ledger = build_ledger(settings, clock=clock)  # a second start: nothing left to wrap
    ledger.close()
    assert rows(settings) == after


def events(settings: Settings) -> list[Any]:
    ledger = build_ledger(settings)
    try:
        found = ledger.recorder.select_notifications(start=1, limit=100_000)
        return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in found]
    finally:
        ledger.close()
        ledger.vault.close()  # type: ignore[attr-defined]


def test_rotation_rewraps_every_key_and_touches_no_event(
    ledger: CaseLedger,
    settings: Settings,
    enrolled: list[UUID],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shredded = enrolled[2]
    assert ledger.vault.shred(shredded)
    ledger.close()
    ledger.vault.close()  # type: ignore[attr-defined]
    log = events(settings)
    old, new = settings.default_kek_path, tmp_path / "new.kek"
    assert lfr(monkeypatch, env_of(settings), "keys", "new-kek", f"file:{new}") == 0
    assert new.stat().st_mode & 0o777 == 0o600
    capsys.readouterr()
    assert lfr(monkeypatch, env_of(settings), "keys", "rotate-kek", "--to", f"file:{new}") == 0
    assert capsys.readouterr().out.startswith(f"re-wrapped {len(enrolled)} keys from KEK")

    with pytest.raises(KekError, match="wrapped by another KEK"):
        build_vault(with_kek(settings, old))
    rotated = with_kek(settings, new)
    assert events(rotated) == log
    reopened = build_ledger(rotated)
    try:
        for i, entry in enumerate(enrolled[:2]):
            assert reopened.reveal_entry(entry).name == subject(i).name
        assert not reopened.vault.has_key(shredded)
        assert reopened.reveal_entry(shredded).erased
    finally:
        reopened.close()
        reopened.vault.close()  # type: ignore[attr-defined]
    assert shredded not in rows(settings)


def test_a_key_shredded_during_a_rotation_batch_stays_shredded(
    ledger: CaseLedger, settings: Settings, enrolled: list[UUID], tmp_path: Path
) -> None:
    vault: Any = ledger.vault
    before = vault._rows(None, 100)
    new = tmp_path / "new.kek"
    create_kek_file(new)
    kek = load_kek(with_kek(settings, new))
    changes = [(k, row, b"\x02" + kek.kek_id + kek.wrap(k, vault._key(k))) for k, row in before]
    assert vault.shred(enrolled[1])  # between the batch's read and its write
    assert vault._replace_many(changes) == len(before) - 1
    assert enrolled[1] not in rows(settings)


def test_the_cache_never_serves_a_key_another_node_shredded(
    ledger: CaseLedger, settings: Settings, enrolled: list[UUID]
) -> None:
    entry = ledger.watchlist_entry(enrolled[0])
    assert ledger.vault.unseal(enrolled[0], "name", entry.sealed_name)  # now cached here
    other = build_vault(settings)  # another node on the same store
    try:
        assert other.shred(enrolled[0])
    finally:
        other.close()
    assert ledger.vault.unseal(enrolled[0], "name", entry.sealed_name) is None


def test_lfr_kek_is_checked_and_a_systemd_credential_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for bad, said in [
        ("kek.file", "must be file:/path/to/kek"),
        ("file:relative/kek", "relative path"),
        ("pkcs11:module=/x.so;token=lfr", "lacks label"),
        ("pkcs11:module=/x.so;token=lfr;label=k;pin=1234", "not 'pin'"),
    ]:
        with pytest.raises(ValueError, match=said):
            Settings.from_env({"LFR_KEK": bad})
    settings = Settings.from_env({"LFR_KEK": "credential:kek", "LFR_DATA_DIR": str(tmp_path)})
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(KekError, match="CREDENTIALS_DIRECTORY is unset"):
        load_kek(settings)
    create_kek_file(tmp_path / "creds" / "kek")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "creds"))
    assert len(load_kek(settings).kek_id) == 8
    (tmp_path / "creds" / "kek").chmod(0o640)
    with pytest.raises(KekError, match="can be read by other users"):
        load_kek(settings)
