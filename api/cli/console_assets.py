"""`lfr console-assets fetch|verify`: the console's one third-party file, Chart.js (pinned from
the npm registry, checked against its sha512 before it is opened), in the cache dir beside the
face models. `make setup` runs `fetch`; see `api/console/assets.py`."""

from __future__ import annotations

import argparse
from pathlib import Path

from lfr_ledger.api.cli.output import fail, json_flag, note, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "console-assets",
        help="fetch and verify the console's pinned Chart.js",
        description=(
            "Chart.js 4.5.1 from the npm registry, its tarball checked against the pinned "
            "sha512 before anything is kept; kept in the console-assets folder beside the model "
            "dir (LFR_MODEL_DIR's parent, default ~/.cache/lfr-ledger/console-assets)."
        ),
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="the console-assets folder (default: as above)"
    )
    actions = parser.add_subparsers(dest="assets_action", required=True, metavar="ACTION")
    fetch = actions.add_parser("fetch", help="download and install it (no-op when present)")
    fetch.add_argument(
        "--tarball",
        type=Path,
        default=None,
        help="use this chart.js-4.5.1.tgz instead of downloading it (offline set-up)",
    )
    json_flag(fetch)
    fetch.set_defaults(handler=fetch_command)
    verify = actions.add_parser("verify", help="re-hash the installed files against the pins")
    json_flag(verify)
    verify.set_defaults(handler=verify_command)


def _dir(args: argparse.Namespace) -> Path:
    if args.dir is not None:
        path: Path = args.dir
        return path
    from lfr_ledger.api.console.assets import asset_dir
    from lfr_ledger.config.settings import Settings

    return asset_dir(Settings.from_env())


def fetch_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.console.assets import AssetError, fetch

    base = _dir(args)
    try:
        folder = fetch(base, tarball=args.tarball, report=note)
    except (AssetError, OSError) as error:
        return fail("console-assets fetch", str(error), 1)
    if args.json:
        print_json({"folder": folder, "problems": []})
    return 0


def verify_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.console.assets import CHART_JS, verify

    base = _dir(args)
    problems = verify(base)
    if args.json:
        print_json({"folder": base / CHART_JS.folder, "problems": problems})
    else:
        print(f"{CHART_JS.folder}: {'FAILED' if problems else 'ok'}")
        for problem in problems:
            print(f"  - {problem}")
    return 1 if problems else 0
