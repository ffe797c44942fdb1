"""`lfr stats deployment|operation|scores|publication|period`: statistics and publication
records from the read models (no personal data). The views are caught up first unless told
not to. Alerts on blue (test-subject) entries count in no operational figure; each summary
reports them apart, with the true-positive identification rate."""

from __future__ import annotations

import argparse
import sys
from typing import Any
from uuid import UUID

import msgspec

from lfr_ledger.api.cli.output import print_json
from lfr_ledger.api.cli.retention import parse_time


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="statistics per deployment and operation; publication records",
        description="Counts are exact; rates are derived from them. No personal data is shown. "
        "Hours live are the sum of started..ended minus paused intervals; alerts on blue "
        "(test-subject) entries are kept out of every operational figure and reported apart "
        "(true-positive identification rate = walk-pasts identified / walk-pasts recorded).",
    )
    actions = parser.add_subparsers(dest="stats_action", required=True, metavar="ACTION")

    def add(
        name: str, help_text: str, handler: Any, *, id_of: str | None = None
    ) -> argparse.ArgumentParser:
        action = actions.add_parser(name, help=help_text)
        if id_of:
            action.add_argument("id", type=UUID, help=f"the {id_of}'s id")
        action.add_argument("--json", action="store_true", help="print machine-readable JSON")
        action.add_argument(
            "--no-catch-up",
            dest="catch_up",
            action="store_false",
            help="read the views as they are, without applying pending events first",
        )
        action.set_defaults(handler=handler)
        return action

    add("deployment", "one deployment's summary", deployment_command, id_of="deployment")
    add(
        "operation",
        "one operation's summary across its deployments",
        operation_command,
        id_of="operation",
    )
    add(
        "scores",
        "a deployment's score distribution and threshold sensitivity",
        scores_command,
        id_of="deployment",
    )
    publication = add(
        "publication",
        "the per-deployment publication record (CSV by default), of every deployment or of "
        "those that went live in a period (--from and --to, or --year, or --month)",
        publication_command,
    )
    period_arguments(publication)
    period = actions.add_parser(
        "period",
        help="figures across operations over a period (annual or monthly report)",
        description="Every deployment that went live in the period (UTC dates, both "
        "inclusive): deployments, hours live, faces (as reported by the matcher), alerts, "
        "matches, false alerts, arrests, compliance checks, mutual-aid count, per month. "
        "Give --from and --to, or --year, or --month.",
    )
    period_arguments(period)
    period.add_argument("--json", action="store_true", help="print machine-readable JSON")
    period.add_argument(
        "--no-catch-up",
        dest="catch_up",
        action="store_false",
        help="read the views as they are, without applying pending events first",
    )
    period.set_defaults(handler=period_command)

    trend = actions.add_parser(
        "equality-trend",
        help="the equality trend alarm (oversight: needs --purpose; the read is logged)",
        description="Each perceived group's share of false alerts over the last window against "
        "the window before (or its share of all alerts when the window before had too few "
        "false alerts); an alarm when it rose by the policy's [equality] trend_alarm_ratio. "
        "Groups with fewer false alerts than minimum_cell_size are not judged. Blue "
        "(test-subject) alerts are left out. As GET /oversight/equality/trend.",
    )
    trend.add_argument("--purpose", required=True, help="why oversight reads it (logged)")
    trend.add_argument("--to", dest="end", type=parse_time, metavar="TIME",
                       help="end of the last window (ISO 8601; default now)")  # fmt: skip
    trend.add_argument("--window-days", type=int, metavar="N",
                       help="window length (default: the policy's trend_window_days)")  # fmt: skip
    trend.add_argument("--deployment", type=UUID, metavar="ID", help="one deployment only")
    trend.add_argument("--actor", metavar="ID", help="who is acting, as logged")
    trend.add_argument("--json", action="store_true", help="print machine-readable JSON")
    trend.set_defaults(handler=trend_command)


def _reader(args: argparse.Namespace) -> Any:
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.projections.catch_up import catch_up
    from lfr_ledger.projections.readers.statistics import StatisticsReader

    settings = Settings.from_env()
    if args.catch_up:
        catch_up(settings)
    return StatisticsReader(settings)


def _not_found(what: str, ident: UUID) -> int:
    print(f"error: no {what} with id {ident} in the statistics", file=sys.stderr)
    return 1


def deployment_command(args: argparse.Namespace) -> int:
    from lfr_ledger.projections.report import deployment_text

    summary = _reader(args).deployment_summary(args.id)
    if summary is None:
        return _not_found("deployment", args.id)
    if args.json:
        print_json(summary)
    else:
        print(deployment_text(msgspec.to_builtins(summary)))
    return 0


def operation_command(args: argparse.Namespace) -> int:
    from lfr_ledger.projections.report import operation_text

    summary = _reader(args).operation_summary(args.id)
    if summary is None:
        return _not_found("operation", args.id)
    if args.json:
        print_json(summary)
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
        print_json({"distribution": distribution, "sensitivity": sensitivity})
        return 0
    print(f"Similarity scores, deployment {args.id} (threshold {distribution.threshold})")
    print(
        table(
            ("score from", "to", "alerts", "true", "false", "inconcl.", "unadjud."),
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


def period_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day")
    parser.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (inclusive)")
    parser.add_argument("--year", type=int, metavar="YYYY", help="a calendar year")
    parser.add_argument("--month", metavar="YYYY-MM", help="a calendar month")


def publication_command(args: argparse.Namespace) -> int:
    from lfr_ledger.domain.errors import InvalidInput
    from lfr_ledger.projections.readers.periods import period_bounds

    period = None
    if any(x is not None for x in (args.start, args.end, args.year, args.month)):
        try:
            period = period_bounds(args.start, args.end, year=args.year, month=args.month)
        except InvalidInput as bad:
            print(f"error: {bad.detail}", file=sys.stderr)
            return 2
    reader = _reader(args)
    if args.json:
        print_json(reader.publication_records(period))
    else:
        sys.stdout.write(reader.publication_csv(period))
    return 0


def period_command(args: argparse.Namespace) -> int:
    from lfr_ledger.domain.errors import InvalidInput
    from lfr_ledger.projections.readers.periods import period_bounds
    from lfr_ledger.projections.report import period_text

    try:
        start, end = period_bounds(args.start, args.end, year=args.year, month=args.month)
    except InvalidInput as bad:
        print(f"error: {bad.detail}", file=sys.stderr)
        return 2
    figures = _reader(args).period_figures(start, end)
    if args.json:
        print_json(figures)
    else:
        print(period_text(msgspec.to_builtins(figures)))
    return 0


def trend_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _oversight_actor, _reads
    from lfr_ledger.domain.errors import DomainError

    if not args.purpose.strip():
        print("error: --purpose must say why: the read is logged", file=sys.stderr)
        return 2
    if args.window_days is not None and not 1 <= args.window_days <= 366:
        print("error: --window-days must lie in 1..366", file=sys.stderr)
        return 2
    try:
        with _reads(_oversight_actor(args)) as reads:
            trend = reads.equality_trend(
                purpose=args.purpose,
                end=args.end,
                window_days=args.window_days,
                deployment_id=args.deployment,
            )
    except DomainError as e:
        print(f"error: {e.detail}", file=sys.stderr)
        return 2
    if args.json:
        print_json(trend.to_dict())
        return 0
    print(f"{'ALARM' if trend.alarm else 'no alarm'}: {trend.rule}")
    for line in trend.alarms:
        print(f"  {line}")
    from lfr_ledger.projections.report import table

    for t in trend.tables:
        print(f"\n{t.field} (baseline: {t.baseline})")
        print(
            table(
                ("group", "false", "before", "alerts", "share", "baseline", "ratio", "alarm"),
                [
                    (
                        g.value,
                        g.false_alerts,
                        g.false_alerts_before,
                        g.alerts,
                        g.share,
                        g.baseline_share,
                        g.ratio,
                        "ALARM" if g.alarm else ("small" if g.suppressed else ""),
                    )
                    for g in t.groups
                ],
            )
        )
    return 0
