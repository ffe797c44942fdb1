"""What wrapping the vault's keys costs per seal and unseal, with a file KEK and a PKCS#11 KEK
(SoftHSM2, a token initialised here in a temporary folder), with the cache of unwrapped keys and
without it. Each call reads the key's row as before issue 27; what is added is the unwrap.

    python bench/kek.py [--calls N] [--keys K]

Writes bench/results/kek.json: microseconds per call (median of rounds), per configuration.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import write_result
from lfr_ledger.eventlog.kek import Kek
from lfr_ledger.eventlog.kek import custody as custody_module
from lfr_ledger.eventlog.kek.file import FileKek
from lfr_ledger.eventlog.vault_stores import SQLiteKeyVault

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "bench-pin-1"


def token_kek(home: Path) -> Kek:
    (home / "tokens").mkdir(parents=True)
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    init = ["--init-token", "--free", "--label", "bench", "--so-pin", "so-1", "--pin", PIN]
    subprocess.run(["softhsm2-util", *init], check=True, capture_output=True)
    from lfr_ledger.config.kek_spec import parse_kek_spec
    from lfr_ledger.eventlog.kek.pkcs11 import create_token_key, open_token_kek

    spec = parse_kek_spec(f"pkcs11:module={MODULE};token=bench;label=kek")
    create_token_key(spec, PIN)
    return open_token_kek(spec, PIN)


def per_call(
    vault: SQLiteKeyVault, keys: list[uuid.UUID], calls: int, rounds: int
) -> dict[str, float]:
    sealed = {k: vault.seal(k, "name", b"Quentin Zebedee-Marlowe") for k in keys}
    seal_us, unseal_us = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for i in range(calls):
            vault.seal(keys[i % len(keys)], "name", b"Quentin Zebedee-Marlowe")
        seal_us.append((time.perf_counter() - started) / calls * 1e6)
        started = time.perf_counter()
        for i in range(calls):
            k = keys[i % len(keys)]
            vault.unseal(k, "name", sealed[k])
        unseal_us.append((time.perf_counter() - started) / calls * 1e6)
    return {
        "seal_us": round(statistics.median(seal_us), 1),
        "unseal_us": round(statistics.median(unseal_us), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "calls": args.calls,
        "keys": args.keys,
        "note": "SQLite vault; each call reads its key's row; microseconds per call",
    }
    with tempfile.TemporaryDirectory() as tmp:
        keks: dict[str, Kek] = {
            "file": FileKek(os.urandom(32), "bench key file"),
            "pkcs11-softhsm2": token_kek(Path(tmp) / "hsm"),
        }
        for name, kek in keks.items():
            for cached in (True, False):
                custody_module.CACHE_SIZE = 4096 if cached else 0
                vault = SQLiteKeyVault(Path(tmp) / f"{name}-{cached}.sqlite", kek)
                keys = [uuid.uuid4() for _ in range(args.keys)]
                for k in keys:
                    vault.create_key(k)
                label = f"{name}, {'cache' if cached else 'no cache'}"
                results[label] = per_call(vault, keys, args.calls, args.rounds)
                print(label, results[label], flush=True)
                vault._conn.close()
    print(write_result("kek", results))


if __name__ == "__main__":
    main()
