"""`lfr audit verify-bundle`: an oversight bundle checked offline, from the zip the console
downloads or the folder it unzips to. Not a bundle is exit 2, never TAMPERED (exit 1)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lfr_ledger.api.cli.output import fail, note, print_json

EXIT_OK = 0
EXIT_TAMPERED = 1


def register_verify_bundle(audit_subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Adds `verify-bundle` to `lfr audit`."""
    verify = audit_subparsers.add_parser(
        "verify-bundle",
        help="verify an oversight bundle offline; names the first tampered line",
        description="Verifies a bundle from `lfr audit export` or the console's download: the "
        "bundle-<id>.zip as downloaded, the folder it unzips to, or the folder holding that "
        "one. Exit codes: 0 verified; 1 TAMPERED (a file changed, removed or added, a "
        "signature fails); 2 nothing was verified: not a bundle (no manifest.json …), a zip "
        "refused as unsafe (entries outside its folder, links, a zip bomb), or an unreadable "
        "--public-key.",
    )
    verify.add_argument("bundle", type=Path, metavar="ZIP_OR_DIR")
    verify.add_argument(
        "--public-key",
        type=Path,
        metavar="PEM",
        help="the ledger's key obtained independently (default: the bundled copy)",
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(handler=verify_bundle_handler)


def verify_bundle_handler(args: argparse.Namespace) -> int:
    from lfr_ledger.eventlog.checkpoint_signature import CheckpointError, load_public_key
    from lfr_ledger.oversight.bundles.locate import NotABundle, located
    from lfr_ledger.oversight.bundles.verify import verify_bundle

    try:
        key = load_public_key(args.public_key.read_bytes()) if args.public_key else None
    except (CheckpointError, OSError, ValueError) as e:
        return fail("audit verify-bundle", f"cannot read the public key: {e}")
    notes: list[str] = []
    try:
        with located(args.bundle, notes) as bundle:
            for line in notes:
                note(line)
            report = verify_bundle(bundle, key)
    except NotABundle as e:
        return fail("audit verify-bundle", str(e))
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.summary())
    return EXIT_OK if report.ok else EXIT_TAMPERED
