"""`lfr witness serve|key`: a witness an oversight body runs itself (its own data directory,
its own key), which keeps every checkpoint ledgers send it and countersigns it.

Exit codes: 0 done, 2 the command could not run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lfr_ledger.api.cli.output import EXIT_ERROR, fail, json_flag, print_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "witness", help="run a checkpoint witness for an oversight body (its own data and key)"
    )
    commands = parser.add_subparsers(dest="witness_command", required=True, metavar="SUBCOMMAND")
    serve = commands.add_parser(
        "serve",
        help="keep the checkpoints ledgers send, append-only, and countersign each one that "
        "extends what is held",
    )
    _data_dir(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    serve.add_argument("--port", type=int, default=8100, help="port (default 8100)")
    serve.add_argument(
        "--ledger",
        action="append",
        default=[],
        metavar="NAME=PEM",
        help="witness only this ledger, pinned to this public key file (`lfr audit "
        "public-key`); repeatable. Without any: a ledger's first checkpoint pins its key",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.set_defaults(handler=cmd_serve)
    key = commands.add_parser("key", help="print the witness's public key (created if absent)")
    _data_dir(key)
    json_flag(key)
    key.set_defaults(handler=cmd_key)


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        required=True,
        help="the witness's own directory (its store and key), not a ledger's",
    )


def _pinned(specs: list[str]) -> dict[str, str] | None:
    if not specs:
        return None
    pinned = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name:
            raise ValueError(f"--ledger takes NAME=PEM, not {spec!r}")
        pinned[name] = Path(path).read_text()
    return pinned


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from lfr_ledger.api.witness import create_witness_app

    try:
        app = create_witness_app(args.data_dir, pinned=_pinned(args.ledger))
    except (OSError, ValueError) as e:
        return fail("witness serve", str(e), EXIT_ERROR)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def cmd_key(args: argparse.Namespace) -> int:
    from lfr_ledger.eventlog.witness.store import WitnessStore

    store = WitnessStore(args.data_dir)
    try:
        document = store.key_document()
    finally:
        store.close()
    if args.json:
        print_json(document)
    else:
        print(document["public_key_pem"], end="")
    return 0
