"""`lfr backup` and `lfr restore` (docs/operations.md, Backups).

Exit codes: 0 done and verified, 1 restored but the copy does not verify (do not serve from
it), 2 nothing done (bad input, a store in the way, a tool missing).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lfr_ledger.api.cli.output import fail, json_flag, note, print_json

EXIT_OK = 0
EXIT_UNVERIFIED = 1


def register(subparsers: Any) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="a consistent online copy of the ledger (SQLite's backup API, or pg_dump), its "
        "keys and checkpoints, with a manifest; the copy's chain is verified",
    )
    backup.add_argument("--out", type=Path, required=True, metavar="DIR", help="a new folder")
    json_flag(backup)
    backup.set_defaults(handler=cmd_backup)

    restore = subparsers.add_parser(
        "restore",
        help="put a backup back, destroy again every key erased since (the tombstone journal), "
        "then verify the chain and the checkpoints; the node must not serve until it is done",
    )
    source = restore.add_mutually_exclusive_group(required=True)
    source.add_argument("--from", dest="source", type=Path, metavar="DIR", help="an lfr backup")
    source.add_argument(
        "--in-place",
        action="store_true",
        help="the database was restored by PostgreSQL's own tools (base backup + WAL): only "
        "re-apply the tombstones and verify",
    )
    restore.add_argument(
        "--force", action="store_true", help="replace the store that is there (stop its nodes)"
    )
    restore.add_argument(
        "--checkpoints",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="also check these checkpoints (the old node's folder, a witness's copies): those "
        "past the restored head are reported as lost (repeatable)",
    )
    json_flag(restore)
    restore.set_defaults(handler=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    from lfr_ledger.api.backup.take import BackupError, take_backup
    from lfr_ledger.config.settings import Settings

    try:
        manifest = take_backup(Settings.from_env(), args.out)
    except (BackupError, ValueError, OSError) as e:
        return fail("backup", str(e))
    if args.json:
        print_json(manifest)
    else:
        print(
            f"backed up {manifest['backend']} through id {manifest['last_id']} "
            f"(head {manifest['head']}) in {manifest['seconds']} s -> {args.out}"
        )
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from lfr_ledger.api.backup.restore import restore
    from lfr_ledger.api.backup.take import BackupError
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.eventlog.tombstones import TombstoneError

    settings = Settings.from_env()
    if args.in_place and not settings.uses_postgres:
        return fail("restore", "--in-place is for PostgreSQL restored by its own tools")
    try:
        report = restore(
            settings,
            None if args.in_place else args.source,
            force=args.force,
            extra_checkpoints=tuple(args.checkpoints),
        )
    except (BackupError, TombstoneError, ValueError, OSError) as e:
        return fail("restore", str(e))
    if args.json:
        print_json(report.to_dict())
    else:
        for line in report.lines():
            print(line)
    if not report.ok:
        note("the restored copy does not verify: do not serve from it")
    return EXIT_OK if report.ok else EXIT_UNVERIFIED
