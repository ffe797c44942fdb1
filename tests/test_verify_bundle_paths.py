"""Issue 26: `lfr audit verify-bundle` takes what a person has in hand: the console's
`bundle-<id>.zip` as downloaded, the folder it unzips to, or the folder that landed in. What is
not a bundle says so with exit 2 and never reads as TAMPERED (exit 1), which stays for a bundle
that was changed. A hostile zip is refused before a byte lands outside its temporary folder.

The bundle is a real one: a deployment recorded in a real ledger, fetched through the HTTP route
the console's "Download bundle" button calls (the same zip, the same file name)."""

from __future__ import annotations

import re
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.cli import main
from lfr_ledger.api.cli.output import EXIT_ERROR
from lfr_ledger.api.cli.verify_bundle import EXIT_TAMPERED
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.oversight.bundles import locate
from tests.conftest import Clock
from tests.test_api import Api
from tests.test_retention import ran_deployment


@pytest.fixture
def backend() -> str:
    return "sqlite"  # where the paths lead does not depend on the store


@pytest.fixture
def downloaded(ledger: CaseLedger, settings: Settings, clock: Clock, tmp_path: Path) -> Path:
    """`Downloads/bundle-<id>.zip`, saved under the name the route's Content-Disposition and
    the console's download link both give it."""
    scene = ran_deployment(ledger, clock, alerts=1)
    with TestClient(create_app(settings, ledger=ledger)) as client:
        got = Api(client, settings).get(
            f"/oversight/bundles/{scene.deployment_id}",
            "oversight",
            headers={"X-Purpose": "IOPC review"},
        )
    assert got.status_code == 200, got.text
    name = re.search(r'filename="([^"]+)"', got.headers["content-disposition"])
    assert name is not None and name.group(1) == f"bundle-{scene.deployment_id}.zip"
    console = Path("api/console/static/oversight.js").read_text()
    assert "download: `bundle-${select.value}.zip`" in console
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    saved = downloads / name.group(1)
    saved.write_bytes(got.content)
    return saved


def verify(capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> tuple[int, str, str]:
    code = main(["audit", "verify-bundle", str(path), *options])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_download_verifies_as_a_zip_unzipped_or_from_its_parent_folder(
    downloaded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = verify(capsys, downloaded)
    assert code == 0 and out.startswith("OK:"), out + err

    # Only the zip in the folder: not a bundle, but the message points at the file.
    code, out, err = verify(capsys, downloaded.parent)
    assert code == EXIT_ERROR and "TAMPERED" not in out + err
    assert "is not an evidence bundle (no manifest.json" in err and downloaded.name in err

    with zipfile.ZipFile(downloaded) as zipped:
        zipped.extractall(downloaded.parent)
    unzipped = downloaded.with_suffix("")
    code, out, _ = verify(capsys, unzipped, "--json")
    assert code == 0 and '"ok": true' in out
    code, out, err = verify(capsys, downloaded.parent)
    assert code == 0 and out.startswith("OK:")
    assert f"the bundle is in {unzipped}" in err


def test_a_folder_that_is_no_bundle_says_so_and_never_tampered(
    downloaded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    random = tmp_path / "holiday"
    random.mkdir()
    (random / "notes.txt").write_text("not evidence")
    (random / "manifest.json").write_text('{"name": "a web app"}')
    code, out, err = verify(capsys, random)
    assert code == EXIT_ERROR and out == "" and "TAMPERED" not in err
    assert f"{random} is not an evidence bundle (no manifest.json" in err

    code, _, err = verify(capsys, tmp_path / "absent")
    assert code == EXIT_ERROR and "does not exist" in err
    code, _, err = verify(capsys, random / "notes.txt")
    assert code == EXIT_ERROR and "neither a folder nor a zip file" in err

    two = tmp_path / "two"
    for copy in ("a", "b"):
        with zipfile.ZipFile(downloaded) as zipped:
            zipped.extractall(two / copy)
    code, _, err = verify(capsys, two / "a")
    assert code == 0, err
    (two / "a" / downloaded.stem).rename(two / "first")
    (two / "b" / downloaded.stem).rename(two / "second")
    code, _, err = verify(capsys, two)
    assert code == EXIT_ERROR and "holds 2 bundles (first, second): name one" in err


def _rezip(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """`source` written again as `target`, each entry named in `change` replaced (or left out
    when None)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for entry in old.infolist():
            leaf = entry.filename.rsplit("/", 1)[-1]
            if leaf not in change:
                new.writestr(entry, old.read(entry))
            elif (replacement := change[leaf]) is not None:
                new.writestr(entry, replacement)
    return target


def test_a_changed_zip_is_tampered_naming_the_file(
    downloaded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with zipfile.ZipFile(downloaded) as zipped:
        events = zipped.read(f"{downloaded.stem}/events.jsonl").decode()
    lines = events.splitlines(keepends=True)
    altered = lines[0].replace('"originator_version":1', '"originator_version":2')
    assert altered != lines[0]
    changed = _rezip(
        downloaded, tmp_path / "changed.zip", {"events.jsonl": "".join([altered, *lines[1:]])}
    )
    code, out, _ = verify(capsys, changed)
    assert code == EXIT_TAMPERED and out.startswith("TAMPERED: events.jsonl line 1")

    # A bundle with a file taken out is still a bundle: tampered, not "not a bundle".
    keyless = _rezip(downloaded, tmp_path / "keyless.zip", {"public_key.pem": None})
    code, out, _ = verify(capsys, keyless)
    assert code == EXIT_TAMPERED and out.startswith("TAMPERED: public_key.pem: missing")
    unsigned = _rezip(downloaded, tmp_path / "unsigned.zip", {"manifest.json": None})
    code, out, _ = verify(capsys, unsigned)
    assert code == EXIT_TAMPERED and out.startswith("TAMPERED: manifest.json: missing")


def _zip_with(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name, data in entries:
            zipped.writestr(name, data)
    return path


def _link(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("entries", "said"),
    [
        ([("../escaped.txt", b"x")], "would land outside"),
        ([("b/../../escaped.txt", b"x")], "would land outside"),
        ([("/tmp/escaped.txt", b"x")], "would land outside"),
        ([("C:/escaped.txt", b"x")], "would land outside"),
        ([(_link("b/manifest.json", "/etc/passwd"), b"/etc/passwd")], "is a link"),
        ([("b/events.jsonl", b"\0" * (24 << 20))], "zip bomb"),
        ([(f"b/{n}.txt", b"") for n in range(locate.MAX_ENTRIES + 1)], "entries"),
        ([("b/manifest.json", b"{}"), ("b/manifest.json", b"{}")], "cannot be unpacked"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "drive", "symlink", "bomb", "many", "twice"],
)
def test_a_hostile_zip_is_not_a_bundle_and_writes_nothing_outside(
    entries: list[tuple[zipfile.ZipInfo | str, bytes]],
    said: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns as it writes a name twice
        archive = _zip_with(tmp_path / "hostile.zip", entries)
    code, out, err = verify(capsys, archive)
    assert code == EXIT_ERROR and out == "" and "TAMPERED" not in err
    assert "evidence bundle" in err and said in err, err
    assert not list(tmp_path.rglob("escaped.txt"))
    assert list((tmp_path / "tmp").iterdir()) == [], "the temporary folder is removed"
