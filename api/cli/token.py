"""`lfr token`: prints a signed bearer token for the embedded identity provider, alone on stdout.
`lfr console-link`: prints a one-time link that signs that person in to the console (the link
carries a code, never the token; the token waits in the data directory until the link is used).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lfr_ledger.api.cli.output import json_flag, note, print_json
from lfr_ledger.domain.actors import RANKS, Role


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("token", help="issue a bearer token (embedded default)")
    _identity_arguments(parser)
    json_flag(parser)
    parser.set_defaults(handler=token)
    link = subparsers.add_parser(
        "console-link", help="print a one-time sign-in link to the console (embedded default)"
    )
    _identity_arguments(link)
    json_flag(link)
    link.add_argument(
        "--url",
        default="http://127.0.0.1:8000",
        help="where `lfr serve` answers (default http://127.0.0.1:8000)",
    )
    link.set_defaults(handler=console_link)


def _identity_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--sub", required=True, help="staff or service number, e.g. PC-3381")
    parser.add_argument("--name", default=None, help="display name (kept in the token only)")
    parser.add_argument("--rank", default=None, choices=RANKS)
    parser.add_argument("--force", default=None, help="the actor's police force")
    parser.add_argument(
        "--deployment", default=None, help="deployment id a matcher account is bound to"
    )
    parser.add_argument(
        "--body",
        default=None,
        metavar="CODE",
        help="the oversight body an oversight token acts for (e.g. ICO): its reads are held to "
        "the body's grants (`lfr oversight grants`)",
    )
    parser.add_argument(
        "--ttl",
        type=int,
        default=60,
        help="minutes until expiry (default 60; at most the policy's token maximum lifetime)",
    )
    parser.add_argument(
        "--private-key",
        type=Path,
        default=None,
        help="PEM private key to sign with (RS256/EdDSA/ES256) instead of the HS256 secret",
    )


def token(args: argparse.Namespace) -> int:
    text = _issue(args, "token")
    if text is None:
        return 2
    if args.json:
        print_json({"token": text, "role": args.role, "sub": args.sub, "ttl_minutes": args.ttl})
    else:
        print(text)
    return 0


def console_link(args: argparse.Namespace) -> int:
    from lfr_ledger.api.console.sessions import LINK_SECONDS, SessionStore
    from lfr_ledger.config.settings import Settings

    text = _issue(args, "console-link")
    if text is None:
        return 2
    store = SessionStore(Settings.from_env())
    try:
        code = store.add_link(text)
    finally:
        store.close()
    url = f"{args.url.rstrip('/')}/console/sign-in/{code}"
    if args.json:
        print_json({"url": url, "role": args.role, "sub": args.sub, "valid_seconds": LINK_SECONDS})
    else:
        print(url)
    note(f"(one use, within {LINK_SECONDS // 60} minutes; signs in {args.sub} as {args.role})")
    return 0


def _issue(args: argparse.Namespace, command: str) -> str | None:
    import jwt

    from lfr_ledger.api.auth import issue_token, key_source
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.domain.policy import Policy

    settings = Settings.from_env()
    try:
        text = issue_token(
            settings,
            role=args.role,
            sub=args.sub,
            name=args.name,
            rank=args.rank,
            force=args.force,
            deployment_id=args.deployment,
            body=args.body,
            ttl_minutes=args.ttl,
            # The policy `lfr serve` verifies with: a longer token would be refused there.
            maximum_ttl_minutes=Policy.load().token_maximum_lifetime_minutes,
            private_key_pem=args.private_key.read_bytes() if args.private_key else None,
        )
    except (ValueError, OSError) as exc:
        print(f"lfr {command}: {exc}", file=sys.stderr)
        return None
    # Which key signed it, by its public id: a server with another key names both.
    kid = jwt.get_unverified_header(text).get("kid")
    source = args.private_key or key_source(settings)
    note(f"signed with key {kid} ({source})")
    return text
