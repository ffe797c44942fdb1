"""The `lfr` command. Each sub-command lives in its own module with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import sys

# Heavy imports (OpenCV, onnxruntime, Litestar) happen inside handlers, so `lfr --help` is instant.
COMMAND_MODULES = (
    "lfr_ledger.api.cli.demo",
    "lfr_ledger.api.cli.models",
    "lfr_ledger.api.cli.audit",
    "lfr_ledger.api.cli.serve",
    "lfr_ledger.api.cli.token",
    "lfr_ledger.api.cli.policy",
    "lfr_ledger.api.cli.deployments",
    "lfr_ledger.api.cli.retention",
    "lfr_ledger.api.cli.oversight",
    "lfr_ledger.api.cli.match",
    "lfr_ledger.api.cli.watchlist",
    "lfr_ledger.api.cli.stats",
    "lfr_ledger.api.cli.projections",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lfr", description="lfr-ledger: audit-first case system for Live Facial Recognition"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
