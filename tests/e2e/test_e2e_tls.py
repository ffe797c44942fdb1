"""TLS through a real reverse proxy (issue 26): Debian's nginx, run on THE sample configuration
in docs/nginx.conf (only its ports, paths and upstream substituted), in front of a real
`lfr serve`, with a certificate authority and server certificate generated here.

nginx connects to `lfr serve` from 127.0.0.2 (`proxy_bind`, in this test's wrapper, standing
for a proxy on another host), and LFR_TRUSTED_PROXIES names 127.0.0.2: so a request straight
to `lfr serve` from 127.0.0.1 is from a peer it must not believe, and one server shows both.
Through the proxy the console works in Chromium over https (which trusts only this server's
key, by its SPKI pin), its cookie is Secure, HSTS is sent; its live stream is unbuffered;
uploads up to the ledger's own limit pass. Nothing is mocked.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from playwright.sync_api import Browser, Playwright, expect

from lfr_ledger.api.app import MAX_BODY_BYTES
from lfr_ledger.api.auth import SESSION_COOKIE
from lfr_ledger.api.demo.seed import OPERATOR
from tests.e2e.browser import VAN, Visit, chromium_path
from tests.e2e.conftest import REPO, Server, free_port, start_server, stop_server
from tests.e2e.flows import Live, adopt_policy, auth, live_deployment, ok, raise_alert

pytestmark = pytest.mark.timeout(120)

SAMPLE = REPO / "docs" / "nginx.conf"
NGINX = "/usr/sbin/nginx"
PROXY_ADDRESS = "127.0.0.2"
LFR = str(Path(sys.executable).parent / "lfr")


@dataclass
class Certificates:
    ca: Path
    chain: Path
    key: Path
    spki_sha256: str  # base64, as Chromium's --ignore-certificate-errors-spki-list takes it


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(directory: Path) -> Certificates:
    """A CA, and a server certificate it signs for 127.0.0.1 and localhost."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("lfr-ledger test CA"))
        .issuer_name(_name("lfr-ledger test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = Certificates(
        directory / "ca.pem", directory / "fullchain.pem", directory / "key.pem", ""
    )
    paths.ca.write_bytes(ca.public_bytes(pem))
    paths.chain.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    paths.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    paths.spki_sha256 = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    return paths


def render_sample(
    directory: Path, *, http: int, https: int, upstream: int, certs: Certificates
) -> Path:
    """docs/nginx.conf with only its ports, paths and upstream changed, inside the smallest
    main configuration that keeps everything in `directory` (pid, logs, temp files)."""
    text = SAMPLE.read_text()
    for old, new in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
        ("/etc/ssl/lfr-ledger/fullchain.pem", str(certs.chain)),
        ("/etc/ssl/lfr-ledger/privkey.pem", str(certs.key)),
        ("/var/log/nginx/lfr-ledger.access.log", str(directory / "access.log")),
    ):
        # The sample changed under this test: render what it now says, not a stale copy.
        assert old in text, f"docs/nginx.conf no longer holds {old!r}; update render_sample"
        text = text.replace(old, new)
    (directory / "lfr-ledger.conf").write_text(text)
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root (CI), workers would otherwise run as nobody, who cannot enter this directory.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    main = directory / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n{temp}\n    proxy_bind {PROXY_ADDRESS};\n"
        f"    include {directory / 'lfr-ledger.conf'};\n}}\n"
    )
    return main


@dataclass
class Proxy:
    https: str
    http: str
    process: subprocess.Popen[bytes]
    directory: Path

    def errors(self) -> str:
        """What nginx said: on stderr before it opened its error log, then in the log."""
        said = [self.directory / "nginx.stderr", self.directory / "error.log"]
        return "".join(p.read_text(errors="replace") for p in said if p.exists())


def start_nginx(main: Path, directory: Path, https: int, http: int, ca: Path) -> Proxy:
    with (directory / "nginx.stderr").open("wb") as said:
        process = subprocess.Popen(
            [NGINX, "-p", str(directory), "-c", str(main), "-g", "daemon off;"],
            stdout=said,
            stderr=subprocess.STDOUT,
        )
    proxy = Proxy(f"https://127.0.0.1:{https}", f"http://127.0.0.1:{http}", process, directory)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}:\n{proxy.errors()}")
        try:
            httpx.get(f"{proxy.https}/health", verify=ssl.create_default_context(cafile=ca))
            return proxy
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"nginx did not answer within 10 s:\n{proxy.errors()}")


@dataclass
class Site:
    """`lfr serve` (direct), nginx in front of it, and the CA that signed nginx's certificate."""

    server: Server
    proxy: Proxy
    certs: Certificates

    @property
    def via_proxy(self) -> Server:
        """The same server as a browser reaches it: through nginx, over https."""
        s = self.server
        return Server(self.proxy.https, s.data_dir, s.process, s.log_path)

    def tls_client(self) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.certs.ca))
        return httpx.Client(base_url=self.proxy.https, verify=context, timeout=30)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not Path(NGINX).exists():
        message = "Debian's nginx is not installed (make services installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    directory = tmp_path_factory.mktemp("lfr-tls")
    certs = make_certificates(directory)
    server = start_server(directory / "var", extra_env={"LFR_TRUSTED_PROXIES": PROXY_ADDRESS})
    https, http = free_port(), free_port()
    upstream = int(server.url.rsplit(":", 1)[1])
    main = render_sample(directory, http=http, https=https, upstream=upstream, certs=certs)
    try:
        proxy = start_nginx(main, directory, https, http, certs.ca)
    except BaseException:
        stop_server(server)
        raise
    try:
        yield Site(server, proxy, certs)
    finally:
        # nginx's "fast shutdown": open streams are closed, not waited for.
        proxy.process.send_signal(signal.SIGTERM)
        proxy.process.wait(timeout=10)
        stop_server(server)
    assert proxy.process.returncode == 0, proxy.errors()
    assert not re.search(r"\[(emerg|alert|crit)\]", proxy.errors()), proxy.errors()
    assert "Traceback" not in server.log(), server.log()


@pytest.fixture(scope="module")
def tls_browser(site: Site, playwright: Playwright) -> Iterator[Browser]:
    """Chromium trusting this test's server key and nothing else (not every certificate)."""
    from bench.common import CHROMIUM_ARGS

    pin = f"--ignore-certificate-errors-spki-list={site.certs.spki_sha256}"
    # Launched by the package's driver: a second `sync_playwright` in this thread would refuse.
    launched = playwright.chromium.launch(
        executable_path=chromium_path(), args=[*CHROMIUM_ARGS, pin]
    )
    try:
        yield launched
    finally:
        launched.close()


HSTS = "strict-transport-security"


def test_the_operators_console_works_through_the_proxy_over_tls(
    site: Site, tls_browser: Browser
) -> None:
    with site.tls_client() as client:
        live: Live = live_deployment(
            site.via_proxy, client, policy_version=adopt_policy(site.via_proxy, client), entries=1
        )
        visit = Visit(tls_browser, site.via_proxy, viewport=VAN)
        page = visit.sign_in("operator", OPERATOR.id)
        assert page.url.startswith(site.proxy.https)
        (cookie,) = [c for c in visit.context.cookies() if c["name"] == SESSION_COOKIE]
        assert cookie["secure"] and cookie["httpOnly"], cookie
        response = page.reload()
        assert response is not None
        assert response.headers[HSTS] == "max-age=31536000; includeSubDomains"

        page.locator("#deployment").select_option(live.deployment_id)
        expect(page.locator("#stream-state")).to_have_text("Live stream: live")
        alert_id = raise_alert(site.via_proxy, client, live)
        card = page.locator(f'[data-alert-id="{alert_id}"]')
        expect(card).to_be_visible(timeout=5000)  # pushed through nginx, not fetched
        # A decision is a POST on the session: its CSRF and same-origin checks hold via nginx.
        card.focus()
        page.keyboard.press("m")
        page.keyboard.type("Same scar over the left eyebrow")
        page.keyboard.press("Enter")
        expect(card).to_contain_text(f"Decided match by {OPERATOR.id}")
        rows = ok(
            client.get(
                f"/deployments/{live.deployment_id}/alerts",
                headers=auth(site.via_proxy, OPERATOR),
            )
        )["alerts"]
        assert [(r["id"], r["decision"]) for r in rows] == [(alert_id, "match")]
        # The stream asks any nginx not to buffer it, whatever its configuration says
        # (Litestar's ServerSentEvent sets X-Accel-Buffering: no).
        stream = f"/alerts/stream?deployment_id={live.deployment_id}"
        headers = auth(site.server, OPERATOR)
        with site.server.client() as direct, direct.stream("GET", stream, headers=headers) as r:
            assert r.headers["x-accel-buffering"] == "no"
        visit.screenshot("operator-van-tls")
        assert visit.script_errors == []
        assert visit.foreign_requests() == []
        visit.close()


def _sign_in(client: httpx.Client, site: Site, **headers: str) -> httpx.Response:
    token = site.server.token("operator", "PC-1")
    return client.post("/console/sign-in", json={"token": token}, headers=headers)


def test_hsts_and_secure_cookies_only_over_tls_as_the_named_proxy_says(site: Site) -> None:
    with site.tls_client() as client:
        signed_in = _sign_in(client, site)
        assert signed_in.status_code == 200, signed_in.text
        assert "; secure" in signed_in.headers["set-cookie"].lower()
        assert HSTS in signed_in.headers
    with httpx.Client(base_url=site.proxy.http) as plain:
        redirect = plain.get("/console?x=1")
        assert redirect.status_code == 301
        assert redirect.headers["location"] == "https://127.0.0.1/console?x=1"
        assert HSTS not in redirect.headers

    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    # Straight to lfr serve from 127.0.0.1, which LFR_TRUSTED_PROXIES does not name.
    with site.server.client() as direct:
        assert HSTS not in direct.get("/health").headers
        refused = _sign_in(direct, site, **forged)
        assert refused.status_code == 200, refused.text
        assert "; secure" not in refused.headers["set-cookie"].lower()
        assert HSTS not in refused.headers
        assert HSTS not in direct.get("/health", headers=forged).headers
    # ... and from the address it names: the same headers are believed.
    named = httpx.HTTPTransport(local_address=PROXY_ADDRESS)
    with site.server.client(transport=named) as as_proxy:
        believed = _sign_in(as_proxy, site, **forged)
        assert "; secure" in believed.headers["set-cookie"].lower()
        assert HSTS in believed.headers
    assert site.server.log().count("LFR_TRUSTED_PROXIES does not name") == 1


def test_the_ledgers_whole_body_limit_passes_the_proxy(site: Site) -> None:
    sizes = {"k": 1024, "m": 1024 * 1024}
    found = re.search(r"client_max_body_size (\d+)([km])?;", SAMPLE.read_text())
    assert found is not None
    assert int(found[1]) * sizes.get(found[2] or "", 1) == MAX_BODY_BYTES
    headers = {"Content-Type": "application/json"}
    with site.tls_client() as client:
        # Just under the limit: the ledger itself answers (no token: 401, problem details).
        near = client.post("/training", content=b" " * (MAX_BODY_BYTES - 1024), headers=headers)
        assert near.status_code == 401, near.text
        assert near.headers["content-type"].startswith("application/problem+json")
        over = client.post("/training", content=b" " * (MAX_BODY_BYTES + 1), headers=headers)
        assert over.status_code == 413


def test_a_trusted_proxies_setting_that_is_not_an_address_stops_lfr_serve(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "LFR_DATA_DIR": str(tmp_path), "LFR_TRUSTED_PROXIES": "10.0.0.1,proxy"}
    done = subprocess.run(
        [LFR, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )
    assert done.returncode != 0
    assert done.stderr.splitlines()[0] == (
        "lfr serve: LFR_TRUSTED_PROXIES holds 'proxy': each must be an IP address or a network "
        "(10.0.0.5, 10.0.0.0/24, ::1), comma-separated"
    ), done.stderr
    assert "Traceback" not in done.stderr
    assert not any(tmp_path.iterdir())  # nothing written
