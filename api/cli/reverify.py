"""`lfr audit reverify`: one slice of the rolling re-verification by hand (what `lfr serve` runs
every minute), for cron beside a server that does not run it, and for tests.

Exit codes: 0 the log is intact as far as the passes went, 1 the last finished pass stopped at
a tampered row (the alarm stands until a pass finds none), 2 the check could not be run.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from lfr_ledger.api.cli.output import EXIT_ERROR, json_flag, note, print_json

if TYPE_CHECKING:
    from lfr_ledger.eventlog.rolling import RollingState, SliceResult

EXIT_OK = 0
EXIT_TAMPERED = 1


def _events(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of events, not {text!r}") from None
    if not 0 < value <= 100_000_000:
        raise argparse.ArgumentTypeError("between 1 and 100,000,000 events")
    return value


def register_reverify(audit_subparsers: Any) -> None:
    reverify = audit_subparsers.add_parser(
        "reverify",
        help="re-hash the next slice of the rolling re-verification (what `lfr serve` runs "
        "every minute) and say where the pass stands; exit 1 while its last finished pass "
        "stands stopped at a tampered row",
    )
    reverify.add_argument(
        "--events",
        type=_events,
        metavar="N",
        help="how many ids this slice covers (default: as the server sizes it, to cover the "
        "log within LFR_REVERIFY_PERIOD_HOURS, at most LFR_REVERIFY_MAX_EVENTS_PER_MINUTE)",
    )
    reverify.add_argument(
        "--table",
        metavar="NAME",
        help="events table, when one PostgreSQL schema holds several chained applications",
    )
    json_flag(reverify)
    reverify.set_defaults(handler=cmd_reverify)


def cmd_reverify(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.api.reverify import JOB_ID, reverify_step
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.projections.alone import run_alone
    from lfr_ledger.projections.reverification import load_rolling

    done: list[SliceResult | None] = []
    try:
        settings = Settings.from_env()
        ran = run_alone(
            settings,
            JOB_ID,
            lambda: done.append(
                reverify_step(
                    settings,
                    lambda: build_ledger(settings),
                    events=args.events,
                    events_table=args.table,
                )
            ),
        )
        state = load_rolling(settings, args.table)
    except (ValueError, OSError) as e:
        print(f"lfr audit reverify: {e}", file=sys.stderr)
        return EXIT_ERROR
    result = done[0] if done else None
    if not ran:
        note("another node is running the rolling re-verification: nothing done here")
    elif result is None:
        note("nothing re-hashed (no events yet, or another runner recorded this slice)")
    if args.json:
        span = result.rehashed if result is not None else None
        print_json(
            {
                "rehashed_from": span[0] if span else None,
                "rehashed_to": span[1] if span else None,
                "completed": bool(result and result.completed),
                "ok": state is None or state.first_bad_id is None,
                "state": state.to_dict() if state is not None else None,
            }
        )
    else:
        for line in _lines(result, state):
            print(line)
    return EXIT_OK if state is None or state.first_bad_id is None else EXIT_TAMPERED


def _lines(result: SliceResult | None, state: RollingState | None) -> list[str]:
    lines = []
    if result is not None and result.rehashed is not None:
        first, last = result.rehashed
        lines.append(f"re-hashed events {first}–{last}")
    done = state.finished if state is not None else None
    if done is not None and not done.ok:
        lines.append(
            f"TAMPERED: first bad notification id {done.first_bad_id} ({done.reason}), found by "
            f"the rolling re-verification at {done.finished_at.isoformat(timespec='seconds')}"
        )
    if state is not None:
        lines.append(f"verified: {state.verified()}")
        if state.anchor_id:
            lines.append(state.progress())
    return lines
