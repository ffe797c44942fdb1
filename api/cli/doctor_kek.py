"""`lfr doctor`'s KEK check: the key-encryption key `LFR_KEK` names (or the default key file
beside the data folder) is present, readable by its owner alone, and opens the vault's keys.
Read only: the vault's rows are sampled with a read-only query, nothing is wrapped or made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from lfr_ledger.config.settings import Settings


def kek_finding(settings: Settings, store_answers: bool) -> tuple[bool, str]:
    """(ok, what was found); the vault's rows are read only when its store answers."""
    from lfr_ledger.eventlog.kek import KekError, load_kek

    spec = settings.kek
    if spec is None or spec.kind != "pkcs11":
        path = settings.default_kek_path if spec is None else kek_file_path_or_none(spec)
        if path is not None and not path.exists():
            if store_answers and _vault_rows(settings):
                return (
                    False,
                    (
                        f"KEK {path} is absent, and the vault holds keys: restore the KEK from "
                        "where it is kept (a new one would open nothing)"
                    ),
                )
            return True, f"KEK {path} not made yet: the first start makes it (mode 0600)"
    try:
        kek = load_kek(settings)
    except KekError as error:
        return False, str(error)
    try:
        return _opens(kek, _vault_rows(settings) if store_answers else [])
    finally:
        kek.close()


def kek_file_path_or_none(spec: Any) -> Any:
    from lfr_ledger.eventlog.kek import KekError, kek_file_path

    try:
        return kek_file_path(spec)
    except KekError:
        return None  # reported by load_kek with its one line


def _opens(kek: Any, rows: list[tuple[UUID, bytes]]) -> tuple[bool, str]:
    from lfr_ledger.eventlog.kek import KEY_BYTES, KekError
    from lfr_ledger.eventlog.kek.custody import HEADER, WRAPPED

    mine = WRAPPED + kek.kek_id
    raw = sum(len(stored) == KEY_BYTES for _, stored in rows)
    foreign = {s[1:HEADER].hex() for _, s in rows if len(s) != KEY_BYTES and s[:HEADER] != mine}
    if foreign:
        return False, (
            f"{kek.description} (KEK {kek.kek_id.hex()}) did not wrap the vault's keys (KEK "
            f"{', '.join(sorted(foreign))}): set LFR_KEK to the KEK they were wrapped with"
        )
    for key_id, stored in rows:
        if stored[:HEADER] == mine:
            try:
                kek.unwrap(key_id, stored[HEADER:])
            except KekError as error:
                return False, str(error)
            break
    detail = f"{kek.description} (KEK {kek.kek_id.hex()}) readable, owner only"
    wrapped = len(rows) - raw
    if wrapped:
        detail += f"; opens the vault's keys ({wrapped} sampled)"
    if raw:
        detail += f"; {raw} keys stored raw by an earlier release: the next start wraps them"
    return True, detail


def _vault_rows(settings: Settings) -> list[tuple[UUID, bytes]]:
    """One row of each kind the vault holds (raw, or wrapped under each KEK id), read only."""
    query = (
        "SELECT key_id, key FROM {table} WHERE key_id IN (SELECT min(key_id) FROM {table} "
        "GROUP BY CASE WHEN length(key) = 32 THEN 0 ELSE substr(key, 1, 9) END)"
    )
    if not settings.uses_postgres:
        import sqlite3

        if not settings.keys_path.exists():
            return []
        uri = f"file:{settings.keys_path.resolve()}?mode=ro"
        with sqlite3.connect(uri, uri=True) as conn:
            try:
                rows = conn.execute(query.format(table="vault_keys")).fetchall()
            except sqlite3.OperationalError:
                return []
        return [(UUID(bytes=bytes(k)), bytes(v)) for k, v in rows]
    import psycopg
    from psycopg.conninfo import make_conninfo

    table = f'"{settings.postgres_schema or "public"}".vault_keys'
    with psycopg.connect(make_conninfo(**settings.postgres_params()), autocommit=True) as conn:
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,):
            return []
        # min(uuid) exists from PostgreSQL 16 only: compare as text, which orders the same.
        pg = query.replace("min(key_id)", "min(key_id::text)::uuid").replace(
            "substr(", "substring("
        )
        pg = pg.replace("key, 1, 9)", "key from 1 for 9)").replace(
            "THEN 0 ELSE", "THEN ''::bytea ELSE"
        )
        return [(k, bytes(v)) for k, v in conn.execute(pg.format(table=table)).fetchall()]
