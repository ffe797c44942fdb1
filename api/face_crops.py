"""A matcher's face crop is checked to be an image before anything is written: a JPEG or a
PNG (by its magic bytes), no larger in pixels than a face crop can be (from its header, before
a pixel is decoded), that decodes whole. Anything else is refused (422, naming `face_crop`):
the log seals whatever it is given, and a crop nobody can open is no record of a face.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from lfr_ledger.domain.errors import InvalidInput

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# A crop of one face with its margin, from cameras up to 4K: far below either bound. Checked
# from the header, so a small file that claims a huge picture is refused before it is decoded.
MAX_SIDE = 4096
MAX_PIXELS = 16_777_216


class FaceCropRefused(InvalidInput):
    kind = "face-crop-refused"
    title = "Face crop refused"
    field = "face_crop"


def check_face_crop(crop: bytes) -> None:
    """Raises `FaceCropRefused` unless `crop` is a JPEG or PNG of bounded size that decodes."""
    if crop.startswith(JPEG_MAGIC):
        kind = "JPEG"
    elif crop.startswith(PNG_MAGIC):
        kind = "PNG"
    else:
        raise FaceCropRefused(
            f"face_crop is not a JPEG or PNG image (its {len(crop)} bytes begin with neither "
            "format's signature)"
        )
    try:
        with warnings.catch_warnings():
            # Pillow's own bound is far above ours, which is checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(crop), formats=(kind,)) as image:
                width, height = image.size
                if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                    raise FaceCropRefused(
                        f"face_crop is {width} × {height} pixels; a face crop has at most "
                        f"{MAX_SIDE} a side and {MAX_PIXELS:,} in all"
                    )
                image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except FaceCropRefused:
        raise
    except Image.DecompressionBombError:
        raise FaceCropRefused(
            f"face_crop declares hundreds of millions of pixels; a face crop has at most "
            f"{MAX_PIXELS:,}"
        ) from None
    except (OSError, ValueError, SyntaxError):
        # Pillow's decoders raise these for a file that is not what its signature says.
        raise FaceCropRefused(
            f"face_crop begins like a {kind} but cannot be decoded as one (truncated or corrupt)"
        ) from None
