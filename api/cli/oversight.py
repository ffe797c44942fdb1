"""Oversight from the command line: `lfr subject-access`, `lfr equality`, `lfr access-review`,
`lfr disclose` (log a disclosure made outside the system), and the handlers of
`lfr audit export` / `lfr audit verify-bundle` (registered by `api/cli/audit.py` through
`register_audit_subcommands`).

Every command that reads personal data logs the read (a consultation, with the stated purpose);
every command that writes personal data out of the system logs a disclosure (recipient, what).

Exit codes: 0 done (a bundle verified), 1 a bundle is tampered, 2 the command could not run.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lfr_ledger.api.cli.output import fail, json_flag, print_json
from lfr_ledger.api.cli.retention import parse_time
from lfr_ledger.api.cli.verify_bundle import register_verify_bundle

if TYPE_CHECKING:
    from lfr_ledger.api.personal_data import PersonalData
    from lfr_ledger.domain.actors import Actor
    from lfr_ledger.domain.application import CaseLedger

EXIT_OK = 0
EXIT_TAMPERED = 1


def _actor_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor",
        metavar="ID",
        help="who is acting, as logged (staff or body id; default cli:<login name>)",
    )


def _body_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--body",
        type=_body_code,
        metavar="CODE",
        help="the oversight body you read for (e.g. ICO): the read is held to its grants",
    )


def _body_code(text: str) -> str:
    from lfr_ledger.domain.errors import InvalidInput
    from lfr_ledger.domain.oversight_grant import body_code

    try:
        return body_code(text, "--body")
    except InvalidInput as e:
        raise argparse.ArgumentTypeError(e.detail) from None


def _period_options(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument(
        "--from", dest="start", type=parse_time, required=required, metavar="TIME",
        help="start of the period (ISO 8601, inclusive)",
    )  # fmt: skip
    parser.add_argument(
        "--to", dest="end", type=parse_time, required=required, metavar="TIME",
        help="end of the period (ISO 8601, exclusive)",
    )  # fmt: skip


def _oversight_actor(args: argparse.Namespace) -> Actor:
    from lfr_ledger.domain.actors import Actor, Role

    return Actor(
        id=args.actor or f"cli:{getpass.getuser()}",
        role=Role.OVERSIGHT,
        body=getattr(args, "body", None),  # checked and upper-cased by `_body_code`
    )


@contextmanager
def _reads(actor: Actor) -> Iterator[PersonalData]:
    """`actor`'s reads of personal data, each logged as a consultation (`api/personal_data`)."""
    from lfr_ledger.api.personal_data import PersonalData
    from lfr_ledger.config.settings import Settings

    with _ledger() as ledger:
        yield PersonalData(ledger, actor, settings=Settings.from_env())


@contextmanager
def _ledger() -> Iterator[CaseLedger]:
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.config.settings import Settings

    ledger = build_ledger(Settings.from_env())
    try:
        yield ledger
    finally:
        ledger.close()
        close = getattr(ledger.vault, "close", None)
        if callable(close):
            close()


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    sar = subparsers.add_parser(
        "subject-access",
        help="was a person on a watchlist or in an alert during a period (logged read)",
    )
    sar.add_argument("--subject", required=True, metavar="REF", help="the subject reference")
    _period_options(sar, required=True)
    sar.add_argument("--purpose", required=True, help="why you read it (logged)")
    sar.add_argument(
        "--out", type=Path, metavar="DIR", help="write the answer and images for the requester"
    )
    sar.add_argument("--recipient", help="who receives the --out export (logged disclosure)")
    sar.add_argument(
        "--legal-basis",
        default="DPA 2018 s.45 (right of access)",
        help="legal basis of the disclosure (default: %(default)s)",
    )
    sar.add_argument("--json", action="store_true", help="print the answer as JSON")
    sar.add_argument(
        "--scan",
        action="store_true",
        help="read the whole log instead of the subject index (slow on a long log)",
    )
    _actor_option(sar)
    _body_option(sar)
    sar.set_defaults(handler=subject_access_handler)

    equality = subparsers.add_parser(
        "equality", help="alerts, false alerts and engagements by perceived group"
    )
    equality.add_argument("--deployment", type=UUID, metavar="ID", help="one deployment only")
    _period_options(equality)
    equality.add_argument(
        "--audience",
        choices=["analyst", "oversight"],
        default="analyst",
        help="analyst: small cells suppressed; oversight: every count and the 95%% intervals "
        "(needs --purpose; logged)",
    )
    equality.add_argument("--purpose", help="why oversight reads the full table (logged)")
    equality.add_argument("--json", action="store_true", help="print the tables as JSON")
    _actor_option(equality)
    _body_option(equality)
    equality.set_defaults(handler=equality_handler)

    review = subparsers.add_parser(
        "access-review", help="who consulted or disclosed which records, and when"
    )
    review.add_argument("--by", dest="by_actor", metavar="ID", help="only this actor's accesses")
    review.add_argument(
        "--by-body",
        type=_body_code,
        metavar="CODE",
        help="only the accesses of readers acting for this body",
    )
    review.add_argument("--record", metavar="TEXT", help="only records naming this (e.g. an id)")
    _period_options(review)
    review.add_argument("--after", type=int, default=0, help="continue after this notification")
    review.add_argument("--limit", type=int, default=500, help="at most this many (default 500)")
    review.add_argument("--json", action="store_true", help="print the records as JSON")
    _actor_option(review)
    _body_option(review)
    review.set_defaults(handler=access_review_handler)

    disclose = subparsers.add_parser(
        "disclose",
        help="log a disclosure of personal data made outside the system (recipient sealed)",
        description="Records who received which record and on which legal basis (DPA 2018 "
        "s.62), as POST /oversight/disclosures does. The recipient and the record are sealed "
        "under the disclosure's own key and destroyed after retention.access_log_years.",
    )
    disclose.add_argument("--recipient", required=True, help="who received it")
    disclose.add_argument("--record", required=True, help="what was disclosed (e.g. alert:<id>)")
    disclose.add_argument("--legal-basis", required=True, help="why it was lawful to disclose")
    disclose.add_argument(
        "--as",
        dest="role",
        choices=["oversight", "authorising_officer"],
        default="oversight",
        help="the role of the one who disclosed (default: %(default)s)",
    )
    _actor_option(disclose)
    json_flag(disclose)
    disclose.set_defaults(handler=disclose_handler)


def register_audit_subcommands(audit_subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Adds `export` and `verify-bundle` to `lfr audit`."""
    export = audit_subparsers.add_parser(
        "export", help="write a signed oversight bundle (logged as a disclosure)"
    )
    scope = export.add_mutually_exclusive_group(required=True)
    scope.add_argument("--deployment", type=UUID, metavar="ID", help="one deployment's events")
    scope.add_argument("--all", action="store_true", help="the whole event log")
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="new directory")
    export.add_argument(
        "--recipient", required=True, help="who receives the bundle (e.g. ICO, PCC panel)"
    )
    export.add_argument(
        "--legal-basis",
        default="oversight of law enforcement processing (DPA 2018 Part 3)",
        help="legal basis of the disclosure (default: %(default)s)",
    )
    export.add_argument(
        "--purpose",
        help="why the log is read for it (logged; default: the recipient and legal basis)",
    )
    export.add_argument(
        "--table", metavar="NAME", help="events table, when one schema holds several ledgers"
    )
    _actor_option(export)
    _body_option(export)
    json_flag(export)
    export.set_defaults(handler=export_handler)

    register_verify_bundle(audit_subparsers)


# --- audit export ----------------------------------------------------------------------------


def export_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.eventlog.checkpoint_signature import CheckpointError
    from lfr_ledger.oversight.bundles.format import BundleError

    try:
        with _reads(_oversight_actor(args)) as reads:
            manifest = reads.bundle(
                args.out,
                purpose=args.purpose or f"disclosure to {args.recipient}: {args.legal_basis}",
                recipient=args.recipient,
                legal_basis=args.legal_basis,
                deployment_id=None if args.all else args.deployment,
                events_table=args.table,
            )
    except CheckpointError as e:
        print(f"lfr audit export: {e}", file=sys.stderr)
        return EXIT_TAMPERED
    except (BundleError, DomainError, ValueError, OSError) as e:
        return fail("audit export", str(e))
    if args.json:
        print_json(manifest)
        return EXIT_OK
    print(
        f"bundle {args.out}: {manifest['events']} events, {manifest['links']} chain links up to "
        f"id {manifest['last_id']} (head {manifest['head']}); disclosure "
        f"{manifest['disclosure_id']} to {manifest['recipient']} recorded"
    )
    return EXIT_OK


# --- subject access, equality, access review ----------------------------------------------------


def subject_access_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_subject_index
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.domain.errors import DomainError

    if args.out is not None and not args.recipient:
        return fail("subject-access", "--out needs --recipient: the export is a disclosure")
    if args.end <= args.start:
        return fail("subject-access", "--to must be after --from")
    try:
        with _reads(_oversight_actor(args)) as reads:
            report = reads.subject_access(
                args.subject,
                start=args.start,
                end=args.end,
                purpose=args.purpose,
                index=None if args.scan else build_subject_index(Settings.from_env()),
            )
            written: list[Path] = []
            if args.out is not None:
                written = reads.subject_access_export(
                    report, args.out, recipient=args.recipient, legal_basis=args.legal_basis
                )
    except (DomainError, OSError) as e:
        return fail("subject-access", str(e))
    if args.json:
        print_json(report.to_dict())
    else:
        print(_describe_subject_access(report.to_dict()))
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _describe_subject_access(data: dict[str, Any]) -> str:
    lines = [
        f"subject {data['subject_digest'][:12]}… from {data['period_start']} to "
        f"{data['period_end']}: on a watchlist: {'yes' if data['on_watchlist'] else 'no'}; "
        f"in an alert: {'yes' if data['in_alert'] else 'no'}"
    ]
    for entry in data["entries"]:
        lines.append(
            f"  entry {entry['entry_id']} ({entry['status']}), deployment "
            f"{entry['deployment_id']} at {entry['location']}, {entry['window_start']} to "
            f"{entry['window_end']}; category {entry['category']}; name {entry['name']}"
        )
        for alert in entry["alerts"]:
            outcomes = ", ".join(alert["outcomes"]) or "none"
            lines.append(
                f"    alert {alert['alert_id']} at {alert['captured_at']}: decision "
                f"{alert['decision']}, confirmed {alert['confirmed']}, outcomes {outcomes}, "
                f"image {alert['image']}"
            )
    return "\n".join(lines)


def equality_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.personal_data import Audience
    from lfr_ledger.domain.actors import Actor, Role
    from lfr_ledger.domain.errors import DomainError

    audience = Audience(args.audience)
    if audience == Audience.OVERSIGHT and not (args.purpose or "").strip():
        return fail("equality", "the oversight view needs --purpose: the read is logged")
    reader = (
        _oversight_actor(args)
        if audience == Audience.OVERSIGHT
        else Actor(id=args.actor or f"cli:{getpass.getuser()}", role=Role.ANALYST)
    )
    try:
        with _reads(reader) as reads:
            report = reads.equality(
                audience=audience,
                purpose=args.purpose,
                deployment_id=args.deployment,
                start=args.start,
                end=args.end,
            )
    except DomainError as e:
        return fail("equality", str(e))
    if args.json:
        print_json(report.to_dict())
        return EXIT_OK
    withheld = f"<{report.minimum_cell_size}"
    print(
        f"equality monitoring ({report.audience}): "
        f"{report.alerts_with_characteristics if report.alerts_with_characteristics is not None else withheld} "  # noqa: E501
        "alerts with perceived characteristics"
    )
    for table in report.tables:
        print(f"\n{table.field}")
        for g in table.groups:

            def show(v: int | None) -> str:
                return withheld if v is None else str(v)

            line = (
                f"  {g.value:14} alerts {show(g.alerts):>5}  engaged {show(g.engagements):>5}  "
                f"false {show(g.false_alerts):>5}"
            )
            if g.false_alert_rate is not None and g.ci_low is not None and g.ci_high is not None:
                line += (
                    f"  false-alert rate {g.false_alert_rate:.1%} "
                    f"(95% CI {g.ci_low:.1%}–{g.ci_high:.1%})"
                )
            print(line)
    return EXIT_OK


def access_review_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.domain.errors import DomainError

    try:
        with _reads(_oversight_actor(args)) as reads:
            review = reads.access_review(
                actor_id=args.by_actor,
                body=args.by_body,
                record=args.record,
                start=args.start,
                end=args.end,
                after=args.after,
                limit=args.limit,
            )
    except DomainError as e:
        return fail("access-review", str(e))
    if args.json:
        print_json(review.to_dict())
        return EXIT_OK
    for r in review.records:
        what = f"purpose: {r.purpose}" if r.kind == "consultation" else f"to {r.recipient}"
        print(f"{r.occurred_at.isoformat()}  {r.kind:12} {r.actor_id:16} {r.record}  ({what})")
    if review.next_after is not None:
        print(f"… more: --after {review.next_after}")
    return EXIT_OK


def disclose_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.domain.actors import Actor, Role
    from lfr_ledger.domain.errors import DomainError

    actor = Actor(id=args.actor or f"cli:{getpass.getuser()}", role=Role(args.role))
    try:
        with _ledger() as ledger:
            disclosure_id = ledger.record_disclosure(
                actor, recipient=args.recipient, record=args.record, legal_basis=args.legal_basis
            )
    except DomainError as e:
        return fail("disclose", str(e))
    if args.json:
        print_json({"disclosure_id": disclosure_id})
    else:
        print(f"disclosure {disclosure_id} recorded")
    return EXIT_OK
