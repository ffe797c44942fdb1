"""`lfr audit verify|checkpoint|public-key`: integrity of the event log from the command line.

Exit codes: 0 intact, 1 tampered (or a checkpoint refused), 2 the check could not be run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lfr_ledger.api.cli.output import EXIT_ERROR, json_flag, note, print_json

if TYPE_CHECKING:
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.eventlog.integrity import IntegrityReport
    from lfr_ledger.eventlog.key_audit import VaultFinding

EXIT_OK = 0
EXIT_TAMPERED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit", help="verify the tamper-evident event log, sign checkpoints"
    )
    commands = parser.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")

    verify = commands.add_parser(
        "verify",
        help="recompute the hash chain since the latest signed checkpoint, and report what the "
        "rolling re-verification re-hashed before it and found (--full: recompute from the "
        "first event); exit 1 naming the first bad notification id",
    )
    verify.add_argument(
        "--checkpoint",
        type=Path,
        metavar="FILE",
        help="require the log to extend this checkpoint (default: the latest one kept here)",
    )
    verify.add_argument(
        "--no-checkpoint",
        action="store_true",
        help="check the chain alone from the first event, not that it extends the latest "
        "checkpoint this node signed",
    )
    verify.add_argument(
        "--full",
        action="store_true",
        help="recompute the chain from the first event through the checkpoint, not only the "
        "events after it (which the checkpoint's signed head vouches for)",
    )
    verify.add_argument(
        "--public-key",
        type=Path,
        metavar="PEM",
        help="trusted key for --checkpoint (default: the ledger's own key)",
    )
    verify.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="URL",
        help="also compare the log with what this witness holds: the tree's root recomputed "
        "from today's links at every checkpoint it countersigned; names the first that no "
        "longer matches (repeatable)",
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    _table_option(verify)
    verify.set_defaults(handler=cmd_verify)

    checkpoint = commands.add_parser(
        "checkpoint",
        help="verify the log since the latest checkpoint, then write an Ed25519-signed "
        "(last id, head) that extends it",
    )
    checkpoint.add_argument("--out", type=Path, metavar="FILE", help="default: stdout")
    checkpoint.add_argument(
        "--full", action="store_true", help="verify the whole log first, not only what is new"
    )
    _table_option(checkpoint)
    json_flag(checkpoint)
    checkpoint.set_defaults(handler=cmd_checkpoint)

    public_key = commands.add_parser(
        "public-key", help="print the checkpoint public key (PEM) to keep outside the system"
    )
    json_flag(public_key)
    public_key.set_defaults(handler=cmd_public_key)

    from lfr_ledger.api.cli.oversight import register_audit_subcommands
    from lfr_ledger.api.cli.reverify import register_reverify

    register_audit_subcommands(commands)
    register_reverify(commands)


def _table_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--table",
        metavar="NAME",
        help="events table, when one PostgreSQL schema holds several chained applications",
    )


def cmd_verify(args: argparse.Namespace) -> int:
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.eventlog.checkpoint import latest_checkpoint_path, read_checkpoint
    from lfr_ledger.eventlog.checkpoint_signature import CheckpointError, load_public_key
    from lfr_ledger.eventlog.integrity import verify_integrity
    from lfr_ledger.projections.reverification import load_rolling

    settings = Settings.from_env()
    try:
        if args.checkpoint is None and not args.no_checkpoint:
            args.checkpoint = latest_checkpoint_path(settings)
        checkpoint = read_checkpoint(args.checkpoint) if args.checkpoint is not None else None
        key = load_public_key(args.public_key.read_bytes()) if args.public_key else None
        report = verify_integrity(
            settings,
            lambda table: _audit_vault(settings, table),
            checkpoint=checkpoint,
            name=args.checkpoint.name if args.checkpoint is not None else None,
            public_key=key,
            full=args.full,
            events_table=args.table,
            # The default check also reports what the rolling re-verification re-hashed and
            # found; the full ones re-hash everything themselves.
            rolling=None
            if args.full or args.no_checkpoint
            else lambda table: load_rolling(settings, table),
        )
    except (CheckpointError, ValueError, OSError) as e:
        print(f"lfr audit verify: {e}", file=sys.stderr)
        return EXIT_ERROR
    if args.witness:
        report = _with_witnesses(settings, report, args.witness, args.table)
    if args.json:
        print_json(report.to_dict())
    else:
        for line in report.lines():
            print(line)
        # Which events were re-hashed: part of the verdict when it is OK (a check since a
        # checkpoint must not read as a full one); beside the findings, on stderr, otherwise.
        scope = f"verified: {report.verified()}"
        if report.ok:
            print(scope)
        else:
            note(scope)
    if not report.ok and all(f.kind == "witness_unreachable" for f in report.findings):
        return EXIT_ERROR  # nothing wrong was found; the comparison asked for could not run
    return EXIT_OK if report.ok else EXIT_TAMPERED


def _with_witnesses(
    settings: Settings, report: IntegrityReport, urls: list[str], table: str | None
) -> IntegrityReport:
    """The report with each witness's comparison beside the other steps' findings."""
    from lfr_ledger.eventlog.witness.compare import compare_with_witness

    compared = tuple(compare_with_witness(settings, url, events_table=table) for url in urls)
    return dataclasses.replace(report, witnesses=compared)


def _audit_vault(settings: Settings, events_table: str | None) -> list[VaultFinding]:
    """The vault checked against the case ledger's log (another application's log, sharing a
    PostgreSQL schema, has no keys in it)."""
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.eventlog.key_audit import LEDGER_TABLES, audit_vault

    if events_table not in LEDGER_TABLES:
        return []
    from lfr_ledger.eventlog.tombstones import TombstoneJournal

    ledger = build_ledger(settings)
    try:
        return audit_vault(ledger, TombstoneJournal(settings.tombstones_path).lost_erasures())
    finally:
        ledger.close()


def cmd_checkpoint(args: argparse.Namespace) -> int:
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.eventlog.checkpoint import (
        make_checkpoint,
        save_checkpoint,
        write_checkpoint,
    )
    from lfr_ledger.eventlog.checkpoint_signature import CheckpointError

    settings = Settings.from_env()
    try:
        checkpoint = make_checkpoint(settings, events_table=args.table, full=args.full)
    except CheckpointError as e:
        print(f"lfr audit checkpoint: {e}", file=sys.stderr)
        return EXIT_TAMPERED
    except ValueError as e:
        print(f"lfr audit checkpoint: {e}", file=sys.stderr)
        return EXIT_ERROR
    kept = save_checkpoint(settings, checkpoint)
    print(f"kept as {kept}", file=sys.stderr)
    _send_to_witnesses(settings)
    if args.out is None or args.json:
        print_json(checkpoint)
    if args.out is not None:
        write_checkpoint(args.out, checkpoint)
        note(
            f"checkpoint: last id {checkpoint['last_id']}, head {checkpoint['head']} -> {args.out}"
        )
    return EXIT_OK


def _send_to_witnesses(settings: Settings) -> None:
    """What the configured witnesses have not acknowledged, sent now; one that is down is
    named on stderr and sent to at the next checkpoint (the command still succeeds)."""
    from lfr_ledger.eventlog.witness.client import deliver_all

    for delivery in deliver_all(settings):
        if delivery.error:
            note(f"witness {delivery.url}: {delivery.error}")
        elif delivery.sent:
            note(f"witness {delivery.url}: countersigned {delivery.sent} checkpoint(s)")


def cmd_public_key(args: argparse.Namespace) -> int:
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.eventlog.checkpoint import load_or_create_signing_key
    from lfr_ledger.eventlog.checkpoint_signature import key_id, public_key_pem

    key = load_or_create_signing_key(Settings.from_env())
    pem = public_key_pem(key.public_key())
    if args.json:
        print_json({"key_id": key_id(key.public_key()), "public_key_pem": pem})
    else:
        print(pem, end="")
    return EXIT_OK
