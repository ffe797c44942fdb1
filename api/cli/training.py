"""`lfr training record|withdraw|list`: operators' and engagement officers' LFR training from the
command line, as `POST /training`, `POST /training/{id}/withdrawal` and `GET /training` record
and list it. Exit codes: 0 done, 2 refused or could not run."""

from __future__ import annotations

import argparse
import getpass
from datetime import date
from typing import Any

from lfr_ledger.api.cli.output import fail, json_flag, print_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "training",
        help="LFR training of operators and engagement officers: record, withdraw, list",
        description="With the policy's [training] required (the default), an operator "
        "adjudicates only with a current course named by `adjudicate` (lfr_operator), and an "
        "engagement officer records engagements and outcomes only with one named by `engage` "
        "(lfr_engagement). A course counts from its completion up to the day before it "
        "expires, unless withdrawn.",
    )
    commands = parser.add_subparsers(dest="training_command", required=True, metavar="COMMAND")

    record = commands.add_parser("record", help="record a course a person completed")
    record.add_argument("person", metavar="STAFF_NUMBER", help="as their token names them")
    record.add_argument("--course", required=True, help="a course the policy names")
    record.add_argument(
        "--completed", required=True, type=date.fromisoformat, metavar="DAY",
        help="the day it was completed (YYYY-MM-DD)",
    )  # fmt: skip
    record.add_argument(
        "--expires", required=True, type=date.fromisoformat, metavar="DAY",
        help="the day it no longer counts (YYYY-MM-DD)",
    )  # fmt: skip
    _recorder_options(record)
    json_flag(record)
    record.set_defaults(handler=record_handler)

    withdraw = commands.add_parser("withdraw", help="withdraw a person's course now")
    withdraw.add_argument("person", metavar="STAFF_NUMBER")
    withdraw.add_argument("--course", required=True, help="the course to withdraw")
    withdraw.add_argument("--reason", required=True, help="why, in training terms")
    _recorder_options(withdraw)
    json_flag(withdraw)
    withdraw.set_defaults(handler=withdraw_handler)

    listing = commands.add_parser("list", help="list training records and each course today")
    listing.add_argument("--person", metavar="STAFF_NUMBER", help="only this person's record")
    json_flag(listing)
    listing.set_defaults(handler=list_handler)


def _recorder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor", metavar="ID", help="who records it, as logged (default cli:<login name>)"
    )
    parser.add_argument(
        "--as",
        dest="role",
        choices=["admin", "authorising_officer"],
        default="admin",
        help="the role of the one who records (default: %(default)s)",
    )


def _recorder(args: argparse.Namespace) -> Any:
    from lfr_ledger.domain.actors import Actor, Role

    return Actor(id=args.actor or f"cli:{getpass.getuser()}", role=Role(args.role))


def record_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.errors import DomainError

    try:
        with _ledger() as ledger:
            record_id = ledger.record_training(
                _recorder(args),
                person=args.person,
                course=args.course,
                completed_on=args.completed,
                expires_on=args.expires,
            )
    except DomainError as e:
        return fail("training record", e.detail)
    if args.json:
        print_json({"record_id": record_id, "person": args.person, "course": args.course})
    else:
        print(
            f"{args.person}: {args.course} completed {args.completed.isoformat()}, counts until "
            f"{args.expires.isoformat()} (record {record_id})"
        )
    return 0


def withdraw_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.domain.training import TrainingRecord

    record_id = TrainingRecord.id_for(args.person)
    try:
        with _ledger() as ledger:
            ledger.withdraw_training(
                _recorder(args), record_id, course=args.course, reason=args.reason
            )
    except DomainError as e:
        return fail("training withdraw", e.detail)
    if args.json:
        print_json({"record_id": record_id, "course": args.course, "status": "withdrawn"})
    else:
        print(f"{args.person}: {args.course} withdrawn")
    return 0


def list_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.api.schemas.training import TrainingRecordOut
    from lfr_ledger.domain.errors import DomainError, NotFound
    from lfr_ledger.domain.training import TrainingRecord

    try:
        with _ledger() as ledger:
            today = ledger.clock().date()
            if args.person is None:
                found = ledger.training_records()
            else:
                try:
                    found = [ledger.training_record(TrainingRecord.id_for(args.person))]
                except NotFound:
                    found = []
            records = [TrainingRecordOut.of(r, today) for r in found]
    except DomainError as e:
        return fail("training list", e.detail)
    if args.json:
        print_json({"records": records})
        return 0
    for r in records:
        for c in r.courses:
            print(
                f"{r.person:16} {c.course:16} {c.status:9} completed {c.completed_on.isoformat()}"
                f", expires {c.expires_on.isoformat()}"
                + (f"  (withdrawn: {c.withdrawal_reason})" if c.withdrawn_at else "")
            )
    return 0
