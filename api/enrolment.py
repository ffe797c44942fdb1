"""Image enrolment: turns an enrolment photo into the template the built-in matcher searches.

A stub until the matching engine is wired in; entries without an image (an external matcher
holds the biometrics) work fully without it.
"""

from __future__ import annotations

from api.problems import ProblemException
from api.settings import Settings


def compute_template(settings: Settings, image_bytes: bytes) -> tuple[bytes, str]:
    """The float32 template of the one face in `image_bytes`, and the id of the model used."""
    raise ProblemException(
        422,
        "matching-engine-unavailable",
        "Image enrolment unavailable",
        "image enrolment needs the matching engine, which is not installed in this server; "
        "enrol the entry without `image` (an external matcher holds the biometrics) or install "
        "the matching engine",
    )
