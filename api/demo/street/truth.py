"""What a planned street shows where: every face fully in view in a frame, and how much of it a
nearer passer-by covers. The benchmark judges detection and recall against it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from lfr_ledger.api.demo.street.scene import (
    Box,
    Passage,
    SceneSpec,
    draw_order,
    mask_ellipse,
)

# Where sprites count as opaque for occlusion (normalised elliptical radius of the mask): the face
# box's corners sit at radius 0.71 for a margin of 0.5, still solid.
OPAQUE_RADIUS = 0.9


class FaceTruth(NamedTuple):
    """A face fully in view in one frame; `visible` is the share of its box not covered by a
    nearer passer-by (estimated from the masks' opaque cores)."""

    person: str
    bbox: Box
    visible: float
    passage: Passage


def _frame_of(t: float, fps: float) -> int:
    return round(t * fps)


def truth(passages: Sequence[Passage], spec: SceneSpec, frame_index: int) -> list[FaceTruth]:
    """Every face fully in view in frame `frame_index`, with how much of it is not covered."""
    t = frame_index / spec.fps
    shown = [p for p in draw_order(passages) if p.may_show(t)]
    found = []
    grid = (np.arange(8) + 0.5) / 8
    for depth, passage in enumerate(shown):
        if not (
            _frame_of(passage.enters_at, spec.fps)
            <= frame_index
            <= _frame_of(passage.leaves_at, spec.fps)
        ):
            continue
        box = passage.face_box(t)
        xs = box[0] + grid[None, :] * (box[2] - box[0])
        ys = box[1] + grid[:, None] * (box[3] - box[1])
        covered = np.zeros((8, 8), bool)
        for nearer in shown[depth + 1 :]:
            cx, cy, ax, ay = mask_ellipse(nearer.face_box(t), spec.margin)
            covered |= ((xs - cx) / ax) ** 2 + ((ys - cy) / ay) ** 2 <= OPAQUE_RADIUS**2
        found.append(FaceTruth(passage.person, box, 1.0 - float(covered.mean()), passage))
    return found


def truth_boxes(
    passages: Sequence[Passage], spec: SceneSpec, frame_index: int, *, min_visible: float = 0.0
) -> list[tuple[str, Box]]:
    """(person, face box) for every face fully in view in the frame, optionally only those at
    least `min_visible` uncovered (a crossing hides the farther face for a few frames)."""
    return [
        (f.person, f.bbox) for f in truth(passages, spec, frame_index) if f.visible >= min_visible
    ]
