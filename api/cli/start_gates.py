"""`lfr deployments confirm-signage ID --signs TEXT --where TEXT` (the operator, on the day,
before starting: as `POST /deployments/{id}/signage`) and `lfr watchlist reconfirm --deployment
ID --still-in-force --checked TEXT [--entry ID ...]` (a watchlist manager: as `POST
/deployments/{id}/watchlist/reconfirmation`; every active entry unless entries are named).

Exit codes: 0 recorded; 2 refused (the reason on stderr, nothing recorded)."""

from __future__ import annotations

import argparse
import getpass
from uuid import UUID

from lfr_ledger.api.cli.output import fail, json_flag, print_json


def add_signage_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    signage = commands.add_parser(
        "confirm-signage",
        help="confirm the signs stand (operator, on the day, before starting)",
        description="As POST /deployments/{id}/signage: records which signs stand where. "
        "Accepted on a UK date of the window while the deployment is authorised; the start "
        "needs one recorded that day (policy signage_confirmed_before_start). Refused: exit 2.",
    )
    signage.add_argument("deployment_id", type=UUID, metavar="ID", help="the deployment's id")
    signage.add_argument("--signs", required=True, help="which signs stand")
    signage.add_argument("--where", required=True, help="where they stand")
    signage.add_argument(
        "--actor", metavar="ID", help="the operator who confirms, as logged (default cli:<login>)"
    )
    json_flag(signage)
    signage.set_defaults(handler=confirm_signage_command)


def add_reconfirm_command(actions: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    reconfirm = actions.add_parser(
        "reconfirm",
        help="re-confirm a deployment's watchlist entries: still wanted, order still in force",
        description="As POST /deployments/{id}/watchlist/reconfirmation: every active entry of "
        "the deployment, or those named with --entry, all or none. The start refuses an active "
        "entry enrolled or re-confirmed longer than the policy's reconfirm_within_hours before "
        "go-live. Refused: exit 2.",
    )
    reconfirm.add_argument("--deployment", type=UUID, required=True, help="deployment id")
    reconfirm.add_argument(
        "--entry",
        type=UUID,
        action="append",
        dest="entries",
        metavar="ID",
        help="an entry to re-confirm (repeat for more; default: every active entry)",
    )
    reconfirm.add_argument(
        "--still-in-force",
        action="store_true",
        help="state that the reason for each entry still holds (required: withdraw an entry "
        "whose reason lapsed instead)",
    )
    reconfirm.add_argument(
        "--checked", required=True, help="what was checked, and when (sealed per entry)"
    )
    reconfirm.add_argument(
        "--actor-id", required=True, help="staff number of the watchlist manager re-confirming"
    )
    reconfirm.add_argument("--actor-rank", default=None, help="the watchlist manager's rank")
    json_flag(reconfirm)
    reconfirm.set_defaults(handler=reconfirm_command)


def confirm_signage_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.actors import Actor, Role
    from lfr_ledger.domain.errors import DomainError

    operator = Actor(id=args.actor or f"cli:{getpass.getuser()}", role=Role.OPERATOR)
    try:
        with _ledger() as ledger:
            ledger.confirm_signage(
                operator, args.deployment_id, signs=args.signs, locations=args.where
            )
            at = ledger.deployment(args.deployment_id).signage_confirmed_at
    except DomainError as e:
        return fail("deployments confirm-signage", e.detail)
    if args.json:
        print_json({"id": args.deployment_id, "signage_confirmed_at": at})
    else:
        print(f"signage of deployment {args.deployment_id} confirmed at {at}")
    return 0


def reconfirm_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.actors import Actor, Role
    from lfr_ledger.domain.errors import DomainError

    manager = Actor(args.actor_id, Role.WATCHLIST_MANAGER, rank=args.actor_rank)
    try:
        with _ledger() as ledger:
            done = ledger.reconfirm_entries(
                manager,
                args.deployment,
                still_in_force=args.still_in_force,
                checked=args.checked,
                entry_ids=args.entries,
            )
    except DomainError as e:
        return fail("watchlist reconfirm", e.detail)
    if args.json:
        print_json({"deployment_id": args.deployment, "reconfirmed": done})
    else:
        entries = "1 entry" if len(done) == 1 else f"{len(done)} entries"
        print(f"{entries} of deployment {args.deployment} re-confirmed")
    return 0
