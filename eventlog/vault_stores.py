"""Where the vault's keys are stored: a SQLite file of its own, or a PostgreSQL table beside the
log. Each store only stores and fetches rows; sealing, stock and custody are `vault._Vault`'s.

Both index the row's marker (its version byte and KEK id, or b"" for a raw row of an earlier
release), so a node's start-up check that every key is wrapped by its KEK reads the least and the
greatest marker rather than every key (`_markers`): a national vault holds a key per record.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from lfr_ledger.eventlog.kek import Kek, KekLoader
from lfr_ledger.eventlog.kek.custody import KeyCustody
from lfr_ledger.eventlog.keyring import VaultError
from lfr_ledger.eventlog.vault import SQLITE_PARAMETERS, _Vault

# A row's marker: its first 9 bytes (version and KEK id), or b"" for a raw 32-byte key.
SQLITE_MARKER = "CASE WHEN length(key) = 32 THEN x'' ELSE substr(key, 1, 9) END"
POSTGRES_MARKER = "CASE WHEN length(key) = 32 THEN ''::bytea ELSE substring(key from 1 for 9) END"


def _one_marker(
    least: tuple[Any, Any] | None, greatest: tuple[Any, Any] | None
) -> dict[bytes, Any] | None:
    """{marker: a key id} when the least and greatest markers agree ({} for no rows); None when
    the rows hold more than one marker and must be counted."""
    if least is None or greatest is None:
        return {}
    if bytes(least[0]) != bytes(greatest[0]):
        return None
    return {bytes(least[0]): least[1]}


class SQLiteKeyVault(_Vault):
    def __init__(self, path: Path, kek: Kek | KekLoader, *, rotating_to: Kek | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._stock_lock, self._stock, self._issued = threading.Lock(), [], {}
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA secure_delete=ON")
        self._conn.execute("PRAGMA journal_mode=DELETE")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS vault_keys (key_id BLOB PRIMARY KEY, key BLOB NOT NULL)"
        )
        self._conn.execute(
            f"CREATE INDEX IF NOT EXISTS vault_keys_marker ON vault_keys ({SQLITE_MARKER})"
        )
        os.chmod(path, 0o600)
        try:
            self._custody = KeyCustody.open(self, kek, rotating_to)
        except BaseException:
            self.close()  # a KEK refused: nothing of the store stays open
            raise

    def _get(self, key_id: UUID) -> bytes | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT key FROM vault_keys WHERE key_id = ?", (key_id.bytes,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def _get_many(self, key_ids: list[UUID]) -> dict[UUID, bytes]:
        rows = []
        with self._lock:
            # One statement below SQLite's bound on parameters (32,766 since 3.32).
            for i in range(0, len(key_ids), SQLITE_PARAMETERS):
                chunk = [k.bytes for k in key_ids[i : i + SQLITE_PARAMETERS]]
                marks = ", ".join("?" * len(chunk))
                query = f"SELECT key_id, key FROM vault_keys WHERE key_id IN ({marks})"
                rows += self._conn.execute(query, chunk).fetchall()
        return {UUID(bytes=bytes(k)): bytes(v) for k, v in rows}

    def _put(self, key_id: UUID, key: bytes) -> None:
        with self._lock:
            try:
                self._conn.execute(
                    "INSERT INTO vault_keys (key_id, key) VALUES (?, ?)", (key_id.bytes, key)
                )
            except sqlite3.IntegrityError:
                raise VaultError(f"key {key_id} already exists") from None

    def _put_if_absent(self, key_id: UUID, key: bytes) -> bool:
        with self._lock:
            cursor = self._conn.execute(
                "INSERT OR IGNORE INTO vault_keys (key_id, key) VALUES (?, ?)",
                (key_id.bytes, key),
            )
            return cursor.rowcount == 1

    def _put_many(self, rows: list[tuple[UUID, bytes]]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT INTO vault_keys (key_id, key) VALUES (?, ?)",
                    [(k.bytes, v) for k, v in rows],
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _delete_many(self, key_ids: list[UUID]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "DELETE FROM vault_keys WHERE key_id = ?", [(k.bytes,) for k in key_ids]
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _delete(self, key_id: UUID) -> bool:
        with self._lock:
            cur = self._conn.execute("DELETE FROM vault_keys WHERE key_id = ?", (key_id.bytes,))
        return cur.rowcount > 0

    def _census(self) -> dict[bytes, tuple[int, UUID]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT CASE WHEN length(key) = 32 THEN x'' ELSE substr(key, 1, 9) END, "
                "count(*), min(key_id) FROM vault_keys GROUP BY 1"
            ).fetchall()
        return {bytes(m): (n, UUID(bytes=bytes(k))) for m, n, k in rows}

    def _markers(self) -> dict[bytes, UUID]:
        with self._lock:
            least, greatest = (
                self._conn.execute(
                    f"SELECT {SQLITE_MARKER}, key_id FROM vault_keys "
                    f"ORDER BY {SQLITE_MARKER} {order} LIMIT 1"
                ).fetchone()
                for order in ("ASC", "DESC")
            )
        one = _one_marker(least, greatest)
        if one is None:
            return {m: k for m, (_, k) in self._census().items()}
        return {m: UUID(bytes=bytes(k)) for m, k in one.items()}

    def _rows(self, after: UUID | None, limit: int) -> list[tuple[UUID, bytes]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT key_id, key FROM vault_keys WHERE key_id > ? ORDER BY key_id LIMIT ?",
                (after.bytes if after else b"", limit),
            ).fetchall()
        return [(UUID(bytes=bytes(k)), bytes(v)) for k, v in rows]

    def _replace_many(self, changes: list[tuple[UUID, bytes, bytes]]) -> int:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                changed = sum(
                    self._conn.execute(
                        "UPDATE vault_keys SET key = ? WHERE key_id = ? AND key = ?",
                        (new, key_id.bytes, old),
                    ).rowcount
                    for key_id, old, new in changes
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return changed

    def close(self) -> None:
        if hasattr(self, "_custody"):
            self._discard_stock()
        self._conn.close()
        if hasattr(self, "_custody"):
            self._custody.kek.close()


class PostgresKeyVault(_Vault):
    def __init__(
        self,
        conninfo: dict[str, str],
        schema: str | None = None,
        *,
        kek: Kek | KekLoader,
        rotating_to: Kek | None = None,
    ) -> None:
        from psycopg_pool import ConnectionPool

        from lfr_ledger.config.database_url import pool_timeout

        self.table = f'"{schema}".vault_keys' if schema else "vault_keys"
        self._stock_lock, self._stock, self._issued = threading.Lock(), [], {}
        self._pool: Any = ConnectionPool(
            kwargs={**conninfo, "autocommit": True},
            min_size=1,
            max_size=4,
            open=True,
            timeout=pool_timeout(conninfo),
        )
        with self._conn() as conn:
            if schema:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                "(key_id uuid PRIMARY KEY, key bytea NOT NULL)"
            )
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS vault_keys_marker ON {self.table} "
                f"(({POSTGRES_MARKER}))"
            )
        try:
            self._custody = KeyCustody.open(self, kek, rotating_to)
        except BaseException:
            self.close()  # a KEK refused: no pool left to be collected half-open
            raise

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        with self._pool.connection() as conn:
            yield conn

    def _get(self, key_id: UUID) -> bytes | None:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT key FROM {self.table} WHERE key_id = %s", (key_id,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def _get_many(self, key_ids: list[UUID]) -> dict[UUID, bytes]:
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT key_id, key FROM {self.table} WHERE key_id = ANY(%s)", (key_ids,)
            ).fetchall()
        return {k: bytes(v) for k, v in rows}

    def _put(self, key_id: UUID, key: bytes) -> None:
        import psycopg

        with self._conn() as conn:
            try:
                conn.execute(
                    f"INSERT INTO {self.table} (key_id, key) VALUES (%s, %s)", (key_id, key)
                )
            except psycopg.errors.UniqueViolation:
                raise VaultError(f"key {key_id} already exists") from None

    def _put_if_absent(self, key_id: UUID, key: bytes) -> bool:
        with self._conn() as conn:
            cursor = conn.execute(
                f"INSERT INTO {self.table} (key_id, key) VALUES (%s, %s) "
                "ON CONFLICT (key_id) DO NOTHING",
                (key_id, key),
            )
            return cursor.rowcount == 1

    def _delete(self, key_id: UUID) -> bool:
        with self._conn() as conn:
            cur = conn.execute(f"DELETE FROM {self.table} WHERE key_id = %s", (key_id,))
            return bool(cur.rowcount)

    def _put_many(self, rows: list[tuple[UUID, bytes]]) -> None:
        with self._conn() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {self.table} (key_id, key) VALUES (%s, %s)", rows)

    def _delete_many(self, key_ids: list[UUID]) -> None:
        with self._conn() as conn:
            conn.execute(f"DELETE FROM {self.table} WHERE key_id = ANY(%s)", (key_ids,))

    def _census(self) -> dict[bytes, tuple[int, UUID]]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT CASE WHEN length(key) = 32 THEN ''::bytea "
                "ELSE substring(key from 1 for 9) END AS marker, count(*), "
                f"(array_agg(key_id))[1] FROM {self.table} GROUP BY marker"
            ).fetchall()
        return {bytes(m): (n, k) for m, n, k in rows}

    def _markers(self) -> dict[bytes, UUID]:
        with self._conn() as conn:
            least, greatest = (
                conn.execute(
                    f"SELECT {POSTGRES_MARKER}, key_id FROM {self.table} "
                    f"ORDER BY {POSTGRES_MARKER} {order} LIMIT 1"
                ).fetchone()
                for order in ("ASC", "DESC")
            )
        one = _one_marker(least, greatest)
        if one is None:
            return {m: k for m, (_, k) in self._census().items()}
        return one

    def _rows(self, after: UUID | None, limit: int) -> list[tuple[UUID, bytes]]:
        # The first batch has no lower bound: the pepper's id is the least UUID of all.
        where = "WHERE key_id > %s" if after else ""
        params = (after, limit) if after else (limit,)
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT key_id, key FROM {self.table} {where} ORDER BY key_id LIMIT %s", params
            ).fetchall()
        return [(k, bytes(v)) for k, v in rows]

    def _replace_many(self, changes: list[tuple[UUID, bytes, bytes]]) -> int:
        with self._conn() as conn, conn.transaction():
            return sum(
                conn.execute(
                    f"UPDATE {self.table} SET key = %s WHERE key_id = %s AND key = %s",
                    (new, key_id, old),
                ).rowcount
                for key_id, old, new in changes
            )

    def vacuum(self) -> None:
        """Reclaims dead rows so shredded keys do not linger in the table's pages."""
        with self._conn() as conn:
            conn.execute(f"VACUUM FULL {self.table}")

    def close(self) -> None:
        if hasattr(self, "_custody"):
            self._discard_stock()
        self._pool.close()
        if hasattr(self, "_custody"):
            self._custody.kek.close()
