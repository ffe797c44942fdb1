"""The rows one batch of events touches, kept in memory and written back once at commit.

Views are plain functions over row dicts; a batch that raises, then reads, adjudicates and
closes an alert writes that alert's row once. Nothing is written if the batch fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lfr_ledger.projections.db import Database

RowDict = dict[str, Any]


@dataclass(frozen=True)
class Table:
    """A read-model table: its columns in schema order, its key, and its column defaults."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [k for k in self.key if k not in self.columns]
        if missing:
            raise ValueError(f"{self.name}: key columns {missing} are not columns")

    def upsert_statement(self) -> str:
        cols = ", ".join(self.columns)
        marks = ", ".join("?" for _ in self.columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c not in self.key)
        return (
            f"INSERT INTO {self.name} ({cols}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {updates}"
        )

    def select_statement(self) -> str:
        where = " AND ".join(f"{k} = ?" for k in self.key)
        return f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {where}"


class Rows:
    def __init__(self, db: Database, tables: Iterable[Table]) -> None:
        self.db = db
        self.tables = {t.name: t for t in tables}
        self._cache: dict[str, dict[tuple[Any, ...], RowDict | None]] = {
            name: {} for name in self.tables
        }
        self._dirty: dict[str, dict[tuple[Any, ...], RowDict]] = {name: {} for name in self.tables}

    def get(self, table: str, *key: Any) -> RowDict | None:
        """The row as this batch has made it so far; None if it does not exist."""
        cache = self._cache[table]
        if key not in cache:
            spec = self.tables[table]
            found = self.db.execute(spec.select_statement(), key)
            cache[key] = dict(zip(spec.columns, found[0], strict=True)) if found else None
        return cache[key]

    def insert(self, table: str, **values: Any) -> RowDict:
        spec = self.tables[table]
        unknown = set(values) - set(spec.columns)
        if unknown:
            raise KeyError(f"{table} has no columns {sorted(unknown)}")
        row: RowDict = {c: values.get(c, spec.defaults.get(c)) for c in spec.columns}
        key = tuple(row[k] for k in spec.key)
        self._cache[table][key] = row
        self._dirty[table][key] = row
        return row

    def update(self, table: str, *key: Any, **values: Any) -> RowDict | None:
        """Changes an existing row; an event for a row the view never saw changes nothing."""
        row = self.get(table, *key)
        if row is None:
            return None
        unknown = set(values) - set(row)
        if unknown:
            raise KeyError(f"{table} has no columns {sorted(unknown)}")
        row.update(values)
        self._dirty[table][key] = row
        return row

    def flush(self) -> int:
        written = 0
        for name, dirty in self._dirty.items():
            if not dirty:
                continue
            spec = self.tables[name]
            self.db.executemany(
                spec.upsert_statement(), [[r[c] for c in spec.columns] for r in dirty.values()]
            )
            written += len(dirty)
            dirty.clear()
        return written
