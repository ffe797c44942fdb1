"""What the index accepts (finite float32 vectors, one dimension per deployment), where its
file lives, and the errors it refuses anything else with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import numpy as np


class WatchlistIndexError(Exception):
    """The index refused a vector, a query or a file."""


class VectorRefused(WatchlistIndexError, ValueError):
    """A vector with the wrong dimension, a non-finite value or no direction (all zero)."""


class ModelMismatch(WatchlistIndexError):
    """A query or template from another model than the deployment's: the scales differ."""


class UnknownDeployment(WatchlistIndexError, LookupError):
    """The index has never seen the deployment: not synced yet, or no such deployment."""


@dataclass(frozen=True)
class Candidate:
    """A watchlist entry near a probe; `similarity` is cosine, on the model's own scale."""

    entry_id: UUID
    similarity: float


class HasDataDir(Protocol):
    """`config.settings.Settings`, or anything else that knows the data directory (matching does
    not import the API layer)."""

    @property
    def data_dir(self) -> Path: ...


def index_path(settings: HasDataDir) -> Path:
    """Where this node keeps its index: beside the data, whatever backend holds the ledger."""
    return settings.data_dir / "index" / "watchlist.sqlite"


def vector_table(dimension: int) -> str:
    return f"vectors_{int(dimension)}"


def as_vectors(values: Any, dimension: int | None, what: str) -> np.ndarray:
    """`values` as (n, dimension) float32 rows, refusing wrong shapes and non-finite values.

    sqlite-vec 0.1.9 stores NaN without complaint, and a NaN vector would then be "near"
    nothing and everything at once, so the index checks before it writes or searches.
    """
    array = np.asarray(values, dtype=np.float32)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise VectorRefused(f"{what} must be one vector or a 2-d batch, got shape {array.shape}")
    if dimension is not None and array.shape[1] != dimension:
        raise VectorRefused(
            f"{what} has {array.shape[1]} dimensions; this index holds {dimension}-dimensional "
            "embeddings for the model"
        )
    if not np.isfinite(array).all():
        raise VectorRefused(f"{what} contains NaN or infinite values")
    norms = np.linalg.norm(array, axis=1)
    if (norms == 0).any():
        raise VectorRefused(f"{what} is all zeros: a cosine similarity needs a direction")
    # Engines already give unit vectors; dividing by a norm of 1 ± ε would only flip low bits.
    unit = np.abs(norms - 1.0) < 1e-5
    scale = np.where(unit, 1.0, norms).astype(np.float32)
    return np.ascontiguousarray(array / scale[:, np.newaxis], dtype=np.float32)


def template_vector(template: bytes) -> np.ndarray:
    """A stored template (little-endian float32 bytes) as a vector."""
    if len(template) == 0 or len(template) % 4:
        raise VectorRefused(f"a template of {len(template)} bytes is not a float32 vector")
    return np.frombuffer(template, dtype="<f4").astype(np.float32)
