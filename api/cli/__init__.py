"""The `lfr` command. Each sub-command lives in its own module with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from lfr_ledger.api.cli.output import EXIT_ERROR

# Heavy imports (OpenCV, onnxruntime, Litestar) happen inside handlers, so `lfr --help` is instant.
COMMAND_MODULES = (
    "lfr_ledger.api.cli.demo",
    "lfr_ledger.api.cli.models",
    "lfr_ledger.api.cli.console_assets",
    "lfr_ledger.api.cli.audit",
    "lfr_ledger.api.cli.serve",
    "lfr_ledger.api.cli.token",
    "lfr_ledger.api.cli.policy",
    "lfr_ledger.api.cli.deployments",
    "lfr_ledger.api.cli.retention",
    "lfr_ledger.api.cli.oversight",
    "lfr_ledger.api.cli.grants",
    "lfr_ledger.api.cli.training",
    "lfr_ledger.api.cli.governance",
    "lfr_ledger.api.cli.complaints",
    "lfr_ledger.api.cli.match",
    "lfr_ledger.api.cli.watchlist",
    "lfr_ledger.api.cli.stats",
    "lfr_ledger.api.cli.projections",
    "lfr_ledger.api.cli.witness",
    "lfr_ledger.api.cli.doctor",
    "lfr_ledger.api.cli.keys",
    "lfr_ledger.api.cli.backup",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lfr", description="lfr-ledger: audit-first case system for Live Facial Recognition"
    )
    parser.add_argument("--version", action="version", version=f"lfr {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    _options_anywhere(parser)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lfr-ledger")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _options_anywhere(parser: argparse.ArgumentParser) -> None:
    """A group's options (`lfr models --model-dir X fetch`) also work after the sub-command
    (`lfr models fetch --model-dir X`), as in gh and kubectl. The copy's default is SUPPRESS,
    so a value given before the sub-command is not overwritten by the copy's absence."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        shared = [
            a
            for a in parser._actions
            if a.option_strings
            and not isinstance(a, argparse._HelpAction | argparse._VersionAction)
        ]
        for child in action.choices.values():
            taken = {o for a in child._actions for o in a.option_strings}
            for option in shared:
                if taken.isdisjoint(option.option_strings):
                    child._add_action(_suppressed_copy(option))
            _options_anywhere(child)


def _suppressed_copy(action: argparse.Action) -> argparse.Action:
    import copy

    clone = copy.copy(action)
    clone.default = argparse.SUPPRESS
    clone.required = False
    return clone


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's to fix: a message, never a traceback."""
    import httpx

    from lfr_ledger.api.preflight import PreflightError
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.matching.engines.model_packs import ModelPackError

    return (DomainError, ModelPackError, OSError, ValueError, httpx.HTTPError, PreflightError)


def main(argv: list[str] | None = None) -> int:
    from lfr_ledger.api.cli.option_order import parse

    args = parse(build_parser(), sys.argv[1:] if argv is None else argv)
    try:
        from lfr_ledger.api.preflight import before_command

        before_command(args)
        code: int = args.handler(args)
    except BrokenPipeError:
        # The reader (`head`, a closed pager) stopped listening: nothing is wrong.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if not isinstance(error, _user_errors()) or os.environ.get("LFR_DEBUG"):
            raise
        print(f"lfr {args.command}: {error}", file=sys.stderr)
        if not getattr(error, "one_line", False):  # a pre-flight's line says all there is
            print("(LFR_DEBUG=1 shows where it happened)", file=sys.stderr)
        return EXIT_ERROR
    return code


if __name__ == "__main__":
    sys.exit(main())
