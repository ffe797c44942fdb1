"""Private PostgreSQL clusters for the tests that need a server of their own: one that asks for
a password, a primary with WAL archiving, a streaming standby to promote. Built with
PostgreSQL's own tools from Debian's packages (initdb, pg_ctl, pg_basebackup), on a free
loopback port, removed afterwards.

initdb refuses to run as root, so as root a cluster belongs to the `postgres` user (runuser),
and so does every file it must read (a password file, an archive folder).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def require_server_tools() -> Path:
    """PostgreSQL's server binaries, or a failure in CI and a skip elsewhere."""
    bin_dir = postgres_bin()
    if bin_dir is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's initdb/pg_ctl are required in CI")
        pytest.skip("PostgreSQL's server binaries are not installed")
    return bin_dir


def _as_owner() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def give_to_owner(path: Path) -> None:
    """Makes `path` (a file or a folder tree) the cluster owner's, when running as root."""
    if os.geteuid() != 0:
        return
    shutil.chown(path, user="postgres")
    if path.is_dir():
        for inner in path.rglob("*"):
            shutil.chown(inner, user="postgres")


@dataclass
class Cluster:
    """One private cluster: its folder, port and data directory."""

    bin_dir: Path
    home: Path
    port: int = field(default_factory=free_port)
    name: str = "data"

    @property
    def data(self) -> Path:
        return self.home / self.name

    @property
    def log(self) -> Path:
        return self.home / f"{self.name}.log"

    def run(self, tool: str, *args: str, check: bool = True, timeout: float = 120) -> str:
        """Runs one of PostgreSQL's tools as the cluster's owner; its output on failure."""
        done = subprocess.run(
            [*_as_owner(), str(self.bin_dir / tool), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {done.stderr or done.stdout}")
        return done.stdout

    def init(self, *, auth: Sequence[str] = ("--auth=trust",)) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-N", *auth)

    def configure(self, **settings: str) -> None:
        """Appends `name = 'value'` lines to postgresql.conf (read at the next start)."""
        lines = "".join(f"{name} = '{value}'\n" for name, value in settings.items())
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(lines)

    def start(self, *extra: str) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 {' '.join(extra)}"
        self.run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.log), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def kill(self) -> None:
        """The server dies as a crashed machine's would: no shutdown checkpoint."""
        self.stop("immediate")

    def promote(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-w", "promote")

    def standby(self, name: str, application_name: str) -> Cluster:
        """A streaming standby of this (running) cluster: `pg_basebackup -R` copies it and
        writes `primary_conninfo` (naming `application_name`, which `synchronous_standby_names`
        on the primary refers to) and `standby.signal`. Not started."""
        replica = Cluster(self.bin_dir, self.home, name=name)
        conninfo = (
            f"host=127.0.0.1 port={self.port} user=postgres application_name={application_name}"
        )
        self.run("pg_basebackup", "-d", conninfo, "-D", str(replica.data), "-R", "-X", "stream")
        return replica

    def sql(self, statement: str) -> str:
        """One statement through psql, as the owner; its output (unaligned, tuples only)."""
        where = f"-h 127.0.0.1 -p {self.port} -U postgres -d postgres -XAtc".split()
        out = self.run("psql", *where, statement)
        return out.strip()

    def url(self, database: str = "postgres", password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://postgres{secret}@127.0.0.1:{self.port}/{database}"


def new_home(prefix: str = "lfr-pg-") -> Path:
    home = Path(tempfile.mkdtemp(prefix=prefix))
    give_to_owner(home)
    return home
