"""Fixtures over the real sface pack and the sample photos, defined for every test by
`tests/conftest.py`, so each worker loads the engine once: never import a fixture from here into
a test module (it would be that module's own, loaded again there); import only the helpers
(`central_embedding`, `SampleEmbeddings`).

`lfr models fetch` (run by `make setup`) normally built the pack already, so `fetch_sface` is a
quick verified no-op here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from lfr_ledger.config.settings import Settings
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.engines.model_packs import SFACE_PACK
from lfr_ledger.matching.engines.plugins import load_engine
from lfr_ledger.matching.packs.fetch import fetch_sface
from lfr_ledger.matching.packs.samples import central_face, sample_identities, variants


@pytest.fixture(scope="session")
def sface_model_dir() -> Path:
    model_dir = Settings.from_env().model_dir
    fetch_sface(model_dir)
    return model_dir


@pytest.fixture(scope="session")
def sface_engine(sface_model_dir: Path) -> InsightFaceEngine:
    engine = load_engine("insightface", SFACE_PACK, sface_model_dir)
    assert isinstance(engine, InsightFaceEngine)
    return engine


@dataclass(frozen=True)
class SampleEmbeddings:
    """Each sample person's enrolled (original portrait) vector and their 12 variant probes."""

    enrolled: dict[str, np.ndarray]
    probes: dict[tuple[str, str], np.ndarray]  # (person, variant) -> vector


def central_embedding(engine: InsightFaceEngine, image: np.ndarray) -> np.ndarray | None:
    faces = engine.analyse(image)
    subject = central_face([face.detection for face in faces], image)
    for face in faces:
        if face.detection is subject:
            return face.embedding
    return None


@pytest.fixture(scope="session")
def sample_embeddings(sface_engine: InsightFaceEngine) -> SampleEmbeddings:
    enrolled: dict[str, np.ndarray] = {}
    probes: dict[tuple[str, str], np.ndarray] = {}
    for person, image in sample_identities(sface_engine).items():
        vector = central_embedding(sface_engine, image)
        assert vector is not None, f"no face found in {person}'s portrait"
        enrolled[person] = vector
        for name, variant in variants(image):
            probe = central_embedding(sface_engine, variant)
            assert probe is not None, f"no face found in {person}'s {name} variant"
            probes[(person, name)] = probe
    return SampleEmbeddings(enrolled=enrolled, probes=probes)
