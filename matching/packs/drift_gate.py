"""The int8 pack's drift gate: an int8 recogniser is accepted only if it gives the same
similarities as the fp32 one it was made from.

The gate: on a set of known faces (aligned crops, several images per person), every pairwise
similarity may move by less than `INT8_DRIFT_BOUND`, and genuine/impostor separation must hold
as well as it does for the fp32 pack. Separation is measured as the *overlap*: genuine pairs that
score at or below the highest impostor pair. The fp32 pack does not separate the sample people
perfectly (one tilted head rotated a further 12° scores below some impostors), so "min genuine >
max impostor" would refuse the fp32 pack itself; the int8 pack may not overlap more than it does,
which reduces to that rule whenever the fp32 pack does separate the set.

Because the int8 pack shares the fp32 pack's detector, the gate compares the two recognisers on
the same aligned crops (`crops_of`, cut by the fp32 pack's detector).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from lfr_ledger.matching.engines.faces import nearest_face
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.engines.model_packs import INT8_DRIFT_BOUND
from lfr_ledger.matching.engines.recogniser import Recogniser

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class GateSetError(ValueError):
    """The faces given to the gate cannot measure drift or separation."""


# --- the faces the gate measures on -------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FaceCrops:
    """Aligned recogniser-sized crops of known people: who each shows and what was done to it."""

    crops: np.ndarray = field(repr=False)  # (n, size, size, 3) BGR uint8
    people: tuple[str, ...]
    variants: tuple[str, ...]
    description: str

    def __post_init__(self) -> None:
        if not len(self.crops) == len(self.people) == len(self.variants):
            raise GateSetError("every crop needs a person and a variant name")
        names = set(self.people)
        if len(names) < 2 or len(names) == len(self.people):
            # Fewer than two people: no impostor pair; one image each: no genuine pair.
            raise GateSetError("need at least two people, one of them with two or more images")

    def labels(self) -> list[str]:
        return [f"{who}/{name}" for who, name in zip(self.people, self.variants, strict=True)]


def subject_face(engine: InsightFaceEngine, image: np.ndarray) -> np.ndarray | None:
    """The aligned crop of the face nearest the image's centre (a portrait's subject), if any."""
    face = nearest_face(engine.detect(image), (image.shape[1] / 2, image.shape[0] / 2))
    if face is None:
        return None
    crop: np.ndarray = engine.recogniser.align(image, face)
    return crop


def crops_of(
    engine: InsightFaceEngine,
    images: Mapping[str, Sequence[tuple[str, np.ndarray]]],
    description: str,
) -> FaceCrops:
    """Detect and align the subject of every image with `engine` (the fp32 pack's detector)."""
    crops, people, variants = [], [], []
    for who, named in images.items():
        for name, image in named:
            crop = subject_face(engine, image)
            if crop is None:
                raise GateSetError(f"no face found in {who}/{name}")
            crops.append(crop)
            people.append(who)
            variants.append(name)
    if not crops:
        raise GateSetError("no images")
    return FaceCrops(np.stack(crops), tuple(people), tuple(variants), description)


def read_face_folder(folder: Path) -> dict[str, list[tuple[str, np.ndarray]]]:
    """`folder/<person>/<image>`: every image of every person, names without their suffix."""
    if not folder.is_dir():
        raise GateSetError(f"{folder} is not a folder of people")
    images: dict[str, list[tuple[str, np.ndarray]]] = {}
    for person in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(person.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise GateSetError(f"{path} is not a readable image")
            images.setdefault(person.name, []).append((path.stem, image))
    if not images:
        raise GateSetError(f"{folder} holds no <person>/<image> files")
    return images


def write_face_folder(images: Mapping[str, Sequence[tuple[str, np.ndarray]]], folder: Path) -> None:
    """The inverse of `read_face_folder`, lossless (PNG)."""
    for who, named in images.items():
        (folder / who).mkdir(parents=True, exist_ok=True)
        for name, image in named:
            if not cv2.imwrite(str(folder / who / f"{name}.png"), image):
                raise OSError(f"could not write {folder / who / name}.png")


# --- the gate -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Separation:
    """How one pack's similarities split genuine from impostor pairs on the gate set."""

    min_genuine: float
    max_impostor: float
    # Genuine pairs scoring at or below the highest impostor pair: 0 means perfect separation.
    overlap: int


@dataclass(frozen=True)
class DriftReport:
    bound: float
    images: int
    people: int
    genuine_pairs: int
    impostor_pairs: int
    max_drift: float
    mean_drift: float
    worst_pair: tuple[str, str]
    # The lowest cosine between one image's fp32 and int8 embeddings.
    min_self_similarity: float
    fp32: Separation
    int8: Separation
    accepted: bool
    reasons: tuple[str, ...]

    @property
    def pairs(self) -> int:
        return self.genuine_pairs + self.impostor_pairs

    def summary(self) -> str:
        """One line: the verdict and the figures it rests on."""
        verdict = "accepted" if self.accepted else "refused: " + "; ".join(self.reasons)
        return (
            f"{verdict} (max similarity drift {self.max_drift:.4f}, bound {self.bound}, over "
            f"{self.pairs} pairs; int8 genuine min {self.int8.min_genuine:.3f}, impostor max "
            f"{self.int8.max_impostor:.3f}, overlap {self.int8.overlap}; "
            f"fp32 overlap {self.fp32.overlap})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pairs": self.pairs}


def _separation(similarities: np.ndarray, genuine: np.ndarray) -> Separation:
    max_impostor = float(similarities[~genuine].max())
    return Separation(
        min_genuine=float(similarities[genuine].min()),
        max_impostor=max_impostor,
        overlap=int((similarities[genuine] <= max_impostor).sum()),
    )


def compare_embeddings(
    fp32: np.ndarray, int8: np.ndarray, crops: FaceCrops, bound: float = INT8_DRIFT_BOUND
) -> DriftReport:
    """The gate's figures and decision for two packs' unit embeddings of the same crops."""
    if fp32.shape != int8.shape or len(fp32) != len(crops.people):
        raise GateSetError(f"embeddings {fp32.shape} and {int8.shape} do not match the crops")
    first, second = np.triu_indices(len(fp32), 1)
    people = np.array(crops.people)
    genuine = people[first] == people[second]
    before = (fp32 @ fp32.T)[first, second]
    after = (int8 @ int8.T)[first, second]
    labels = crops.labels()
    if not (np.isfinite(before).all() and np.isfinite(after).all()):
        # NaN would slip through every comparison below.
        nan = float("nan")
        broken = Separation(nan, nan, int(genuine.sum()))
        return DriftReport(
            bound=bound,
            images=len(fp32),
            people=len(set(crops.people)),
            genuine_pairs=int(genuine.sum()),
            impostor_pairs=int((~genuine).sum()),
            max_drift=nan,
            mean_drift=nan,
            worst_pair=("", ""),
            min_self_similarity=nan,
            fp32=broken,
            int8=broken,
            accepted=False,
            reasons=("a recogniser produced non-finite embeddings",),
        )
    drift = np.abs(after - before)
    worst = int(drift.argmax())
    fp32_split, int8_split = _separation(before, genuine), _separation(after, genuine)
    max_drift = float(drift[worst])
    worst_pair = (labels[first[worst]], labels[second[worst]])
    reasons = []
    if not max_drift < bound:
        reasons.append(
            f"similarity drift {max_drift:.4f} ≥ {bound} ({worst_pair[0]} vs {worst_pair[1]})"
        )
    if int8_split.overlap > fp32_split.overlap:
        reasons.append(
            f"separation lost: {int8_split.overlap} genuine pairs at or below the highest "
            f"impostor ({int8_split.max_impostor:.3f}), fp32 had {fp32_split.overlap}"
        )
    return DriftReport(
        bound=bound,
        images=len(fp32),
        people=len(set(crops.people)),
        genuine_pairs=int(genuine.sum()),
        impostor_pairs=int((~genuine).sum()),
        max_drift=max_drift,
        mean_drift=float(drift.mean()),
        worst_pair=worst_pair,
        min_self_similarity=float(np.einsum("ij,ij->i", fp32, int8).min()),
        fp32=fp32_split,
        int8=int8_split,
        accepted=not reasons,
        reasons=tuple(reasons),
    )


def drift_report(
    fp32: Recogniser, int8: Recogniser, crops: FaceCrops, bound: float = INT8_DRIFT_BOUND
) -> DriftReport:
    """Embed the gate set with both recognisers and compare every pair's similarity."""
    images = list(crops.crops)
    return compare_embeddings(fp32.embed_aligned(images), int8.embed_aligned(images), crops, bound)
