"""`lfr deployments end-due [--json]`: end every deployment whose window closed or whose urgent
authority lapsed, once (`lfr serve` does it every 30 s; this is for a node that runs jobs from
cron, or to see at once what the server would do).

Exit codes: 0 done (also when nothing was due).
"""

from __future__ import annotations

import argparse
import json

EXIT_OK = 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    parser = subparsers.add_parser(
        "deployments", help="deployment jobs: end those whose window closed or authority lapsed"
    )
    commands = parser.add_subparsers(
        dest="deployments_command", required=True, metavar="SUBCOMMAND"
    )
    end_due = commands.add_parser(
        "end-due",
        help="end every deployment past its window or its urgent-authority deadline",
        description="Each running deployment is asked whether a deadline passed; those that "
        "are due are ended by the ledger (actor system:deadlines), recording the reason and "
        "the alerts still awaiting a decision. Idempotent.",
    )
    end_due.add_argument("--json", action="store_true", help="print the ended ids as JSON")
    end_due.set_defaults(handler=end_due_handler)


def end_due_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.api.deadlines import end_deployments_on_deadline
    from lfr_ledger.config.settings import Settings

    settings = Settings.from_env()
    ledger = build_ledger(settings)
    try:
        ended = end_deployments_on_deadline(ledger, settings)
        reasons = {str(d): str(ledger.deployment(d).end_reason) for d in ended}
    finally:
        ledger.close()
    if args.json:
        print(json.dumps({"ended": reasons}))
    elif not ended:
        print("no deployment was past its deadline")
    else:
        for deployment_id, reason in reasons.items():
            print(f"ended {deployment_id}: {reason}")
    return EXIT_OK
