"""Photos as printed: the stored 1600 px preview reduced to print size, still a JPEG.

A photo prints at most 110 mm wide (one a row) or 76 mm (two a row): 800 px is 185 to
267 dpi there. Passing the previews through untouched made a 100-photo bulletin a 55 MB
PDF, too big to mail; reduced, it is about a fifth of that. JPEG's DCT scaling
(`Image.draft`) decodes a 1600 px preview straight at half size, so the reduction costs a
few milliseconds a photo.
"""

from __future__ import annotations

import io

from PIL import Image

PRINT_PX = 800
QUALITY = 82


def print_jpeg(jpeg: bytes, max_px: int = PRINT_PX) -> bytes:
    """`jpeg` no larger than `max_px` on its longer side, re-encoded only when reduced."""
    with Image.open(io.BytesIO(jpeg)) as im:
        if max(im.size) <= max_px:
            return jpeg
        # draft() keeps both sides at least as large as asked: ask for the reduced size.
        ratio = max_px / max(im.size)
        im.draft("RGB", (round(im.width * ratio), round(im.height * ratio)))
        picture = im.convert("RGB")
    picture.thumbnail((max_px, max_px), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()
