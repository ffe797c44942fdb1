"""A real `lfr serve` process on a free loopback port, with its own data directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from lfr_ledger.api.auth import issue_token
from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.store import close_stores
from tests.conftest import PG_URL, postgres_available

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def settings(self) -> Settings:
        # No LFR_JWT_SECRET: tokens are signed with the secret the server generated in
        # data_dir/keys/jwt_secret, exactly as `lfr token` beside `lfr serve` would.
        return Settings(data_dir=self.data_dir)

    def token(self, role: str, sub: str, **claims: Any) -> str:
        return issue_token(self.settings, role=role, sub=sub, **claims)

    def headers(self, role: str, sub: str | None = None, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, sub or f'{role}-1', **claims)}"}

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(
    data_dir: Path, *, port: int | None = None, extra_env: dict[str, str] | None = None
) -> Server:
    port = port or free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"LFR_DATABASE_URL", "LFR_POSTGRES_SCHEMA", "LFR_JWT_SECRET", PUBKEY}
    }
    env["LFR_DATA_DIR"] = str(data_dir)
    env.update(extra_env or {})
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"server-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lfr_ledger.api.cli.serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    server = Server(f"http://127.0.0.1:{port}", data_dir, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"lfr serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"lfr serve did not answer /health within 60 s:\n{server.log()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


PUBKEY = "LFR_JWT_PUBLIC_KEY"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("lfr-e2e") / "var")
    try:
        yield srv
    finally:
        stop_server(srv)
    # Whatever happened, the server's log must never carry a stack trace.
    assert "Traceback" not in srv.log(), srv.log()


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    """An HTTP client on the module's server, for the set-up a page test needs."""
    with server.client() as c:
        yield c


# Package-scoped, not per module: one Playwright driver and one Chromium serve every console
# module a worker runs (each test still opens its own context: its own cookies and storage).
# Not session-scoped: while the driver lives its event loop counts as running in this thread,
# and `asyncio.run` in the tests outside tests/e2e would refuse to start.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Any]:
    """Playwright's driver, for the browsers of this package's tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Any) -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (the console's tests: `browser.py`)."""
    from bench.common import CHROMIUM_ARGS
    from tests.e2e.browser import chromium_path

    launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    try:
        yield launched
    finally:
        launched.close()


@contextmanager
def postgres_store(prefix: str) -> Iterator[dict[str, str]]:
    """A schema of its own on the real PostgreSQL, as the environment servers need to share it;
    dropped afterwards. Skipped without PostgreSQL, failed in CI."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL unreachable in CI")
        pytest.skip("PostgreSQL unreachable")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield {"LFR_DATABASE_URL": PG_URL, "LFR_POSTGRES_SCHEMA": schema}
    finally:
        close_stores()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
