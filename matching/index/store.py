"""The vector store: sqlite-vec `vec0` tables per embedding dimension, written with their change
log in one transaction, and exact k-NN search over vec0 or over the in-memory copy per
deployment (`memory`) that the change log keeps current."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from uuid import UUID

import numpy as np
import sqlean
import sqlite_vec

from lfr_ledger.matching.index.memory import (
    Snapshot,
    catch_up,
    has_table,
    load_snapshot,
    nearest,
)
from lfr_ledger.matching.index.schema import SCHEMA, SCHEMA_VERSION
from lfr_ledger.matching.index.vectors import (
    Candidate,
    HasDataDir,
    ModelMismatch,
    UnknownDeployment,
    VectorRefused,
    WatchlistIndexError,
    as_vectors,
    index_path,
    vector_table,
)


@dataclass(frozen=True)
class _DeploymentRow:
    model_id: str
    epoch: str  # changes when the deployment's rows are rebuilt: copies must reload in full
    dimension: int | None
    seq: int  # its last change


class VectorStore:
    """Deployments' watchlist vectors and the k-NN search over them. Thread-safe. What goes in
    comes from `WatchlistIndex`, which follows the ledger, or from `load_vectors`."""

    def __init__(self, path: Path, *, in_memory: bool = True) -> None:
        self.path = path
        self.in_memory = in_memory
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._snapshots: dict[UUID, Snapshot] = {}
        self._conn = self._connect(path)
        self._migrate()

    @classmethod
    def open(cls, settings: HasDataDir, *, in_memory: bool = True) -> Self:
        return cls(index_path(settings), in_memory=in_memory)

    @staticmethod
    def _connect(path: Path) -> Any:
        # The stdlib sqlite3 may be built without extension loading; sqlean always has it.
        conn = sqlean.connect(str(path), isolation_level=None, check_same_thread=False)
        conn.enable_load_extension(True)
        conn.load_extension(sqlite_vec.loadable_path())
        conn.enable_load_extension(False)
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        # A derived file, rebuilt from the ledger if ever lost: NORMAL is durable enough.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 10000")
        return conn

    def _migrate(self) -> None:
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise WatchlistIndexError(
                    f"{self.path} holds index schema {version}, this code writes "
                    f"{SCHEMA_VERSION}; delete the file and rebuild the index"
                )
            for statement in SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._snapshots.clear()
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """One write transaction; IMMEDIATE so concurrent syncs queue instead of deadlocking."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _scrub(self) -> None:
        """Moves committed pages into the main file and empties the WAL, so a removed vector's
        old page survives in neither (a reader mid-query can delay this to the next removal)."""
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- reading ----------------------------------------------------------------------------

    @property
    def position(self) -> int:
        """The last notification id this index has applied."""
        with self._lock:
            return int(self._read_position(self._conn))

    @staticmethod
    def _read_position(conn: Any) -> int:
        return int(conn.execute("SELECT position FROM index_tracking WHERE id = 1").fetchone()[0])

    def model_of(self, deployment_id: UUID) -> str | None:
        row = self._deployment(deployment_id)
        return None if row is None else row.model_id

    def entry_ids(self, deployment_id: UUID) -> list[UUID]:
        """The entries indexed for the deployment: its active entries that carry a template."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT entry_id FROM entries WHERE deployment_id = ? ORDER BY entry_id",
                (str(deployment_id),),
            ).fetchall()
        return [UUID(r[0]) for r in rows]

    def count(self, deployment_id: UUID | None = None) -> int:
        with self._lock:
            if deployment_id is None:
                row = self._conn.execute("SELECT count(*) FROM entries").fetchone()
            else:
                row = self._conn.execute(
                    "SELECT count(*) FROM entries WHERE deployment_id = ?", (str(deployment_id),)
                ).fetchone()
        return int(row[0])

    def refused(self, deployment_id: UUID | None = None) -> list[tuple[UUID, str]]:
        """Entries whose template the index refused (and why): they can never match."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT entry_id, reason FROM refused_entries "
                "WHERE ? IS NULL OR deployment_id = ? ORDER BY entry_id",
                (None if deployment_id is None else str(deployment_id),) * 2,
            ).fetchall()
        return [(UUID(r[0]), str(r[1])) for r in rows]

    def _deployment(self, deployment_id: UUID) -> _DeploymentRow | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT d.model_id, d.epoch, m.dimension, (SELECT max(c.seq) FROM changes AS c "
                " WHERE c.deployment_id = d.deployment_id) FROM deployments AS d "
                "LEFT JOIN models AS m ON m.model_id = d.model_id WHERE d.deployment_id = ?",
                (str(deployment_id),),
            ).fetchone()
        if row is None:
            return None
        return _DeploymentRow(
            model_id=str(row[0]),
            epoch=str(row[1]),
            dimension=None if row[2] is None else int(row[2]),
            seq=int(row[3] or 0),
        )

    # --- search -----------------------------------------------------------------------------

    def search(
        self, deployment_id: UUID, embedding: Any, k: int = 1, *, model_id: str
    ) -> list[Candidate]:
        """The `k` entries of the deployment's watchlist nearest `embedding`, best first."""
        return self.search_many(deployment_id, embedding, k, model_id=model_id)[0]

    def search_many(
        self, deployment_id: UUID, embeddings: Any, k: int = 1, *, model_id: str
    ) -> list[list[Candidate]]:
        """`search` for every row of `embeddings` (all faces of a frame) in one pass."""
        if k < 1:
            raise ValueError("k must be at least 1")
        deployment = self._deployment(deployment_id)
        if deployment is None:
            raise UnknownDeployment(
                f"deployment {deployment_id} is not in the watchlist index; sync the index, "
                "or check the deployment id"
            )
        if model_id != deployment.model_id:
            raise ModelMismatch(
                f"deployment {deployment_id}'s watchlist was enrolled with model "
                f"{deployment.model_id!r}; a probe from {model_id!r} is on another scale and is "
                "never compared with it"
            )
        probes = as_vectors(embeddings, deployment.dimension, "the probe embedding")
        if deployment.dimension is None:
            return [[] for _ in range(len(probes))]  # nothing enrolled with a template yet
        if not self.in_memory:
            return [self._search_vec0(deployment_id, deployment, p, k) for p in probes]
        return nearest(self._snapshot(deployment_id, deployment), probes, k)

    def _search_vec0(
        self, deployment_id: UUID, deployment: _DeploymentRow, probe: np.ndarray, k: int
    ) -> list[Candidate]:
        assert deployment.dimension is not None
        with self._lock:
            if not has_table(self._conn, vector_table(deployment.dimension)):
                return []
            rows = self._conn.execute(
                f"SELECT entry_id, distance FROM {vector_table(deployment.dimension)} "
                "WHERE embedding MATCH ? AND k = ? AND deployment_id = ? ORDER BY distance",
                (probe.tobytes(), k, str(deployment_id)),
            ).fetchall()
        return [Candidate(UUID(r[0]), 1.0 - float(r[1])) for r in rows]

    def _snapshot(self, deployment_id: UUID, deployment: _DeploymentRow) -> Snapshot:
        """The deployment's vectors in memory, brought up to `deployment.seq`: in full after a
        rebuild or at first use, else by applying only the changes since (a withdrawal during
        a live deployment costs one small read, not a reload of the whole watchlist)."""
        assert deployment.dimension is not None
        with self._lock:
            snapshot = self._snapshots.get(deployment_id)
            if (
                snapshot is not None
                and snapshot.epoch == deployment.epoch
                and snapshot.seq == deployment.seq
            ):
                return snapshot
            table = vector_table(deployment.dimension)
            # Epoch, changes and rows are read in one transaction: they describe one state.
            self._conn.execute("BEGIN")
            try:
                if snapshot is not None and snapshot.epoch == deployment.epoch:
                    snapshot = catch_up(self._conn, deployment_id, snapshot, table)
                if snapshot is None or snapshot.epoch != deployment.epoch:
                    snapshot = load_snapshot(self._conn, deployment_id, deployment.dimension, table)
            finally:
                self._conn.execute("COMMIT")
            self._snapshots[deployment_id] = snapshot
            return snapshot

    @staticmethod
    def _checked(
        conn: Any, deployment_id: UUID, model_id: str | None, raw: np.ndarray, what: str
    ) -> tuple[np.ndarray, int]:
        """The unit vectors (rows of `raw`) to store and their dimension, after the deployment's
        model and the model's dimension were checked; a model's first template fixes its
        dimension. Creates the dimension's vec0 table if needed."""
        if model_id is None:
            raise ModelMismatch(f"{what} does not name the model that computed it")
        if raw.ndim != 2:
            raise VectorRefused(f"{what} must be a vector, got shape {raw.shape[1:]}")
        row = conn.execute(
            "SELECT model_id FROM deployments WHERE deployment_id = ?", (str(deployment_id),)
        ).fetchone()
        if row is not None and row[0] != model_id:
            raise ModelMismatch(
                f"{what} was computed with {model_id!r}, but deployment {deployment_id} "
                f"matches with {row[0]!r}"
            )
        known = conn.execute(
            "SELECT dimension FROM models WHERE model_id = ?", (model_id,)
        ).fetchone()
        vectors = as_vectors(raw, None if known is None else int(known[0]), what)
        dimension = vectors.shape[1]
        if row is None:
            # Never seen proposed (an index fed by hand): the first template names the model.
            conn.execute(
                "INSERT INTO deployments (deployment_id, model_id, epoch) VALUES (?, ?, ?)",
                (str(deployment_id), model_id, uuid.uuid4().hex),
            )
        if known is None:
            conn.execute(
                "INSERT INTO models (model_id, dimension) VALUES (?, ?)", (model_id, dimension)
            )
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {vector_table(dimension)} USING vec0("
            "entry_id text primary key, deployment_id text partition key, "
            f"embedding float[{dimension}] distance_metric=cosine)"
        )
        return vectors, dimension

    @staticmethod
    def _insert_vector(
        conn: Any, deployment_id: UUID, entry_id: UUID, vector: np.ndarray, dimension: int
    ) -> None:
        conn.execute(
            f"INSERT INTO {vector_table(dimension)} (entry_id, deployment_id, embedding) "
            "VALUES (?, ?, ?)",
            (str(entry_id), str(deployment_id), vector.astype("<f4").tobytes()),
        )
        conn.execute(
            "INSERT INTO entries (entry_id, deployment_id, dimension) VALUES (?, ?, ?)",
            (str(entry_id), str(deployment_id), dimension),
        )
        conn.execute("DELETE FROM refused_entries WHERE entry_id = ?", (str(entry_id),))
        _log_change(conn, deployment_id, entry_id, added=True)

    @staticmethod
    def _remove_entry(conn: Any, entry_id: UUID) -> bool:
        conn.execute("DELETE FROM refused_entries WHERE entry_id = ?", (str(entry_id),))
        row = conn.execute(
            "SELECT deployment_id, dimension FROM entries WHERE entry_id = ?", (str(entry_id),)
        ).fetchone()
        if row is None:
            return False
        conn.execute(f"DELETE FROM {vector_table(row[1])} WHERE entry_id = ?", (str(entry_id),))
        conn.execute("DELETE FROM entries WHERE entry_id = ?", (str(entry_id),))
        _log_change(conn, UUID(row[0]), entry_id, added=False)
        return True

    # --- direct loading (benchmarks, tests) -------------------------------------------------

    def load_vectors(
        self,
        deployment_id: UUID,
        model_id: str,
        entries: Iterable[tuple[UUID, np.ndarray]],
    ) -> int:
        """Adds vectors without the ledger, for benchmarks and tests of the search itself.
        The same checks apply as to templates synced from the ledger; one bad vector refuses
        the whole call. Returns the number added."""
        items = list(entries)
        if not items:
            return 0
        arrays = [np.asarray(vector, dtype=np.float32) for _, vector in items]
        for (entry_id, _), array in zip(items, arrays, strict=True):
            if array.shape != arrays[0].shape:
                raise VectorRefused(
                    f"entry {entry_id}'s vector has {array.size} dimensions, the first given "
                    f"has {arrays[0].size}"
                )
        raw = np.stack(arrays)
        with self._write() as conn:
            vectors, dimension = self._checked(conn, deployment_id, model_id, raw, "a vector")
            for (entry_id, _), vector in zip(items, vectors, strict=True):
                self._remove_entry(conn, entry_id)
                self._insert_vector(conn, deployment_id, entry_id, vector, dimension)
        return len(items)


def _log_change(conn: Any, deployment_id: UUID, entry_id: UUID, *, added: bool) -> None:
    conn.execute(
        "INSERT INTO changes (deployment_id, entry_id, added) VALUES (?, ?, ?)",
        (str(deployment_id), str(entry_id), int(added)),
    )
