"""`lfr deployments publish-results ID --actor-id ID [--role planner|authorising_officer]`:
as `POST /deployments/{id}/publication`, a planner or an authorising officer who has checked an
ended deployment's figures publishes them on the public feed (`GET /public`).

Exit codes: 0 published; 2 refused (the reason on stderr, nothing recorded)."""

from __future__ import annotations

import argparse
from uuid import UUID

from lfr_ledger.api.cli.output import fail, json_flag, print_json


def add_publish_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    publish = commands.add_parser(
        "publish-results",
        help="publish an ended deployment's results on the public feed (planner or AO)",
        description="As POST /deployments/{id}/publication: refused before the deployment "
        "ends, while an alert awaits its decision, or a second time. The policy's "
        "[publication] results_within_days is the deadline. Refused: exit 2.",
    )
    publish.add_argument("deployment_id", type=UUID, metavar="ID", help="the deployment's id")
    publish.add_argument("--actor-id", required=True, help="staff number of who publishes")
    publish.add_argument(
        "--role",
        choices=("planner", "authorising_officer"),
        default="planner",
        help="the role they publish in (default planner)",
    )
    publish.add_argument("--actor-rank", default=None, help="their rank")
    json_flag(publish)
    publish.set_defaults(handler=publish_results_command)


def publish_results_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.domain.actors import Actor, Role
    from lfr_ledger.domain.errors import DomainError

    actor = Actor(args.actor_id, Role(args.role), rank=args.actor_rank)
    try:
        with _ledger() as ledger:
            ledger.publish_results(actor, args.deployment_id)
            at = ledger.deployment(args.deployment_id).results_published_at
    except DomainError as e:
        return fail("deployments publish-results", e.detail)
    if args.json:
        print_json({"id": args.deployment_id, "results_published_at": at})
    else:
        print(f"results of deployment {args.deployment_id} published at {at}")
    return 0
