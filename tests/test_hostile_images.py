"""Issue 10, defect 2: hostile images are refused from their header, before any pixel is
decoded, so a decompression bomb cannot exhaust the server's memory."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from lfr_ledger.matching.engines.enrolment import (
    ImageTooLarge,
    UnreadableImage,
    check_image_header,
    decode_image,
)

# Room for Python, NumPy and OpenCV, far from the 1.2 GB the bomb below decodes to.
MEMORY_LIMIT_MB = 900


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 20_000) -> bytes:
    """A real, valid PNG of side × side black pixels: about 400 kB that decode to side² bytes
    (and to three times that as the BGR image OpenCV would make)."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + one grey byte per pixel
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _jpeg(width: int, height: int) -> bytes:
    ok, encoded = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))
    assert ok
    return encoded.tobytes()


def _claiming(jpeg: bytes, width: int, height: int) -> bytes:
    """The JPEG with its frame header (SOF0) claiming other dimensions."""
    sof = jpeg.index(b"\xff\xc0")
    return jpeg[: sof + 5] + struct.pack(">HH", height, width) + jpeg[sof + 9 :]


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(png_bomb())
    assert path.stat().st_size < 2_000_000
    return path


def test_a_decompression_bomb_is_refused_under_a_memory_limit(bomb: Path) -> None:
    probe = (
        "import resource, sys\n"
        f"limit = {MEMORY_LIMIT_MB} * 2**20\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        "from lfr_ledger.matching.engines.enrolment import ImageTooLarge, decode_image\n"
        "try:\n"
        "    decode_image(open(sys.argv[1], 'rb').read())\n"
        "except ImageTooLarge as refused:\n"
        "    print(refused.detail)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(bomb)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "megapixels in all are accepted" in result.stdout


def test_the_bomb_really_is_one(bomb: Path) -> None:
    # What the header check saves: decoding it would need over a gigabyte.
    width, height = struct.unpack(">II", bomb.read_bytes()[16:24])
    assert width * height * 3 > 1_000_000_000


@pytest.mark.parametrize(
    ("width", "height"), [(10_000, 5_000), (9_000, 100), (100, 9_000)], ids=["50MP", "wide", "tall"]
)
def test_a_huge_photo_is_refused_from_its_header(width: int, height: int) -> None:
    with pytest.raises(ImageTooLarge, match=f"{width} × {height} pixels"):
        check_image_header(_claiming(_jpeg(64, 48), width, height))


@pytest.mark.parametrize(
    "data",
    [b"not an image at all", b"\x89PNG\r\n\x1a\n", b"GIF89a" + b"\x00" * 3],
    ids=["text", "png-signature-only", "truncated-gif"],
)
def test_non_images_and_truncated_images_are_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableImage):
        decode_image(data)


def test_a_truncated_jpeg_body_is_unreadable() -> None:
    jpeg = _jpeg(640, 480)
    with pytest.raises(UnreadableImage):
        decode_image(jpeg[: len(jpeg) // 3])


def test_an_ordinary_photo_still_decodes() -> None:
    assert decode_image(_jpeg(640, 480)).shape == (480, 640, 3)
