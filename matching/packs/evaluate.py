"""`lfr models evaluate`: the installed pack's error rates on a force's own labelled faces, with
confidence intervals, by demographic group where the people are labelled, in a signed report.

Why: a threshold chosen without evidence is not a lawful one. In Bridges v South Wales Police
(2020) the force had not satisfied itself that the software had no unacceptable demographic bias;
the answer forces gave was an evaluation (NPL's: true- and false-positive identification rates
at each threshold, by sex, age and ethnicity, with confidence intervals). This runs the same
kind of evaluation with the engine the matcher runs (`plugins.load_engine`, the same pack and
quality gate), on `FOLDER/<person>/<image>`, by the protocol in `error_rates.py`.

The report never names a person: people appear only as counts, their folder names only inside
the data set's digest. Each image's subject is its face nearest the centre (a portrait's);
an image with no face the engine admits is a failure to acquire, counted and left out.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from lfr_ledger.matching.engines.faces import FaceEngine, nearest_face
from lfr_ledger.matching.packs.error_rates import (
    ENROL_NAME,
    Labelled,
    ProtocolError,
    RatesAt,
    Scores,
    choose_watchlist,
    rates_table,
    score,
)
from lfr_ledger.matching.packs.evaluation_report import REPORT_TYPE, REPORT_VERSION
from lfr_ledger.matching.packs.evaluation_statement import statement
from lfr_ledger.matching.packs.intervals import CONFIDENCE, Rate, ratio_to_lowest

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
# Error rates compared between groups: every kind of error the matcher can make.
ERROR_METRICS = ("fmr", "fnmr", "fpir", "fnir")


class EvaluationError(ValueError):
    """The faces or groups given cannot be evaluated; the message says why."""


@dataclass(frozen=True)
class FaceImage:
    person: str
    name: str  # the file's name without its suffix
    image: np.ndarray
    sha256: str
    path: str  # relative: person/file


def read_faces(folder: Path) -> list[FaceImage]:
    """Every image of `folder/<person>/`, with the hash of its bytes (for the data set's digest)."""
    if not folder.is_dir():
        raise EvaluationError(f"{folder} is not a folder of people")
    faces = []
    for person in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(person.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            data = path.read_bytes()
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise EvaluationError(f"{path} is not a readable image")
            relative = f"{person.name}/{path.name}"
            faces.append(
                FaceImage(person.name, path.stem, image, hashlib.sha256(data).hexdigest(), relative)
            )
    if not faces:
        raise EvaluationError(f"{folder} holds no <person>/<image> files")
    return faces


def data_set_digest(faces: Sequence[FaceImage]) -> str:
    """SHA-256 over every image's path and content hash, in order: names one data set exactly."""
    lines = "".join(f"{face.path}\t{face.sha256}\n" for face in sorted(faces, key=lambda f: f.path))
    return hashlib.sha256(lines.encode()).hexdigest()


def read_groups(data: bytes) -> dict[str, dict[str, str]]:
    """A CSV with a header `person,<attribute>,...`: each person's label for each attribute (an
    empty cell reads `not_recorded`)."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    except UnicodeDecodeError as error:
        raise EvaluationError("the groups file is not UTF-8 text") from error
    if not rows or len(rows[0]) < 2 or rows[0][0].strip().lower() != "person":
        raise EvaluationError("the groups file needs a header: person,<attribute>,...")
    attributes = [name.strip() for name in rows[0][1:]]
    if len(set(attributes)) != len(attributes) or not all(attributes):
        raise EvaluationError("the groups file's attributes must be named, each once")
    groups: dict[str, dict[str, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(attributes) + 1:
            raise EvaluationError(f"line {number} of the groups file has {len(row)} cells")
        person = row[0].strip()
        if person in groups:
            raise EvaluationError(f"line {number}: a person is listed twice")
        groups[person] = {
            name: (cell.strip() or "not_recorded")
            for name, cell in zip(attributes, row[1:], strict=True)
        }
    return groups


def embed_faces(
    engine: FaceEngine, faces: Sequence[FaceImage], report: Callable[[str], None] | None = None
) -> tuple[Labelled, list[FaceImage]]:
    """Each image's subject embedded by `engine`; the images with no admitted face apart."""
    vectors, kept, missed = [], [], []
    for number, face in enumerate(faces, start=1):
        found = engine.analyse(face.image)
        centre = (face.image.shape[1] / 2, face.image.shape[0] / 2)
        subject = nearest_face([f.detection for f in found], centre)
        chosen = next((f for f in found if f.detection is subject), None)
        if chosen is None:
            missed.append(face)
        else:
            vectors.append(chosen.embedding)
            kept.append(face)
        if report is not None and number % 50 == 0:
            report(f"embedded {number} of {len(faces)} images")
    if not kept:
        raise EvaluationError("the engine found no face in any image")
    labelled = Labelled(
        np.stack(vectors).astype(np.float32),
        tuple(f.person for f in kept),
        tuple(f.name for f in kept),
    )
    return labelled, missed


def _row(rates: RatesAt) -> dict[str, Any]:
    return {
        "threshold": rates.threshold,
        "fmr": rates.fmr.to_dict(),
        "fnmr": rates.fnmr.to_dict(),
        "tpir": rates.tpir.to_dict(),
        "fpir": rates.fpir.to_dict(),
        "fnir": rates.fnir.to_dict(),
        "wrong_entry_alerts": rates.wrong_entry,
    }


def _metric(rates: RatesAt, name: str) -> Rate:
    rate: Rate = getattr(rates, name)
    return rate


@dataclass(frozen=True)
class Pack:
    """What the report says about the model that was evaluated."""

    name: str
    engine: str
    model_id: str
    files: Mapping[str, str]  # file name -> sha256
    variant: str | None = None


def evaluate(
    engine: FaceEngine,
    pack: Pack,
    faces: Sequence[FaceImage],
    thresholds: Sequence[float],
    *,
    watchlist_size: int | None = None,
    seed: int = 0,
    enrol: str = ENROL_NAME,
    groups: Mapping[str, Mapping[str, str]] | None = None,
    groups_digest: str | None = None,
    report: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The evaluation report, unsigned. The default watchlist holds half the people."""
    if not thresholds or not all(0.0 < t <= 1.0 for t in thresholds):
        raise EvaluationError("give one or more thresholds in (0, 1]")
    thresholds = sorted(set(thresholds))
    labelled, missed = embed_faces(engine, faces, report)
    people = sorted(set(labelled.people))
    size = max(1, len(people) // 2) if watchlist_size is None else watchlist_size
    try:
        watchlist = choose_watchlist(labelled, size, seed, enrol)
    except ProtocolError as error:
        raise EvaluationError(str(error)) from error
    scores = score(labelled, watchlist)
    overall = rates_table(scores, thresholds)
    group_rows, differentials = _by_group(scores, thresholds, labelled, groups or {})
    counts = {
        "people": len({f.person for f in faces}),
        "people_evaluated": len(people),
        "images": len(faces),
        "images_without_face": len(missed),
        "genuine_pairs": len(scores.genuine),
        "impostor_pairs": len(scores.impostor),
        "watchlist_people": len(watchlist.people),
        "mated_probes": len(scores.mated),
        "non_enrolled_people": len(people) - len(watchlist.people),
        "non_mated_probes": len(scores.non_mated),
    }
    return {
        "type": REPORT_TYPE,
        "version": REPORT_VERSION,
        "created_at": (now or datetime.now(UTC)).isoformat(),
        "model_id": pack.model_id,
        "pack": {
            "name": pack.name,
            "engine": pack.engine,
            "variant": pack.variant,
            "files": dict(sorted(pack.files.items())),
        },
        "data_set": {
            "digest": data_set_digest(faces),
            "digest_of": "SHA-256 of every image's 'person/file<TAB>sha256 of its bytes' line, "
            "sorted by path",
            "groups_file_sha256": groups_digest,
            "attributes": sorted({a for labels in (groups or {}).values() for a in labels}),
        },
        "protocol": {
            "verification": "every pair of images; a pair matches when its similarity is at "
            "least the threshold. FMR: impostor pairs that match; FNMR: genuine pairs that do not",
            "identification": (
                f"a watchlist of {len(watchlist.people)} people drawn from those with two or more "
                f"usable images (order: SHA-256 of '{seed}:<person>'), each enrolled with one "
                f"image (the one named '{enrol}', else the first by name); their other "
                "images are mated probes, every image of the people left off a non-mated probe. "
                "A probe alerts on its nearest entry when that similarity is at least the "
                "threshold. TPIR: mated probes alerting on the right person; FNIR = 1 - TPIR; "
                "FPIR: non-mated probes raising any alert; wrong-entry alerts: mated probes "
                "alerting on someone else (counted in FNIR)"
            ),
            "watchlist_size": len(watchlist.people),
            "watchlist_seed": seed,
            "groups": "a group's genuine pairs and probes are its people's; its impostor pairs "
            "are those of two of its people",
            "interval": f"Clopper-Pearson (exact binomial), {round(CONFIDENCE * 100)}%",
            "differential": "each group's rate divided by the lowest group's (null when the "
            "lowest is 0); intervals_apart: the highest group's interval lies wholly above the "
            "lowest group's",
            "subject": "each image's face nearest its centre, if the engine's quality gate "
            "admits it; images without one are failures to acquire, left out",
        },
        "thresholds": [_row(rates) for rates in overall],
        "counts": counts,
        "groups": group_rows,
        "differentials": differentials,
        "statement": statement(counts, overall, group_rows, differentials, bool(groups)),
    }


def _by_group(
    scores: Scores,
    thresholds: Sequence[float],
    labelled: Labelled,
    groups: Mapping[str, Mapping[str, str]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    evaluated = set(labelled.people)
    attributes = sorted({a for labels in groups.values() for a in labels})
    rows: list[dict[str, Any]] = []
    differentials: list[dict[str, Any]] = []
    for attribute in attributes:
        members: dict[str, set[str]] = {}
        for person, labels in groups.items():
            if person in evaluated and attribute in labels:
                members.setdefault(labels[attribute], set()).add(person)
        tables = {value: rates_table(scores, thresholds, who) for value, who in members.items()}
        for value in sorted(members):
            rows.append(
                {
                    "attribute": attribute,
                    "group": value,
                    "people": len(members[value]),
                    "images": sum(p in members[value] for p in labelled.people),
                    "thresholds": [_row(rates) for rates in tables[value]],
                }
            )
        for position, threshold in enumerate(thresholds):
            for metric in ERROR_METRICS:
                compared = {v: _metric(table[position], metric) for v, table in tables.items()}
                differentials.append(
                    {
                        "attribute": attribute,
                        "threshold": threshold,
                        "metric": metric,
                        **ratio_to_lowest(compared),
                    }
                )
    return rows, differentials
