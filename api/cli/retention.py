"""`lfr retention run [--as-of TIME] [--dry-run] [--json]`: destroy what the policy no longer
lets the system keep, by hand or from cron (`oversight/retention/` decides what is due):
watchlists, alert images, and the access log's own personal content (consultation purposes,
disclosure recipients and records older than `retention.access_log_years`).

Exit codes: 0 done (also when nothing was due), 1 some destruction failed, 2 not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta

from lfr_ledger.api.cli.output import EXIT_ERROR

EXIT_OK = 0
EXIT_FAILED = 1
# An operator's machine clock may differ a little from the server's.
CLOCK_SKEW = timedelta(minutes=5)


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; without a zone it is UTC (retention periods are in UTC)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time, e.g. 2025-07-03T12:00:00+00:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    parser = subparsers.add_parser(
        "retention",
        help="destroy watchlists, alert images and old access-log purposes and recipients the "
        "policy no longer lets us keep",
    )
    commands = parser.add_subparsers(dest="retention_command", required=True, metavar="SUBCOMMAND")
    run = commands.add_parser(
        "run",
        help="destroy everything due now (or as of --as-of); idempotent",
        description="Rules (policy file, [retention]): watchlist_hours_after_end, "
        "alert_image_days (unless under a legal hold, or the evidential hold an outcome in "
        "evidential_hold_on, an arrest by default, places until an AO releases it), "
        "access_log_years (a consultation's "
        "purpose, a disclosure's recipient and record; the record that the access happened "
        "stays). Each destruction is recorded as an event naming its rule before the key is "
        "shredded.",
    )
    run.add_argument(
        "--as-of",
        type=parse_time,
        metavar="TIME",
        help="the time to decide at (ISO 8601; default now). Never later than now: retention "
        "must not destroy early",
    )
    run.add_argument("--dry-run", action="store_true", help="say what is due, destroy nothing")
    run.add_argument(
        "--scan",
        action="store_true",
        help="read the whole log instead of the deadline index (slow on a long log; also "
        "repairs keys a crash left behind, however long ago)",
    )
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.set_defaults(handler=run_handler)


def run_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_ledger, build_retention
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.domain.clock import utcnow
    from lfr_ledger.eventlog.checkpoint import sign_if_moved

    now = utcnow()
    as_of: datetime | None = args.as_of
    if as_of is not None and as_of > now + CLOCK_SKEW:
        print(
            f"lfr retention run: --as-of {as_of.isoformat()} is in the future; retention never "
            "destroys data before its time",
            file=sys.stderr,
        )
        return EXIT_ERROR
    settings = Settings.from_env()
    moment = as_of or now
    # The ledger's clock is the stated time, so erasure events record when they were decided.
    ledger = build_ledger(settings, clock=(lambda: moment) if as_of is not None else utcnow)
    try:
        retention = build_retention(
            ledger, settings, after_change=lambda: sign_if_moved(settings), scan=args.scan
        )
        report = retention.run(as_of, dry_run=args.dry_run)
    finally:
        ledger.close()
        close = getattr(ledger.vault, "close", None)
        if callable(close):
            close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        print(report.summary())
    return EXIT_FAILED if report.failures else EXIT_OK
