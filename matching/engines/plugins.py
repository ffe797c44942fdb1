"""Engine plugins: the entry-point group `lfr.engines` and loading an engine by name.

A plugin is a callable (usually a class) accepting `model_dir=`, `pack=` and engine-specific
keyword options, returning an object that satisfies `FaceEngine`. The built-in one is
`InsightFaceEngine`, registered in `pyproject.toml`.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lfr_ledger.matching.engines.faces import FaceEngine
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.engines.model_packs import default_model_dir

ENGINE_GROUP = "lfr.engines"


EngineFactory = Callable[..., FaceEngine]


def engine_factory(name: str) -> EngineFactory:
    """The `lfr.engines` entry point called `name`; the built-in engine if none is installed."""
    for entry_point in importlib.metadata.entry_points(group=ENGINE_GROUP):
        if entry_point.name == name:
            factory: EngineFactory = entry_point.load()
            return factory
    if name == "insightface":
        # Running from a source tree that was never pip-installed: no entry points exist.
        return InsightFaceEngine
    known = sorted({ep.name for ep in importlib.metadata.entry_points(group=ENGINE_GROUP)})
    raise LookupError(f"no face engine {name!r} in entry-point group {ENGINE_GROUP} ({known})")


def load_engine(
    name: str = "insightface",
    pack: str = "sface",
    model_dir: Path | None = None,
    **options: Any,
) -> FaceEngine:
    """Build engine `name` over `model_dir/pack` (model dir defaults to `LFR_MODEL_DIR`)."""
    factory = engine_factory(name)
    return factory(model_dir=model_dir or default_model_dir(), pack=pack, **options)
