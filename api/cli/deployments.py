"""`lfr deployments list [--status S] [--operation ID] [--json]`, `lfr operations list [--json]`
(the lists `GET /deployments` and `GET /operations` give; no personal data), `lfr operations
close ID` (as `POST /operations/{id}/close`: a planner closes it), and `lfr deployments
end-due [--json]`: end every deployment whose window closed or whose urgent authority lapsed,
once (`lfr serve` does it every 30 s; this is for a node that runs jobs from cron, or to see at
once what the server would do). `lfr deployments confirm-signage ID` lives in `start_gates.py`.

Exit codes: 0 done (also when nothing was due or listed); 2 refused (`operations close`).
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from lfr_ledger.api.cli.results import add_publish_command
from lfr_ledger.api.cli.start_gates import add_signage_command

if TYPE_CHECKING:
    from lfr_ledger.projections.lists import DeploymentRow, ListReader, OperationRow

T = TypeVar("T")

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
    listing = commands.add_parser(
        "list", help="deployments: window, place and state (pending authorisations: --status)"
    )
    listing.add_argument(
        "--status",
        choices=["proposed", "authorised", "refused", "live", "paused", "ended"],
        help="only deployments in this state (proposed: awaiting an authorising officer)",
    )
    listing.add_argument("--operation", type=UUID, help="only this operation's deployments")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(handler=list_handler)
    add_signage_command(commands)
    add_publish_command(commands)

    operations = subparsers.add_parser("operations", help="operations: list them, close one")
    op_commands = operations.add_subparsers(
        dest="operations_command", required=True, metavar="SUBCOMMAND"
    )
    op_list = op_commands.add_parser("list", help="operations, open and closed")
    op_list.add_argument("--json", action="store_true", help="print the list as JSON")
    op_list.set_defaults(handler=operations_handler)
    op_close = op_commands.add_parser(
        "close",
        help="close an operation (planner): no deployment may be proposed in it afterwards",
        description="As POST /operations/{id}/close. Its deployments and their records stay as "
        "they are. Closing a closed operation, or an unknown id, is refused (exit 2).",
    )
    op_close.add_argument("operation_id", type=UUID, metavar="ID", help="the operation's id")
    op_close.add_argument(
        "--actor", metavar="ID", help="the planner who closes it, as logged (default cli:<login>)"
    )
    op_close.add_argument("--json", action="store_true", help="print the result as JSON")
    op_close.set_defaults(handler=close_operation_handler)


def _reader() -> ListReader:
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.projections.catch_up import catch_up
    from lfr_ledger.projections.lists import ListReader

    settings = Settings.from_env()
    catch_up(settings)
    return ListReader(settings)


PAGE = 500


def _every_page(read: Callable[[int], tuple[Sequence[T], int | None]]) -> list[T]:
    """Every row of a paged list: `read(offset)` gives one page and the next offset."""
    rows: list[T] = []
    offset: int | None = 0
    while offset is not None:
        page, offset = read(offset)
        rows.extend(page)
    return rows


def _print_rows(
    args: argparse.Namespace, rows: Sequence[T], what: str, line: Callable[[T], str]
) -> int:
    """The rows as JSON with --json, else one line each."""
    import msgspec

    if args.json:
        print(msgspec.json.encode(rows).decode())
        return EXIT_OK
    if not rows:
        print(f"no {what}")
    for r in rows:
        print(line(r))
    return EXIT_OK


def list_handler(args: argparse.Namespace) -> int:
    reader = _reader()

    def read(offset: int) -> tuple[Sequence[DeploymentRow], int | None]:
        page = reader.deployments(
            status=args.status,
            operation_id=str(args.operation) if args.operation else None,
            limit=PAGE,
            offset=offset,
        )
        return page.deployments, page.next_offset

    return _print_rows(
        args,
        _every_page(read),
        "deployments",
        lambda d: (
            f"{d.deployment_id}  {d.status:<10} {d.starts_at[:16]} to "
            f"{d.ends_at[11:16]}  {d.location_name}, {d.town}"
        ),
    )


def operations_handler(args: argparse.Namespace) -> int:
    reader = _reader()

    def read(offset: int) -> tuple[Sequence[OperationRow], int | None]:
        page = reader.operations(limit=PAGE, offset=offset)
        return page.operations, page.next_offset

    return _print_rows(
        args,
        _every_page(read),
        "operations",
        lambda o: (
            f"{o.operation_id}  {o.status:<6} {o.deployment_count:3d} deployment(s)  "
            f"{o.name} ({o.force})"
        ),
    )


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


def close_operation_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.output import fail, print_json
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.actors import Actor, Role
    from lfr_ledger.domain.errors import DomainError

    planner = Actor(id=args.actor or f"cli:{getpass.getuser()}", role=Role.PLANNER)
    try:
        with _ledger() as ledger:
            ledger.close_operation(planner, args.operation_id)
            closed_at = ledger.operation(args.operation_id).closed_at
    except DomainError as e:
        return fail("operations close", e.detail)
    if args.json:
        print_json({"id": args.operation_id, "status": "closed", "closed_at": closed_at})
    else:
        print(f"operation {args.operation_id} closed at {closed_at and closed_at.isoformat()}")
    return EXIT_OK
