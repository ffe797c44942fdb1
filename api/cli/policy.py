"""`lfr policy adopt FILE` and `lfr policy show`: a force puts its own policy in force without
editing the package. Adoption records the file's full text in the log; a node started without
LFR_POLICY_PATH runs under the policy adopted last, and every deployment keeps the version it was
proposed under.

Exit codes: 0 done, 1 refused (the file is malformed, or its version was adopted with other text).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

EXIT_OK = 0
EXIT_REFUSED = 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    parser = subparsers.add_parser(
        "policy", help="adopt a force's policy file, or show the one in force"
    )
    commands = parser.add_subparsers(dest="policy_command", required=True, metavar="SUBCOMMAND")
    adopt = commands.add_parser(
        "adopt",
        help="check a policy file and put it in force (recorded in the log with its full text)",
        description="Checks FILE (every rule the ledger reads must be present and valid), then "
        "records its adoption by the admin --actor-id. Adopting the same text again changes "
        "nothing; changed text needs a new `version`. Running servers pick it up on restart.",
    )
    adopt.add_argument("file", type=Path, metavar="FILE.toml")
    adopt.add_argument("--actor-id", required=True, help="staff number of the admin adopting it")
    adopt.add_argument("--json", action="store_true", help="print the result as JSON")
    adopt.set_defaults(handler=adopt_handler)
    show = commands.add_parser("show", help="the policy in force and where it comes from")
    show.add_argument("--json", action="store_true", help="print the result as JSON")
    show.set_defaults(handler=show_handler)


def adopt_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.domain.actors import Actor, Role
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.domain.policy import Policy

    try:
        policy = Policy.parse(args.file.read_text(encoding="utf-8"))
    except OSError as error:
        print(f"lfr policy adopt: cannot read {args.file}: {error.strerror}")
        return EXIT_REFUSED
    except DomainError as error:
        print(f"lfr policy adopt: {args.file} is refused: {error}")
        return EXIT_REFUSED
    ledger = build_ledger()
    try:
        policy_id = ledger.adopt_policy(Actor(args.actor_id, Role.ADMIN), policy)
    except DomainError as error:
        print(f"lfr policy adopt: refused: {error}")
        return EXIT_REFUSED
    finally:
        ledger.close()
    result = {"id": str(policy_id), "version": policy.version, "content_hash": policy.content_hash}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"policy {policy.version} is in force (sha256 {policy.content_hash[:16]}…)")
    return EXIT_OK


def show_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.config.settings import Settings

    settings = Settings.from_env()
    ledger = build_ledger(settings)
    try:
        policy = ledger.policy
        if settings.policy_path is not None:
            source = f"the file LFR_POLICY_PATH names ({settings.policy_path})"
        elif ledger.latest_adopted_policy() is not None:
            source = "the policy adopted last in the log"
        else:
            source = "the default shipped with lfr-ledger (no policy adopted yet)"
        adopted = ledger.policy_adopted(policy.version)
    finally:
        ledger.close()
    result = {
        "version": policy.version,
        "title": policy.title,
        "content_hash": policy.content_hash,
        "source": source,
        "adopted": adopted,
    }
    if args.json:
        print(json.dumps(result))
    else:
        state = (
            "adopted"
            if adopted
            else "NOT adopted yet: `lfr policy adopt FILE` or POST /policy/adopt"
        )
        print(f"policy {policy.version}: {policy.title}\n  from   {source}\n  state  {state}")
    return EXIT_OK
