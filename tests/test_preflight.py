"""A database that cannot be used is one line, at once, saying what to do (issue 26).

Against real servers: the machine's PostgreSQL (a database that does not exist; a schema that
does not exist and that the role may not create), a loopback port nothing listens on (refused),
and a private PostgreSQL cluster started here with PostgreSQL's own tools, asking for a
password (`initdb --auth=scram-sha-256`), for the wrong password. Each is run through the real
`lfr` command in a subprocess, as the service team would meet it: `lfr audit verify` (which
used to time out its pool after 5 s and print a traceback) and `lfr serve` (30 s).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.db import connect
from lfr_ledger.projections.schema import SchemaTooNew, latest_version, migrate
from lfr_ledger.projections.store import close_stores
from tests.conftest import PG_URL, _skip_or_fail_without_postgres
from tests.e2e.conftest import free_port
from tests.pg_cluster import Cluster, give_to_owner, new_home, require_server_tools

LFR = str(Path(sys.executable).parent / "lfr")
# A one-line answer must come well before any pool's timeout (5 s, 30 s).
PROMPT_SECONDS = 4.0
PASSWORD = "correct-horse-9"


def lfr(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    started = time.monotonic()
    done = subprocess.run(
        [LFR, *args], env={**base, **env}, capture_output=True, text=True, timeout=60
    )
    return done, time.monotonic() - started


def one_line(done: subprocess.CompletedProcess[str], seconds: float, command: str) -> str:
    """The run failed with exactly one line on stderr, nothing on stdout, promptly."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"lfr {command}: ")
    assert seconds < PROMPT_SECONDS, f"{seconds:.1f} s"
    return lines[0]


@pytest.fixture
def data_dir(tmp_path: Path) -> dict[str, str]:
    return {"LFR_DATA_DIR": str(tmp_path / "var")}


@pytest.mark.parametrize("command", [("audit", "verify"), ("serve", "--port", "0")])
def test_a_database_that_does_not_exist_says_create_it(
    data_dir: dict[str, str], command: tuple[str, ...]
) -> None:
    _skip_or_fail_without_postgres()
    name = f"lfr_absent_{uuid.uuid4().hex[:8]}"
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    done, seconds = lfr(*command, env={**data_dir, "LFR_DATABASE_URL": url})
    line = one_line(done, seconds, command[0])
    assert f'database "{name}" does not exist' in line
    assert f"createdb -h 127.0.0.1 -p 5432 -U postgres {name}" in line
    assert "CREATE DATABASE" in line


def test_a_refused_connection_asks_whether_postgresql_runs(data_dir: dict[str, str]) -> None:
    port = free_port()  # bound and released: nothing listens there
    url = f"postgresql://postgres@127.0.0.1:{port}/test"
    done, seconds = lfr("audit", "verify", env={**data_dir, "LFR_DATABASE_URL": url})
    line = one_line(done, seconds, "audit")
    assert f"nothing answers at 127.0.0.1:{port}: is PostgreSQL running there" in line


@pytest.mark.parametrize("schema_exists", [False, True])
def test_a_schema_the_role_may_not_create_in_is_named(
    data_dir: dict[str, str], schema_exists: bool
) -> None:
    """A role without CREATE on the database (the usual grant for an application's role), and
    a schema nobody made or one made by another role without a grant (as `public` is on
    PostgreSQL 15): the ledger cannot create its tables, so say what to create or grant."""
    _skip_or_fail_without_postgres()
    role, schema = f"lfr_t_{uuid.uuid4().hex[:8]}", f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        if schema_exists:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
    try:
        url = PG_URL.replace("postgresql://postgres@", f"postgresql://{role}@")
        env = {**data_dir, "LFR_DATABASE_URL": url, "LFR_POSTGRES_SCHEMA": schema}
        done, seconds = lfr("audit", "verify", env=env)
        line = one_line(done, seconds, "audit")
        if schema_exists:
            assert f'role "{role}" may not create the ledger\'s tables in schema "{schema}"' in line
            assert f'GRANT CREATE ON SCHEMA "{schema}" TO "{role}"' in line
        else:
            assert f'schema "{schema}" does not exist in database "test"' in line
            assert f'role "{role}" may not create it' in line
            assert f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"' in line
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}"')
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


@pytest.fixture(scope="module")
def password_server() -> Iterator[int]:
    """A private PostgreSQL cluster that asks for a password (scram-sha-256), on a free port;
    stopped and removed afterwards."""
    cluster = Cluster(require_server_tools(), new_home())
    (cluster.home / "pw").write_text(PASSWORD)
    give_to_owner(cluster.home / "pw")
    try:
        cluster.init(auth=("--auth=scram-sha-256", f"--pwfile={cluster.home / 'pw'}"))
        cluster.start("-c fsync=off")
        yield cluster.port
    finally:
        cluster.kill()
        shutil.rmtree(cluster.home, ignore_errors=True)


def test_a_wrong_password_says_check_it_and_never_prints_it(
    password_server: int, data_dir: dict[str, str]
) -> None:
    wrong = "not-the-password-42"
    url = f"postgresql://postgres:{wrong}@127.0.0.1:{password_server}/postgres"
    done, seconds = lfr("audit", "verify", env={**data_dir, "LFR_DATABASE_URL": url})
    line = one_line(done, seconds, "audit")
    assert f'PostgreSQL at 127.0.0.1:{password_server} refused role "postgres"\'s password' in line
    assert "check the password in LFR_DATABASE_URL" in line
    assert wrong not in done.stderr
    # And the right password passes the same check: it was the password, nothing else.
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{password_server}/postgres"
    done, _ = lfr("doctor", env={**data_dir, "LFR_DATABASE_URL": url})
    assert "ok       database" in done.stdout, done.stdout + done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def _too_new(settings: Settings) -> int:
    """The store as a newer release would leave it: its schema one version past this one's."""
    db = connect(settings)
    try:
        migrate(db)
        newer = latest_version(db.backend) + 1
        db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (newer, "from_a_newer_release", "2027-01-01T00:00:00+00:00"),
        )
    finally:
        db.close()
        close_stores()
    return newer


def test_an_older_release_refuses_a_newer_schema(settings: Settings) -> None:
    """Every way into the read models (here `migrate`, which each store runs first) refuses."""
    newer = _too_new(settings)
    db = connect(settings)
    try:
        with pytest.raises(SchemaTooNew, match=f"version {newer}, this release knows up to"):
            migrate(db)
    finally:
        db.close()


def test_serve_refuses_a_newer_schema_in_one_line(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    newer = _too_new(settings)
    env = {"LFR_DATA_DIR": str(settings.data_dir)}
    done, seconds = lfr("serve", "--port", str(free_port()), env=env)
    line = one_line(done, seconds, "serve")
    known = newer - 1
    assert line == (
        f"lfr serve: this database's read-model schema is version {newer}, this release knows "
        f"up to {known}: upgrade this node before starting it"
    )
    # A command that reads the views says the same, also in one line.
    done, seconds = lfr("projections", "status", env=env)
    assert one_line(done, seconds, "projections").endswith("upgrade this node before starting it")
    with sqlite3.connect(settings.events_path) as conn:  # and nothing was migrated or written
        assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone() == (newer,)


def test_commands_that_never_open_the_store_are_not_stopped_by_it(
    data_dir: dict[str, str],
) -> None:
    """The check runs only before the commands that open the store: a node whose database is
    down can still show its public key and list its model packs."""
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    env = {**data_dir, "LFR_DATABASE_URL": url}
    for command in (("audit", "public-key"), ("models", "list")):
        done, _ = lfr(*command, env=env)
        assert done.returncode == 0, (command, done.stderr)
    done, seconds = lfr("policy", "show", env=env)
    assert one_line(done, seconds, "policy").startswith("lfr policy: nothing answers at")
