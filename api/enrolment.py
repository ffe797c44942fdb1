"""Image enrolment: turns an enrolment photo into the template the built-in matcher searches.

The engine for a model is loaded once per process (loading verifies the pack's checksums and
builds onnxruntime sessions); inference is serialised per engine because onnxruntime sessions
already use every core. Decoding is inside the same lock, so a process holds one enrolment
photo's pixels at a time (at most 24 MP: about 260 MB at the peak, measured by
`bench/enrolment_memory.py`).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from lfr_ledger.api.problems import ProblemException
from lfr_ledger.config.settings import Settings

if TYPE_CHECKING:
    from lfr_ledger.matching.engines.faces import FaceEngine

_lock = threading.Lock()


@lru_cache(maxsize=4)
def engine_for(model_dir: Path, model_id: str) -> FaceEngine:
    """The engine computing `model_id` from the packs in `model_dir`, loaded once per process
    (by the API's image enrolment and by `lfr watchlist import`)."""
    from lfr_ledger.matching.engines.enrolment import engine_for_model

    return engine_for_model(model_dir, model_id)


def compute_template(settings: Settings, image_bytes: bytes, model_id: str) -> tuple[bytes, str]:
    """The float32 template of the one face in `image_bytes`, computed with `model_id`.

    Image problems (unreadable, no usable face, several faces) raise `InvalidInput` subclasses,
    which answer 422 with what to fix.
    """
    from lfr_ledger.matching.engines.enrolment import template_from_image
    from lfr_ledger.matching.engines.model_packs import ModelPackError

    try:
        engine = engine_for(settings.model_dir, model_id)
    except ModelPackError as error:
        raise ProblemException(
            422,
            "matching-engine-unavailable",
            "Image enrolment unavailable",
            f"this server cannot compute {model_id} templates: {error}",
        ) from None
    with _lock:
        return template_from_image(engine, image_bytes)
