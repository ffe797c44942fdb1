"""`lfr projections status|rebuild|catch-up|run`: the read models' progress through the log."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from typing import Any

from lfr_ledger.api.cli.output import json_flag, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "projections",
        help="read-model status, catch-up, rebuild and the polling runner",
        description="Read models follow the event log exactly once: each view applies every "
        "event in order and records its position in the same transaction. `status` shows where "
        "each view stands and what it skipped.",
    )
    actions = parser.add_subparsers(dest="projections_action", required=True, metavar="ACTION")

    status = actions.add_parser("status", help="each view's position in the log and its lag")
    status.add_argument("--json", action="store_true", help="print machine-readable JSON")
    status.set_defaults(handler=status_command)

    rebuild = actions.add_parser("rebuild", help="empty a view (or all) and replay from zero")
    rebuild.add_argument("name", nargs="?", default=None, help="view name (default: every view)")
    json_flag(rebuild)
    rebuild.set_defaults(handler=rebuild_command)

    catch_up = actions.add_parser("catch-up", help="apply every pending event, then exit")
    json_flag(catch_up)
    catch_up.set_defaults(handler=catch_up_command)

    run = actions.add_parser("run", help="poll the log and keep the views current until stopped")
    run.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    run.set_defaults(handler=run_command)


def _settings() -> Any:
    from lfr_ledger.config.settings import Settings

    return Settings.from_env()


def status_command(args: argparse.Namespace) -> int:
    from lfr_ledger.projections.catch_up import status
    from lfr_ledger.projections.report import status_text

    views = status(_settings())
    if args.json:
        json.dump(views, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(status_text(views))
    return 0


def rebuild_command(args: argparse.Namespace) -> int:
    from lfr_ledger.projections.catch_up import rebuild
    from lfr_ledger.projections.registry import VIEW_NAMES

    if args.name is not None and args.name not in VIEW_NAMES:
        print(
            f"error: no projection named {args.name!r}; known: {', '.join(VIEW_NAMES)}",
            file=sys.stderr,
        )
        return 2
    replayed = rebuild(_settings(), args.name)
    if args.json:
        print_json({"view": args.name, "events": replayed})
    else:
        print(f"rebuilt {args.name or 'every view'} from {replayed:,} events")
    return 0


def catch_up_command(args: argparse.Namespace) -> int:
    from lfr_ledger.projections.catch_up import catch_up

    applied = catch_up(_settings())
    if args.json:
        print_json({"events": applied})
    else:
        print(f"applied {applied:,} events")
    return 0


def run_command(args: argparse.Namespace) -> int:
    from lfr_ledger.projections.catch_up import ProjectionRunner

    runner = ProjectionRunner(_settings(), interval=args.interval)

    def stop(signum: int, frame: Any) -> None:
        runner.stop(timeout=0)

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt):
        runner.run()
    print(f"applied {runner.applied:,} events")
    return 0
