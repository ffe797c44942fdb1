"""`lfr oversight grant|revoke|grants`: oversight bodies' grants from the command line, as
`POST /oversight/grants`, `POST /oversight/grants/{id}/revocation` and `GET /oversight/grants`
make and list them. Exit codes: 0 done, 2 refused or could not run."""

from __future__ import annotations

import argparse
import getpass
from typing import Any
from uuid import UUID

from lfr_ledger.api.cli.output import fail, json_flag, print_json
from lfr_ledger.api.cli.retention import parse_time


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "oversight",
        help="oversight bodies' grants: which deployments a body may read, until when",
        description="A body's readers (oversight tokens made with `lfr token --role oversight "
        "--body CODE`) read only the deployments a grant in force opens: those of the forces, "
        "operations and period it names (a dimension not given does not limit). A token "
        "naming no body reads everything unless the policy sets [oversight] requires_grant.",
    )
    commands = parser.add_subparsers(dest="oversight_command", required=True, metavar="COMMAND")

    grant = commands.add_parser("grant", help="grant a body a remit until a time")
    grant.add_argument("--body", required=True, metavar="CODE", help="the body's code, e.g. ICO")
    grant.add_argument("--name", required=True, help="the body's name")
    grant.add_argument(
        "--until", required=True, type=parse_time, metavar="TIME", help="when it ends (ISO 8601)"
    )
    grant.add_argument(
        "--force",
        dest="forces",
        action="append",
        default=[],
        metavar="NAME",
        help="a controlling force it may read, as plans name it (repeat for more)",
    )
    grant.add_argument(
        "--operation",
        dest="operations",
        action="append",
        type=UUID,
        default=[],
        metavar="ID",
        help="an operation it may read (repeat for more)",
    )
    grant.add_argument(
        "--from", dest="start", type=parse_time, metavar="TIME",
        help="deployments planned to start at or after this",
    )  # fmt: skip
    grant.add_argument(
        "--to", dest="end", type=parse_time, metavar="TIME",
        help="deployments planned to start before this",
    )  # fmt: skip
    _grantor_options(grant)
    json_flag(grant)
    grant.set_defaults(handler=grant_handler)

    revoke = commands.add_parser("revoke", help="revoke a grant now")
    revoke.add_argument("grant_id", type=UUID, metavar="GRANT_ID")
    revoke.add_argument("--reason", required=True, help="why (institutional: name no person)")
    _grantor_options(revoke)
    json_flag(revoke)
    revoke.set_defaults(handler=revoke_handler)

    listing = commands.add_parser("grants", help="list grants and their status now")
    listing.add_argument("--body", metavar="CODE", help="only this body's grants")
    json_flag(listing)
    listing.set_defaults(handler=grants_handler)


def _grantor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor", metavar="ID", help="who grants, as logged (default cli:<login name>)"
    )
    parser.add_argument(
        "--as",
        dest="role",
        choices=["admin", "authorising_officer"],
        default="admin",
        help="the role of the one who grants or revokes (default: %(default)s)",
    )


def _grantor(args: argparse.Namespace) -> Any:
    from lfr_ledger.domain.actors import Actor, Role

    return Actor(id=args.actor or f"cli:{getpass.getuser()}", role=Role(args.role))


def grant_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.domain.oversight_grant import Remit

    try:
        remit = Remit.checked(
            forces=args.forces,
            operation_ids=args.operations,
            period_from=args.start,
            period_to=args.end,
        )
        with _ledger() as ledger:
            grant_id = ledger.grant_oversight(
                _grantor(args),
                body=args.body,
                body_name=args.name,
                remit=remit,
                valid_until=args.until,
            )
            grant = ledger.oversight_grant(grant_id)
    except DomainError as e:
        return fail("oversight grant", e.detail)
    if args.json:
        print_json({"grant_id": grant_id, "body": grant.body, "remit": grant.remit.describe()})
    else:
        print(
            f"grant {grant_id} to {grant.body}: {grant.remit.describe()}, until "
            f"{grant.valid_until.isoformat()}"
        )
    return 0


def revoke_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.errors import DomainError

    try:
        with _ledger() as ledger:
            ledger.revoke_oversight_grant(_grantor(args), args.grant_id, reason=args.reason)
    except DomainError as e:
        return fail("oversight revoke", e.detail)
    if args.json:
        print_json({"grant_id": args.grant_id, "status": "revoked"})
    else:
        print(f"grant {args.grant_id} revoked")
    return 0


def grants_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.api.schemas.grants import GrantOut
    from lfr_ledger.domain.errors import DomainError

    try:
        with _ledger() as ledger:
            now = ledger.clock()
            grants = [GrantOut.of(g, now) for g in ledger.oversight_grants(args.body)]
    except DomainError as e:
        return fail("oversight grants", e.detail)
    if args.json:
        print_json({"grants": grants})
        return 0
    for g in grants:
        print(
            f"{g.id}  {g.body:12} {g.status:9} until {g.valid_until.isoformat()}  {g.remit}"
            + (f"  (revoked by {g.revoked_by}: {g.revocation_reason})" if g.revoked_by else "")
        )
    return 0
