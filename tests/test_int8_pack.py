"""The int8 sface variant: the drift gate on the real pack and real sample faces, refusal of a
damaged variant, the pack's provenance and its verification, `lfr models quantise`.

Nothing here asserts this machine's verdict: whichever way the gate decides, the tests check
that the decision follows from its figures. Packs are built in tmp dirs only, beside a symlink
to the installed fp32 pack (read, never written).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from lfr_ledger.api.cli import build_parser, main
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.engines.model_packs import (
    INT8_DRIFT_BOUND,
    MANIFEST,
    SFACE_INT8_PACK,
    SFACE_MODEL_ID,
    SFACE_PACK,
    list_packs,
    load_pack,
    sha256_file,
    verify_pack,
)
from lfr_ledger.matching.engines.plugins import load_engine
from lfr_ledger.matching.engines.recogniser import Recogniser, ort_session
from lfr_ledger.matching.packs.drift_gate import (
    DriftReport,
    FaceCrops,
    GateSetError,
    compare_embeddings,
    crops_of,
    drift_report,
    read_face_folder,
    write_face_folder,
)
from lfr_ledger.matching.packs.quantise import DEFAULT_RECIPE, RECIPES
from lfr_ledger.matching.packs.samples import insightface_image, sample_identities, variants
from tests.test_cli_conventions import leaves

pytestmark = pytest.mark.filterwarnings("ignore:`estimate` is deprecated:FutureWarning")

Images = dict[str, list[tuple[str, np.ndarray]]]


@pytest.fixture(scope="module")
def sample_faces(sface_engine: InsightFaceEngine) -> Images:
    """Each sample person's portrait and its 12 variants: 7 × 13 images."""
    return {
        who: [("portrait", portrait), *variants(portrait)]
        for who, portrait in sample_identities(sface_engine).items()
    }


@pytest.fixture(scope="module")
def gate_set(sface_engine: InsightFaceEngine, sample_faces: Images) -> FaceCrops:
    return crops_of(sface_engine, sample_faces, "the sample people, portrait + 12 variants")


@pytest.fixture(scope="module")
def fp32_vectors(sface_engine: InsightFaceEngine, gate_set: FaceCrops) -> np.ndarray:
    return sface_engine.recogniser.embed_aligned(list(gate_set.crops))


def _recogniser(path: Path) -> Recogniser:
    return Recogniser(path, ort_session(path, threads=2), input_mean=0.0, input_std=1.0)


def _decision_follows_figures(report: DriftReport) -> None:
    expected = report.max_drift < report.bound and report.int8.overlap <= report.fp32.overlap
    assert report.accepted is expected
    assert bool(report.reasons) is not report.accepted
    assert report.pairs == report.images * (report.images - 1) // 2


def _model_dir_beside_sface(root: Path, sface_dir: Path) -> Path:
    """A fresh model dir holding only a symlink to the installed fp32 pack."""
    root.mkdir(parents=True)
    (root / SFACE_PACK).symlink_to(sface_dir / SFACE_PACK)
    return root


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str


def _lfr(*argv: str) -> CliRun:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return CliRun(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def faces_folder(tmp_path_factory: pytest.TempPathFactory, sample_faces: Images) -> Path:
    folder = tmp_path_factory.mktemp("faces")
    write_face_folder(sample_faces, folder)
    return folder


@pytest.fixture(scope="module")
def few_faces_folder(tmp_path_factory: pytest.TempPathFactory, sample_faces: Images) -> Path:
    """Three people, five images each: enough to catch gross damage, quick to embed."""
    folder = tmp_path_factory.mktemp("few-faces")
    write_face_folder({who: sample_faces[who][:5] for who in ("t1-0", "t1-3", "astronaut")}, folder)
    return folder


@pytest.fixture(scope="module")
def quantised(
    tmp_path_factory: pytest.TempPathFactory,
    sface_model_dir: Path,
    faces_folder: Path,
) -> tuple[Path, CliRun]:
    """`lfr models quantise` with the default recipe, into a tmp model dir."""
    model_dir = _model_dir_beside_sface(tmp_path_factory.mktemp("q") / "models", sface_model_dir)
    run = _lfr("models", "--model-dir", str(model_dir), "quantise", "--faces", str(faces_folder))
    return model_dir, run


# --- the gate -----------------------------------------------------------------------------------


def test_face_folder_round_trip(faces_folder: Path, sample_faces: Images) -> None:
    read = read_face_folder(faces_folder)
    assert sorted(read) == sorted(sample_faces)
    for who, named in sample_faces.items():
        assert [name for name, _ in read[who]] == sorted(name for name, _ in named)
        by_name = dict(read[who])
        for name, image in named:
            np.testing.assert_array_equal(by_name[name], image)  # PNG: lossless


def test_the_gate_set_must_hold_genuine_and_impostor_pairs(gate_set: FaceCrops) -> None:
    one_person = [i for i, who in enumerate(gate_set.people) if who == gate_set.people[0]]
    with pytest.raises(GateSetError):
        FaceCrops(
            gate_set.crops[one_person],
            tuple(gate_set.people[i] for i in one_person),
            tuple(gate_set.variants[i] for i in one_person),
            "one person",
        )
    firsts = [gate_set.people.index(who) for who in dict.fromkeys(gate_set.people)]
    with pytest.raises(GateSetError):
        FaceCrops(
            gate_set.crops[firsts],
            tuple(gate_set.people[i] for i in firsts),
            tuple(gate_set.variants[i] for i in firsts),
            "one image each",
        )


def test_gate_of_the_fp32_pack_against_itself(
    fp32_vectors: np.ndarray, gate_set: FaceCrops
) -> None:
    """Zero drift, and the fp32 figures are the sample set's own (computed independently)."""
    report = compare_embeddings(fp32_vectors, fp32_vectors, gate_set)
    assert (report.images, report.people) == (91, 7)
    assert (report.genuine_pairs, report.impostor_pairs) == (7 * 78, 4095 - 7 * 78)
    assert report.max_drift == 0.0 and report.accepted
    similarities = fp32_vectors @ fp32_vectors.T
    same = np.equal.outer(np.array(gate_set.people), np.array(gate_set.people))
    upper = np.triu(np.ones_like(same), 1)
    genuine = similarities[same & upper]
    impostor = similarities[~same & upper]
    assert report.fp32.min_genuine == pytest.approx(genuine.min())
    assert report.fp32.max_impostor == pytest.approx(impostor.max())
    assert report.fp32.overlap == int((genuine <= impostor.max()).sum())
    print(f"\nfp32 on the gate set: {report.fp32}")


def test_separation_is_judged_against_what_fp32_achieves(
    fp32_vectors: np.ndarray, gate_set: FaceCrops
) -> None:
    """With the drift bound out of the way, a variant that overlaps more than fp32 is refused."""
    fp32 = fp32_vectors
    # Pull every embedding towards one direction: impostors become alike faster than genuine
    # pairs, which are alike already.
    common = fp32.mean(axis=0)
    damaged = fp32 + 2.0 * common
    damaged /= np.linalg.norm(damaged, axis=1, keepdims=True)
    report = compare_embeddings(fp32, damaged.astype(np.float32), gate_set, bound=2.0)
    _decision_follows_figures(report)
    assert report.int8.overlap > report.fp32.overlap
    assert not report.accepted and "separation lost" in report.reasons[0]
    nan = np.full_like(fp32, np.nan)
    assert not compare_embeddings(fp32, nan, gate_set).accepted


def test_perturbed_recogniser_weights_are_refused(
    tmp_path: Path,
    sface_engine: InsightFaceEngine,
    gate_set: FaceCrops,
) -> None:
    """Real drift from a real damaged model: noise on the last convolution's weights, with a
    spread of 30 % of their mean magnitude."""
    model = onnx.load(sface_engine.pack.recogniser)
    weight = next(
        t for t in model.graph.initializer if t.name == "conv_14_conv2d_weight_dequantized"
    )
    values = numpy_helper.to_array(weight)
    noise = np.random.default_rng(14).normal(0, 0.3 * np.abs(values).mean(), values.shape)
    weight.CopyFrom(numpy_helper.from_array((values + noise).astype(np.float32), weight.name))
    path = tmp_path / "perturbed.onnx"
    onnx.save(model, path)
    report = drift_report(sface_engine.recogniser, _recogniser(path), gate_set)
    print(f"\nnoise on conv_14: {report.summary()}")
    _decision_follows_figures(report)
    assert not report.accepted and report.max_drift >= INT8_DRIFT_BOUND


# --- the pack and the CLI -----------------------------------------------------------------------


def test_quantise_reports_figures_and_decides_by_them(quantised: tuple[Path, CliRun]) -> None:
    model_dir, run = quantised
    manifest_path = model_dir / SFACE_INT8_PACK / MANIFEST
    assert "drift: max" in run.stdout and "fp32: genuine min" in run.stdout
    if run.code == 0:
        gate = json.loads(manifest_path.read_text())["gate"]
        assert gate["accepted"] and gate["max_drift"] < INT8_DRIFT_BOUND
        assert gate["int8"]["overlap"] <= gate["fp32"]["overlap"]
        assert "installed in" in run.stdout
    else:
        # Refused on this machine: one line on stderr, nothing installed.
        assert run.code == 1 and "REFUSED" in run.stdout
        assert run.stderr.strip().splitlines()[-1].startswith("lfr models quantise: refused")
        assert not (model_dir / SFACE_INT8_PACK).exists()
    assert sorted(p.name for p in model_dir.iterdir()) == sorted(
        [SFACE_PACK] + ([SFACE_INT8_PACK] if run.code == 0 else [])
    )  # no staging left behind


def test_a_damaged_variant_is_refused_and_not_installed(
    tmp_path: Path,
    sface_model_dir: Path,
    few_faces_folder: Path,
) -> None:
    """Every Conv and the FC quantised dynamically: the worst of onnxruntime's options here."""
    model_dir = _model_dir_beside_sface(tmp_path / "models", sface_model_dir)
    run = _lfr(
        "models",
        "--model-dir",
        str(model_dir),
        "quantise",
        "--faces",
        str(few_faces_folder),
        "--recipe",
        "all-dynamic",
        "--json",
    )
    outcome = json.loads(run.stdout)
    gate = outcome["gate"]
    print(f"\nall-dynamic: max drift {gate['max_drift']:.4f}, reasons {gate['reasons']}")
    assert run.code == 1 and not outcome["accepted"] and outcome["installed"] is None
    assert not gate["max_drift"] < INT8_DRIFT_BOUND
    assert run.stderr.strip().splitlines()[-1].startswith("lfr models quantise: refused")
    assert len(run.stderr.strip().splitlines()[-1].splitlines()) == 1
    assert [p.name for p in model_dir.iterdir()] == [SFACE_PACK]


def test_the_cli_refuses_what_it_cannot_measure(tmp_path: Path, sface_model_dir: Path) -> None:
    model_dir = _model_dir_beside_sface(tmp_path / "models", sface_model_dir)
    (tmp_path / "faces" / "alone").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "faces" / "alone" / "a.png"), insightface_image("t1.jpg"))
    base = ["models", "--model-dir", str(model_dir), "quantise", "--faces"]
    run = _lfr(*base, str(tmp_path / "faces"))
    assert run.code == 1 and "lfr models quantise:" in run.stderr
    assert _lfr(*base, str(tmp_path / "faces"), "--recipe", "nope").code == 2
    assert _lfr(*base, str(tmp_path / "faces"), "--recipe", "all-static-qdq").code == 2
    assert [p.name for p in model_dir.iterdir()] == [SFACE_PACK]


def _link_or_copy(source: str, target: str) -> None:
    # The packs' files are only read, so a hard link will do where the file system allows one.
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _accepted(quantised: tuple[Path, CliRun]) -> Path:
    model_dir, run = quantised
    if run.code != 0:
        pytest.skip("the gate refused the default recipe on this machine: no pack to inspect")
    return model_dir


def test_the_accepted_pack_records_its_provenance_and_verifies(
    quantised: tuple[Path, CliRun],
    sface_model_dir: Path,
) -> None:
    model_dir = _accepted(quantised)
    assert verify_pack(model_dir, SFACE_INT8_PACK) == []
    assert list_packs(model_dir) == [SFACE_PACK, SFACE_INT8_PACK]
    manifest = json.loads((model_dir / SFACE_INT8_PACK / MANIFEST).read_text())
    fp32 = json.loads((sface_model_dir / SFACE_PACK / MANIFEST).read_text())
    assert (manifest["model_id"], manifest["variant"]) == (SFACE_MODEL_ID, "int8")
    assert manifest["derived_from"]["files"] == [
        {"role": e["role"], "file": e["file"], "sha256": e["sha256"]} for e in fp32["files"]
    ]
    quantisation = manifest["quantisation"]
    assert quantisation["onnxruntime"] == ort.__version__
    assert quantisation["function"].startswith("quantize_") and quantisation["parameters"]
    assert quantisation["quantised_nodes"]
    for entry in manifest["files"]:
        assert entry["sha256"] == sha256_file(model_dir / SFACE_INT8_PACK / entry["file"])
    detector, recogniser = manifest["files"]
    assert detector["sha256"] == fp32["files"][0]["sha256"]  # the same detector file
    assert recogniser["derived_from_sha256"] == fp32["files"][1]["sha256"]
    assert manifest["gate"]["images"] == 91 and manifest["gate"]["gate_set"]


def test_the_accepted_pack_searches_sface_templates(
    quantised: tuple[Path, CliRun],
    sface_engine: InsightFaceEngine,
) -> None:
    """Same model id, so an int8 probe meets fp32-enrolled templates: their scores must agree."""
    model_dir = _accepted(quantised)
    int8 = load_engine("insightface", SFACE_INT8_PACK, model_dir)
    assert (int8.model_id, int8.embedding_dim) == (SFACE_MODEL_ID, 128)
    group = insightface_image("t1.jpg")
    enrolled = np.stack([face.embedding for face in sface_engine.analyse(group)])
    probes = np.stack([face.embedding for face in int8.analyse(group)])
    drift = np.abs(probes @ enrolled.T - enrolled @ enrolled.T)
    assert drift.max() < INT8_DRIFT_BOUND


EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "source pin": lambda m: m["files"][1].update(source_sha256="0" * 64),
    "derived from other fp32 files": lambda m: m["derived_from"]["files"][1].update(
        sha256="0" * 64
    ),
    "refused gate": lambda m: m["gate"].update(accepted=False),
    "drift over the bound": lambda m: m["gate"].update(max_drift=0.02),
    "looser bound": lambda m: m["gate"].update(bound=0.5),
    "another model id": lambda m: m.update(model_id="sface-2021dec-int8"),
    "not derived from sface": lambda m: m["derived_from"].update(pack="buffalo_l"),
    "detector swapped": lambda m: m["files"][0].update(sha256="0" * 64),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_manifest_is_refused(
    edit: str,
    tmp_path: Path,
    quantised: tuple[Path, CliRun],
    sface_model_dir: Path,
) -> None:
    source = _accepted(quantised) / SFACE_INT8_PACK
    model_dir = _model_dir_beside_sface(tmp_path / "models", sface_model_dir)
    # Hard links: the model files are only read; the manifest is rewritten, not edited in place.
    shutil.copytree(source, model_dir / SFACE_INT8_PACK, copy_function=_link_or_copy)
    manifest_path = model_dir / SFACE_INT8_PACK / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    EDITS[edit](manifest)
    manifest_path.unlink()
    manifest_path.write_text(json.dumps(manifest))
    assert verify_pack(model_dir, SFACE_INT8_PACK), edit
    assert load_pack(model_dir, SFACE_INT8_PACK).variant == "int8"


def test_replacing_the_fp32_pack_unblesses_the_variant(
    tmp_path: Path,
    quantised: tuple[Path, CliRun],
    sface_model_dir: Path,
) -> None:
    """The gate compared the int8 file with particular fp32 files: another sface pack beside it
    (here: one whose manifest names a different recogniser) was never compared with it."""
    source = _accepted(quantised) / SFACE_INT8_PACK
    model_dir = tmp_path / "models"
    shutil.copytree(
        sface_model_dir / SFACE_PACK, model_dir / SFACE_PACK, copy_function=_link_or_copy
    )
    shutil.copytree(source, model_dir / SFACE_INT8_PACK, copy_function=_link_or_copy)
    assert verify_pack(model_dir, SFACE_INT8_PACK) == []
    fp32_manifest = model_dir / SFACE_PACK / MANIFEST
    manifest = json.loads(fp32_manifest.read_text())
    manifest["files"][1]["sha256"] = "0" * 64
    fp32_manifest.unlink()
    fp32_manifest.write_text(json.dumps(manifest))
    problems = verify_pack(model_dir, SFACE_INT8_PACK)
    assert any("installed beside it" in problem for problem in problems)


def test_the_cli_names_every_recipe() -> None:
    quantise = leaves(build_parser())["models quantise"]
    recipe = next(a for a in quantise._actions if "--recipe" in a.option_strings)
    assert recipe.default == DEFAULT_RECIPE.name
    assert all(name in str(recipe.help) for name in RECIPES)
