"""`lfr complaints record|list|resolve`: complaints about a deployment, as `POST /complaints`,
`GET /deployments/{id}/complaints` and `POST /complaints/{id}/resolution`. An authorising
officer records and resolves them; listing opens their summaries (personal data), so it goes
through the query layer and is logged as a consultation, like the HTTP read.

Exit codes: 0 done; 2 refused (the reason on stderr; nothing was written).
"""

from __future__ import annotations

import argparse
import getpass
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from lfr_ledger.api.cli.output import fail, json_flag, plural, print_json

if TYPE_CHECKING:
    from lfr_ledger.domain.actors import Actor

EXIT_OK = 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _body_code(text: str) -> str:
    from lfr_ledger.api.cli.oversight import _body_code as checked

    return checked(text)


def _actor_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor",
        metavar="ID",
        help="the authorising officer acting, as logged (default cli:<login name>)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    parser = subparsers.add_parser(
        "complaints",
        help="complaints about a deployment: record, list (logged), resolve",
        description="An authorising officer records each complaint about a deployment (and, "
        "where it is about one, its alert), and how it was resolved. The post-deployment "
        "review counts them from these records.",
    )
    commands = parser.add_subparsers(dest="complaints_command", required=True, metavar="SUBCOMMAND")

    record = commands.add_parser("record", help="record a complaint about a deployment")
    record.add_argument("--deployment", type=UUID, required=True, metavar="ID")
    record.add_argument(
        "--alert", type=UUID, metavar="ID", help="the deployment's alert it is about"
    )
    record.add_argument(
        "--received-on",
        type=_day,
        required=True,
        metavar="DATE",
        help="YYYY-MM-DD, not after today",
    )
    record.add_argument(
        "--channel", required=True, help="how it reached the force (the policy's closed list)"
    )
    record.add_argument(
        "--summary", required=True, help="what it says (sealed in the log: personal data)"
    )
    _actor_option(record)
    json_flag(record)
    record.set_defaults(handler=record_handler)

    listing = commands.add_parser(
        "list", help="a deployment's complaints, summaries opened (the read is logged)"
    )
    listing.add_argument("--deployment", type=UUID, required=True, metavar="ID")
    listing.add_argument(
        "--as",
        dest="role",
        choices=["authorising_officer", "oversight"],
        default="authorising_officer",
        help="the reader's role (default: %(default)s)",
    )
    listing.add_argument(
        "--body",
        type=_body_code,
        metavar="CODE",
        help="for oversight: the body you read for (its grants apply)",
    )
    _actor_option(listing)
    json_flag(listing)
    listing.set_defaults(handler=list_handler)

    resolve = commands.add_parser("resolve", help="record how a complaint was resolved")
    resolve.add_argument("complaint_id", type=UUID, metavar="ID")
    resolve.add_argument("--outcome", required=True, help="what was found and done (sealed)")
    resolve.add_argument(
        "--resolved-on", type=_day, required=True, metavar="DATE", help="YYYY-MM-DD"
    )
    _actor_option(resolve)
    json_flag(resolve)
    resolve.set_defaults(handler=resolve_handler)


def _officer(args: argparse.Namespace) -> Actor:
    from lfr_ledger.domain.actors import Actor, Role

    return Actor(id=args.actor or f"cli:{getpass.getuser()}", role=Role.AUTHORISING_OFFICER)


def record_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.errors import DomainError

    try:
        with _ledger() as ledger:
            complaint_id = ledger.record_complaint(
                _officer(args),
                args.deployment,
                received_on=args.received_on,
                channel=args.channel,
                summary=args.summary,
                alert_id=args.alert,
            )
            number = ledger.complaint(complaint_id).number
    except DomainError as e:
        return fail("complaints record", e.detail)
    if args.json:
        print_json({"id": complaint_id, "deployment_id": args.deployment, "number": number})
    else:
        print(
            f"complaint {complaint_id} recorded (number {number} of deployment {args.deployment})"
        )
    return EXIT_OK


def resolve_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.errors import DomainError

    try:
        with _ledger() as ledger:
            ledger.resolve_complaint(
                _officer(args),
                args.complaint_id,
                outcome=args.outcome,
                resolved_on=args.resolved_on,
            )
    except DomainError as e:
        return fail("complaints resolve", e.detail)
    if args.json:
        print_json({"id": args.complaint_id, "status": "resolved"})
    else:
        print(f"complaint {args.complaint_id} resolved on {args.resolved_on.isoformat()}")
    return EXIT_OK


def list_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _reads
    from lfr_ledger.api.schemas.complaints import ComplaintOut
    from lfr_ledger.domain.actors import Actor, Role
    from lfr_ledger.domain.errors import DomainError

    role = Role(args.role)
    reader = Actor(
        id=args.actor or f"cli:{getpass.getuser()}",
        role=role,
        body=args.body if role == Role.OVERSIGHT else None,
    )
    try:
        with _reads(reader) as reads:
            complaints = [
                ComplaintOut.of(r.complaint, r.revealed) for r in reads.complaints(args.deployment)
            ]
    except DomainError as e:
        return fail("complaints list", e.detail)
    if args.json:
        print_json({"deployment_id": args.deployment, "complaints": complaints})
        return EXIT_OK
    print(f"deployment {args.deployment}: {plural(len(complaints), 'complaint')}")
    for c in complaints:
        state = f"resolved {c.resolved_on}: {c.outcome}" if c.resolved_on else "open"
        alert = f" (alert {c.alert_id})" if c.alert_id else ""
        print(f"{c.number:3d}. {c.received_on} by {c.channel}{alert}: {c.summary}  [{state}]")
    return EXIT_OK
