"""An int8 variant of the sface pack, made with onnxruntime's own quantisation tools and
installed only if its drift gate (`drift_gate.py`) accepts it.

What this machine measured (docs/models.md, `bench/int8.py`): every convolution of SFace is
sensitive — quantising any single one, statically, moves some similarity by 0.005–0.04, and int8
convolution *weights* alone (activations left in float) move them by 0.033 — so the default
recipe quantises only the final fully connected layer, which holds 6.4 M of the recogniser's
9.6 M weights (two thirds of the file). The detector file is the fp32 pack's own, unchanged:
the engine runs YuNet in OpenCV's DNN module, not onnxruntime, and its landmarks are what
alignment (and so SFace) is most sensitive to.

A pack that fails the gate is never installed: it is built in a staging directory beside the
model dir's packs and discarded, and the outcome carries the reasons with the figures.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from lfr_ledger.matching.engines.model_packs import (
    INT8_VARIANT,
    MANIFEST,
    MANIFEST_FORMAT,
    SFACE_INT8_PACK,
    SFACE_MODEL_ID,
    SFACE_PACK,
    ModelPack,
    ModelPackError,
    open_verified_pack,
    sha256_file,
    verify_pack,
)
from lfr_ledger.matching.engines.recogniser import Recogniser, ort_session
from lfr_ledger.matching.packs.drift_gate import DriftReport, FaceCrops, drift_report
from lfr_ledger.matching.packs.fetch import install_dir

Report = Callable[[str], None]


@dataclass(frozen=True)
class Recipe:
    """One way of calling onnxruntime.quantization, with every parameter it is given."""

    name: str
    method: Literal["dynamic", "static"]
    op_types: tuple[str, ...]
    per_channel: bool
    why: str
    reduce_range: bool = False
    nodes_to_exclude: tuple[str, ...] = ()
    # Static only: how activation ranges are calibrated, and in what form the graph is written.
    calibrate_method: Literal["MinMax", "Percentile", "Entropy"] = "MinMax"
    quant_format: Literal["QDQ", "QOperator"] = "QDQ"
    activation_type: Literal["QUInt8", "QInt8"] = "QUInt8"
    weight_type: Literal["QInt8", "QUInt8"] = "QInt8"

    def parameters(self) -> dict[str, Any]:
        names = [
            "op_types",
            "per_channel",
            "reduce_range",
            "nodes_to_exclude",
            "weight_type",
        ]
        if self.method == "static":
            names += ["calibrate_method", "quant_format", "activation_type"]
        return {name: _plain(getattr(self, name)) for name in names}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            name="fc-dynamic",
            method="dynamic",
            # quantize_dynamic rewrites the Gemm as MatMul + Add before quantising the MatMul.
            op_types=("MatMul",),
            per_channel=True,
            why=(
                "the final fully connected layer (pre_fc1: 6.4 M of 9.6 M weights) as int8 with "
                "per-output-channel scales, its input quantised per run; every convolution stays "
                "fp32, because int8 convolution weights alone already move similarities by 0.033"
            ),
        ),
        Recipe(
            name="all-dynamic",
            method="dynamic",
            op_types=("Conv", "MatMul"),
            per_channel=True,
            why="everything quantize_dynamic can reach (refused here: drift ≈ 0.14)",
        ),
        Recipe(
            name="all-static-qdq",
            method="static",
            op_types=("Conv", "Gemm"),
            per_channel=True,
            why="static QDQ, per-channel weights, MinMax calibration (refused here: drift ≈ 0.09)",
        ),
        Recipe(
            name="all-static-qdq-percentile",
            method="static",
            op_types=("Conv", "Gemm"),
            per_channel=True,
            calibrate_method="Percentile",  # onnxruntime's default percentile, 99.999
            why="static QDQ with activation ranges clipped at the 99.999th percentile (≈ 0.06)",
        ),
        Recipe(
            name="static-qdq-ends-fp32",
            method="static",
            op_types=("Conv", "Gemm"),
            per_channel=True,
            nodes_to_exclude=("conv_1_conv2d", "pre_fc1"),
            why="static QDQ with the first convolution and the final FC left fp32 (drift ≈ 0.10)",
        ),
    )
}
DEFAULT_RECIPE = RECIPES["fc-dynamic"]

# quant_pre_process's symbolic shape inference needs sympy, which is not a dependency; SFace's
# shapes are static apart from the batch, so onnx's own shape inference is enough.
PRE_PROCESSING = {"function": "quant_pre_process", "skip_symbolic_shape": True}
_QUANTISED_OPS = {
    "MatMulInteger",
    "ConvInteger",
    "QLinearConv",
    "QLinearMatMul",
    "QuantizeLinear",
    "DynamicQuantizeLinear",
}


def _blob(crops: np.ndarray, mean: float, std: float) -> np.ndarray:
    # What InsightFace's ArcFaceONNX.get_feat feeds the network: RGB, (x - mean) / std, NCHW.
    size = (crops.shape[2], crops.shape[1])
    blob = cv2.dnn.blobFromImages(list(crops), 1.0 / std, size, (mean,) * 3, swapRB=True)
    return np.asarray(blob, dtype=np.float32)


def quantise_recogniser(
    fp32_path: Path,
    int8_path: Path,
    recipe: Recipe,
    *,
    calibration: FaceCrops | None = None,
    input_mean: float = 0.0,
    input_std: float = 1.0,
) -> dict[str, Any]:
    """Write `int8_path` from the fp32 recogniser; return what was done, for the manifest."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if recipe.method == "static" and calibration is None:
        raise ValueError(f"recipe {recipe.name!r} calibrates activations: give it crops")
    with tempfile.TemporaryDirectory(prefix=".quantise-", dir=int8_path.parent) as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # Folds the batch norms into the convolutions and the weight Reshapes into constants, so
        # the quantiser sees plain Conv/Gemm weights (the prepared model's outputs are identical).
        quant_pre_process(fp32_path, prepared, skip_symbolic_shape=True)
        options: dict[str, Any] = {
            "op_types_to_quantize": list(recipe.op_types),
            "per_channel": recipe.per_channel,
            "reduce_range": recipe.reduce_range,
            "weight_type": QuantType[recipe.weight_type],
            "nodes_to_exclude": list(recipe.nodes_to_exclude),
        }
        if recipe.method == "dynamic":
            quantize_dynamic(prepared, int8_path, **options)
        else:
            assert calibration is not None
            input_name = onnx.load(prepared, load_external_data=False).graph.input[0].name
            batches = [
                # One crop per batch: the histogram calibrators stack batches, so they must match.
                {input_name: _blob(calibration.crops[index : index + 1], input_mean, input_std)}
                for index in range(len(calibration.crops))
            ]

            class Crops(CalibrationDataReader):
                """The calibration crops, preprocessed as the engine does."""

                def __init__(self) -> None:
                    self._batches = iter(batches)

                def get_next(self) -> dict[str, np.ndarray] | None:
                    return next(self._batches, None)

            quantize_static(
                prepared,
                int8_path,
                Crops(),
                quant_format=QuantFormat[recipe.quant_format],
                activation_type=QuantType[recipe.activation_type],
                calibrate_method=CalibrationMethod[recipe.calibrate_method],
                **options,
            )
    model = onnx.load(int8_path)
    quantised = sorted(node.name for node in model.graph.node if node.op_type in _QUANTISED_OPS)
    if not quantised:
        raise ModelPackError(f"recipe {recipe.name!r} quantised nothing in {fp32_path.name}")
    int8_weights = float_weights = 0
    for tensor in model.graph.initializer:
        count = int(np.prod(tensor.dims))
        if tensor.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8):
            int8_weights += count
        elif tensor.data_type == onnx.TensorProto.FLOAT:
            float_weights += count
    return {
        "tool": "onnxruntime.quantization",
        "onnxruntime": ort.__version__,
        "onnx": onnx.__version__,
        "numpy": np.__version__,
        "recipe": recipe.name,
        "why": recipe.why,
        "function": f"quantize_{recipe.method}",
        "parameters": recipe.parameters(),
        "pre_processing": PRE_PROCESSING,
        # Dynamic quantisation computes activation scales per run: it has no calibration set.
        "calibration": None
        if calibration is None or recipe.method == "dynamic"
        else {"description": calibration.description, "crops": len(calibration.crops)},
        "quantised_nodes": quantised,
        "int8_weights": int8_weights,
        "float_weights": float_weights,
    }


@dataclass(frozen=True)
class QuantisationOutcome:
    recipe: str
    gate: DriftReport
    gate_set: str
    # Where the pack was installed; None when the gate refused it (nothing was installed).
    installed: Path | None
    recogniser_bytes: int
    fp32_recogniser_bytes: int
    manifest: dict[str, Any] = field(repr=False)
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe,
            "accepted": self.gate.accepted,
            "installed": None if self.installed is None else str(self.installed),
            "gate_set": self.gate_set,
            "gate": self.gate.to_dict(),
            "recogniser_bytes": self.recogniser_bytes,
            "fp32_recogniser_bytes": self.fp32_recogniser_bytes,
            "seconds": round(self.seconds, 2),
            "manifest": self.manifest,
        }


def build_int8_pack(
    gate_set: FaceCrops,
    *,
    model_dir: Path,
    target_dir: Path | None = None,
    recipe: Recipe = DEFAULT_RECIPE,
    calibration: FaceCrops | None = None,
    threads: int | None = None,
    report: Report | None = None,
) -> QuantisationOutcome:
    """Quantise `model_dir/sface`'s recogniser, gate it on `gate_set`, and install
    `target_dir/sface-int8` (target defaults to the model dir) only if the gate accepts it.

    `gate_set` must be aligned by the fp32 pack's own detector (`crops_of`), since the int8 pack
    shares that detector file.
    """
    say = report or (lambda _message: None)
    started = time.perf_counter()
    target_dir = target_dir or model_dir
    fp32 = open_verified_pack(model_dir, SFACE_PACK)
    if fp32.variant is not None:
        raise ModelPackError(f"{fp32.path} is itself a variant; quantise the fp32 pack")
    mean = fp32.recogniser_input_mean if fp32.recogniser_input_mean is not None else 0.0
    std = fp32.recogniser_input_std if fp32.recogniser_input_std is not None else 1.0
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{SFACE_INT8_PACK}-", dir=target_dir) as tmp:
        staged = Path(tmp) / SFACE_INT8_PACK
        staged.mkdir()
        int8_name = f"{fp32.recogniser.stem}.{recipe.name}.onnx"
        say(f"quantising {fp32.recogniser.name} with recipe {recipe.name}")
        quantisation = quantise_recogniser(
            fp32.recogniser,
            staged / int8_name,
            recipe,
            calibration=calibration,
            input_mean=mean,
            input_std=std,
        )
        shutil.copyfile(fp32.detector, staged / fp32.detector.name)
        say(f"gating on {len(gate_set.crops)} crops: {gate_set.description}")
        gate = drift_report(
            _recogniser(fp32.recogniser, mean, std, threads),
            _recogniser(staged / int8_name, mean, std, threads),
            gate_set,
        )
        manifest = _int8_manifest(fp32, staged, int8_name, quantisation, gate, gate_set)
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        recogniser_bytes = (staged / int8_name).stat().st_size
        installed = None
        if gate.accepted:
            installed = target_dir / SFACE_INT8_PACK
            install_dir(staged, installed)
    if installed is not None:
        problems = verify_pack(target_dir, SFACE_INT8_PACK)
        if problems:
            raise ModelPackError(
                f"{SFACE_INT8_PACK} failed verification after install: " + "; ".join(problems)
            )
        say(f"{SFACE_INT8_PACK} installed in {installed}")
    else:
        say(f"{SFACE_INT8_PACK} refused and discarded: {gate.summary()}")
    return QuantisationOutcome(
        recipe=recipe.name,
        gate=gate,
        gate_set=gate_set.description,
        installed=installed,
        recogniser_bytes=recogniser_bytes,
        fp32_recogniser_bytes=fp32.recogniser.stat().st_size,
        manifest=manifest,
        seconds=time.perf_counter() - started,
    )


def _recogniser(path: Path, mean: float, std: float, threads: int | None) -> Recogniser:
    return Recogniser(path, ort_session(path, threads=threads), input_mean=mean, input_std=std)


def _int8_manifest(
    fp32: ModelPack,
    staged: Path,
    int8_name: str,
    quantisation: dict[str, Any],
    gate: DriftReport,
    gate_set: FaceCrops,
) -> dict[str, Any]:
    source = json.loads((fp32.path / MANIFEST).read_text(encoding="utf-8"))
    by_role = {entry["role"]: entry for entry in source["files"]}
    detector = {**by_role["detector"], "transform": "copied unchanged from the fp32 pack"}
    recogniser = {
        **by_role["recogniser"],
        "file": int8_name,
        "sha256": sha256_file(staged / int8_name),
        "derived_from_sha256": by_role["recogniser"]["sha256"],
        "transform": f"quantised by onnxruntime.quantization, recipe {quantisation['recipe']}",
    }
    return {
        "format": MANIFEST_FORMAT,
        "pack": SFACE_INT8_PACK,
        "kind": "sface",
        # The same scale as sface (the gate bounds the drift), so templates it enrolled match.
        "model_id": SFACE_MODEL_ID,
        "variant": INT8_VARIANT,
        "embedding_dim": fp32.embedding_dim,
        "recogniser_input_mean": fp32.recogniser_input_mean,
        "recogniser_input_std": fp32.recogniser_input_std,
        "derived_from": {
            "pack": SFACE_PACK,
            "model_id": fp32.model_id,
            "manifest_sha256": hashlib.sha256((fp32.path / MANIFEST).read_bytes()).hexdigest(),
            "source": source.get("source"),
            "files": [
                {"role": entry["role"], "file": entry["file"], "sha256": entry["sha256"]}
                for entry in source["files"]
            ],
        },
        "quantisation": quantisation,
        "gate": {**gate.to_dict(), "gate_set": gate_set.description},
        "licence": fp32.licence,
        "files": [detector, recogniser],
    }
