"""A node's start checks that every key in the vault is wrapped by its KEK without reading every
key (issue 28: node start grew ×1.56 from factor 0.1 to 1.0 of a national year, half of it the
census of the vault's markers). Both backends.

- The start reads the least and the greatest marker through the marker's index, not the table.
- A vault of an earlier release gets the index at its first start and opens as before.
- Several markers (a rotation under way, keys of another KEK) are still all found: the index
  only shortcuts the vault whose rows agree.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from uuid import UUID, uuid4

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lfr_ledger.api.bootstrap import build_vault
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.kek.custody import HEADER, WRAPPED
from lfr_ledger.eventlog.vault_stores import POSTGRES_MARKER, SQLITE_MARKER
from tests.conftest import PG_URL
from tests.test_kek import RELEASE_KEYS

KEYS = 3_000


def _many_keys(settings: Settings) -> bytes:
    """A vault of `KEYS` keys under its KEK; returns the KEK's marker."""
    vault = build_vault(settings)
    try:
        made = [(uuid4(), AESGCM.generate_key(bit_length=256)) for _ in range(KEYS)]
        vault._put_many([(i, vault._custody.wrap(i, key)) for i, key in made])
        return WRAPPED + vault.kek.kek_id
    finally:
        vault.close()


def _least_marker_plan(settings: Settings) -> str:
    if settings.uses_postgres:
        table = f'"{settings.postgres_schema}".vault_keys'
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"ANALYZE {table}")
            (plan,) = conn.execute(
                f"EXPLAIN (FORMAT JSON) SELECT {POSTGRES_MARKER}, key_id FROM {table} "
                f"ORDER BY {POSTGRES_MARKER} LIMIT 1"
            ).fetchone()
        return json.dumps(plan)
    with sqlite3.connect(settings.keys_path) as conn:
        conn.execute("ANALYZE")
        rows = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT {SQLITE_MARKER}, key_id FROM vault_keys "
            f"ORDER BY {SQLITE_MARKER} LIMIT 1"
        ).fetchall()
    return " ".join(str(row[-1]) for row in rows)


def test_the_start_reads_the_markers_through_their_index(settings: Settings) -> None:
    mine = _many_keys(settings)
    plan = _least_marker_plan(settings)
    assert "vault_keys_marker" in plan, plan
    assert "TEMP B-TREE" not in plan and '"Sort"' not in plan, plan
    vault = build_vault(settings)
    try:
        markers = vault._custody.store._markers()
        assert list(markers) == [mine]
        key_id = markers[mine]
        stored = vault._get(key_id)
        assert stored is not None and vault.kek.unwrap(key_id, stored[HEADER:])
    finally:
        vault.close()


def test_a_vault_of_an_earlier_release_gets_the_index_and_opens(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path / "var", model_dir=tmp_path / "models")
    settings.keys_path.parent.mkdir(parents=True)
    settings.keys_path.write_bytes(gzip.decompress(RELEASE_KEYS.read_bytes()))
    with sqlite3.connect(settings.keys_path) as conn:
        raw = conn.execute("SELECT count(*) FROM vault_keys WHERE length(key) = 32").fetchone()[0]
    assert raw > 0  # the fixture holds raw keys: the first start wraps them
    build_vault(settings).close()
    with sqlite3.connect(settings.keys_path) as conn:
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(vault_keys)")}
        left = conn.execute("SELECT count(*) FROM vault_keys WHERE length(key) = 32").fetchone()
    assert "vault_keys_marker" in indexes
    assert left == (0,)


def test_keys_under_another_marker_are_still_found(settings: Settings) -> None:
    mine = _many_keys(settings)
    other = WRAPPED + bytes(8)  # a KEK id no KEK has: rows a rotation would leave behind
    foreign_id = uuid4()
    vault = build_vault(settings)
    try:
        vault._put(foreign_id, other + bytes(60))
        markers = vault._custody.store._markers()
    finally:
        vault.close()
    assert set(markers) == {mine, other}
    assert markers[other] == foreign_id
    assert isinstance(markers[mine], UUID)
