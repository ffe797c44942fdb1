"""Finding the bundle a person points at: the `.zip` as the console downloads it, the folder it
unzips to, or the folder that folder landed in. What is not a bundle is said to be so and never
verified, so a user's slip never reads as tampering. Standard library only: the offline
verifier's machine needs nothing else.

A zip is opened as untrusted input: entries that would land outside the folder (absolute paths,
`..`), links, and archives that would unpack to far more than they weigh are refused before a
byte is written.
"""

from __future__ import annotations

import json
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from lfr_ledger.oversight.bundles.format import BUNDLE_TYPE, HASHED_FILES, MANIFEST_FILE

# A bundle is five files; a zip made by hand may add a folder entry or macOS's __MACOSX copies.
MAX_ENTRIES = 256
# JSON lines of hashes and ciphertext compress about tenfold; a hundredfold is no bundle.
MAX_RATIO = 100
# Whatever the ratio, never more than this is unpacked into the temporary folder.
MAX_UNPACKED = 4 << 30
_CHUNK = 1 << 20


class NotABundle(Exception):
    """The path is not an evidence bundle (or cannot be read as one): nothing was verified."""


def looks_like_bundle(folder: Path) -> bool:
    """A folder holding any of a bundle's files, or a manifest that says it is one. A bundle
    with a file removed still looks like one (and then fails as tampered); a folder of
    unrelated files, or an unrelated `manifest.json`, does not."""
    if any((folder / name).is_file() for name in HASHED_FILES):
        return True
    manifest = folder / MANIFEST_FILE
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_bytes()[: 1 << 20])
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("type") == BUNDLE_TYPE


@contextmanager
def located(path: Path, notes: list[str] | None = None) -> Iterator[Path]:
    """The bundle folder `path` means, unpacked to a temporary folder while in use if `path`
    is a zip. `notes` receives what a person should know (which folder was verified).
    `NotABundle` says why it is none."""
    if not path.exists():
        raise NotABundle(f"{path} does not exist")
    if path.is_dir():
        yield _bundle_in(path, path, notes)
        return
    if not zipfile.is_zipfile(path):
        raise NotABundle(
            f"{path} is not an evidence bundle: neither a folder nor a zip file "
            "(give the .zip the console downloaded, or the folder it unzips to)"
        )
    with tempfile.TemporaryDirectory(prefix="lfr-verify-") as temporary:
        target = Path(temporary)
        unpack(path, target)
        yield _bundle_in(target, path, notes)


def _bundle_in(folder: Path, named: Path, notes: list[str] | None) -> Path:
    """`folder` if it is a bundle, or the one bundle directly inside it (a zip's top folder,
    or the folder a download was unzipped into)."""
    if looks_like_bundle(folder):
        return folder
    inside = sorted(
        child
        for child in folder.iterdir()
        if child.is_dir() and not child.is_symlink() and looks_like_bundle(child)
    )
    if len(inside) == 1:
        if notes is not None and folder == named:
            notes.append(f"the bundle is in {inside[0]}: verifying that")
        return inside[0]
    if len(inside) > 1:
        names = ", ".join(child.name for child in inside)
        raise NotABundle(f"{named} holds {len(inside)} bundles ({names}): name one")
    zips = sorted(p.name for p in folder.glob("*.zip")) if folder == named else []
    hint = f"; it holds {', '.join(zips)}: give that file" if zips else ""
    raise NotABundle(
        f"{named} is not an evidence bundle (no {MANIFEST_FILE}, "
        f"{', '.join(HASHED_FILES)} in it or in a folder inside it){hint}"
    )


def unpack(archive: Path, target: Path) -> None:
    """Unpacks `archive` into the empty folder `target`, refusing a hostile archive (its
    entries checked before anything is written, its sizes counted as it is read, since an
    entry's declared size may lie)."""
    try:
        _unpack(archive, target)
    except NotABundle:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as e:
        # A damaged download, two entries of one name, an encrypted or exotic entry.
        raise NotABundle(f"{archive} cannot be unpacked as an evidence bundle: {e}") from None


def _unpack(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        entries = zipped.infolist()
        if len(entries) > MAX_ENTRIES:
            raise NotABundle(f"{archive} is not an evidence bundle: {len(entries)} entries")
        for entry in entries:
            _check_entry(archive, entry)
        budget = min(MAX_UNPACKED, MAX_RATIO * max(archive.stat().st_size, 1 << 16))
        for entry in entries:
            destination = target.joinpath(*PurePosixPath(entry.filename).parts)
            if entry.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(entry) as source, destination.open("xb") as sink:
                while block := source.read(_CHUNK):
                    budget -= len(block)
                    if budget < 0:
                        raise NotABundle(
                            f"{archive} is not an evidence bundle: it unpacks to more than "
                            f"{MAX_RATIO} times its size or {MAX_UNPACKED >> 30} GiB (a zip bomb?)"
                        )
                    sink.write(block)


def _check_entry(archive: Path, entry: zipfile.ZipInfo) -> None:
    name = entry.filename
    parts = PurePosixPath(name).parts
    unsafe = (
        not parts
        or name.startswith(("/", "\\"))
        or "\\" in name
        or ".." in parts
        or (len(parts[0]) == 2 and parts[0][1] == ":")
    )
    if unsafe:
        raise NotABundle(
            f"{archive} is not an evidence bundle: its entry {name!r} would land outside "
            "the folder it is unpacked into"
        )
    mode = entry.external_attr >> 16
    special = (stat.S_ISLNK, stat.S_ISCHR, stat.S_ISBLK, stat.S_ISFIFO, stat.S_ISSOCK)
    if any(kind(mode) for kind in special):
        raise NotABundle(
            f"{archive} is not an evidence bundle: its entry {name!r} is a link or a "
            "special file, which a bundle never holds"
        )
