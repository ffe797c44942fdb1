"""`lfr keys status|new-kek|rotate-kek`: the custody of the vault's keys (docs/operations.md,
"Key custody").

Every key of the vault is stored wrapped by the key-encryption key (KEK) that `LFR_KEK` names,
which never enters the database or the data folder. `rotate-kek --to SPEC` re-wraps every key
under another KEK, a transaction per batch, without touching an event; a key destroyed before
or during it stays destroyed. Run it with every node stopped, then set `LFR_KEK` to the new
KEK on every node before starting them.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from lfr_ledger.api.cli.output import json_flag, note, print_json

if TYPE_CHECKING:
    from lfr_ledger.eventlog.vault_stores import PostgresKeyVault, SQLiteKeyVault

SPEC_HELP = (
    "file:/path/to/kek, credential:NAME, or "
    "pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=LABEL;label=KEY-LABEL[;pin-file=PATH]"
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    parser = subparsers.add_parser(
        "keys",
        help="the vault's key-encryption key: status, a new KEK, rotation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="keys_action", required=True, metavar="ACTION")
    status = actions.add_parser("status", help="how many keys are wrapped under which KEK")
    json_flag(status)
    status.set_defaults(handler=status_command)
    new = actions.add_parser(
        "new-kek", help="make a KEK: a new key file (0600, never overwritten) or a token's key"
    )
    new.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    json_flag(new)
    new.set_defaults(handler=new_kek_command)
    rotate = actions.add_parser(
        "rotate-kek", help="re-wrap every key of the vault under another KEK (nodes stopped)"
    )
    rotate.add_argument("--to", required=True, metavar="SPEC", help=SPEC_HELP)
    json_flag(rotate)
    rotate.set_defaults(handler=rotate_command)


def status_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_vault
    from lfr_ledger.config.settings import Settings

    vault = build_vault(Settings.from_env())
    try:
        census = vault.key_census()
        description = vault.kek.description
    finally:
        _close(vault)
    if args.json:
        print_json({"kek": census.current, "by_kek": census.by_kek, "raw": census.raw})
        return 0
    print(f"KEK {census.current}: {description}")
    for kek_id, count in sorted(census.by_kek.items()):
        print(f"  {count:>8} keys wrapped under KEK {kek_id}")
    if census.raw:
        print(f"  {census.raw:>8} keys stored raw (wrapped at the next start)")
    return 0


def new_kek_command(args: argparse.Namespace) -> int:
    from lfr_ledger.config.kek_spec import parse_kek_spec
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.eventlog.kek import KekError, open_kek, read_pin

    spec = parse_kek_spec(args.spec, "SPEC")
    settings = Settings.from_env()
    if spec.kind == "file":
        from lfr_ledger.eventlog.kek.file import create_kek_file

        assert spec.path is not None
        create_kek_file(spec.path)
    elif spec.kind == "pkcs11":
        from lfr_ledger.eventlog.kek.pkcs11 import create_token_key

        create_token_key(spec, read_pin(spec, settings))
    else:
        raise KekError("a credential is a file systemd hands the unit: make it with file:PATH")
    made = open_kek(spec, settings)
    made.close()
    if args.json:
        print_json({"kek": made.kek_id.hex(), "where": spec.describe()})
    else:
        print(f"made KEK {made.kek_id.hex()}: {spec.describe()}")
    return 0


def rotate_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_vault
    from lfr_ledger.config.kek_spec import parse_kek_spec
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.eventlog.kek import open_kek

    settings = Settings.from_env()
    new = open_kek(parse_kek_spec(args.to, "--to"), settings)
    vault = build_vault(settings, rotating_to=new)
    try:
        old = vault.kek
        if old.kek_id == new.kek_id:
            raise ValueError(f"--to names the KEK in use ({old.kek_id.hex()}): name another")
        rewrapped, already = vault.rotate_kek(new)
    finally:
        _close(vault)
    result = {"from": old.kek_id.hex(), "to": new.kek_id.hex(), "rewrapped": rewrapped}
    if args.json:
        print_json({**result, "already": already})
    else:
        print(
            f"re-wrapped {rewrapped} keys from KEK {result['from']} to KEK {result['to']}"
            + (f" ({already} were already under it)" if already else "")
        )
    note(f"now set LFR_KEK={args.to} on every node, start them, then retire the old KEK")
    return 0


def _close(vault: SQLiteKeyVault | PostgresKeyVault) -> None:
    vault.close()  # and its KEK
