"""The in-process copy of one deployment's vectors, and the exact search over it.

A vec0 scan of a 10,000-entry partition costs about the whole per-face budget, so the store
keeps each deployment's vectors as one matrix in memory. This module holds that matrix, how it
is read from the vec0 table (in full, or by applying only the change-log rows since the copy was
taken), and the ranking over it. It never writes: the store owns the connection, the lock and
the transaction these functions run in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np

from lfr_ledger.matching.index.vectors import Candidate


@dataclass(frozen=True)
class Snapshot:
    epoch: str
    seq: int  # the last change it includes
    entry_ids: list[UUID]
    # (dimension, n) float32, unit columns: the layout `einsum` reads fastest.
    columns: np.ndarray


def has_table(conn: Any, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def load_snapshot(conn: Any, deployment_id: UUID, dimension: int, table: str) -> Snapshot:
    """The deployment's vectors read in full from `table`, inside the caller's transaction."""
    epoch, seq = conn.execute(
        "SELECT d.epoch, (SELECT max(c.seq) FROM changes AS c "
        " WHERE c.deployment_id = d.deployment_id) FROM deployments AS d "
        "WHERE d.deployment_id = ?",
        (str(deployment_id),),
    ).fetchone()
    rows = (
        conn.execute(
            f"SELECT entry_id, embedding FROM {table} WHERE deployment_id = ?",
            (str(deployment_id),),
        ).fetchall()
        if has_table(conn, table)
        else []
    )
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
    return Snapshot(
        epoch=str(epoch),
        seq=int(seq or 0),
        entry_ids=[UUID(r[0]) for r in rows],
        columns=np.ascontiguousarray(matrix.reshape(len(rows), dimension).T),
    )


def catch_up(conn: Any, deployment_id: UUID, snapshot: Snapshot, table: str) -> Snapshot | None:
    """`snapshot` with the changes since its `seq` applied; None if a reload is cheaper."""
    changes = conn.execute(
        "SELECT seq, entry_id, added FROM changes WHERE deployment_id = ? AND seq > ? ORDER BY seq",
        (str(deployment_id), snapshot.seq),
    ).fetchall()
    if not changes:
        return snapshot
    if len(changes) > max(256, len(snapshot.entry_ids) // 8):
        return None
    touched = {UUID(entry_id) for _, entry_id, _ in changes}
    keep = [i for i, entry_id in enumerate(snapshot.entry_ids) if entry_id not in touched]
    entry_ids = [snapshot.entry_ids[i] for i in keep]
    columns = [snapshot.columns[:, keep]]
    # Whatever was touched and is still in the table is present now, with its last vector.
    for entry_id in sorted(touched):
        row = conn.execute(
            f"SELECT embedding FROM {table} WHERE entry_id = ?", (str(entry_id),)
        ).fetchone()
        if row is not None:
            entry_ids.append(entry_id)
            columns.append(np.frombuffer(row[0], dtype=np.float32)[:, np.newaxis])
    return Snapshot(
        epoch=snapshot.epoch,
        seq=int(changes[-1][0]),
        entry_ids=entry_ids,
        columns=np.ascontiguousarray(np.concatenate(columns, axis=1)),
    )


def nearest(snapshot: Snapshot, probes: np.ndarray, k: int) -> list[list[Candidate]]:
    """The `k` entries nearest each probe (unit rows), best first."""
    if not snapshot.entry_ids:
        return [[] for _ in range(len(probes))]
    # einsum, not `@`: BLAS would start its own thread pool, which on a matcher's few
    # cores fights onnxruntime's and made 10,000-entry searches 10× slower under load.
    similarities = np.einsum("pd,dn->pn", probes, snapshot.columns, optimize=False)
    k = min(k, len(snapshot.entry_ids))
    results: list[list[Candidate]] = []
    for row in similarities:
        if k == 1:
            best = [int(np.argmax(row))]
        else:
            top = np.argpartition(-row, k - 1)[:k]
            best = [int(i) for i in top[np.argsort(-row[top], kind="stable")]]
        results.append([Candidate(snapshot.entry_ids[i], float(row[i])) for i in best])
    return results
