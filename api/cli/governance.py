"""`lfr governance register|list|withdraw`: the register of governance documents from the
command line, as `POST /governance/documents`, `GET /governance/documents` and
`POST /governance/documents/{id}/withdrawal` keep and read it. Exit codes: 0 done, 2 refused
or could not run."""

from __future__ import annotations

import argparse
import getpass
from datetime import date
from typing import Any
from uuid import UUID

from lfr_ledger.api.cli.output import fail, json_flag, print_json

# The register's kinds (`domain.governance.DOCUMENT_KINDS`), named here so `lfr --help` stays quick.
KINDS = (
    "dpia",
    "eia",
    "appropriate_policy_document",
    "equality_evidence",
    "model_evaluation",
)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "governance",
        help="the register of governance documents: DPIA, EIA, APD, equality evidence",
        description="Each document (a kind and a reference) holds versions, each with its "
        "approval, review and expiry dates; the latest registered is in force. A proposal's "
        "DPIA and EIA and an authority's appropriate policy document must be current here, "
        "and a current equality evidence registered (policy [governance]).",
    )
    commands = parser.add_subparsers(dest="governance_command", required=True, metavar="COMMAND")

    add = commands.add_parser("register", help="register a version of a document")
    add.add_argument("--kind", required=True, choices=KINDS)
    add.add_argument("--reference", required=True, help="as proposals cite it, e.g. DPIA-1")
    add.add_argument("--version", dest="doc_version", required=True, help="e.g. 2.1")
    add.add_argument("--title", required=True)
    add.add_argument("--approved-on", required=True, type=_day, metavar="DATE")
    add.add_argument("--review-by", required=True, type=_day, metavar="DATE")
    add.add_argument("--expires-on", type=_day, metavar="DATE")
    add.add_argument(
        "--approved-by", help="the office or board that approved it (default: who registers)"
    )
    add.add_argument("--model-id", help="for a model evaluation: the model evaluated")
    add.add_argument("--digest", help="for a model evaluation: the digest of what was evaluated")
    _registrar_options(add)
    json_flag(add)
    add.set_defaults(handler=register_handler)

    listing = commands.add_parser("list", help="the register: where each document stands now")
    listing.add_argument("--kind", choices=KINDS, help="only documents of this kind")
    json_flag(listing)
    listing.set_defaults(handler=list_handler)

    withdraw = commands.add_parser("withdraw", help="withdraw a document now")
    withdraw.add_argument("document_id", type=UUID, metavar="DOCUMENT_ID")
    withdraw.add_argument("--reason", required=True, help="why")
    _registrar_options(withdraw)
    json_flag(withdraw)
    withdraw.set_defaults(handler=withdraw_handler)


def _registrar_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor", metavar="ID", help="who registers, as logged (default cli:<login name>)"
    )
    parser.add_argument(
        "--as",
        dest="role",
        choices=["admin", "authorising_officer"],
        default="admin",
        help="the role of the one who registers or withdraws (default: %(default)s)",
    )


def _registrar(args: argparse.Namespace) -> Any:
    from lfr_ledger.domain.actors import Actor, Role

    return Actor(id=args.actor or f"cli:{getpass.getuser()}", role=Role(args.role))


def register_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.errors import DomainError

    try:
        with _ledger() as ledger:
            document_id = ledger.register_document(
                _registrar(args),
                kind=args.kind,
                reference=args.reference,
                version=args.doc_version,
                title=args.title,
                approved_on=args.approved_on,
                review_by=args.review_by,
                expires_on=args.expires_on,
                model_id=args.model_id,
                digest=args.digest,
                approved_by=args.approved_by,
            )
            standing = ledger.governance_document(document_id).standing_at(ledger.clock())
    except DomainError as e:
        return fail("governance register", e.detail)
    if args.json:
        print_json({"document_id": document_id, "standing": standing})
    else:
        print(
            f"{args.kind} {args.reference.strip()} version {args.doc_version.strip()} "
            f"registered ({document_id}): {standing}"
        )
    return 0


def list_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.api.schemas.governance import DocumentOut
    from lfr_ledger.domain.errors import DomainError

    try:
        with _ledger() as ledger:
            now = ledger.clock()
            documents = [DocumentOut.of(d, now) for d in ledger.documents(args.kind)]
    except DomainError as e:
        return fail("governance list", e.detail)
    if args.json:
        print_json({"at": now, "documents": documents})
        return 0
    for d in documents:
        review = d.review_by.isoformat() if d.review_by else "-"
        print(
            f"{d.id}  {d.kind:28} {d.reference:20} v{d.latest_version or '-':8} "
            f"{d.standing:16} review by {review}"
        )
    return 0


def withdraw_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.errors import DomainError

    try:
        with _ledger() as ledger:
            ledger.withdraw_document(_registrar(args), args.document_id, reason=args.reason)
    except DomainError as e:
        return fail("governance withdraw", e.detail)
    if args.json:
        print_json({"document_id": args.document_id, "status": "withdrawn"})
    else:
        print(f"document {args.document_id} withdrawn")
    return 0
