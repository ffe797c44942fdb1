"""The face crop an alert carries: the face's box with a margin, so the operator sees the head
and shoulders the camera saw, never more of the scene."""

from __future__ import annotations

import cv2
import numpy as np

from lfr_ledger.matching.engines.faces import DetectedFace


def portrait(image: np.ndarray, face: DetectedFace, margin: float = 0.5) -> np.ndarray:
    """The face's box grown by `margin` of its size on every side, padded at the image edge."""
    x1, y1, x2, y2 = face.bbox
    pad_x, pad_y = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = round(x1 - pad_x), round(y1 - pad_y)
    right, bottom = round(x2 + pad_x), round(y2 + pad_y)
    height, width = image.shape[:2]
    padded = cv2.copyMakeBorder(
        image,
        max(0, -top),
        max(0, bottom - height),
        max(0, -left),
        max(0, right - width),
        cv2.BORDER_REPLICATE,
    )
    dx, dy = max(0, -left), max(0, -top)
    return np.ascontiguousarray(padded[top + dy : bottom + dy, left + dx : right + dx])
