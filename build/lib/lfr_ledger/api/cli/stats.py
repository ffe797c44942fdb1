"""`lfr stats deployment|operation|scores|publication`: statistics and publication records
from the read models (no personal data). The views are caught up first unless told not to."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from uuid import UUID

import msgspec


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="statistics per deployment and operation; publication records",
        description="Counts are exact; rates are derived from them. No personal data is shown.",
    )
    actions = parser.add_subparsers(dest="stats_action", required=True, metavar="ACTION")

    def add(name: str, help_text: str, handler: Any, *, with_id: bool = True) -> None:
        action = actions.add_parser(name, help=help_text)
        if with_id:
            action.add_argument("id", type=UUID, help=f"the {name}'s id")
        action.add_argument("--json", action="store_true", help="print machine-readable JSON")
        action.add_argument(
            "--no-catch-up",
            dest="catch_up",
            action="store_false",
            help="read the views as they are, without applying pending events first",
        )
        action.set_defaults(handler=handler)

    add("deployment", "one deployment's summary", deployment_command)
    add("operation", "one operation's summary across its deployments", operation_command)
    add("scores", "a deployment's score distribution and threshold sensitivity", scores_command)
    add(
        "publication",
        "the per-deployment publication record (CSV by default)",
        publication_command,
        with_id=False,
    )


def _reader(args: argparse.Namespace) -> Any:
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.projections.queries import StatisticsReader
    from lfr_ledger.projections.runner import catch_up

    settings = Settings.from_env()
    if args.catch_up:
        catch_up(settings)
    return StatisticsReader(settings)


def _print_json(value: Any) -> None:
    json.dump(msgspec.to_builtins(value), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _not_found(what: str, ident: UUID) -> int:
    print(f"error: no {what} with id {ident} in the statistics", file=sys.stderr)
    return 1


def deployment_command(args: argparse.Namespace) -> int:
    from lfr_ledger.projections.report import deployment_text

    summary = _reader(args).deployment_summary(args.id)
    if summary is None:
        return _not_found("deployment", args.id)
    if args.json:
        _print_json(summary)
    else:
        print(deployment_text(msgspec.to_builtins(summary)))
    return 0


def operation_command(args: argparse.Namespace) -> int:
    from lfr_ledger.projections.report import operation_text

    summary = _reader(args).operation_summary(args.id)
    if summary is None:
        return _not_found("operation", args.id)
    if args.json:
        _print_json(summary)
    else:
        print(operation_text(msgspec.to_builtins(summary)))
    return 0


def scores_command(args: argparse.Namespace) -> int:
    from lfr_ledger.projections.report import table

    reader = _reader(args)
    distribution = reader.score_distribution(args.id)
    sensitivity = reader.threshold_sensitivity(args.id)
    if distribution is None or sensitivity is None:
        return _not_found("deployment", args.id)
    if args.json:
        _print_json({"distribution": distribution, "sensitivity": sensitivity})
        return 0
    print(f"Similarity scores, deployment {args.id} (threshold {distribution.threshold})")
    print(
        table(
            ("score from", "to", "alerts", "true", "false", "inconcl.", "pending"),
            [
                (
                    b.lower,
                    b.upper,
                    b.alerts,
                    b.true_alerts,
                    b.false_alerts,
                    b.inconclusive,
                    b.unadjudicated,
                )
                for b in distribution.bins
            ],
        )
    )
    print("\nHad the threshold been higher")
    print(
        table(
            ("threshold", "alerts", "true", "false", "arrests", "true lost", "false avoided"),
            [
                (
                    r.threshold,
                    r.alerts,
                    r.true_alerts,
                    r.false_alerts,
                    r.arrests,
                    r.true_alerts_lost,
                    r.false_alerts_avoided,
                )
                for r in sensitivity.rows
            ],
        )
    )
    return 0


def publication_command(args: argparse.Namespace) -> int:
    reader = _reader(args)
    if args.json:
        _print_json(reader.publication_records())
    else:
        sys.stdout.write(reader.publication_csv())
    return 0
