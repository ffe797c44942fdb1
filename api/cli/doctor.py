"""`lfr doctor`: what is wrong with this node's configuration, in plain lines, one per check.

Each line is `ok` or `problem`, the check's name and what was found; a problem says what to do.
Exit 0 only when every check passes (1 otherwise), so a deployment script or a unit's
`ExecStartPre=` can run it. It writes nothing: a store that does not exist yet is reported as
created by the first `lfr serve`, not created here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lfr_ledger.api.cli.doctor_kek import kek_finding
from lfr_ledger.api.cli.output import json_flag, print_json
from lfr_ledger.config.database_url import servers

if TYPE_CHECKING:
    from lfr_ledger.config.settings import Settings

EXIT_PROBLEMS = 1
# How far this machine's clock may be from the database server's before it is a problem: an
# event is stamped by the node that records it, and several nodes' stamps must agree.
CLOCK_TOLERANCE_SECONDS = 5.0
# Below this much free space in the data directory, checkpoints, logs and SQLite grow into a
# full disk; PostgreSQL's own disk is the database administrator's to watch.
MIN_FREE_BYTES = 1 << 30


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    parser = subparsers.add_parser(
        "doctor",
        help="check this node's configuration: database, schema, keys, model pack, policy, "
        "clock, disk; one line each, exit 0 only when all pass",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    json_flag(parser)
    parser.set_defaults(handler=doctor)


def doctor(args: argparse.Namespace) -> int:
    findings = examine(dict(os.environ))
    if args.json:
        print_json({"ok": all(f.ok for f in findings), "checks": [asdict(f) for f in findings]})
    else:
        for f in findings:
            print(f"{'ok' if f.ok else 'problem':8} {f.check:14} {f.detail}")
    return 0 if all(f.ok for f in findings) else EXIT_PROBLEMS


def examine(environ: dict[str, str]) -> list[Finding]:
    """Every check, in the order an operator would fix them."""
    from lfr_ledger.config.settings import Settings

    try:
        settings = Settings.from_env(environ)
    except ValueError as error:
        # Nothing else can be checked on a configuration that does not parse.
        return [Finding("configuration", False, str(error))]
    findings = [Finding("configuration", True, _configuration(settings))]
    store = _store(settings)
    findings += store.findings
    findings.append(_keys(settings))
    kek = Finding("kek", *kek_finding(settings, store.openable))
    findings.append(kek)
    findings.append(_model_pack(settings))
    # The next checks may open the ledger, and with it the vault: only under a KEK that opens it.
    if store.openable and kek.ok:
        findings.append(_policy(settings, store.created))
        findings.append(_clock(settings, store))
    findings.append(_disk(settings))
    return findings


def _configuration(settings: Settings) -> str:
    if settings.uses_postgres:
        p = settings.postgres_params()
        where = (
            f"PostgreSQL {servers(p)}/{p['dbname']} as {p['user']}, "
            f"schema {settings.postgres_schema or 'public'}"
        )
    else:
        where = f"SQLite in {settings.data_dir.resolve()}"
    return f"LFR_* settings parse; store: {where}; data: {settings.data_dir.resolve()}"


@dataclass
class _Store:
    findings: list[Finding]
    openable: bool = False
    created: bool = False
    # The database server's clock and this machine's, read together.
    clocks: tuple[datetime, datetime] | None = None


def _store(settings: Settings) -> _Store:
    """The database answers (PostgreSQL) or its file is usable (SQLite), and the read-model
    schema's version against this release's."""
    from lfr_ledger.api.preflight import PreflightError, reach_database, sqlite_schema_version
    from lfr_ledger.projections.schema import latest_version, too_new

    if settings.uses_postgres:
        backend = "postgres"
        try:
            reached = reach_database(settings)
        except PreflightError as error:
            return _Store([Finding("database", False, str(error))])
        schema = settings.postgres_schema or "public"
        state = "exists" if reached.schema_exists else "will be created by the first start"
        database = Finding("database", True, f"PostgreSQL answers; schema {schema} {state}")
        held, clocks = reached.schema_version, (reached.server_now, reached.local_now)
    else:
        backend = "sqlite"
        path = settings.events_path
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            return _Store(
                [Finding("database", False, f"{path} is not readable and writable by this user")]
            )
        if not path.exists() and _blocked_parent(settings.data_dir):
            return _Store(
                [
                    Finding(
                        "database",
                        False,
                        f"cannot create {settings.data_dir}: give this user a writable "
                        "LFR_DATA_DIR (a unit's StateDirectory= does)",
                    )
                ]
            )
        state = "exists" if path.exists() else "will be created by the first start"
        database = Finding("database", True, f"SQLite {path} {state}")
        held, clocks = sqlite_schema_version(settings), None
    known = latest_version(backend)
    refused = too_new(held, backend)
    if refused:
        version = Finding("schema", False, refused)
    elif held is None:
        version = Finding("schema", True, f"not created yet: the first start creates v{known}")
    elif held < known:
        version = Finding("schema", True, f"v{held}; this release migrates it to v{known} at start")
    else:
        version = Finding("schema", True, f"v{held}, as this release expects")
    return _Store([database, version], not refused, held is not None, clocks)


def _blocked_parent(directory: Path) -> bool:
    """Whether `directory` neither exists nor can be created by this user."""
    probe = directory.resolve()
    while not probe.exists():
        probe = probe.parent
    return not (probe.is_dir() and os.access(probe, os.W_OK | os.X_OK))


def _keys(settings: Settings) -> Finding:
    """The token secret and the checkpoint signing key: readable, parseable, and readable by
    their owner alone. Absent ones are made by the first start (on a second node: copy the
    first node's keys folder instead, or the nodes sign differently)."""
    from lfr_ledger.api.auth import secret_path
    from lfr_ledger.eventlog.checkpoint import key_path

    keys: list[tuple[str, Path]] = [("checkpoint key", key_path(settings))]
    notes: list[str] = []
    if settings.jwt_public_key is not None:
        keys.append(("LFR_JWT_PUBLIC_KEY", settings.jwt_public_key))
    elif settings.jwt_secret:
        notes.append("token secret from LFR_JWT_SECRET")
    else:
        keys.append(("token secret", secret_path(settings)))
    missing: list[str] = []
    for name, path in keys:
        if not path.exists():
            if name == "LFR_JWT_PUBLIC_KEY":
                return Finding("keys", False, f"LFR_JWT_PUBLIC_KEY names {path}, which is absent")
            missing.append(name)
            continue
        problem = _key_problem(name, path)
        if problem:
            return Finding("keys", False, problem)
        notes.append(f"{name} {path} readable")
    if missing:
        notes.append(
            f"{' and '.join(missing)} not made yet: the first start makes "
            f"{'them' if len(missing) > 1 else 'it'} in "
            f"{settings.data_dir / 'keys'} (a second node: copy the first node's keys folder)"
        )
    return Finding("keys", True, "; ".join(notes))


def _key_problem(name: str, path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as error:
        return (
            f"{name} {path} cannot be read ({error.strerror}): make it readable by the user "
            "the service runs as (chown, chmod 600)"
        )
    if not data.strip():
        return f"{name} {path} is empty: restore it from the other nodes or a backup"
    if name == "checkpoint key":
        from cryptography.hazmat.primitives import serialization

        try:
            serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            return f"{name} {path} is not a PEM private key: restore it from a backup"
    if name != "LFR_JWT_PUBLIC_KEY" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"{name} {path} can be read by other users: chmod 600 {path}"
    return None


def _model_pack(settings: Settings) -> Finding:
    from lfr_ledger.matching.engines.model_packs import SFACE_PACK, list_packs, verify_pack

    packs = list_packs(settings.model_dir)
    if SFACE_PACK not in packs:
        return Finding(
            "model pack",
            False,
            f"no {SFACE_PACK} pack in {settings.model_dir}: run `lfr models fetch` "
            "(or set LFR_MODEL_DIR to where the packs are)",
        )
    for name in packs:
        problems = verify_pack(settings.model_dir, name)
        if problems:
            return Finding(
                "model pack",
                False,
                f"{name} in {settings.model_dir} fails its checksums ({problems[0]}): fetch it "
                "again with `lfr models fetch`",
            )
    return Finding("model pack", True, f"{', '.join(packs)} verified in {settings.model_dir}")


def _policy(settings: Settings, created: bool) -> Finding:
    """Which policy is in force and where it comes from; a file that does not parse is a
    problem. The log is read only when the store exists (doctor creates nothing)."""
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.domain.policy import Policy

    if settings.policy_path is not None:
        try:
            policy = Policy.load(settings.policy_path)
        except (OSError, DomainError, ValueError) as error:
            return Finding("policy", False, f"LFR_POLICY_PATH {settings.policy_path}: {error}")
        return Finding(
            "policy", True, f"{policy.version} from LFR_POLICY_PATH {settings.policy_path}"
        )
    if not created:
        default = Policy.load(None)
        return Finding(
            "policy",
            True,
            f"{default.version}, the default shipped with lfr-ledger (no store yet; adopt "
            "the force's with `lfr policy adopt FILE`)",
        )
    from lfr_ledger.api.bootstrap import build_ledger

    ledger = build_ledger(settings)
    try:
        adopted = ledger.latest_adopted_policy()
    finally:
        ledger.close()
    if adopted is None:
        return Finding(
            "policy",
            True,
            f"{ledger.policy.version}, the default shipped with lfr-ledger: no policy adopted "
            "yet (`lfr policy adopt FILE`)",
        )
    return Finding("policy", True, f"{adopted.version}, adopted in the log")


def _clock(settings: Settings, store: _Store) -> Finding:
    """This machine's clock against the database server's (PostgreSQL), and never behind the
    latest event recorded (both backends; on SQLite the only witness to compare with)."""
    now = datetime.now(UTC)
    checked: list[str] = []
    if store.clocks is not None:
        server, local = store.clocks
        drift = (local - server).total_seconds()
        if abs(drift) > CLOCK_TOLERANCE_SECONDS:
            return Finding(
                "clock",
                False,
                f"this machine's clock is {drift:+.1f} s from PostgreSQL's: run time "
                "synchronisation on both (timedatectl set-ntp true)",
            )
        checked.append(f"within {abs(drift):.1f} s of PostgreSQL's")
    latest = _latest_event_time(settings) if store.created else None
    if latest is not None:
        ahead = (latest - now).total_seconds()
        if ahead > CLOCK_TOLERANCE_SECONDS:
            return Finding(
                "clock",
                False,
                f"the latest event was recorded {ahead:.0f} s in this machine's future: this "
                "clock is slow (or the recording node's was fast); run time synchronisation",
            )
        checked.append("not behind the latest event recorded")
    if not checked:
        checked.append("nothing to compare with yet (no database server, no events)")
    return Finding("clock", True, f"{now:%Y-%m-%d %H:%M:%S} UTC, " + ", ".join(checked))


def _latest_event_time(settings: Settings) -> datetime | None:
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.domain.notification_log import latest_recorded_at

    ledger = build_ledger(settings)
    try:
        return latest_recorded_at(ledger.recorder, ledger.mapper)
    finally:
        ledger.close()


def _disk(settings: Settings) -> Finding:
    probe = settings.data_dir.resolve()
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    detail = f"{free / (1 << 30):.1f} GiB free in {probe}"
    if free < MIN_FREE_BYTES:
        return Finding("disk", False, f"{detail}: free space before the disk fills")
    return Finding("disk", True, detail)
