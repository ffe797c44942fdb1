"""The console's one third-party file, Chart.js (api/console/assets.py): installed only from a
tarball whose sha512 is the pinned one, only its two pinned files, each checked again; a
tampered tarball installs nothing; a changed file on disk is found, and never served.

The refusals need no network. The genuine tarball is the npm registry's (the pinned URL, as
`make setup` fetches it): those tests skip without a network, and fail in CI."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest
from litestar.exceptions import NotFoundException

import lfr_ledger.api.cli
from lfr_ledger.api.console.assets import (
    CHART_JS,
    CHART_JS_FILE,
    MANIFEST,
    AssetError,
    PinnedPackage,
    _download,
    _Served,
    asset_dir,
    fetch,
    sri_sha512,
    verify,
)
from lfr_ledger.config.settings import Settings


def tarball(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return out.getvalue()


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        data = _download(CHART_JS.tarball_url)
    except AssetError as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))
    path = tmp_path_factory.mktemp("npm") / "chart.js-4.5.1.tgz"
    path.write_bytes(data)
    return path


def test_the_pin_is_the_registry_s_integrity_of_the_tarball(genuine: Path) -> None:
    assert sri_sha512(genuine.read_bytes()) == CHART_JS.integrity


def test_the_genuine_tarball_installs_only_the_pinned_files(genuine: Path, tmp_path: Path) -> None:
    folder = fetch(tmp_path, tarball=genuine)
    assert folder == tmp_path / "chart.js-4.5.1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [MANIFEST, "LICENSE.md", "chart.umd.min.js"]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.js-4.5.1"]  # no leftovers
    assert verify(tmp_path) == []
    assert (folder / "LICENSE.md").read_text().startswith("The MIT License")
    built = folder / CHART_JS_FILE.name
    assert hashlib.sha256(built.read_bytes()).hexdigest() == CHART_JS_FILE.sha256
    # Present and as pinned: a second fetch changes nothing and needs no tarball at all.
    written = built.stat().st_mtime_ns
    assert fetch(tmp_path, tarball=tmp_path / "absent.tgz") == folder
    assert built.stat().st_mtime_ns == written


def test_a_tampered_tarball_is_refused_and_nothing_is_installed(
    genuine: Path, tmp_path: Path
) -> None:
    tampered = bytearray(genuine.read_bytes())
    tampered[len(tampered) // 2] ^= 0x01
    path = tmp_path / "chart.js-4.5.1.tgz"
    path.write_bytes(bytes(tampered))
    base = tmp_path / "assets"
    with pytest.raises(AssetError, match=r"refusing chart\.js-4\.5\.1\.tgz.*nothing installed"):
        fetch(base, tarball=path)
    assert list(base.iterdir()) == []


def test_a_tarball_of_other_files_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    """Network-free: whatever it holds (here the pinned members' names, other contents), a
    tarball that is not the pinned one is refused by its sha512, and a copy already installed
    is left as it was."""
    path = tmp_path / "chart.js-4.5.1.tgz"
    path.write_bytes(
        tarball({f.member: b"window.Chart = function () {};\n" for f in CHART_JS.files})
    )
    base = tmp_path / "assets"
    installed = base / CHART_JS.folder
    installed.mkdir(parents=True)
    (installed / CHART_JS_FILE.name).write_bytes(b"left as it was")
    with pytest.raises(AssetError, match=r"is not the pinned sha512-GIjf"):
        fetch(base, tarball=path)
    assert sorted(p.name for p in base.iterdir()) == [CHART_JS.folder]
    assert (installed / CHART_JS_FILE.name).read_bytes() == b"left as it was"
    # The command says so and fails, as `make setup` must.
    code = lfr_ledger.api.cli.main(
        ["console-assets", "fetch", "--dir", str(base), "--tarball", str(path)]
    )
    assert code == 1
    assert (installed / CHART_JS_FILE.name).read_bytes() == b"left as it was"


def test_each_member_is_checked_again_after_the_tarball(tmp_path: Path) -> None:
    """A tarball whose sha512 matches its pin (a pin made for the test) but whose member is not
    the pinned file is refused too, installing nothing."""
    data = tarball({f.member: b"not chart.js" for f in CHART_JS.files})
    path = tmp_path / "other.tgz"
    path.write_bytes(data)
    pinned = PinnedPackage(
        name=CHART_JS.name,
        version=CHART_JS.version,
        tarball_url=CHART_JS.tarball_url,
        integrity=sri_sha512(data),
        licence=CHART_JS.licence,
        files=CHART_JS.files,
    )
    base = tmp_path / "assets"
    with pytest.raises(AssetError, match=r"refusing package/dist/chart\.umd\.min\.js"):
        fetch(base, tarball=path, package=pinned)
    assert list(base.iterdir()) == []


def test_a_changed_file_is_found_and_never_served(genuine: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_dir=tmp_path / "cache" / "models")
    base = asset_dir(settings)
    assert base == tmp_path / "cache" / "console-assets"  # beside the models
    with pytest.raises(NotFoundException, match="make setup"):
        _Served().chart_js(settings)
    fetch(base, tarball=genuine)
    served = _Served().chart_js(settings)
    assert hashlib.sha256(served).hexdigest() == CHART_JS_FILE.sha256
    built = base / CHART_JS.folder / CHART_JS_FILE.name
    built.write_bytes(built.read_bytes() + b"\nfetch('https://example.org/');\n")
    assert any("is not the pinned" in problem for problem in verify(base))
    with pytest.raises(NotFoundException, match=r"not the pinned Chart\.js"):
        _Served().chart_js(settings)
    assert lfr_ledger.api.cli.main(["console-assets", "--dir", str(base), "verify"]) == 1
    # Fetching again replaces it with the pinned file.
    fetch(base, tarball=genuine)
    assert verify(base) == []
